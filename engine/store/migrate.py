"""Running Baton's Alembic migrations from code (no alembic.ini needed).

`upgrade()` is what `baton db upgrade` and a SQLite store's auto-upgrade call. It runs in one
transaction under a lock (PostgreSQL advisory lock; SQLite's write lock via BEGIN
IMMEDIATE; MariaDB's named lock `baton_migrations`), so two workers starting at once
against a fresh database do not both try to create the tables.

MariaDB has no transactional DDL: each CREATE or ALTER commits on its own, so a migration
that fails half-way leaves the tables it had made (PostgreSQL and SQLite roll the whole
upgrade back). The version table still says the last revision that completed; fix the
cause, drop what the failed revision created, and upgrade again.
"""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from engine.store.dialects import migration_lock
from engine.store.errors import StoreError
from engine.store.schema import VERSION_TABLE

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_ADVISORY_KEY = 0x6261746F6E  # "baton"
# Alembic keeps the running migration's context in module globals: one at a time per process
_ALEMBIC = threading.Lock()


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations (for `alembic` commands too)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(engine: sa.Engine) -> str | None:
    """The database's schema revision; None for an empty database."""
    with _ALEMBIC, engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return ctx.get_current_revision()


def upgrade(engine: sa.Engine, revision: str = "head") -> str | None:
    """Migrate the database to `revision` (default: the newest); returns the revision."""
    with _ALEMBIC, engine.begin() as conn, migration_lock(conn, _ADVISORY_KEY):
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return current_revision(engine)


def check_current(engine: sa.Engine) -> None:
    """Refuse a database whose schema is not the one this code expects."""
    current = current_revision(engine)
    head = head_revision()
    if current != head:
        where = "empty (no Baton tables)" if current is None else f"at revision {current}"
        raise StoreError(f"the database is {where}; this Baton needs revision {head}: "
                         "run `baton db upgrade` (with the same --db)")
