"""What differs between the SQL databases Baton runs on, kept out of the store's hot path.

Three databases: SQLite (embedded, one machine), PostgreSQL (several workers, several
machines; the store's batched fast path, `sql.py`) and MariaDB/MySQL. MariaDB runs on the
store's portable path, the one SQLite takes (statements one by one on the DBAPI cursor,
row counts checked by the client), plus the row locks PostgreSQL takes: an instance is
read `FOR UPDATE` before a command changes it, jobs and external tasks are leased with
`FOR UPDATE SKIP LOCKED` (MariaDB 10.6 and newer, MySQL 8). Nothing PostgreSQL-only
(arrays, `aggregate_order_by`, `PREPARE`/`EXECUTE` batches, `baton_check`) is used there.

Why READ COMMITTED on MariaDB (InnoDB's default is REPEATABLE READ): the store's locking
is written for PostgreSQL's READ COMMITTED. A command locks its instance row and then
reads the instance's tasks and jobs expecting to see what the lock's previous holder
committed; under REPEATABLE READ those plain reads would come from the snapshot taken at
the transaction's first read, i.e. possibly before that commit. REPEATABLE READ also
takes gap (next-key) locks on the ranges a locking read scans, so two workers acquiring
jobs, or two commands inserting tasks, would block and deadlock each other on rows that
do not even exist. READ COMMITTED has neither: each statement sees the latest commits,
locking reads lock the rows they return and nothing between them.

This module also says, for the whole store, which URLs are accepted, what counts as a
retryable conflict (deadlocks and lock wait time-outs on MariaDB), and how an upsert is
written per database.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from engine.store.errors import ValueTooLong

SQLITE, POSTGRESQL, MYSQL = "sqlite", "postgresql", "mysql"
# SQLAlchemy's dialect names of the MySQL family (`mariadb+pymysql://` is "mariadb")
MYSQL_NAMES = ("mysql", "mariadb")
SUPPORTED_URLS = ("sqlite:///FILE, postgresql://USER@HOST/DB or "
                  "mysql://USER@HOST/DB (MariaDB 10.6+; mariadb:// too)")

# the driver each short scheme means: psycopg 3 for PostgreSQL, PyMySQL (pure Python,
# maintained by the PyMySQL project) for MariaDB and MySQL
_SCHEMES = {
    "postgresql://": "postgresql+psycopg://",
    "postgres://": "postgresql+psycopg://",
    "mysql://": "mysql+pymysql://",
    "mariadb://": "mariadb+pymysql://",
}


def normalize_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean psycopg 3, `mysql://` and `mariadb://` mean
    PyMySQL; other URLs (`sqlite:///...`, an explicit `+driver`) pass unchanged."""
    for prefix, full in _SCHEMES.items():
        if url.startswith(prefix):
            return full + url[len(prefix):]
    return url


def family(name: str) -> str:
    """The store's name of a SQLAlchemy dialect or backend name: "sqlite", "postgresql",
    "mysql" (MySQL and MariaDB alike), or the name itself when it is none of these."""
    return MYSQL if name in MYSQL_NAMES else name


def is_mysql(dialect: Any) -> bool:
    """Whether a SQLAlchemy dialect (or its name) is MySQL or MariaDB."""
    return (dialect if isinstance(dialect, str) else dialect.name) in MYSQL_NAMES


# ====================================================================== engine and sessions
def engine_options(name: str) -> dict[str, Any]:
    """`create_engine` options of a database family beyond the pool sizes."""
    if family(name) != MYSQL:
        return {}
    return {
        "isolation_level": "READ COMMITTED",        # see the module docstring
        "connect_args": {"charset": "utf8mb4"},     # the tables' charset (migration 0001)
        # the server closes connections idle for `wait_timeout` (8 hours by default)
        "pool_recycle": 3600,
    }


def mysql_setup(engine: sa.Engine) -> None:
    """Every MariaDB session: UTC, and strict about values that do not fit (an id longer
    than its column is an error, never silently cut short)."""

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("SET time_zone = '+00:00'")
        cur.execute("SET SESSION sql_mode = CONCAT_WS(',', @@SESSION.sql_mode, "
                    "'STRICT_ALL_TABLES', 'NO_ENGINE_SUBSTITUTION')")
        cur.close()


