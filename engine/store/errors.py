"""The store's own refusal, apart from the SQL store so migrations can raise it too."""

from __future__ import annotations


class StoreError(Exception):
    """The database cannot be used as asked (unreachable, schema too old, bad URL)."""
