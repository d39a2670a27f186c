"""The databases the door and task suites run on: the memory store, SQLite and PostgreSQL.

Why: the command path, the SQL store and its locking differ between SQLite and PostgreSQL,
and a bug that lives above the store (a double completion on PostgreSQL was one) only shows
when the layers above run on the real database. `tests/conftest.py` turns these helpers
into fixtures; the suites' `engine` fixtures take a kind from `STORE_KINDS` (or a subset)
and ask `new_store(kind)` for an empty store.

PostgreSQL is $BATON_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/test). The
session works in a schema of its own (created, migrated once, dropped at the end); every
test starts from empty tables. Where no server answers, the PostgreSQL cases skip with the
reason (a failure under BATON_REQUIRE_SERVICES=1, as in CI).
"""

from __future__ import annotations

import os
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

PG_ENV = "BATON_TEST_PG_URL"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)
STORE_KINDS = ["memory", "sqlite", POSTGRES]
SQL_KINDS = ["sqlite", POSTGRES]


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