class CursorConnection:
    """A DBAPI connection with sqlite3's `execute()` shortcut (a cursor that has run the
    statement), so the store's portable path runs the same code on SQLite and MariaDB.
    One cursor is reused: PyMySQL's buffers each result whole, and the store reads it
    before the next statement."""

    __slots__ = ("dbapi", "_cur")

    def __init__(self, dbapi: Any) -> None:
        self.dbapi = dbapi
        self._cur: Any = None

    def execute(self, sql: str, params: Any = ()) -> Any:
        cur = self._cur
        if cur is None:
            cur = self._cur = self.dbapi.cursor()
        cur.execute(sql, params)
        return cur

    def cursor(self) -> Any:
        return self.dbapi.cursor()

    def rollback(self) -> None:
        self.dbapi.rollback()


def raw_connection(conn: sa.Connection) -> Any:
    """The DBAPI connection the store's portable path runs statements on."""
    dbapi = conn.connection.dbapi_connection
    if is_mysql(conn.dialect):
        return CursorConnection(dbapi)
    return dbapi


# a connection kept by the store (SqlStore._checkout) idle longer than this is pinged
# before use: MariaDB closes connections idle for `wait_timeout` (8 hours by default), and
# without the ping every connection kept over a quiet night would fail one command
IDLE_PING_S = 60.0
_LAST_USE = "baton_last_use"


def still_open(conn: sa.Connection) -> bool:
    """Whether a MariaDB connection the store kept between transactions can be used: yes
    when it was used less than `IDLE_PING_S` ago, else when it answers a ping. One that
    does not is invalidated and closed (the caller takes another)."""
    now = time.monotonic()
    last = conn.info.get(_LAST_USE)
    conn.info[_LAST_USE] = now
    if last is not None and now - last < IDLE_PING_S:
        return True
    try:
        conn.connection.dbapi_connection.ping(reconnect=False)
        return True
    except Exception:  # noqa: BLE001 - any failure: the connection is not to be used
        conn.invalidate()
        conn.close()
        return False


# MariaDB/MySQL error numbers a retry of the whole command resolves: a deadlock (InnoDB
# has rolled the transaction back), a lock wait that ran out, "record has changed since
# last read" (MariaDB 11.6+'s snapshot isolation check)
MYSQL_CONFLICTS = frozenset({1213, 1205, 1020})


def is_conflict(orig: Any) -> bool:
    """A MariaDB/MySQL error that means "another transaction was in the way" (PyMySQL's
    errors carry the server's error number as their first argument)."""
    args = getattr(orig, "args", None)
    if not args or type(args[0]) is not int:
        return False
    module = type(orig).__module__ or ""
    return module.startswith(("pymysql", "MySQLdb")) and args[0] in MYSQL_CONFLICTS


# a value longer than its column: MariaDB/MySQL's "Data too long for column 'x' at row 1"
# (strict mode, set by `mysql_setup`) and PostgreSQL's string_data_right_truncation
MYSQL_TOO_LONG = 1406
PG_TOO_LONG = "22001"
_MYSQL_COLUMN = re.compile(r"column '([^']{1,128})'")


def value_too_long(orig: Any) -> ValueTooLong | None:
    """For a driver error that means "a value is longer than its column", the
    `ValueTooLong` to raise instead (a 400 naming the column, where a raw driver error
    would be a 500); None for any other error."""
    if (type(orig).__module__ or "").startswith(("pymysql", "MySQLdb")):
        # (PyMySQL sets a `sqlstate` too: the error number is what tells)
        args = getattr(orig, "args", None)
        if not args or type(args[0]) is not int or args[0] != MYSQL_TOO_LONG:
            return None
        text = str(args[1]) if len(args) > 1 else ""
        found = _MYSQL_COLUMN.search(text)
        return ValueTooLong(found.group(1) if found else None, text)
    if getattr(orig, "sqlstate", None) == PG_TOO_LONG:
        column = getattr(getattr(orig, "diag", None), "column_name", None)
        return ValueTooLong(column, str(orig).strip().splitlines()[0])
    return None


