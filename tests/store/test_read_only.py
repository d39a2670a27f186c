"""Queries run in read-only transactions: on SQLite they begin deferred, so the tasklist
reads a snapshot instead of waiting for a command's write lock (and a read never makes a
command wait); on every SQL store a write inside one is refused loudly, nothing written."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from engine.ids import new_id
from engine.service import Engine
from engine.store.errors import StoreError
from engine.store.records import JobRecord
from engine.store.sql import SqlStore
from tests.databases import SQL_KINDS
from tests.runtime.conftest import bpmn, flows

TASK = bpmn('<startEvent id="s"/><userTask id="t"/><endEvent id="e"/>' + flows("s>t", "t>e"),
            pid="one_task")
BOUND = 10.0        # what a read that does not wait is given (it takes milliseconds)


@pytest.fixture(params=SQL_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


def test_a_write_in_a_read_only_transaction_is_refused_and_nothing_is_written(
        store: SqlStore) -> None:
    sql_store = store
    job = JobRecord(new_id(), "async", None, datetime.now(UTC))
    with pytest.raises(StoreError, match="read-only transaction cannot write"):
        with sql_store.transaction(read_only=True) as tx:
            tx.add_job(job)
    with sql_store.transaction() as tx:
        assert tx.get_job(job.id) is None


def test_on_sqlite_the_tasklist_reads_while_a_command_holds_the_write_lock(
        tmp_path: Path, sqlite_template: Path) -> None:
    import shutil

    path = tmp_path / "baton.db"
    shutil.copy(sqlite_template, path)
    store = SqlStore(f"sqlite:///{path}")
    try:
        engine = Engine(store=store)
        engine.deploy(TASK)
        iid = engine.start("one_task")
        holding, release = threading.Event(), threading.Event()

        def long_command(ctx: Any) -> None:
            ctx.tx.add_job(JobRecord(new_id(), "async", None, datetime.now(UTC),
                                     retries=0))   # holds the write lock from here
            holding.set()
            release.wait(BOUND * 3)

        writer = threading.Thread(target=engine.run, args=(long_command,), daemon=True)
        writer.start()
        assert holding.wait(BOUND)
        got: list[Any] = []
        reader = threading.Thread(target=lambda: got.append(
            (engine.tasks(instance_id=iid), engine.instance(iid, user=None).status)),
            daemon=True)
        reader.start()
        reader.join(BOUND)
        done = not reader.is_alive()
        release.set()
        writer.join(BOUND)
        assert done, "the read waited for the command's write lock"
        (tasks, status), = got
        assert [t.activity_id for t in tasks] == ["t"] and status == "running"
    finally:
        store.close()
