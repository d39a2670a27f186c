"""Suite-wide fixtures and hooks.

- `new_store(kind)`: an empty store of the kind a test is parametrized with ("memory",
  "sqlite", "postgres" or "mariadb", see tests/databases.py), closed after the test.
- BATON_REQUIRE_SERVICES=1 (set by .ci/run): a test skipped because a server, a package,
  the browser or the shared corpus is missing FAILS instead. Without it such tests skip
  with the reason, so a developer without PostgreSQL or Chromium can still run the rest;
  in CI a failed install must not turn into a green run with fewer tests.
- The conformance harness modules get pytest's assertion rewriting wherever they are
  imported from (tests/store replays the corpus too), so a known diff's pinned assertion
  message is the same in every run.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.databases import MariaDatabase, PgSchema, migrated_sqlite_file

pytest.register_assert_rewrite("tests.conformance")

REQUIRE_ENV = "BATON_REQUIRE_SERVICES"
# Skip reasons that mean "something the suite needs is not installed or not running".
# Other skips (a test that does not apply to this store kind, ...) stay skips.
INFRASTRUCTURE = re.compile("|".join([
    r"could not import '",                   # pytest.importorskip's own reason
    r"PostgreSQL not reachable",
    r"MariaDB not reachable",
    r"Chromium is not installed",
    r"\bis not installed\b",                 # playwright, the test connector package
    r"is a test dependency",                 # the Camunda external task client
    r"corpus (?:is )?not (?:found|present|at)",
    r"the shared corpus is not",
    r"corpus diagram missing",
]), re.IGNORECASE)


def services_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0", "false", "no")


def skip_reason(longrepr: Any) -> str:
    """The reason of a skip report (a (path, line, 'Skipped: reason') tuple)."""
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def missing_service(reason: str) -> bool:
    return bool(INFRASTRUCTURE.search(reason))


def refusal(reason: str) -> str:
    return (f"{REQUIRE_ENV}=1 and a service, package, browser or the corpus is missing "
            f"(this would be a skip without it): {reason}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A test skipped for a missing service fails when services are required."""
    report = yield
    if (services_required() and report.skipped and not hasattr(report, "wasxfail")
            and missing_service(skip_reason(report.longrepr))):
        report.outcome = "failed"
        report.longrepr = refusal(skip_reason(report.longrepr))
    return report


class MissingService(pytest.Item):
    """Stands for a whole module that skipped at import (module-level importorskip) while
    services are required: one failing test that names the reason, instead of a skip, and
    instead of a collection error that would stop every other test from running."""

    def __init__(self, *, reason: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.reason = reason

    def runtest(self) -> None:
        pytest.fail(refusal(self.reason), pytrace=False)

    def reportinfo(self) -> tuple[Any, int, str]:
        return self.path, 0, f"{self.name}: the module skipped at import"


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Any:
    report = yield
    if services_required() and report.outcome == "skipped":
        reason = skip_reason(report.longrepr)
        if missing_service(reason):
            report.outcome = "passed"
            report.longrepr = None
            report.result = [MissingService.from_parent(
                collector, name="missing-service", reason=reason)]
    return report


# ---------------------------------------------------------------------------- stores
@pytest.fixture(scope="session")
def baton_pg() -> Iterator[PgSchema]:
    """The session's PostgreSQL schema (skips with the reason where no server answers)."""
    schema = PgSchema.create()
    try:
        yield schema
    finally:
        schema.drop()


@pytest.fixture(scope="session")
def baton_mariadb() -> Iterator[MariaDatabase]:
    """The session's MariaDB database (skips with the reason where no server answers)."""
    database = MariaDatabase.create("baton_doors")
    try:
        yield database
    finally:
        database.drop()


@pytest.fixture(scope="session")
def baton_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, migrated SQLite file; each test copies it (migrating costs ~250 ms)."""
    return migrated_sqlite_file(tmp_path_factory, "baton-sqlite")


@pytest.fixture
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[str], Any]]:
    """new_store(kind) -> an empty store: "memory", "sqlite" (a file of its own),
    "postgres" (the session schema, emptied) or "mariadb" (the session database,
    emptied). SQL stores are closed after the test, so server connections do not pile up
    over a run."""
    opened: list[Any] = []

    def make(kind: str) -> Any:
        from engine.store import MemoryStore
        from engine.store.sql import SqlStore

        if kind == "memory":
            return MemoryStore()
        if kind == "sqlite":
            path = tmp_path / f"baton-{len(opened)}.db"
            shutil.copy(request.getfixturevalue("baton_sqlite_template"), path)
            store = SqlStore(f"sqlite:///{path}", auto_upgrade=False, verify_schema=False)
        elif kind == "postgres":
            pg: PgSchema = request.getfixturevalue("baton_pg")
            if not opened:
                pg.empty()
            store = SqlStore(pg.url, auto_upgrade=False, verify_schema=False, pool_size=4)
        elif kind == "mariadb":
            maria: MariaDatabase = request.getfixturevalue("baton_mariadb")
            if not opened:
                maria.empty()
            store = SqlStore(maria.url, auto_upgrade=False, verify_schema=False, pool_size=4)
        else:
            raise ValueError(f"unknown store kind {kind!r}")
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()
