"""The runtime scenario tests (tests/runtime) again, on SQLite and PostgreSQL.

Each test of tests/runtime/test_*.py is collected here a second (and third) time with a
harness whose engine keeps everything in the SQL store, so a behaviour that only works
because the memory store hands back live objects (state not serialised, dates turned into
strings, rows read before they were written) fails here.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest

import tests.runtime as runtime_tests
from engine.service import Engine
from tests.runtime.conftest import Harness
from tests.store.conftest import SQL_KINDS


class SqlHarness(Harness):
    def __init__(self, store: Any) -> None:
        super().__init__()
        self.engine = Engine(store=store, clock=self.clock)


@pytest.fixture(params=SQL_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def h(store: Any) -> SqlHarness:
    return SqlHarness(store)


def _collect() -> dict[str, Any]:
    found = {}
    for info in pkgutil.iter_modules(runtime_tests.__path__):
        if not info.name.startswith("test_"):
            continue
        module = importlib.import_module(f"{runtime_tests.__name__}.{info.name}")
        for name, obj in vars(module).items():
            if name.startswith("test_") and callable(obj) \
                    and getattr(obj, "__module__", None) == module.__name__:
                found[f"test_{info.name[5:]}__{name[5:]}"] = obj
    return found


globals().update(_collect())
