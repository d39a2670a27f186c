"""Rows holding values nested too deep to read (stored before values were checked at the
command boundary) still list, open and cancel: the too-deep part reads as a placeholder
that keeps its original text, instead of a RecursionError on every read."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from engine import Engine
from engine.store import schema
from engine.store.codec import (
    MAX_READ_DEPTH,
    UNREADABLE,
    UnstorableValue,
    dumps,
    is_unreadable,
    loads,
)
from engine.store.records import HistoryRecord
from engine.store.sql import normalize_url
from engine.testing import ManualClock
from tests.runtime.conftest import bpmn, flows
from tests.store.conftest import SQL_KINDS

ONE_TASK = bpmn('<startEvent id="s"/><userTask id="t"/><endEvent id="e"/>'
                + flows("s>t", "t>e"), pid="one")


def nested(levels: int, leaf: Any = "bottom") -> Any:
    value = leaf
    for _ in range(levels):
        value = {"a": value}
    return value


def nested_text(levels: int) -> str:
    """JSON nested `levels` deep: deeper than json.dumps (or json.loads) can go."""
    return '{"a":' * levels + '"bottom"' + "}" * levels


def depth_to_placeholder(value: Any) -> tuple[int, Any]:
    """How many {"a": ...} levels down the placeholder sits, and the placeholder."""
    n = 0
    while not is_unreadable(value):
        value = value["a"]
        n += 1
    return n, value


# ====================================================================== the codec
def test_text_the_json_decoder_cannot_take_reads_with_a_placeholder() -> None:
    text = '{"x":1,"deep":' + nested_text(100_000) + "}"
    with pytest.raises(RecursionError):
        json.loads(text)
    got = loads(text)
    assert got["x"] == 1
    levels, placeholder = depth_to_placeholder(got["deep"])
    assert levels == MAX_READ_DEPTH - 2     # document, "deep", ..., the placeholder at the limit
    assert placeholder[UNREADABLE] == f"nested deeper than {MAX_READ_DEPTH} levels"
    assert placeholder["json"] == nested_text(100_000 - levels)   # the original text kept


def test_decodable_but_too_deep_for_the_engine_is_cut_too() -> None:
    got = loads(dumps({"v": nested(500)}))
    levels, _ = depth_to_placeholder(got["v"])
    assert levels == MAX_READ_DEPTH - 2


def test_anything_as_deep_as_the_limit_reads_unchanged() -> None:
    at_limit = [nested(MAX_READ_DEPTH - 1)]     # its innermost dict is at depth MAX_READ_DEPTH
    for value in (nested(MAX_READ_DEPTH), at_limit, {"s": "[[[[{{{{" * 40, "n": nested(30)},
                  [nested(MAX_READ_DEPTH - 2, []) for _ in range(3)]):
        assert loads(dumps(value)) == value, value
    assert _placeholder_in(loads(dumps([nested(MAX_READ_DEPTH)])))     # one level more
    # only the container holding too deep ones is cut, not its plain siblings
    got = loads(dumps([nested(MAX_READ_DEPTH - 2, [{"b": 1}, [1]]),
                       nested(MAX_READ_DEPTH - 2, [1, 2])]))
    assert got[1] == nested(MAX_READ_DEPTH - 2, [1, 2])
    assert _placeholder_in(got[0])


def _placeholder_in(value: Any) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        if is_unreadable(v):
            return True
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


def test_brackets_inside_strings_are_text() -> None:
    tricky = {"s": '"]]]}}}\\"[[[' * 50, "n": nested(40, "}]")}
    assert loads(dumps(tricky)) == tricky


def test_tagged_values_beside_and_above_a_cut_still_decode() -> None:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    value = {"when": when, "amount": Decimal("1.5"), "deep": nested(300, {when})}
    got = loads(dumps(value))
    assert got["when"] == when and got["amount"] == Decimal("1.5")
    assert _placeholder_in(got["deep"])


def test_a_placeholder_written_back_reads_the_same() -> None:
    once = loads(dumps({"deep": nested(400)}))
    assert loads(dumps(once)) == once


def test_writing_a_value_too_deep_to_encode_is_refused_clearly() -> None:
    with pytest.raises(UnstorableValue, match="nested"):
        dumps(nested(100_000))


# ====================================================================== stores and engine
@pytest.fixture(params=SQL_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


def started(store: Any) -> tuple[Engine, str]:
    engine = Engine(store=store, clock=ManualClock())
    engine.deploy(ONE_TASK.encode())
    return engine, engine.start("one", {"x": 1})


def poison_through_the_store(store: Any, iid: str) -> None:
    """What an engine without depth checks stored: a 500-level variable, and a history
    event carrying it."""
    with store.transaction() as tx:
        rec = tx.get_instance(iid)
        rec.variables["deep"] = nested(500)
        tx.update_instance(rec)
        tx.add_history([HistoryRecord(iid, "variable_set", None,
                                      datetime(2026, 1, 1, tzinfo=UTC), None, None, None,
                                      {"deep": nested(500)})])


def poison_in_the_database(url: str, iid: str) -> None:
    """A variable 100,000 levels deep: more than any JSON encoder writes, so it goes in as
    SQL text."""
    eng = sa.create_engine(normalize_url(url))
    try:
        with eng.begin() as conn:
            conn.execute(schema.instances.update().where(schema.instances.c.id == iid)
                         .values(variables='{"x":1,"deep":' + nested_text(100_000) + "}"))
    finally:
        eng.dispose()


@pytest.mark.parametrize("poison", ["store", "database"])
def test_a_poisoned_instance_reads_lists_and_cancels(store: Any, db_url: str,
                                                     poison: str) -> None:
    engine, iid = started(store)
    other = engine.start("one", {"x": 2})
    if poison == "store":
        poison_through_the_store(store, iid)
    else:
        poison_in_the_database(db_url, iid)

    with store.transaction() as tx:                      # the store
        rec = tx.get_instance(iid)
        assert rec.variables["x"] == 1 and _placeholder_in(rec.variables["deep"])
        assert {r.id for r in tx.find_instances()} == {iid, other}
        assert {r.id for r in tx.find_instances(limit=10)} == {iid, other}
        tx.history(iid)

    view = engine.instance(iid)                          # the engine
    assert view.status == "running"
    assert _placeholder_in(engine.variables(iid)["deep"])
    assert {v.id for v in engine.instances()} == {iid, other}
    assert engine.history(iid)
    engine.cancel(iid)
    assert engine.instance(iid).status != "running"
    assert engine.instance(other).status == "running"
    # written back by the cancel: still the placeholder, original text and all
    placeholder = engine.variables(iid)["deep"]
    while not is_unreadable(placeholder):
        placeholder = placeholder["a"]
    assert placeholder["json"].startswith('{"a":{"a":')
    assert placeholder["json"].rstrip("}").endswith('{"a":"bottom"')
