"""Stores for the durable-engine tests: every scenario runs on the in-memory store, on SQLite
(a file), on PostgreSQL and on MariaDB.

PostgreSQL is taken from $BATON_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/test).
Each test session works in a schema of its own (created, migrated, dropped at the end), so
parallel runs and other suites on the same server do not collide; tables are emptied before
each test. When the server does not answer, the PostgreSQL cases are skipped with the
reason — never silently. MariaDB ($BATON_TEST_MARIADB_URL, default
mysql://root@127.0.0.1:3306/test) likewise, in a database of its own per session
(tests/databases.py).
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from connectors.registry import Registry
from engine.service import Engine
from engine.store import MemoryStore
from engine.testing import ManualClock

# the kinds are tests/databases.py's; the store suites import them from here
from tests.databases import SQL_KINDS as SQL_KINDS
from tests.databases import STORE_KINDS, MariaDatabase, migrated_sqlite_file

PG_ENV = "BATON_TEST_PG_URL"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


def pytest_configure(config: pytest.Config) -> None:
    # tests/conformance registers it too; needed when only tests/store runs
    config.addinivalue_line("markers", "corpus_row(path): one executable diagram of the "
                                       "shared corpus")


def with_search_path(url: str, schema: str) -> str:
    """`url` with libpq `options=-csearch_path=<schema>` (kept in any process we start)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-csearch_path={schema}"))
    return urlunsplit(parts._replace(query=urlencode(query)))


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A migrated schema of its own on the test PostgreSQL server."""
    psycopg = pytest.importorskip("psycopg")
    base = os.environ.get(PG_ENV, PG_DEFAULT)
    try:
        admin = psycopg.connect(base, connect_timeout=3, autocommit=True)
    except Exception as e:  # noqa: BLE001 - any failure to connect means: skip, with why
        pytest.skip(f"PostgreSQL not reachable at {base}: {e}")
    schema = f"baton_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    url = with_search_path(base, schema)
    from engine.store.sql import SqlStore

    SqlStore(url, auto_upgrade=True).close()
    try:
        yield url
    finally:
        eng = _admin_engines.pop(url, None)
        if eng is not None:
            eng.dispose()
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


_admin_engines: dict[str, Any] = {}


def empty_pg(url: str) -> None:
    """Delete every row (children first): much faster than TRUNCATE for the few rows a test
    leaves behind."""
    import sqlalchemy as sa

    from engine.store.schema import ALL_TABLES
    from engine.store.sql import normalize_url

    eng = _admin_engines.get(url)
    if eng is None:
        eng = _admin_engines[url] = sa.create_engine(normalize_url(url), pool_size=1)
    with eng.begin() as conn:
        conn.execute(sa.text("SET CONSTRAINTS ALL IMMEDIATE"))
        for table in reversed(ALL_TABLES):
            conn.execute(table.delete())


@pytest.fixture(scope="session")
def maria_database() -> Iterator[MariaDatabase]:
    """A migrated database of its own on the test MariaDB server."""
    database = MariaDatabase.create("baton_test")
    try:
        yield database
    finally:
        database.drop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, migrated SQLite database; each test copies it (faster than migrating)."""
    return migrated_sqlite_file(tmp_path_factory, "sqlite-template")


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def db_url(store_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """The database URL of this test (None for the memory store), emptied."""
    if store_kind == "memory":
        return None
    if store_kind == "sqlite":
        path = tmp_path / "baton.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    if store_kind == "mariadb":
        maria: MariaDatabase = request.getfixturevalue("maria_database")
        maria.empty()
        return maria.url
    url = request.getfixturevalue("pg_url")
    empty_pg(url)
    return url


@pytest.fixture
def open_store(db_url: str | None) -> Iterator[Callable[[], Any]]:
    """Opens another store on this test's database (like another process would); the
    memory store is shared."""
    from engine.store.sql import SqlStore

    opened: list[Any] = []
    memory = MemoryStore()

    def make() -> Any:
        if db_url is None:
            return memory
        st = SqlStore(db_url)
        opened.append(st)
        return st

    yield make
    for st in opened:
        st.close()


@pytest.fixture
def store(open_store: Callable[[], Any]) -> Any:
    return open_store()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def reg() -> Registry:
    return Registry()


@pytest.fixture
def engine(store: Any, clock: ManualClock, reg: Registry) -> Engine:
    return Engine(store=store, clock=clock, connectors=reg)
