"""An engine (in-memory store, SQLite and PostgreSQL) with a manual clock and a small user
directory:

- ann, bob: staff in group "adjusters"; cat: staff in "underwriters";
- sue: staff in group "supervisors"; ada: role admin; ana: role analyst.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from engine.service import Engine
from engine.testing import ManualClock
from tests.databases import STORE_KINDS

PASSWORD = "correct horse"


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """scrypt takes ~50 ms per hash on purpose; the tests need many users, not security."""
    monkeypatch.setattr("engine.identity.PASSWORD_METHOD", "pbkdf2:sha256:1")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(params=STORE_KINDS)
def engine(request: pytest.FixtureRequest, clock: ManualClock,
           new_store: Callable[[str], Any]) -> Engine:
    """Every task test runs on the in-memory store, on SQLite and on PostgreSQL: the task
    rules (claim, complete, deputies, escalation) run as commands whose locking differs
    per database."""
    e = Engine(store=new_store(request.param), clock=clock)
    e.add_user("ann", "Ann Adjuster", PASSWORD, ["staff"], ["adjusters"])
    e.add_user("bob", "Bob Adjuster", PASSWORD, ["staff"], ["adjusters"])
    e.add_user("cat", "Cat Underwriter", PASSWORD, ["staff"], ["underwriters"])
    e.add_user("sue", "Sue Supervisor", PASSWORD, ["staff"], ["supervisors"])
    e.add_user("ada", "Ada Admin", PASSWORD, ["admin"], [])
    e.add_user("ana", "Ana Analyst", PASSWORD, ["analyst"], [])
    return e
