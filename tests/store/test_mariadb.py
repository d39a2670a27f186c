"""MariaDB: what the shared store, job and race suites cannot show by themselves.

The shared suites run every scenario on MariaDB too and compare answers with the other
stores; these tests pin what is particular to it (engine/store/dialects.py): the URLs,
the types (case-sensitive ids, microseconds, values too long refused rather than cut
short), leasing with SKIP LOCKED (a worker never waits for rows another worker holds),
a connection the server dropped, the history view, and two processes migrating one fresh
database at once (MariaDB has no transactional DDL: the named lock is all that keeps them
apart).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from engine.cli import main as cli_main
from engine.errors import EngineError
from engine.service import Engine
from engine.store import migrate
from engine.store.errors import ValueTooLong
from engine.store.records import JobRecord, UserRecord
from engine.store.sql import SqlStore, StoreError, normalize_url
from tests.databases import MARIADB, MariaDatabase
from tests.runtime.conftest import bpmn, flows

ON_MARIADB = pytest.mark.parametrize("store_kind", [MARIADB], indirect=True)
T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


def test_mysql_and_mariadb_urls_mean_pymysql() -> None:
    assert normalize_url("mysql://root@db:3306/baton") == "mysql+pymysql://root@db:3306/baton"
    assert normalize_url("mariadb://u:p@db/baton") == "mariadb+pymysql://u:p@db/baton"
    assert normalize_url("mysql+mysqldb://u@db/b") == "mysql+mysqldb://u@db/b"   # as given


def test_an_unsupported_database_is_refused_with_the_three_that_are() -> None:
    with pytest.raises(StoreError) as e:
        SqlStore("oracle://scott@db/orcl")
    message = str(e.value)
    assert "unsupported database 'oracle'" in message
    for url in ("sqlite:///FILE", "postgresql://USER@HOST/DB", "mysql://USER@HOST/DB"):
        assert url in message


def test_baton_db_upgrade_names_an_unreachable_mariadb(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["db", "upgrade", "--db", "mysql://nobody@127.0.0.1:1/none"]) == 1
    err = capsys.readouterr().err
    assert "cannot upgrade" in err and "127.0.0.1" in err


@ON_MARIADB
def test_ids_are_case_sensitive_and_sort_like_python(store: Any) -> None:
    """utf8mb4_bin: MariaDB's default collations would make 'ann' and 'Ann' one key."""
    names = ["ann", "Ann", "ärger", "Zed", "zed"]
    with store.transaction() as tx:
        tx.set_secret("Key", "upper")
        tx.set_secret("key", "lower")
        for n in names:
            tx.add_user(UserRecord(n, n, "hash", ["staff"], []))
    with store.transaction() as tx:
        assert (tx.get_secret("Key"), tx.get_secret("key")) == ("upper", "lower")
        assert [u.id for u in tx.users()] == sorted(names)


