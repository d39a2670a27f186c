"""Idle workers are woken when a job they can run is committed (engine/store/pg_wakeup.py),
instead of at their next poll.

Why these tests: the wake-up is only worth having if it is exact where it matters. On
PostgreSQL the NOTIFY rides in the batch that carries the COMMIT, so it must arrive after
the commit and never for a transaction that rolled back or that the server refused; it
must cost no round trip; it must reach a worker in another process whose poll interval is
far longer than the test's patience; the listening connection must come back after the
server drops it; and two Baton schemas on one server must not wake each other. SQLite
wakes the workers of the committing store, and `Worker.stop()` wakes an idle worker on
every store.

Nothing here is a timing assertion: the workers poll every 30 or 60 seconds, and the bound
each test waits (10 s) only separates "woken" from "polled".
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.ids import new_id
from engine.jobs import JobExecutor
from engine.service import Engine
from engine.store.pg_wakeup import CHANNEL_EXPR, DRAINING, PgWakeup, Wakeup
from engine.store.records import ConcurrentModification, JobRecord
from engine.store.sql import SqlStore
from engine.worker import Worker
from tests.databases import PgSchema
from tests.jobs.workers import spawn_worker, wait_for, worker_env
from tests.runtime.conftest import bpmn, flows
from tests.store.conftest import empty_pg

ONE_ASYNC = bpmn('<startEvent id="s"/><scriptTask id="a" camunda:asyncBefore="true">'
                 '<script>x = 1</script></scriptTask><endEvent id="e"/>'
                 + flows("s>a", "a>e"), pid="one_async")
TWO_ASYNC = bpmn('<startEvent id="s"/><scriptTask id="a" camunda:asyncBefore="true">'
                 '<script>x = 1</script></scriptTask><scriptTask id="b" '
                 'camunda:asyncBefore="true"><script>y = 2</script></scriptTask>'
                 '<endEvent id="e"/>' + flows("s>a", "a>b", "b>e"), pid="two_async")
USER_TASK = bpmn('<startEvent id="s"/><userTask id="t"/><endEvent id="e"/>'
                 + flows("s>t", "t>e"), pid="user_task")
LATER = bpmn('<startEvent id="s"/><intermediateCatchEvent id="wait"><timerEventDefinition>'
             '<timeDuration>PT1H</timeDuration></timerEventDefinition>'
             '</intermediateCatchEvent><endEvent id="e"/>' + flows("s>wait", "wait>e"),
             pid="later")
LONG_POLL = 30.0        # a worker that only polled would take 15 to 45 s
BOUND = 10.0            # what a woken worker is given (it takes milliseconds)


class Boom(Exception):
    pass


@pytest.fixture
def pg(pg_url: str) -> Iterator[str]:
    """The session's PostgreSQL schema, emptied (skipped with the reason without a
    server)."""
    empty_pg(pg_url)
    yield pg_url


@pytest.fixture
def stores(pg: str) -> Iterator[Callable[[], SqlStore]]:
    """Opens stores on the emptied schema, as separate processes would; closes them."""
    opened: list[SqlStore] = []

    def make() -> SqlStore:
        st = SqlStore(pg)
        st.announce_gap = 0.0   # every commit announced: the tests count them
        opened.append(st)
        return st

    yield make
    for st in opened:
        st.close()


@contextmanager
def listener(url: str) -> Iterator[Any]:
    """A psycopg session of the test's own LISTENing on the schema's job channel."""
    import psycopg

    conn = psycopg.connect(url, autocommit=True)
    try:
        row = conn.execute(f"SELECT {CHANNEL_EXPR}").fetchone()
        assert row is not None
        conn.execute(f'LISTEN "{row[0]}"')
        yield conn
    finally:
        conn.close()


def received(conn: Any, timeout: float = 0.3, expect: int | None = None) -> int:
    """Notifications that arrive within `timeout` (sooner once `expect` have)."""
    return sum(1 for _ in conn.notifies(timeout=timeout, stop_after=expect))


def job(due: datetime | None = None, **kw: Any) -> JobRecord:
    return JobRecord(id=new_id(), kind="async", instance_id=None,
                     due=due or datetime.now(UTC), **kw)


def completed(engine: Engine, iid: str) -> Callable[[], bool]:
    return lambda: engine.instance(iid).status == "completed"


@contextmanager
def running(worker: Worker) -> Iterator[Worker]:
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(BOUND)
        assert not thread.is_alive(), "the worker did not stop"


# ---------------------------------------------------------------- the notification
def test_a_due_job_is_announced_with_the_commit_and_not_before(stores: Any, pg: str) -> None:
    store = stores()
    with listener(pg) as conn:
        with store.transaction() as tx:
            added = job()
            tx.add_job(added)
            tx.get_job(added.id)        # the INSERT is on the server, in the open block
            assert received(conn) == 0, "a notification before the COMMIT"
        assert received(conn, 5, expect=1) == 1
        # one NOTIFY per transaction, however many jobs it adds
        with store.transaction() as tx:
            for _ in range(3):
                tx.add_job(job())
        assert received(conn, 1) == 1


def test_a_store_announces_once_per_gap_and_listeners_look_again_after_it(
        stores: Any, pg: str) -> None:
    """Notifying commits are serialized database-wide, so a store sends at most one NOTIFY
    per `announce_gap`; the listener wakes its workers once more `recheck_after` each
    notification, so a job committed unannounced in the gap is still run at once."""
    store, worker_store = stores(), stores()
    store.announce_gap = 60.0       # after the first, nothing more is announced here
    engine = Engine(store=store)
    engine.deploy(ONE_ASYNC)
    with listener(pg) as conn:
        with store.transaction() as tx:
            tx.add_job(job(retries=0))      # not runnable: not announced, gap not used
        assert received(conn, 0.5) == 0
        worker = Worker(Engine(store=worker_store), poll=LONG_POLL)
        waiter = worker_store.job_waiter()
        assert isinstance(waiter, PgWakeup) and waiter.listening.wait(BOUND)
        # the gap stands for the real 20 ms, the recheck for the real 60 ms after it
        waiter.recheck_after = 3.0
        with running(worker):
            time.sleep(0.5)                 # the worker has looked and waits now
            first = engine.start("one_async")
            assert received(conn, 5, expect=1) == 1
            wait_for(completed(engine, first), BOUND, "the announced job")
            # committed after the worker ran the first and went back to waiting
            second = engine.start("one_async")
            assert received(conn, 0.5) == 0            # in the gap: not announced
            wait_for(completed(engine, second), BOUND, "the job committed in the gap")


def test_a_draining_worker_thread_announces_nothing_it_will_find_itself(
        stores: Any, pg: str) -> None:
    """PostgreSQL serializes notifying commits: a worker announcing every next step of the
    instance it runs (which no other worker may take meanwhile) slowed two workers to
    about one and a half (bench/store_bench.py --workers 1,2)."""
    store = stores()
    engine = Engine(store=store)
    engine.deploy(TWO_ASYNC)
    with listener(pg) as conn:
        iid = engine.start("two_async")
        assert received(conn, 5, expect=1) == 1         # started from outside: announced
        executor = JobExecutor(engine, "w#0", timedelta(minutes=5))
        (first,) = executor.acquire(10)
        DRAINING.on = True
        try:
            assert executor.execute(first)              # its next step is due now ...
        finally:
            DRAINING.on = False
        assert received(conn, 1) == 0                   # ... and not announced
        (second,) = executor.acquire(10)                # the loop finds it itself
        assert second.activity_id == "b"
        executor.release([second])                      # given back: announced again
        assert received(conn, 5, expect=1) == 1
        (again,) = executor.acquire(10)
        assert executor.execute(again)
    assert engine.instance(iid).status == "completed"


def test_a_rolled_back_command_or_a_refused_commit_announces_nothing(
        stores: Any, pg: str) -> None:
    store, other = stores(), stores()
    engine = Engine(store=store)
    with listener(pg) as conn:
        def command(c: Any) -> None:
            added = job()
            c.tx.add_job(added)
            c.tx.get_job(added.id)      # sent to the server, then the command fails
            raise Boom

        with pytest.raises(Boom):
            engine.run(command)
        assert received(conn) == 0
        assert engine.jobs() == []

        # a leased job is nobody else's to run: adding it wakes no one
        leased = job(lock_owner="w#0", lock_expires=datetime.now(UTC) + timedelta(minutes=5))
        with store.transaction() as tx:
            tx.add_job(leased)
        assert received(conn) == 0
        # giving the lease back would wake the workers, but the server refuses the COMMIT
        # (another transaction changed the row meanwhile): the NOTIFY goes with it
        with pytest.raises(ConcurrentModification):
            with store.transaction() as tx:
                mine = tx.get_job(leased.id)
                assert mine is not None
                with other.transaction() as tx2:
                    theirs = tx2.get_job(leased.id)
                    assert theirs is not None
                    theirs.attempts = 1
                    tx2.update_job(theirs)      # still leased: nothing to announce
                mine.lock_owner = mine.lock_expires = None
                tx.update_job(mine)
        assert received(conn) == 0


def test_a_later_timer_or_a_user_task_announces_nothing(stores: Any, pg: str) -> None:
    engine = Engine(store=stores())
    engine.deploy(LATER)
    engine.deploy(USER_TASK)
    with listener(pg) as conn:
        engine.start("later")
        engine.start("user_task")
        assert received(conn) == 0
        (timer,) = engine.jobs()
        assert timer.due > datetime.now(UTC)


def test_announcing_costs_no_round_trip(stores: Any, pg: str) -> None:
    store = stores()
    engine = Engine(store=store)
    engine.deploy(ONE_ASYNC)
    engine.start("one_async")           # the first start reads the newest version
    with listener(pg) as conn:
        received(conn)
        before = store.round_trips
        engine.start("one_async")
        assert store.round_trips - before == 1, "start: writes, NOTIFY and COMMIT at once"
        assert received(conn, 5, expect=1) == 1
        # a worker leasing the job and giving it back (stopping): the lock with the read,
        # then the write with its NOTIFY and the COMMIT
        executor = JobExecutor(engine, "w#0")
        leased = executor.acquire(1)
        assert len(leased) == 1
        received(conn)
        before = store.round_trips
        executor.release(leased)
        assert store.round_trips - before == 2
        assert received(conn, 5, expect=1) == 1


def test_two_schemas_do_not_wake_each_other(stores: Any, pg: str) -> None:
    other = PgSchema.create()
    try:
        mine, theirs = stores(), SqlStore(other.url)
        try:
            with listener(pg) as here, listener(other.url) as there:
                with theirs.transaction() as tx:
                    tx.add_job(job())
                assert received(there, 5, expect=1) == 1
                assert received(here) == 0
                with mine.transaction() as tx:
                    tx.add_job(job())
                assert received(here, 5, expect=1) == 1
                assert received(there) == 0
        finally:
            theirs.close()
    finally:
        other.drop()


# ---------------------------------------------------------------- the workers
def test_a_worker_process_polling_every_30s_runs_new_async_steps_at_once(
        stores: Any, pg: str, tmp_path: Path) -> None:
    engine = Engine(store=stores())
    engine.deploy(ONE_ASYNC)
    with open(tmp_path / "worker.log", "w") as log:
        proc = spawn_worker(pg, log, worker_env(), "--poll", str(LONG_POLL))
        try:
            for _ in range(3):      # the later ones find the worker idle, 30 s from a poll
                iid = engine.start("one_async")
                wait_for(completed(engine, iid), BOUND, "the worker to run the async step",
                         poll=0.02)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    assert engine.variables(iid) == {"x": 1}


def test_the_listener_comes_back_after_the_server_drops_it(stores: Any, pg: str) -> None:
    import psycopg

    starter = Engine(store=stores())
    starter.deploy(ONE_ASYNC)
    worker = Worker(Engine(store=stores()), poll=LONG_POLL)
    waiter = worker.waiter
    assert isinstance(waiter, PgWakeup)
    with running(worker):
        assert waiter.listening.wait(BOUND)
        iid = starter.start("one_async")
        wait_for(completed(starter, iid), BOUND, "the first async step", poll=0.02)
        dropped = waiter.backend_pid
        with psycopg.connect(pg, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (dropped,))
        wait_for(lambda: waiter.connects >= 2 and waiter.listening.is_set(), BOUND,
                 "the listener to reconnect", poll=0.02)
        assert waiter.backend_pid != dropped
        for _ in range(2):
            iid = starter.start("one_async")
            wait_for(completed(starter, iid), BOUND, "an async step after the reconnect",
                     poll=0.02)
    assert worker.stats.ran == 3 and worker.stats.errors == 0


def test_without_wakeup_the_worker_only_polls(stores: Any) -> None:
    """`wakeup=False` (`baton worker --no-wakeup`): a private waiter only stop() wakes,
    no listening connection."""
    worker = Worker(Engine(store=stores()), poll=LONG_POLL, wakeup=False)
    assert type(worker.waiter) is Wakeup


def test_a_sqlite_worker_is_woken_by_its_own_store_s_commits(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'baton.db'}")
    try:
        engine = Engine(store=store)
        engine.deploy(ONE_ASYNC)
        with running(Worker(engine, poll=LONG_POLL)):
            for _ in range(2):
                iid = engine.start("one_async")
                wait_for(completed(engine, iid), BOUND, "the async step", poll=0.02)
    finally:
        store.close()


def test_a_memory_store_worker_is_woken_by_the_store_s_commits() -> None:
    engine = Engine()
    engine.deploy(ONE_ASYNC)
    with running(Worker(engine, poll=LONG_POLL)):
        time.sleep(0.2)         # it has found nothing and waits
        for _ in range(2):
            iid = engine.start("one_async")
            wait_for(completed(engine, iid), BOUND, "the async step", poll=0.02)


def test_stop_wakes_an_idle_worker() -> None:
    """With a 60 s poll, `stop()` must not wait for it (on every store: here the memory
    store, whose waiter nothing else wakes)."""
    worker = Worker(Engine(), poll=60.0)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    time.sleep(0.2)         # let it find nothing and go to sleep (either way it must stop)
    started = time.monotonic()
    worker.stop()
    thread.join(BOUND)
    assert not thread.is_alive() and time.monotonic() - started < BOUND
