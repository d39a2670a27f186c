"""Databases and engine pairs for the race suite.

Why a pair of engines: two web workers or two `baton` processes share nothing but the
database, so each side of a race gets its OWN `Engine` and its own `SqlStore` (its own
connection pool) on the same database; an in-process lock or cache cannot hide a race that
the database lets through. Every scenario runs on SQLite (a real file, WAL, `BEGIN
IMMEDIATE`), on PostgreSQL (READ COMMITTED, row locks, the store's batched path) and on
MariaDB (READ COMMITTED, row locks, the store's portable path), whose locking differs.

PostgreSQL is taken from $BATON_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/test);
the suite works in a schema of its own, dropped at the end. When no server answers, the
PostgreSQL cases are skipped with the reason - never silently. MariaDB likewise
($BATON_TEST_MARIADB_URL, default mysql://root@127.0.0.1:3306/test; a database of its own).

At the end of the run a per-scenario summary (who won how often, what the losers raised,
which invariants broke) is printed, passing or not: the counts are what the engineer fixing
the command path needs, a bare "failed" is not.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from engine import Engine
from engine.testing import ManualClock
from tests.concurrency.harness import DIAGRAMS, Pair, Tally
from tests.databases import MARIADB, MariaDatabase, migrated_sqlite_file

PG_ENV = "BATON_TEST_PG_URL"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
TALLIES = pytest.StashKey[list[Tally]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[TALLIES] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter,
                            config: pytest.Config) -> None:
    """Print every scenario's tally, also for passing ones (a pass with 0 losers would be as
    suspicious as a failure)."""
    tallies = config.stash.get(TALLIES, [])
    if not tallies:
        return
    terminalreporter.write_sep("=", "race summary (tests/concurrency)")
    for tally in tallies:
        terminalreporter.write_line(tally.summary())


@pytest.fixture
def record_tally(request: pytest.FixtureRequest) -> Callable[[Tally], None]:
    """Hands a finished tally to the end-of-run summary."""
    return request.config.stash[TALLIES].append


def with_search_path(url: str, schema: str) -> str:
    """`url` with libpq `options=-csearch_path=<schema>`, so every pool connection works in
    the suite's own schema."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-csearch_path={schema}"))
    return urlunsplit(parts._replace(query=urlencode(query)))


@pytest.fixture(scope="session")
def race_pg_url() -> Iterator[str]:
    """A migrated schema of its own on the test PostgreSQL server (rows are not emptied
    between scenarios: every round works on a fresh instance, so old rows do not matter)."""
    psycopg = pytest.importorskip("psycopg")
    base = os.environ.get(PG_ENV, PG_DEFAULT)
    try:
        admin = psycopg.connect(base, connect_timeout=3, autocommit=True)
    except Exception as e:  # noqa: BLE001 - any failure to connect means: skip, with why
        pytest.skip(f"PostgreSQL not reachable at {base}: {e}")
    schema = f"baton_race_{os.getpid()}_{secrets.token_hex(3)}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    url = with_search_path(base, schema)
    from engine.store.sql import SqlStore

    try:
        SqlStore(url, auto_upgrade=True).close()
        yield url
    finally:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


@pytest.fixture(scope="session")
def race_mariadb_url() -> Iterator[str]:
    """A migrated database of its own on the test MariaDB server (rows kept between
    scenarios, as on PostgreSQL)."""
    database = MariaDatabase.create("baton_race")
    try:
        yield database.url
    finally:
        database.drop()


@pytest.fixture(scope="session")
def race_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, migrated SQLite file; each scenario copies it (faster than migrating)."""
    return migrated_sqlite_file(tmp_path_factory, "race-sqlite")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres),
                        MARIADB])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """(kind, URL) of the database this scenario races on."""
    if request.param == "sqlite":
        path = tmp_path / "race.db"
        shutil.copy(request.getfixturevalue("race_sqlite_template"), path)
        return "sqlite", f"sqlite:///{path}"
    if request.param == "mariadb":
        return "mariadb", request.getfixturevalue("race_mariadb_url")
    return "postgres", request.getfixturevalue("race_pg_url")


@pytest.fixture
def pair(database: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Pair]:
    """Two engines with their own stores on `database`, the race diagrams deployed and the
    users `ann` and `bob` (both in group `g`, the candidates of every user task)."""
    from engine.store.sql import SqlStore

    # user setup only: the default scrypt hash costs a noticeable fraction of a second
    monkeypatch.setattr("engine.identity.PASSWORD_METHOD", "pbkdf2:sha256:1")
    kind, url = database
    clock = ManualClock()
    stores = [SqlStore(url, pool_size=2), SqlStore(url, pool_size=2)]
    try:
        a = Engine(store=stores[0], clock=clock, worker_id="engine-a")
        b = Engine(store=stores[1], clock=clock, worker_id="engine-b")
        a.deploy(*[xml.encode() for xml in DIAGRAMS])
        for user in ("ann", "bob"):
            if a.get_user(user) is None:
                a.add_user(user, user.title(), "password1", ["staff"], ["g"])
        yield Pair(kind, a, b)
    finally:
        for store in stores:
            store.close()
