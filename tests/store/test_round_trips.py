"""How many times a command waits for PostgreSQL, and that the shortcuts which keep the count
low never give a stale answer.

On a local PostgreSQL a round trip costs about as much as Baton's own work for a command,
and a command's COMMIT waits for the disk anyway: one round trip that carries the writes
and the COMMIT is the floor. These tests pin the counts (not times) of the commands a
tasklist runs most, so a change that adds a query to the hot path fails here, and check
the two places that answer without asking the database:

- a start answers "the newest version" from the store's cache, and the server checks
  before the COMMIT that no newer version exists (another process may have deployed one);
- completing or claiming a task locks its instance, reads the task and the instance's
  other wait states in one round trip (`lock_task`), so the lock, not the earlier read,
  is what the command decides on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from engine.errors import NotFound
from engine.service import Engine
from engine.store.records import ConcurrentModification
from engine.store.sql import SqlStore
from tests.runtime.conftest import bpmn, flows
from tests.store.conftest import empty_pg

pytestmark = pytest.mark.postgres

ONE_TASK = bpmn('<startEvent id="s"/><userTask id="t" camunda:candidateUsers="ann"/>'
                '<endEvent id="e"/>' + flows("s>t", "t>e"), pid="one")
TWO_TASKS = bpmn('<startEvent id="s"/><userTask id="t1"/><userTask id="t2"/><endEvent id="e"/>'
                 + flows("s>t1", "t1>t2", "t2>e"), pid="one")
SCRIPTS = bpmn('<startEvent id="s"/>'
               + "".join(f'<scriptTask id="x{i}" scriptFormat="python"><script>x = x + 1'
                         f'</script></scriptTask>' for i in range(3))
               + '<endEvent id="e"/>' + flows("s>x0", "x0>x1", "x1>x2", "x2>e"), pid="scripts")


@pytest.fixture
def stores(pg_url: str) -> Iterator[list[SqlStore]]:
    """Two stores on one emptied database: two processes."""
    empty_pg(pg_url)
    opened = [SqlStore(pg_url), SqlStore(pg_url)]
    yield opened
    for st in opened:
        st.close()


def trips(store: SqlStore, call: Any) -> tuple[int, Any]:
    before = store.round_trips
    result = call()
    return store.round_trips - before, result


def test_a_user_task_lifecycle_takes_four_round_trips(stores: list[SqlStore]) -> None:
    store = stores[0]
    engine = Engine(store=store)
    engine.deploy(ONE_TASK)
    engine.deploy(SCRIPTS)
    engine.start("one", {"x": 0})           # the first start reads the newest version
    engine.start("scripts", {"x": 0})
    n, iid = trips(store, lambda: engine.start("one", {"x": 0}))
    assert n == 1, "start: the writes and the COMMIT in one round trip"
    n, tasks = trips(store, lambda: engine.tasks(instance_id=iid))
    assert n == 1 and len(tasks) == 1
    n, _ = trips(store, lambda: engine.complete_task(tasks[0].id, {"ok": True}))
    assert n == 2, "complete: lock + task + wait states, then the writes with the COMMIT"
    assert engine.instance(iid).status == "completed"
    n, sid = trips(store, lambda: engine.start("scripts", {"x": 0}))
    assert n == 1, "straight through: one round trip"
    assert engine.instance(sid).variables["x"] == 3


def test_a_claim_checked_by_the_server_commits_in_its_own_round_trip(
        stores: list[SqlStore]) -> None:
    store = stores[0]
    engine = Engine(store=store)
    engine.deploy(ONE_TASK)
    engine.add_user("ann", "Ann", "a-long-password", roles=["staff"])
    iid = engine.start("one")
    task = engine.tasks(instance_id=iid)[0]
    n, _ = trips(store, lambda: engine.claim(task.id, "ann"))
    # the user's row, then the task under its instance's lock, then the revision-checked
    # UPDATE with the COMMIT (the server refuses it if the row changed: no extra trip)
    assert n == 3
    assert engine.task(task.id).assignee == "ann"


def test_a_version_deployed_by_another_process_is_the_one_started(
        stores: list[SqlStore]) -> None:
    here, there = Engine(store=stores[0]), Engine(store=stores[1])
    here.deploy(ONE_TASK)
    first = here.instance(here.start("one")).version
    here.start("one")                        # the newest version now comes from the cache
    there.deploy(TWO_TASKS)                  # another process deploys version 2
    iid = here.start("one")
    view = here.instance(iid)
    assert (first, view.version, view.waiting) == (1, 2, ["t1"])


def test_a_failed_server_check_aborts_everything_the_transaction_wrote(
        stores: list[SqlStore]) -> None:
    a, b = stores
    engine = Engine(store=a)
    engine.deploy(ONE_TASK)
    iid = engine.start("one")
    task_id = engine.tasks(instance_id=iid)[0].id
    with pytest.raises(ConcurrentModification):
        with a.transaction() as tx:
            mine = tx.get_task(task_id)
            with b.transaction() as other:          # another process changes it meanwhile
                theirs = other.get_task(task_id)
                theirs.priority = 7
                other.update_task(theirs)
            mine.priority = 99
            mine.note = "lost"
            tx.update_task(mine)
            tx.set_secret("written-with-it", "x")
    with a.transaction() as tx:
        got = tx.get_task(task_id)
        assert (got.priority, got.note) == (7, None)
        assert tx.get_secret("written-with-it") is None


def test_lock_task_reads_the_task_after_the_lock(stores: list[SqlStore]) -> None:
    a, b = stores
    engine = Engine(store=a)
    engine.deploy(ONE_TASK)
    iid = engine.start("one")
    task_id = engine.tasks(instance_id=iid)[0].id
    with a.transaction() as tx:
        before = tx.get_task(task_id)               # read before any lock
        Engine(store=b).complete_task(task_id)      # gone, committed by another process
        assert before is not None
        assert tx.lock_task(task_id) is None
    with a.transaction() as tx:
        assert tx.lock_task("no-such-task") is None
    with pytest.raises(NotFound):
        engine.complete_task(task_id)


ASYNC = bpmn('<startEvent id="s"/><scriptTask id="x" camunda:asyncBefore="true" '
             'scriptFormat="python"><script>x = 1</script></scriptTask><userTask id="t"/>'
             '<endEvent id="e"/>' + flows("s>x", "x>t", "t>e"), pid="async")


def test_a_job_is_leased_in_three_round_trips_per_batch_and_run_in_two(
        stores: list[SqlStore]) -> None:
    from engine.jobs import JobExecutor

    store = stores[0]
    engine = Engine(store=store)
    engine.deploy(ASYNC)
    iids = [engine.start("async") for _ in range(3)]
    executor = JobExecutor(engine, "worker-1")
    n, jobs = trips(store, lambda: executor.acquire(10))
    assert len(jobs) == 3 and n == 3, "candidates; instance locks + busy check; leases + COMMIT"
    for job in jobs:
        n, ok = trips(store, lambda job=job: executor.execute(job))
        assert ok and n == 2, "the job under its instance's lock, then the writes + COMMIT"
    assert all(engine.instance(i).waiting == ["t"] for i in iids)


def test_lock_job_reads_the_job_after_the_lock(stores: list[SqlStore]) -> None:
    a, b = stores
    engine = Engine(store=a)
    engine.deploy(ASYNC)
    engine.start("async")
    with a.transaction() as tx:
        (job,) = tx.find_jobs()
    Engine(store=b).run_due_jobs()                  # another process runs it
    with a.transaction() as tx:
        assert tx.lock_job(job.id) is None
        assert tx.lock_job("no-such-job") is None


def test_a_cached_version_that_is_gone_is_not_started(stores: list[SqlStore],
                                                      pg_url: str) -> None:
    here = Engine(store=stores[0])
    here.deploy(ONE_TASK)
    here.start("one")
    here.start("one")                        # the cache now answers for "one"
    empty_pg(pg_url)                         # the database emptied and filled again
    Engine(store=stores[1]).deploy(TWO_TASKS)
    iid = here.start("one")
    assert here.instance(iid).waiting == ["t1"]


def test_a_task_read_before_the_lock_and_gone_since_is_forgotten(
        stores: list[SqlStore]) -> None:
    a, b = stores
    engine = Engine(store=a)
    engine.deploy(TWO_TASKS)
    iid = engine.start("one")
    with a.transaction() as tx:
        (first,) = tx.find_tasks(instance_id=iid)           # read without the lock
        Engine(store=b).complete_task(first.id)             # another process moves on
        assert tx.get_instance(iid, lock=True) is not None
        assert tx.task_by_token(iid, first.token) is None or \
            tx.task_by_token(iid, first.token).activity_id == "t2"
        assert [t.activity_id for t in tx.find_tasks(instance_id=iid)] == ["t2"]
        assert tx.get_task(first.id) is None
