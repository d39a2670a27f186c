"""The store's own refusals, apart from the SQL store so migrations (and doors) can name
them without importing it."""

from __future__ import annotations

from engine.errors import EngineError


class StoreError(Exception):
    """The database cannot be used as asked (unreachable, schema too old, bad URL)."""


class ValueTooLong(EngineError):
    """A value longer than its column, as the database refused it (MariaDB's "Data too
    long", PostgreSQL's string_data_right_truncation).

    The last line of defence: the commands check every text that reaches a bounded column
    (engine.limits.check_text), so this is raised only for a value a check missed. It is an
    EngineError (400 on every door, naming the column) rather than a raw driver error (a
    500 that hides what was wrong); the command's transaction is rolled back, so nothing
    was stored. SQLite and the memory store have no such bound, hence the checks."""

    def __init__(self, column: str | None, detail: str) -> None:
        self.column = column
        where = f"column '{column}'" if column else "its column"
        super().__init__(f"a value is too long for {where}: {detail}")
