"""The databases the suites run on: the memory store, SQLite, PostgreSQL and MariaDB.

Why: the command path, the SQL store and its locking differ between SQLite and PostgreSQL,
and a bug that lives above the store (a double completion on PostgreSQL was one) only shows
when the layers above run on the real database. `tests/conftest.py` turns these helpers
into fixtures; the suites' `engine` fixtures take a kind from `STORE_KINDS` (or a subset)
and ask `new_store(kind)` for an empty store.

PostgreSQL is $BATON_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/test). The
session works in a schema of its own (created, migrated once, dropped at the end); every
test starts from empty tables. Where no server answers, the PostgreSQL cases skip with the
reason (a failure under BATON_REQUIRE_SERVICES=1, as in CI).

MariaDB is $BATON_TEST_MARIADB_URL (default mysql://root@127.0.0.1:3306/test, the server
CI's machine runs). The session creates a database of its own (`baton_test_<pid>_<hex>`,
utf8mb4 with the binary collation), migrates it once, empties it before each test and
drops it at the end; no server: skipped with the reason, failed under
BATON_REQUIRE_SERVICES=1, as for PostgreSQL.

Which suites run on MariaDB: every suite that takes its kinds from here - the store
suites (tests/store), the job, timer and crash tests (tests/jobs), the race suite
(tests/concurrency, its own fixture) and the door suites (tests/tasks, api, security,
engine_rest, authz, web). What MariaDB changes is below the command path (the store's
statements, its row locks, SKIP LOCKED leasing, types, migrations), and that is what the
store, job and race suites pin; the door suites are there because a bug above the store
that shows on one locking database only (PostgreSQL's double completion was one) can show
on MariaDB too. Why all of them: they are cheap. Measured on the 2-core machine CI runs
on, the MariaDB cases take about as long as the PostgreSQL ones: store ~75 s, jobs ~55 s
(the crash test with 300 instances and four SIGKILLs, and 1,000 timers), races ~65 s,
door suites ~60 s, pages ~15 s: some 4.5 minutes on top of a ~6-minute run, well under
the 20-minute budget. Should that change, the door suites are the first to leave (a
list without MARIADB in their conftest), the store, job and race suites the last.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

PG_ENV = "BATON_TEST_PG_URL"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
MARIADB_ENV = "BATON_TEST_MARIADB_URL"
MARIADB_DEFAULT = "mysql://root@127.0.0.1:3306/test"
POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)
MARIADB = pytest.param("mariadb", marks=pytest.mark.mariadb)
STORE_KINDS = ["memory", "sqlite", POSTGRES, MARIADB]
SQL_KINDS = ["sqlite", POSTGRES, MARIADB]


def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """An empty, migrated SQLite file for a session: tests copy it instead of migrating
    (migrating costs ~250 ms)."""
    from engine.store.sql import SqlStore

    path = tmp_path_factory.mktemp(name) / "template.db"
    SqlStore(f"sqlite:///{path}").close()
    return path


def pg_base_url() -> str:
    return os.environ.get(PG_ENV, PG_DEFAULT)


def with_search_path(url: str, schema: str) -> str:
    """`url` with libpq `options=-csearch_path=<schema>`: every connection of the pool (and
    of any process given the URL) works in that schema."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-csearch_path={schema}"))
    return urlunsplit(parts._replace(query=urlencode(query)))


class PgSchema:
    """A migrated schema of its own on the test server, emptied before each test."""

    def __init__(self, admin: Any, schema: str) -> None:
        import sqlalchemy as sa

        from engine.store.sql import SqlStore, normalize_url

        self.admin = admin
        self.schema = schema
        self.url = with_search_path(pg_base_url(), schema)
        SqlStore(self.url, auto_upgrade=True).close()
        self.engine = sa.create_engine(normalize_url(self.url), pool_size=1)

    @classmethod
    def create(cls) -> PgSchema:
        """Connect and create the schema; skips (with the reason) where no server answers."""
        psycopg = pytest.importorskip("psycopg")
        base = pg_base_url()
        try:
            admin = psycopg.connect(base, connect_timeout=3, autocommit=True)
        except Exception as e:  # noqa: BLE001 - any failure to connect means: skip, with why
            pytest.skip(f"PostgreSQL not reachable at {base}: {e}")
        schema = f"baton_doors_{os.getpid()}_{secrets.token_hex(3)}"
        admin.execute(f'CREATE SCHEMA "{schema}"')
        return cls(admin, schema)

    def empty(self) -> None:
        """Delete every row, children first (faster than TRUNCATE for a test's few rows)."""
        import sqlalchemy as sa

        from engine.store.schema import ALL_TABLES

        with self.engine.begin() as conn:
            conn.execute(sa.text("SET CONSTRAINTS ALL IMMEDIATE"))
            for table in reversed(ALL_TABLES):
                conn.execute(table.delete())

    def drop(self) -> None:
        self.engine.dispose()
        self.admin.execute(f'DROP SCHEMA "{self.schema}" CASCADE')
        self.admin.close()


def mariadb_base_url() -> str:
    return os.environ.get(MARIADB_ENV, MARIADB_DEFAULT)


def with_database(url: str, database: str) -> str:
    """`url` naming another database on the same server."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


class MariaDatabase:
    """A migrated database of its own on the test MariaDB server, emptied before each test
    (as `PgSchema` is on PostgreSQL)."""

    def __init__(self, admin: Any, name: str, migrate: bool = True) -> None:
        import sqlalchemy as sa

        from engine.store.sql import SqlStore, normalize_url

        self.admin = admin
        self.name = name
        self.url = with_database(mariadb_base_url(), name)
        if migrate:
            SqlStore(self.url, auto_upgrade=True).close()
        self.engine = sa.create_engine(normalize_url(self.url), pool_size=1)

    @classmethod
    def create(cls, prefix: str = "baton_test", migrate: bool = True) -> MariaDatabase:
        """Connect and create the database; skips (with the reason) where no server
        answers."""
        pymysql = pytest.importorskip("pymysql")
        import sqlalchemy as sa

        base = mariadb_base_url()
        url = sa.engine.make_url(base)
        try:
            admin = pymysql.connect(host=url.host or "127.0.0.1", port=url.port or 3306,
                                    user=url.username or "root", password=url.password or "",
                                    connect_timeout=3, autocommit=True)
        except Exception as e:  # noqa: BLE001 - any failure to connect means: skip, with why
            pytest.skip(f"MariaDB not reachable at {base}: {e}")
        name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 "
                        "COLLATE utf8mb4_bin")
        return cls(admin, name, migrate)

    def empty(self) -> None:
        """Delete every row, children first (the cascading foreign keys are the only ones
        MariaDB has, so the order is all it takes)."""
        from engine.store.schema import ALL_TABLES

        with self.engine.begin() as conn:
            for table in reversed(ALL_TABLES):
                conn.execute(table.delete())

    def drop(self) -> None:
        self.engine.dispose()
        with self.admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{self.name}`")
        self.admin.close()
