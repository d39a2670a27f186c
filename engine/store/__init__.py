"""Stores behind the engine: in memory (tests, embedding) or SQL (SQLite, PostgreSQL, MariaDB).

`open_store(url)` picks one from a URL, the way the CLI's `--db` and `BATON_DATABASE_URL`
name it. Importing this package stays cheap: SQLAlchemy loads only for a SQL URL.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from engine.store.memory import MemoryStore
from engine.store.protocol import Store, StoreTransaction

if TYPE_CHECKING:
    from engine.store.sql import SqlStore

ENV_URL = "BATON_DATABASE_URL"
DEFAULT_URL = "sqlite:///baton.db"


def resolve_url(url: str | None = None, default: str = DEFAULT_URL) -> str:
    """The database URL to use: an explicit one, else $BATON_DATABASE_URL, else `default`."""
    return url or os.environ.get(ENV_URL) or default


def open_store(url: str | None, **options: Any) -> MemoryStore | SqlStore:
    """None or "memory" -> MemoryStore; "sqlite:///path", "postgresql://..." or
    "mysql://..." (MariaDB) -> SqlStore.

    `options` go to `SqlStore` (e.g. `auto_upgrade=False`)."""
    if url is None or url in ("memory", "memory://"):
        return MemoryStore()
    from engine.store.sql import SqlStore

    return SqlStore(url, **options)


__all__ = ["DEFAULT_URL", "ENV_URL", "MemoryStore", "Store", "StoreTransaction", "open_store",
           "resolve_url"]
