"""Alembic migrations of Baton's schema (run with `baton db upgrade`, see engine/store/migrate.py)."""
