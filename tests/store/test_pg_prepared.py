"""PostgreSQL: the statements the SQL store PREPAREs on a session stay in step with the
session, whatever else drops them.

psycopg's `rollback()` sends `DEALLOCATE ALL` once it has prepared statements of its own
(it did after five runs of one query); the store used to keep EXECUTing names that were
gone, then forgot the ones it had just prepared, and failed commands with
`DuplicatePreparedStatement: prepared statement "baton_N" already exists`. psycopg's own
prepared statements are now off; the store prepares every statement itself.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from engine.service import Engine
from engine.store.records import (
    DefinitionRecord,
    DeploymentRecord,
    InstanceRecord,
    JobRecord,
)
from engine.store.sql import SqlStore
from engine.testing import ManualClock
from tests.runtime.conftest import bpmn, flows
from tests.store.conftest import empty_pg

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ONE_TASK = bpmn('<startEvent id="s"/><userTask id="t"/><endEvent id="e"/>'
                + flows("s>t", "t>e"), pid="one")
TIMER = ('<boundaryEvent id="late" attachedToRef="t"><timerEventDefinition><timeDuration>'
         'PT1H</timeDuration></timerEventDefinition></boundaryEvent>')
MESSAGE = ('<boundaryEvent id="cancel" attachedToRef="t"><messageEventDefinition '
           'messageRef="m"/></boundaryEvent>')
# user task t, then more wait states next to it: plain, + a timer (a job), + a message (a
# subscription)
DIAGRAMS = [bpmn('<startEvent id="s"/><userTask id="t"/><endEvent id="e"/><endEvent id="x"/>'
                 + extra + flows("s>t", "t>e", *[f"{b}>x" for b in boundaries]),
                 pid=f"d{n}", extra='<message id="m" name="cancel"/>')
            for n, (extra, boundaries) in enumerate([("", []), (TIMER, ["late"]),
                                                     (TIMER + MESSAGE, ["late", "cancel"])])]


class Boom(Exception):
    """A command failing half-way, after its transaction block is open."""


@pytest.fixture
def pg(request: pytest.FixtureRequest) -> Iterator[str]:
    url = request.getfixturevalue("pg_url")      # skips, with the reason, without a server
    empty_pg(url)
    yield url


def instance(iid: str) -> InstanceRecord:
    return InstanceRecord(iid, "d", "k", 1, "running", {}, None, None, None, NOW)


def seed(store: SqlStore) -> None:
    with store.transaction() as tx:
        tx.add_deployment(DeploymentRecord("dep", None, NOW))
        tx.add_definition(DefinitionRecord("d", "k", 1, None, b"<x/>", "c", "dep", None, NOW))
    with store.transaction() as tx:
        tx.add_instance(instance("i0"))


def roll_back_a_half_done_command(store: SqlStore) -> None:
    with pytest.raises(Boom), store.transaction() as tx:
        tx.get_instance("i0", lock=True)          # opens the block: the abort is a ROLLBACK
        raise Boom


def server_statements(store: SqlStore) -> set[str]:
    with store.transaction() as tx:
        rows = tx.raw.execute("SELECT name FROM pg_prepared_statements").fetchall()
    return {r[0] for r in rows}


def test_a_rollback_keeps_the_stores_statements_and_costs_no_extra_round_trip(
        pg: str) -> None:
    """psycopg's own prepared statements are off (its rollback would DEALLOCATE ALL, the
    store's too); the store's survive a ROLLBACK, so the next command does not re-read
    them from the server."""
    store = SqlStore(pg, pool_size=1)           # one connection: every step shares a session
    try:
        seed(store)
        for _ in range(7):      # psycopg would prepare a query of its own after 5 runs
            with store.transaction() as tx:
                tx.find_tasks(instance_id="i0", activity_id="a")
                tx.get_instance("i0", lock=True)
        names = server_statements(store)
        ours = {n for n in names if n.startswith("baton_")}
        assert ours and not any(n.startswith("_pg3_") for n in names)
        roll_back_a_half_done_command(store)
        assert ours <= server_statements(store)
        before = store.round_trips
        with store.transaction() as tx:
            tx.add_job(JobRecord("j1", "timer", "i0", NOW))
            assert tx.get_instance("i0", lock=True) is not None
        assert store.round_trips - before == 2      # the batch, the COMMIT: no re-reading
        with store.transaction() as tx:
            assert [j.id for j in tx.find_jobs(instance_id="i0")] == ["j1"]
    finally:
        store.close()


def test_statements_dropped_behind_the_stores_back_cost_one_retry_not_an_error(
        pg: str) -> None:
    store = SqlStore(pg, pool_size=1)
    try:
        engine = Engine(store=store, clock=ManualClock())
        engine.deploy(ONE_TASK.encode())
        iid = engine.start("one")
        with store.transaction() as tx:
            tx.raw.execute("DEALLOCATE ALL", prepare=False)     # e.g. a pooler's reset
        (task,) = engine.tasks(instance_id=iid)     # the engine retries; nothing surfaces
        engine.complete_task(task.id)
        assert engine.instance(iid).status == "completed"
    finally:
        store.close()


def test_four_engines_starting_and_completing_at_once_never_fail(pg: str) -> None:
    """Each engine has its own connection pool, as four processes would. Now and then a
    command fails half-way (a ROLLBACK), and every 50 rounds the engines start a diagram
    with one more kind of wait state, so a start right after a rollback writes rows of a
    kind that connection never wrote: that is when the store lost track of its statements
    ("prepared statement already exists" on a start)."""
    rounds = 200
    setup = SqlStore(pg)
    Engine(store=setup, clock=ManualClock()).deploy(*[d.encode() for d in DIAGRAMS])
    setup.close()
    errors: list[BaseException] = []
    done = [0] * 4
    barrier = threading.Barrier(4)

    def work(k: int) -> None:
        rnd = random.Random(k)
        store = SqlStore(pg, pool_size=1)
        engine = Engine(store=store, clock=ManualClock())
        try:
            barrier.wait()
            for i in range(rounds):
                if i % 50 == 0 or (i % 50 < 40 and rnd.random() < 0.1):
                    _fail_half_way(store)
                key = f"d{min(i // 50, len(DIAGRAMS) - 1)}"
                iid = engine.start(key, {"k": k, "i": i}, business_key=f"{k}-{i}")
                (task,) = engine.tasks(instance_id=iid)
                engine.complete_task(task.id, {"done": True})
                done[k] += 1
        except BaseException as e:  # noqa: BLE001 - reported by the assertion below
            errors.append(e)
        finally:
            store.close()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert errors == []
    assert done == [rounds] * 4
    check = SqlStore(pg)
    try:
        with check.transaction() as tx:
            assert tx.count_instances(status="completed") == 4 * rounds
            assert tx.find_jobs() == [] and tx.find_subscriptions() == []
    finally:
        check.close()


def _fail_half_way(store: Any) -> None:
    """A command that locks an instance and fails: its transaction is rolled back."""
    try:
        with store.transaction() as tx:
            tx.find_instances(limit=1)
            tx.get_instance("none", lock=True)
            raise Boom
    except Boom:
        pass