@ON_MARIADB
def test_timestamps_keep_microseconds_and_come_back_as_utc(store: Any) -> None:
    due = datetime(2026, 3, 1, 10, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    with store.transaction() as tx:
        tx.add_job(JobRecord("j1", "timer", None, due, created=T0))
    with store.transaction() as tx:
        job = tx.get_job("j1")
        (found,) = tx.find_jobs(due=due)
    assert job.due == due and job.due.tzinfo is UTC
    assert job.due.microsecond == 123456 and job.due.hour == 8
    assert found.id == "j1"


@ON_MARIADB
def test_a_value_longer_than_its_column_is_refused_not_cut_short(store: Any) -> None:
    """Strict mode (set for every session): an id of 300 characters is an error, raised
    as ValueTooLong naming the column (an EngineError: 400 on every door, not a 500)."""
    with pytest.raises(ValueTooLong, match="too long for column 'name'") as e, \
            store.transaction() as tx:
        tx.set_secret("x" * 300, "value")
    assert isinstance(e.value, EngineError) and e.value.column == "name"
    with store.transaction() as tx:
        assert tx.get_secret("x" * 255) is None


@ON_MARIADB
def test_the_longest_ids_the_parser_accepts_fit(store: Any) -> None:
    """A definition's id is its key (up to 255 characters) with the version and the
    deployment after it, a message start's subscription id adds the node and the name:
    their columns are VARCHAR(768) on MariaDB, not 255."""
    key, message = "k" * 255, "m" * 255
    engine = Engine(store=store)
    engine.deploy(bpmn('<startEvent id="s"><messageEventDefinition messageRef="msg"/>'
                       '</startEvent><startEvent id="plain"/><userTask id="t"/>'
                       + flows("s>t", "plain>t"), pid=key,
                       extra=f'<message id="msg" name="{message}"/>').encode())
    (iid,) = engine.correlate_message(message, variables={"x": 1})
    (task,) = engine.tasks(instance_id=iid)
    assert len(task.definition_id) > 255 and task.definition_id.startswith(key)
    engine.complete_task(task.id)
    assert engine.instance(iid).status == "completed"


@ON_MARIADB
def test_jobs_another_worker_holds_are_skipped_without_waiting(open_store: Any) -> None:
    """Two workers' transactions at once: the second takes the other due job at once,
    never the one the first holds, and does not wait for the first to commit."""
    first, second = open_store(), open_store()
    with first.transaction() as tx:
        tx.add_job(JobRecord("j1", "timer", None, T0))
        tx.add_job(JobRecord("j2", "timer", None, T0 + timedelta(seconds=1)))
    until = T0 + timedelta(minutes=5)
    got: dict[str, Any] = {}

    def other_worker() -> None:
        try:
            with second.transaction() as tx:
                got["b"] = [j.id for j in tx.acquire_jobs(T0 + timedelta(minutes=1), "b",
                                                          until, 5)]
        except Exception as e:  # noqa: BLE001 - reported below
            got["b"] = e

    with first.transaction() as tx:
        # not exclusive: reads (and locks) just the one job it leases
        assert [j.id for j in tx.acquire_jobs(T0 + timedelta(minutes=1), "a", until, 1,
                                              exclusive=False)] == ["j1"]
        thread = threading.Thread(target=other_worker)
        thread.start()
        thread.join(10)         # while the first transaction still holds j1
        assert not thread.is_alive(), "the second worker waited for the first one's lock"
    assert got["b"] == ["j2"]
    with first.transaction() as tx:
        assert {j.id: j.lock_owner for j in tx.find_jobs()} == {"j1": "a", "j2": "b"}


@ON_MARIADB
def test_a_connection_the_server_dropped_is_replaced(store: Any) -> None:
    """Killed while in use (a restart, a network cut): one command fails, the next one
    gets a new connection."""
    with store.transaction() as tx:
        ((conn_id,),) = tx.raw.execute("SELECT CONNECTION_ID()").fetchall()
    with store.engine.connect() as admin:
        admin.execute(sa.text(f"KILL CONNECTION {int(conn_id)}"))
    failures = 0
    for _ in range(3):
        try:
            with store.transaction() as tx:
                assert tx.get_instance("nope") is None
            break
        except sa.exc.DBAPIError:
            failures += 1
        except Exception as e:  # noqa: BLE001 - the raw driver's own error, not wrapped
            assert type(e).__module__.startswith("pymysql"), e
            failures += 1
    assert failures <= 1          # the dead connection failed at most once, then was replaced
    with store.transaction() as tx:
        assert tx.find_instances() == []


@ON_MARIADB
def test_a_connection_closed_while_idle_is_replaced_before_use(
        store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server closes connections idle for `wait_timeout` (8 hours by default): one the
    store kept that long is pinged before use, and replaced without failing a command."""
    monkeypatch.setattr("engine.store.dialects.IDLE_PING_S", 0.0)    # every one is "old"
    with store.transaction() as tx:
        ((conn_id,),) = tx.raw.execute("SELECT CONNECTION_ID()").fetchall()
    with store.engine.connect() as admin:
        admin.execute(sa.text(f"KILL CONNECTION {int(conn_id)}"))
    with store.transaction() as tx:
        assert tx.get_instance("nope") is None
        ((again,),) = tx.raw.execute("SELECT CONNECTION_ID()").fetchall()
    assert again != conn_id


@ON_MARIADB
def test_the_history_view_has_one_row_per_event(store: Any) -> None:
    engine = Engine(store=store)
    engine.deploy(bpmn('<startEvent id="s"/><userTask id="t"/><endEvent id="e"/>'
                       + flows("s>t", "t>e"), pid="viewed").encode())
    iid = engine.start("viewed")
    (task,) = engine.tasks(instance_id=iid)
    engine.complete_task(task.id)
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT position, type, activity_id, time FROM history_events "
            "WHERE instance_id = :iid ORDER BY seq, position"), {"iid": iid}).fetchall()
    history = engine.history(iid)
    assert [(r.type, r.activity_id) for r in rows] == [(h.type, h.activity_id)
                                                       for h in history]
    assert [r.time.replace(tzinfo=UTC) for r in rows] == [h.time for h in history]


@pytest.mark.mariadb
def test_two_processes_migrating_one_fresh_database_both_succeed() -> None:
    database = MariaDatabase.create("baton_mig", migrate=False)
    try:
        engines = [sa.create_engine(normalize_url(database.url)) for _ in range(2)]
        barrier = threading.Barrier(2)
        results: list[Any] = []

        def upgrade(eng: sa.Engine) -> None:
            barrier.wait()
            try:
                results.append(migrate.upgrade(eng))
            except Exception as e:  # noqa: BLE001 - reported below
                results.append(e)

        threads = [threading.Thread(target=upgrade, args=(e,)) for e in engines]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert results == [migrate.head_revision()] * 2
        for eng in engines:
            eng.dispose()
        SqlStore(database.url, auto_upgrade=False).close()    # the schema is the code's
    finally:
        database.drop()
