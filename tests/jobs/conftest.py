"""The job tests use the stores of tests/store (memory, SQLite, PostgreSQL, MariaDB)."""

from tests.store.conftest import (  # noqa: F401 - fixtures shared with the store tests
    clock,
    db_url,
    engine,
    maria_database,
    open_store,
    pg_url,
    reg,
    sqlite_template,
    store,
    store_kind,
)
