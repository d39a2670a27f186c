"""SQLite's transaction block is opened and ended on the DBAPI connection, not through
SQLAlchemy (SqlStore._sqlite_block): statements that still go through SQLAlchemy join
that block, a rollback takes back both kinds of writes, and a COMMIT the database
refuses leaves the connection usable with nothing kept."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy.exc

from engine.store.records import CommentRecord
from engine.store.sql import SqlStore

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class Boom(Exception):
    pass


def note(text: str) -> CommentRecord:
    """A row written on the fast path (the DBAPI cursor)."""
    return CommentRecord(text, "i1", None, "alice", text, NOW)


def notes(store: SqlStore) -> list[str]:
    with store.transaction(read_only=True) as tx:
        return [c.text for c in tx.comments(instance_id="i1")]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    st = SqlStore(f"sqlite:///{tmp_path}/blocks.db", pool_size=1)
    try:
        yield st
    finally:
        st.close()


def test_writes_through_sqlalchemy_and_the_fast_path_commit_together(store: SqlStore) -> None:
    with store.transaction() as tx:
        tx.add_comment(note("first"))                     # the fast path
        tx.write_data_store("stock", {"n": 1}, NOW)       # an upsert through SQLAlchemy
        tx.add_comment(note("second"))
    assert notes(store) == ["first", "second"]
    with store.transaction(read_only=True) as tx:
        assert tx.read_data_stores(["stock"]) == {"stock": {"n": 1}}


def test_a_block_that_raises_keeps_neither_kind_of_write(store: SqlStore) -> None:
    with pytest.raises(Boom), store.transaction() as tx:
        tx.add_comment(note("lost"))
        tx.write_data_store("stock", {"n": 2}, NOW)
        raise Boom
    with pytest.raises(Boom), store.transaction() as tx:
        tx.add_comment(note("lost too"))          # the fast path alone
        raise Boom
    with store.transaction() as tx:
        assert tx.read_data_stores() == {}
        tx.add_comment(note("kept"))              # the connection took a new block
    assert notes(store) == ["kept"]


def test_a_commit_the_database_refuses_rolls_back_and_the_next_block_runs(
        store: SqlStore) -> None:
    with store.transaction() as tx:
        tx.raw.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        tx.raw.execute("CREATE TABLE child (pid INTEGER REFERENCES parent (id) "
                       "DEFERRABLE INITIALLY DEFERRED)")
    refused = (sqlite3.IntegrityError, sqlalchemy.exc.IntegrityError)
    for through_sqlalchemy in (False, True):
        with pytest.raises(refused, match="FOREIGN KEY"), store.transaction() as tx:
            tx.add_comment(note("lost"))
            if through_sqlalchemy:      # then SQLAlchemy ends the block
                tx.write_data_store("stock", {"n": 3}, NOW)
            tx.raw.execute("INSERT INTO child VALUES (7)")   # checked at COMMIT only
        with store.transaction() as tx:
            assert tx.raw.execute("SELECT count(*) FROM child").fetchone() == (0,)
            assert tx.read_data_stores() == {}
        assert notes(store) == []
    with store.transaction() as tx:
        tx.add_comment(note("kept"))
    assert notes(store) == ["kept"]


def test_a_read_only_block_sees_a_snapshot_and_takes_no_write_lock(store: SqlStore) -> None:
    with store.transaction() as tx:
        tx.add_comment(note("one"))
    with store.transaction(read_only=True) as tx:
        assert [c.text for c in tx.comments(instance_id="i1")] == ["one"]
        other = sqlite3.connect(store.url.removeprefix("sqlite:///"), timeout=0.1)
        other.execute("BEGIN IMMEDIATE")             # a writer is not kept waiting
        other.execute("UPDATE comments SET text = 'two'")
        other.commit()
        other.close()
        assert [c.text for c in tx.comments(instance_id="i1")] == ["one"]  # its snapshot
    assert notes(store) == ["two"]
