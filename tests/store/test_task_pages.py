"""Tasklist pages on SQL answer exactly like the memory store: every view, filter, sort
order, page and count limit, also after the tasks were claimed, unclaimed, re-dated and
re-routed (the candidate rows carry copies of those columns, see engine/store/schema.py);
instance lists page and count like the memory store; and candidate rows written before
migration 0003 get their copies on upgrade."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from engine.store import migrate
from engine.store.memory import MemoryStore
from engine.store.schema import tasks
from engine.store.sql import SqlStore, normalize_url
from tests.store.conftest import SQL_KINDS
from tests.store.test_store_api import (
    GROUPS,
    QUERIES,
    SORTS,
    T0,
    USERS,
    instance_row,
    random_tasks,
    seed_definition,
)

PAGES = [(7, 3), (25, 40), (200, 0)]   # a small page, a deep one, more than there are
# the tasklist's own query shapes: a view plus the page's filters
TASKLIST_QUERIES: list[dict[str, Any]] = [
    {"claimable_by": ("cat", ["underwriters", "adjusters"])},
    {"claimable_by": ("ann", ["adjusters", "adjusters", "auditors"])},
    {"claimable_by": ("bob", ["supervisors"]), "overdue_at": T0, "priority_min": 50},
    {"claimable_by": ("dan", GROUPS), "due_before": T0 + timedelta(days=1)},
    {"claimable_by": ("ann", GROUPS), "definition_key": "q", "name_like": "CLAIM"},
    {"claimable_by": ("ann", GROUPS), "business_key": "B-2", "priority_min": 90},
    {"involving": ("bob", ["auditors", "adjusters"])},
    {"involving": ("cat", []), "priority_min": 50},
    {"involving": ("dan", GROUPS), "overdue_at": T0 + timedelta(days=1),
     "definition_key": "p"},
    {"involving": ("ann", GROUPS), "claimable_by": ("bob", ["supervisors"])},
    {"overdue_at": T0 + timedelta(days=2), "priority_min": 50},
    {"assignee": "bob", "name_like": "e"},
]


@pytest.fixture(params=SQL_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


def _fill(stores: tuple[Any, ...], tasks: list[Any]) -> None:
    for st in stores:
        with st.transaction() as tx:
            seed_definition(tx)
            for i in range(7):
                tx.add_instance(instance_row(f"i{i}"))
            for t in tasks:
                tx.add_task(t)


def _assert_pages_alike(memory: MemoryStore, store: Any) -> None:
    with memory.transaction() as mtx, store.transaction() as stx:
        for q in QUERIES + TASKLIST_QUERIES:
            every = [t.id for t in mtx.find_tasks(**q)]
            for cap in (1, 5, 1000, None):
                want = len(every) if cap is None else min(cap, len(every))
                assert stx.count_tasks(limit=cap, **q) == want, (q, cap)
            for sort in SORTS:
                expected = [t.id for t in mtx.find_tasks(sort=sort, **q)]
                for limit, offset in PAGES:
                    got = [t.id for t in stx.find_tasks(sort=sort, limit=limit, offset=offset,
                                                        **q)]
                    assert got == expected[offset:offset + limit], (q, sort, limit, offset)


def test_pages_and_counts_answer_like_the_memory_store(store: Any) -> None:
    memory = MemoryStore()
    _fill((memory, store), random_tasks(120, seed=11))
    _assert_pages_alike(memory, store)


def test_pages_follow_claims_new_dates_and_new_candidates(store: Any) -> None:
    memory = MemoryStore()
    tasks = random_tasks(120, seed=12)
    _fill((memory, store), tasks)
    rnd = random.Random(5)
    changes = []
    for t in rnd.sample(tasks, 60):
        change = rnd.choice(["claim", "unclaim", "due", "undue", "priority", "groups"])
        if change == "claim":
            t = replace(t, assignee=rnd.choice(USERS))
        elif change == "unclaim":
            t = replace(t, assignee=None)
        elif change == "due":
            t = replace(t, due=T0 + timedelta(hours=rnd.randint(-90, 90)))
        elif change == "undue":
            t = replace(t, due=None)
        elif change == "priority":
            t = replace(t, priority=rnd.randint(0, 100))
        else:
            t = replace(t, candidate_groups=rnd.sample(GROUPS, rnd.randint(0, 3)),
                        candidate_users=rnd.sample(USERS, rnd.randint(0, 1)))
        changes.append(t)
    for st in (memory, store):
        for i, t in enumerate(changes):
            with st.transaction() as tx:
                if i % 2:              # read first: the store knows the row's old values
                    tx.get_task(t.id)
                tx.update_task(replace(t, candidate_users=list(t.candidate_users),
                                       candidate_groups=list(t.candidate_groups)))
    _assert_pages_alike(memory, store)


def test_instance_lists_page_and_count_like_the_memory_store(store: Any) -> None:
    memory = MemoryStore()
    rnd = random.Random(3)
    for st in (memory, store):
        with st.transaction() as tx:
            seed_definition(tx)
    rows = [replace(instance_row(f"i{n:02d}"), status=rnd.choice(["running", "completed"]),
                    started=T0 + timedelta(minutes=rnd.randint(0, 9)),
                    business_key=rnd.choice([None, "B"])) for n in range(40)]
    for st in (memory, store):
        with st.transaction() as tx:
            for r in rows:
                tx.add_instance(replace(r, state=dict(r.state), variables={}))
    with memory.transaction() as m, store.transaction() as s:
        for f in ({}, {"status": "running"}, {"status": "completed", "business_key": "B"},
                  {"key": "nope"}):
            assert s.count_instances(**f) == m.count_instances(**f) \
                == len(m.find_instances(**f)), f
            for newest in (False, True):
                for limit, offset in ((None, 0), (5, 0), (7, 10), (None, 12), (50, 30)):
                    kw = {"newest_first": newest, "limit": limit, "offset": offset, **f}
                    assert [r.id for r in s.find_instances(**kw)] \
                        == [r.id for r in m.find_instances(**kw)], kw
        with pytest.raises(ValueError, match="unknown instance filter"):
            s.count_instances(colour="red")


def test_candidate_rows_written_before_0003_get_their_copies(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    eng = sa.create_engine(normalize_url(url))
    try:
        migrate.upgrade(eng, "0002")
        with eng.begin() as conn:
            from tests.store.test_migrations import _first_revision_rows

            _first_revision_rows(conn)
            conn.execute(tasks.update().values(due=T0 + timedelta(days=2), priority=70))
        migrate.upgrade(eng)
    finally:
        eng.dispose()
    store = SqlStore(url, auto_upgrade=False)
    try:
        with store.transaction() as tx:
            for sort in SORTS:
                page = tx.find_tasks(claimable_by=("someone", ["g"]), sort=sort, limit=10)
                assert [t.id for t in page] == ["task1"], sort
            assert [t.id for t in tx.find_tasks(
                claimable_by=("someone", ["g"]), overdue_at=T0 + timedelta(days=3),
                priority_min=70, limit=10)] == ["task1"]
            assert tx.find_tasks(claimable_by=("someone", ["g"]), overdue_at=T0,
                                 limit=10) == []
            assert tx.count_tasks(claimable_by=("someone", ["g"]), priority_min=71) == 0
    finally:
        store.close()


def test_0003_downgrades_and_upgrades_again(tmp_path: Path) -> None:
    from alembic import command

    from tests.store.test_migrations import _differences

    url = f"sqlite:///{tmp_path}/down.db"
    SqlStore(url).close()
    eng = sa.create_engine(normalize_url(url))
    try:
        with eng.begin() as conn:
            cfg = migrate.alembic_config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0002")
        assert migrate.current_revision(eng) == "0002"
        columns = {c["name"] for c in sa.inspect(eng).get_columns("task_candidates")}
        assert columns == {"kind", "name", "task_id"}
        migrate.upgrade(eng)
    finally:
        eng.dispose()
    assert _differences(url) == []
