"""Alembic environment for Baton's schema.

Configured in code (engine/store/migrate.py) rather than by an alembic.ini, so migrations run
from an installed package: `baton db upgrade`, or automatically when a SQLite store opens.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from engine.store import dialects  # noqa: F401 - MariaDB's DDL rules (unsized VARCHAR)
from engine.store.schema import VERSION_TABLE, metadata

config = context.config


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata,
                      version_table=VERSION_TABLE, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    conn = config.attributes.get("connection")
    if conn is not None:
        _run(conn)
    else:
        engine = sa.create_engine(config.get_main_option("sqlalchemy.url"))
        try:
            with engine.begin() as c:
                _run(c)
        finally:
            engine.dispose()