# ====================================================================== statements
def upsert(name: str, table: sa.Table, values: dict[str, Any], key: str) -> Any:
    """INSERT `values`, or UPDATE the other columns of the row with the same `key`:
    `ON CONFLICT DO UPDATE` on SQLite and PostgreSQL, `ON DUPLICATE KEY UPDATE` on
    MariaDB/MySQL (where `key` is the primary key, as for every upsert of the store)."""
    rest = {k: v for k, v in values.items() if k != key}
    fam = family(name)
    if fam == MYSQL:
        from sqlalchemy.dialects.mysql import insert as mysql_insert

        return mysql_insert(table).values(values).on_duplicate_key_update(rest)
    if fam == POSTGRESQL:
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).values(values).on_conflict_do_update(
            index_elements=[key], set_=rest)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).values(values).on_conflict_do_update(
        index_elements=[key], set_=rest)


def no_limit(name: str) -> int | None:
    """The LIMIT value meaning "all rows" for a statement whose LIMIT is a parameter:
    NULL on PostgreSQL, -1 on SQLite, the largest unsigned 64-bit number on MariaDB
    (MySQL's own documented idiom for "an offset without a limit")."""
    fam = family(name)
    if fam == POSTGRESQL:
        return None
    return 18446744073709551615 if fam == MYSQL else -1


class py_lower(FunctionElement):  # noqa: N801 - reads like the SQL function it renders
    """Lower case as Python's `str.lower` does it, for case-insensitive name filters.
    SQLite's own `lower()` folds ASCII only, so there it is the store's `baton_lower`
    (a Python function registered on each connection); PostgreSQL's and MariaDB's
    `lower()` fold Unicode by the column's character set."""

    type = sa.String()
    name = "py_lower"
    inherit_cache = True


@compiles(py_lower)
def _lower_default(element: py_lower, compiler: Any, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(py_lower, "sqlite")
def _lower_sqlite(element: py_lower, compiler: Any, **kw: Any) -> str:
    return f"baton_lower({compiler.process(element.clauses, **kw)})"


# ====================================================================== migrations
@compiles(sa.String, "mysql")
@compiles(sa.String, "mariadb")
def _unsized_string(type_: sa.String, compiler: Any, **kw: Any) -> str:
    """A migration's `sa.String()` without a length (valid on SQLite and PostgreSQL) is
    VARCHAR(255) on MariaDB, which wants one: the width of the schema's keys (`schema.S`).
    Without this, every migration that adds a plain text column would fail there."""
    if type_.length is None:
        return str(compiler.visit_VARCHAR(sa.VARCHAR(255, collation=type_.collation), **kw))
    return str(compiler.visit_VARCHAR(type_, **kw))


_MIGRATION_LOCK = "baton_migrations"
_MIGRATION_WAIT_S = 300


@contextmanager
def migration_lock(conn: sa.Connection, advisory_key: int) -> Iterator[None]:
    """Hold the database-wide lock that keeps two processes from migrating at once:
    PostgreSQL's advisory transaction lock, MariaDB's named lock (a session lock: DDL
    commits implicitly there, so a transaction lock would end with the first CREATE
    TABLE). SQLite needs none (the migration's transaction holds the file's write lock)."""
    fam = family(conn.dialect.name)
    if fam == POSTGRESQL:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": advisory_key})
        yield
        return
    if fam != MYSQL:
        yield
        return
    got = conn.execute(sa.text("SELECT GET_LOCK(:name, :wait)"),
                       {"name": _MIGRATION_LOCK, "wait": _MIGRATION_WAIT_S}).scalar()
    if got != 1:
        from engine.store.errors import StoreError

        raise StoreError(f"another process has been migrating this database for "
                         f"{_MIGRATION_WAIT_S} s (MariaDB lock '{_MIGRATION_LOCK}')")
    try:
        yield
    finally:
        conn.execute(sa.text("SELECT RELEASE_LOCK(:name)"), {"name": _MIGRATION_LOCK})
