"""The task list counts its matches only so far (engine.services.tasks.COUNT_CAP, or the end
of the page shown when that is further) and says when it stopped: with 100,000 open tasks,
counting them all would cost more than the page. Claims, unclaims and new priorities move
the tasks between the views at once (the SQL store keeps copies of those columns on the
candidate rows)."""

from __future__ import annotations

import pytest

from engine.services import tasks as task_service

from .diagrams import one_task


@pytest.fixture
def five(engine, clock):
    from datetime import timedelta

    engine.deploy(one_task())
    for i in range(5):
        engine.start("p", business_key=f"C-{i}")
        clock.advance(timedelta(minutes=1))
    return [t.id for t in engine.tasks(sort="created")]


def test_the_count_stops_at_the_cap_and_the_page_says_there_are_more(
        engine, five, monkeypatch):
    monkeypatch.setattr(task_service, "COUNT_CAP", 2)
    first = engine.task_list("ann", "claimable", page_size=2)
    assert [t.id for t in first.items] == five[:2]
    assert (first.total, first.capped, first.has_next, first.pages) == (2, True, True, 1)
    second = engine.task_list("ann", "claimable", page=2, page_size=2)   # counts to its end
    assert (second.total, second.capped, second.has_next) == (4, True, True)
    last = engine.task_list("ann", "claimable", page=3, page_size=2)
    assert [t.id for t in last.items] == five[4:]
    assert (last.total, last.capped, last.has_next, last.pages) == (5, False, False, 3)
    exact = engine.task_list("ann", "claimable", page_size=2, exact_count=True)
    assert (exact.total, exact.capped, exact.has_next) == (5, False, True)
    assert engine.task_list("ann", "claimable", priority_min=51).total == 0


def test_claims_and_priorities_move_tasks_between_views_and_orders(engine, five):
    engine.claim(five[1], "ann")
    engine.set_priority(five[3], 90, by="sue")
    claimable = [t.id for t in engine.task_list("bob", "claimable", sort="-priority").items]
    assert claimable[0] == five[3]                  # then the others, ties by id
    assert claimable[1:] == sorted([five[0], five[2], five[4]], reverse=True)
    assert [t.id for t in engine.task_list("ann", "involved").items] == five
    assert [t.id for t in engine.task_list("ann", "mine").items] == [five[1]]
    engine.unclaim(five[1], "ann")
    engine.reassign(five[2], to_group="underwriters", by="sue")
    assert [t.id for t in engine.task_list("bob", "claimable").items] == \
        [five[0], five[1], five[3], five[4]]
    assert [t.id for t in engine.task_list("cat", "claimable").items] == [five[2]]
