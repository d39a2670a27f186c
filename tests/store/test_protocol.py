"""Both stores implement the whole store protocol, with the protocol's parameter names, so
the engine can call any method on any store without probing for it."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from engine.store.memory import MemoryStore, MemoryTx
from engine.store.protocol import Store, StoreTransaction
from engine.store.sql import SqlStore, SqlTx


def protocol_methods(proto: type) -> list[str]:
    return sorted(n for n, v in vars(proto).items()
                  if callable(v) and not n.startswith("_"))


def shape(fn: Any) -> list[tuple[str, Any, Any]]:
    """What a caller relies on: names, kinds (positional, keyword-only, **) and defaults."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


def test_the_protocol_lists_every_method_the_engine_calls() -> None:
    names = protocol_methods(StoreTransaction)
    assert "new_instance" in names and "get_user" in names and "groups" in names
    assert len(names) >= 50


@pytest.mark.parametrize("cls", [MemoryTx, SqlTx])
def test_each_transaction_class_has_every_method_with_the_protocols_parameters(
        cls: type) -> None:
    for name in protocol_methods(StoreTransaction):
        impl = getattr(cls, name, None)
        assert impl is not None, f"{cls.__name__} lacks {name}"
        assert shape(impl) == shape(getattr(StoreTransaction, name)), name


@pytest.mark.parametrize("cls", [MemoryStore, SqlStore])
def test_each_store_class_has_the_store_methods(cls: type) -> None:
    for name in protocol_methods(Store):
        assert shape(getattr(cls, name)) == shape(getattr(Store, name)), name


def test_live_stores_and_their_transactions_satisfy_the_protocols(store: Any) -> None:
    assert isinstance(store, Store)
    with store.transaction() as tx:
        assert isinstance(tx, StoreTransaction)
        tx.new_instance("i-1")          # a hint every store takes, even as a no-op
        assert tx.get_user("nobody") is None
        assert tx.groups() == {}
