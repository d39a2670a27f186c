"""The rules of engine/store/rules.py give the same answer on every store: which jobs and
external tasks a worker may lease (and in what order), how a predicate treats missing
values, which filters are refused, and that a record read is the caller's own copy."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from engine.store.memory import MemoryStore
from engine.store.predicates import (
    And,
    Blank,
    Cmp,
    Eq,
    In,
    IsNull,
    Not,
    Or,
    Param,
    Predicate,
    compile_predicate,
)
from engine.store.records import ExternalTaskRecord, JobRecord
from engine.store.rules import EXTERNAL_FETCHABLE, JOB_ACQUIRABLE, JOB_LEASED, NOW
from engine.store.schema import external_tasks, jobs
from engine.store.sql_predicates import where
from tests.store.test_store_api import T0, instance_row, random_tasks, seed_definition

INSTANCES = ["i1", "i2", "i3", "i4"]
HOUR = timedelta(hours=1)


def random_jobs(n: int, seed: int) -> list[JobRecord]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        iid = rnd.choice([None, *INSTANCES, *INSTANCES])
        out.append(JobRecord(
            id=f"{rnd.getrandbits(32):08x}", kind="timer" if iid else "start-timer",
            instance_id=iid, due=T0 + rnd.choice([-2, -1, 0, 0, 1]) * HOUR,
            definition_id=None if iid else "def:1", retries=rnd.choice([0, 1, 3, 3]),
            lock_owner=rnd.choice([None, None, "", "w1"]),
            lock_expires=rnd.choice([None, T0 - HOUR, T0 + HOUR]),
            suspended=rnd.random() < 0.15))
    return out


def random_external(n: int, seed: int) -> list[ExternalTaskRecord]:
    rnd = random.Random(seed)
    return [ExternalTaskRecord(
        id=f"{rnd.getrandbits(32):08x}", instance_id=rnd.choice(INSTANCES), token=i,
        activity_id="a", topic=rnd.choice(["a", "b", "c"]), definition_key="p",
        definition_id="def:1", created=T0 + rnd.choice([0, 0, 1, 2]) * HOUR,
        priority=rnd.choice([0, 5]), retries=rnd.choice([None, None, 0, 2]),
        worker_id=rnd.choice([None, None, "w"]),
        lock_expires=rnd.choice([None, T0 + HOUR, T0 + 3 * HOUR]),
        due=rnd.choice([None, None, T0 + HOUR, T0 + 3 * HOUR])) for i in range(n)]


def filled(stores: tuple[Any, ...], job_rows: Sequence[JobRecord] = (),
           ext_rows: Sequence[ExternalTaskRecord] = ()) -> None:
    for st in stores:
        with st.transaction() as tx:
            seed_definition(tx)
            for iid in INSTANCES:
                tx.add_instance(instance_row(iid))
        with st.transaction() as tx:
            for j in job_rows:
                tx.add_job(j)
            for x in ext_rows:
                tx.add_external(x)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_job_leases_answer_like_the_memory_store(store: Any, seed: int) -> None:
    memory = MemoryStore()
    filled((memory, store), random_jobs(60, seed))
    steps = [(T0 - HOUR, 100, True), (T0, 3, False), (T0, 100, True),
             (T0 + 2 * HOUR, 100, False), (T0 + 2 * HOUR, 100, True)]
    for now, limit, exclusive in steps:
        got = []
        for st in (memory, store):
            with st.transaction() as tx:
                got.append([j.id for j in tx.acquire_jobs(now, f"w-{now}", now + HOUR, limit,
                                                          exclusive=exclusive)])
        assert got[0] == got[1], (now, limit, exclusive)
    with memory.transaction() as m, store.transaction() as s:
        assert s.find_jobs() == m.find_jobs()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_external_task_leases_answer_like_the_memory_store(store: Any, seed: int) -> None:
    memory = MemoryStore()
    filled((memory, store), ext_rows=random_external(60, seed))
    until = {"a": T0 + 5 * HOUR, "b": T0 + 6 * HOUR}
    for now, use_priority in [(T0, False), (T0 + 2 * HOUR, True), (T0 + 4 * HOUR, False)]:
        got = []
        for st in (memory, store):
            with st.transaction() as tx:
                got.append([(x.id, x.lock_expires) for x in tx.lock_external(
                    ["a", "b"], f"w-{now}", now, until, 100, use_priority=use_priority)])
        assert got[0] == got[1], (now, use_priority)
    with memory.transaction() as m, store.transaction() as s:
        for f in ({}, {"locked": True}, {"locked": False}, {"topic": "c"},
                  {"topic": "a", "locked": True}):
            assert [x.id for x in s.find_external(**f)] == [x.id for x in m.find_external(**f)]


PREDICATES: list[Predicate] = [
    JOB_LEASED, Not(JOB_LEASED), JOB_ACQUIRABLE,
    Not(Cmp("lock_expires", ">", NOW)),              # NULL under NOT: Python says True
    Not(Or(Cmp("retries", ">", 2), Eq("lock_owner", "w1"))),
    Not(Not(Cmp("lock_expires", "<=", NOW))),
    And(Blank("lock_owner"), Not(IsNull("instance_id"))),
    Not(In("instance_id", Param("ids"))), In("instance_id", ("i1", "i2")),
    Eq("instance_id", None), Not(Eq("instance_id", "i1")), Or(), Not(And()),
]


@pytest.mark.parametrize("pred", PREDICATES, ids=[str(i) for i in range(len(PREDICATES))])
def test_predicates_select_the_same_rows_in_python_and_in_sql(store_kind: str, store: Any,
                                                              pred: Predicate) -> None:
    if store_kind == "memory":
        pytest.skip("compares SQL with the memory store's Python")
    rows = random_jobs(80, 9)
    filled((store,), rows)
    params = {"now": T0, "ids": ["i1", "i3"]}
    test = compile_predicate(pred)
    expected = sorted(j.id for j in rows if test(j, params))
    with store.transaction() as tx:
        got = sorted(r[0] for r in tx.conn.execute(
            sa.select(jobs.c.id).where(*where(pred, jobs)), params))
    assert got == expected


def test_fetchable_external_tasks_render_with_expanding_topics(store_kind: str,
                                                              store: Any) -> None:
    if store_kind == "memory":
        pytest.skip("SQL only")
    rows = random_external(40, 4)
    filled((store,), ext_rows=rows)
    params = {"now": T0 + 2 * HOUR, "topics": ["a", "c"]}
    test = compile_predicate(EXTERNAL_FETCHABLE)
    with store.transaction() as tx:
        got = sorted(r[0] for r in tx.conn.execute(
            sa.select(external_tasks.c.id).where(*where(EXTERNAL_FETCHABLE, external_tasks)),
            params))
    assert got == sorted(x.id for x in rows if test(x, params))


@pytest.mark.parametrize("method", ["find_jobs", "find_subscriptions", "find_incidents",
                                    "find_external", "find_instances", "find_tasks",
                                    "count_tasks", "count_instances"])
def test_an_unknown_filter_is_refused_on_every_store(store: Any, method: str) -> None:
    with store.transaction() as tx, pytest.raises(ValueError, match="colour"):
        getattr(tx, method)(colour="red")


def test_a_record_read_is_the_callers_own_copy(store: Any) -> None:
    task = random_tasks(1)[0]
    task.candidate_groups = ["adjusters"]
    with store.transaction() as tx:
        seed_definition(tx)
        tx.add_instance(instance_row(task.instance_id))
        tx.add_task(task)
    # a record written belongs to the store from then on (the protocol's contract): the
    # caller does not touch `task` again; what it reads back is its own copy
    with store.transaction() as tx:
        read = tx.get_task(task.id)
        read.candidate_groups.append("not-written-back")
        read.priority = 1
    with store.transaction() as tx:
        again = tx.get_task(task.id)
    assert again.candidate_groups == ["adjusters"] and again.priority == task.priority
