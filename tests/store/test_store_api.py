"""The SQL store answers exactly like the memory store: the same methods with the same
signatures, the same rows for the same task queries (filters, sort orders, paging), the
same orders for jobs, subscriptions, incidents, comments and users."""

from __future__ import annotations

import inspect
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.store.codec import dumps, loads
from engine.store.memory import MemoryStore, MemoryTx
from engine.store.records import (
    CommentRecord,
    IncidentRecord,
    InstanceRecord,
    JobRecord,
    SubscriptionRecord,
    TaskRecord,
    UserRecord,
)
from engine.store.sql import SqlTx
from tests.store.conftest import SQL_KINDS

T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
GROUPS = ["adjusters", "underwriters", "supervisors", "auditors"]
USERS = ["ann", "bob", "cat", "dan"]


@pytest.fixture(params=SQL_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


def test_the_sql_transaction_has_every_method_of_the_memory_one() -> None:
    public = {n: f for n, f in vars(MemoryTx).items() if callable(f) and not n.startswith("_")}
    public.pop("rollback")        # the memory store's undo log; SQL rolls back itself
    for name, fn in public.items():
        assert hasattr(SqlTx, name), f"SqlTx lacks {name}"
        assert inspect.signature(getattr(SqlTx, name)) == inspect.signature(fn), name


def test_codec_round_trips_dates_decimals_and_plain_json() -> None:
    from datetime import date, time
    from decimal import Decimal

    value = {"a": [datetime(2026, 5, 1, 12, tzinfo=UTC), date(2026, 5, 2), time(9, 30)],
             "d": Decimal("0.10"), "t": timedelta(days=2, seconds=5), "b": b"\x00\xff",
             "s": {3, 1}, "plain": {"x": [1, "two", None, True, 2.5]}}
    back = loads(dumps(value))
    assert back == value
    assert loads(dumps({"__baton__": "datetime"})) == {"__baton__": "datetime"}


def instance_row(iid: str) -> InstanceRecord:
    return InstanceRecord(iid, "def:1", "p", 1, "running", {"v": 1, "tokens": [], "scopes": [],
                                                            "subs": [], "next_id": 1,
                                                            "status": "running"},
                          None, None, None, T0, variables={})


def seed_definition(tx: Any) -> None:
    from engine.store.records import DefinitionRecord, DeploymentRecord

    tx.add_deployment(DeploymentRecord("dep", None, T0, ["p.bpmn"]))
    tx.add_definition(DefinitionRecord("def:1", "p", 1, "P", b"<xml/>", "sum", "dep", "p.bpmn",
                                       T0))


def random_tasks(n: int, seed: int = 7) -> list[TaskRecord]:
    rnd = random.Random(seed)
    names = ["Review claim", "review CLAIM", "Approve", None, "Ärger prüfen", "", "Pay"]
    out = []
    for i in range(n):
        created = T0 + timedelta(minutes=rnd.choice([0, 1, 2, 3]))   # many ties
        out.append(TaskRecord(
            id=f"t{i:03d}", instance_id=f"i{i % 7}", token=i, activity_id=f"act{i % 4}",
            name=rnd.choice(names), definition_key=rnd.choice(["p", "q"]), definition_id="def:1",
            assignee=rnd.choice([None, None, *USERS]),
            candidate_users=rnd.sample(USERS, rnd.randint(0, 2)),
            candidate_groups=rnd.sample(GROUPS, rnd.randint(0, 2)),
            due=rnd.choice([None, T0 + timedelta(days=rnd.randint(-3, 3))]),
            follow_up=None, priority=rnd.choice([0, 50, 50, 90]), form_key=None, created=created,
            business_key=rnd.choice([None, "B-1", "B-2"]),
        ))
    return out


QUERIES: list[dict[str, Any]] = [
    {}, {"assignee": "ann"}, {"unassigned": True}, {"unassigned": False},
    {"candidate_user": "bob"}, {"candidate_groups": ["adjusters"]},
    {"candidate_groups": ["adjusters", "auditors"]}, {"candidate_groups": []},
    {"claimable_by": ("cat", ["underwriters"])}, {"claimable_by": ("zed", [])},
    {"involving": ("ann", ["adjusters", "supervisors"])}, {"name_like": "claim"},
    {"name_like": "ÄRGER"}, {"name_like": "act1"}, {"overdue_at": T0},
    {"due_before": T0 + timedelta(days=2)}, {"priority_min": 50},
    {"definition_key": "q", "business_key": "B-1"}, {"instance_id": "i3"},
    {"instance_id": "i3", "activity_id": "act3"}, {"assignee": None, "priority_min": 90},
]
SORTS = ["created", "-created", "due", "-due", "priority", "-priority", "name", "-name"]


def test_task_queries_answer_like_the_memory_store(store: Any) -> None:
    memory = MemoryStore()
    tasks = random_tasks(120)
    for st in (memory, store):
        with st.transaction() as tx:
            seed_definition(tx)
            for i in range(7):
                tx.add_instance(instance_row(f"i{i}"))
            for t in tasks:
                tx.add_task(t)
    with memory.transaction() as mtx, store.transaction() as stx:
        for q in QUERIES:
            expected = [t.id for t in mtx.find_tasks(**q)]
            assert [t.id for t in stx.find_tasks(**q)] == expected, q
            assert stx.count_tasks(**q) == len(expected), q
        for sort in SORTS:
            for q in ({}, {"unassigned": True}):
                expected = [t.id for t in mtx.find_tasks(sort=sort, **q)]
                assert [t.id for t in stx.find_tasks(sort=sort, **q)] == expected, (sort, q)
        paged = [t.id for t in stx.find_tasks(sort="-priority", limit=10, offset=20)]
        assert paged == [t.id for t in mtx.find_tasks(sort="-priority", limit=10, offset=20)]
        assert stx.get_task("t005") == mtx.get_task("t005")
        with pytest.raises(ValueError, match="unknown task filter"):
            stx.find_tasks(colour="red")
        with pytest.raises(ValueError, match="cannot sort"):
            stx.find_tasks(sort="colour")


def test_task_updates_move_the_candidate_rows(store: Any) -> None:
    (task,) = random_tasks(1)
    task.candidate_groups, task.assignee = ["adjusters"], None
    with store.transaction() as tx:
        seed_definition(tx)
        tx.add_instance(instance_row(task.instance_id))
        tx.add_task(task)
    with store.transaction() as tx:
        t = tx.get_task(task.id)
        t.candidate_groups = ["auditors"]
        tx.update_task(t)
    with store.transaction() as tx:
        assert tx.find_tasks(candidate_groups=["adjusters"]) == []
        assert [t.id for t in tx.find_tasks(candidate_groups=["auditors"])] == [task.id]
        assert tx.task_by_token(task.instance_id, task.token).candidate_groups == ["auditors"]
        tx.delete_task(task.id)
    with store.transaction() as tx:
        assert tx.find_tasks() == [] and tx.get_task(task.id) is None


def test_jobs_subscriptions_incidents_comments_users_match_the_memory_store(store: Any) -> None:
    memory = MemoryStore()
    for st in (memory, store):
        with st.transaction() as tx:
            seed_definition(tx)
            tx.add_instance(instance_row("i1"))
            for n, minutes in enumerate([5, 1, 3, 2]):    # no ties: memory breaks them by set order
                tx.add_job(JobRecord(f"j{n}", "timer", "i1", T0 + timedelta(minutes=minutes),
                                     sub=n % 2, payload={"fired": n, "at": T0}))
            tx.add_job(JobRecord("js", "start-timer", None, T0, definition_id="def:1"))
            tx.add_subscription(SubscriptionRecord("s2", "message", "paid", "i1", 2, "r",
                                                   "def:1", "B", T0))
            tx.add_subscription(SubscriptionRecord("s1", "message", "paid", None, None, "st",
                                                   "def:1", None, T0))
            tx.add_incident(IncidentRecord("x1", "failedJob", "i1", "a", "boom", T0, "j1"))
            tx.add_comment(CommentRecord("c1", "i1", None, "ann", "hello", T0))
            tx.add_comment(CommentRecord("c2", "i1", "t1", "bob", "on task", T0))
            tx.add_user(UserRecord("bob", "Bob", "h", ["staff"], ["zeta", "alpha"]))
            tx.add_user(UserRecord("ann", "Ann", "h", ["admin"], [], "a@x", "bob", T0, None))
            tx.add_group("alpha", "Alpha team")
            tx.set_secret("KEY", "v1")
            tx.set_secret("KEY", "v2")
    with memory.transaction() as m, store.transaction() as s:
        for f in ({}, {"instance_id": "i1"}, {"instance_id": "i1", "sub": 1},
                  {"instance_id": None}, {"kind": "start-timer", "definition_id": "def:1"}):
            assert s.find_jobs(**f) == m.find_jobs(**f), f
        assert s.get_job("j2") == m.get_job("j2")
        for f in ({"kind": "message", "name": "paid"}, {"instance_id": None},
                  {"definition_id": "def:1", "instance_id": None}):
            assert s.find_subscriptions(**f) == m.find_subscriptions(**f), f
        assert s.find_incidents() == m.find_incidents()
        assert s.find_incidents(job_id="j1") == m.find_incidents(job_id="j1")
        assert s.comments(instance_id="i1") == m.comments(instance_id="i1")
        assert s.comments(task_id="t1") == m.comments(task_id="t1")
        assert s.users() == m.users() and s.get_user("bob") == m.get_user("bob")
        assert s.groups() == m.groups() and s.get_secret("KEY") == "v2"
        assert s.get_user("nobody") is None and s.get_secret("nope") is None
        with pytest.raises(ValueError):
            s.find_jobs(colour="red")


def test_a_guarded_row_changed_by_another_transaction_raises_conflict(store: Any) -> None:
    from engine.store.records import ConcurrentModification

    with store.transaction() as tx:
        seed_definition(tx)
        tx.add_instance(instance_row("i1"))
        tx.add_job(JobRecord("j1", "timer", "i1", T0))
    with store.transaction() as tx:
        stale = tx.get_job("j1")
    with store.transaction() as tx:          # someone else leases it meanwhile
        assert [j.id for j in tx.acquire_jobs(T0, "other", T0 + timedelta(minutes=5), 5)] \
            == ["j1"]
    with pytest.raises(ConcurrentModification), store.transaction() as tx:
        tx._rev[("jobs", "j1")] = 0            # what this transaction had read
        stale.lock_owner = None
        tx.update_job(stale)
    with store.transaction() as tx:
        assert tx.get_job("j1").lock_owner == "other"


def test_the_history_events_view_has_one_row_per_event(store: Any) -> None:
    import sqlalchemy as sa

    from engine.service import Engine
    from tests.runtime.conftest import bpmn, flows

    engine = Engine(store=store)
    engine.deploy(bpmn('<startEvent id="s"/><userTask id="t"/><endEvent id="e"/>'
                       + flows("s>t", "t>e"), pid="viewed").encode())
    iid = engine.start("viewed")
    (task,) = engine.tasks(instance_id=iid)
    engine.complete_task(task.id)
    expected = [(h.type, h.activity_id) for h in engine.history(iid)]
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT type, activity_id, time FROM history_events WHERE instance_id = :i "
            "ORDER BY seq, position"), {"i": iid}).all()
    assert [(r[0], r[1]) for r in rows] == expected
    assert len(expected) >= 6 and all(r[2] is not None for r in rows)
