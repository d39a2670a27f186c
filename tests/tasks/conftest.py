"""An engine (in-memory store, and SQLite) with a manual clock and a small user directory:

- ann, bob: staff in group "adjusters"; cat: staff in "underwriters";
- sue: staff in group "supervisors"; ada: role admin; ana: role analyst.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.service import Engine
from engine.store import open_store
from engine.testing import ManualClock

PASSWORD = "correct horse"


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """scrypt takes ~50 ms per hash on purpose; the tests need many users, not security."""
    monkeypatch.setattr("engine.identity.PASSWORD_METHOD", "pbkdf2:sha256:1")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(params=["memory", "sqlite"])
def engine(request: pytest.FixtureRequest, clock: ManualClock, tmp_path: Path) -> Engine:
    """Every task test runs on the in-memory store and on SQLite (the SQL store)."""
    if request.param == "sqlite":
        e = Engine(store=open_store(f"sqlite:///{tmp_path}/tasks.db"), clock=clock)
    else:
        e = Engine(clock=clock)
    e.add_user("ann", "Ann Adjuster", PASSWORD, ["staff"], ["adjusters"])
    e.add_user("bob", "Bob Adjuster", PASSWORD, ["staff"], ["adjusters"])
    e.add_user("cat", "Cat Underwriter", PASSWORD, ["staff"], ["underwriters"])
    e.add_user("sue", "Sue Supervisor", PASSWORD, ["staff"], ["supervisors"])
    e.add_user("ada", "Ada Admin", PASSWORD, ["admin"], [])
    e.add_user("ana", "Ana Analyst", PASSWORD, ["analyst"], [])
    return e
