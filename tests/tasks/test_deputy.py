"""Out of office: tasks assigned to an absent user go to their deputy, saying why."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.errors import EngineError, NotFound

from .diagrams import one_task


@pytest.fixture
def for_ann(engine):
    engine.deploy(one_task('camunda:assignee="${who}"'))
    return lambda who="ann": engine.start("p", {"who": who})


def the_task(engine, instance_id):
    (t,) = engine.tasks(instance_id=instance_id)
    return t


def test_task_for_an_absent_user_goes_to_the_deputy_with_a_note(engine, clock, for_ann):
    engine.set_deputy("ann", "bob", clock() - timedelta(hours=1), clock() + timedelta(days=7))
    iid = for_ann()
    t = the_task(engine, iid)
    assert t.assignee == "bob" and t.owner == "ann"
    assert t.note == "assigned to bob as deputy of ann (out of office)"
    (ev,) = [h for h in engine.history(iid) if h.type == "task_delegated"]
    assert ev.detail["reason"] == "out_of_office" and ev.detail["from"] == "ann"
    assert [x.id for x in engine.task_list("bob", "mine").items] == [t.id]
    engine.complete_task(t.id, {}, user="bob")
    assert engine.instance(iid).status == "completed"


def test_outside_the_period_the_user_keeps_the_task(engine, clock, for_ann):
    engine.set_deputy("ann", "bob", clock() + timedelta(days=1), clock() + timedelta(days=2))
    assert the_task(engine, for_ann()).assignee == "ann"           # not away yet
    clock.advance(timedelta(days=1, hours=1))
    assert the_task(engine, for_ann()).assignee == "bob"           # away
    clock.advance(timedelta(days=1))
    t = the_task(engine, for_ann())                                # back
    assert (t.assignee, t.note) == ("ann", None)


def test_open_ended_absence_and_clearing_it(engine, for_ann):
    engine.set_deputy("ann", "bob")
    assert the_task(engine, for_ann()).assignee == "bob"
    engine.set_deputy("ann", None)
    assert engine.user("ann").deputy is None
    assert the_task(engine, for_ann()).assignee == "ann"


def test_tasks_assigned_before_the_absence_stay(engine, for_ann):
    iid = for_ann()
    engine.set_deputy("ann", "bob")
    assert the_task(engine, iid).assignee == "ann"


def test_a_chain_of_absent_deputies_is_followed_and_loops_stop(engine, for_ann):
    engine.set_deputy("ann", "bob")
    engine.set_deputy("bob", "cat")
    t = the_task(engine, for_ann())
    assert t.assignee == "cat"
    assert t.note == "assigned to bob as deputy of ann, cat as deputy of bob (out of office)"
    engine.set_deputy("cat", "ann")                                 # a loop
    assert the_task(engine, for_ann()).assignee == "cat"


def test_set_deputy_validation(engine, clock):
    with pytest.raises(EngineError, match="own deputy"):
        engine.set_deputy("ann", "ann")
    with pytest.raises(NotFound, match="user 'nobody'"):
        engine.set_deputy("ann", "nobody")
    with pytest.raises(NotFound, match="user 'nobody' not found"):
        engine.set_deputy("nobody", "ann")
    with pytest.raises(EngineError, match="ends before it starts"):
        engine.set_deputy("ann", "bob", clock(), clock() - timedelta(days=1))
    with pytest.raises(EngineError, match="time zone"):
        engine.set_deputy("ann", "bob", datetime(2026, 1, 1))
    assert engine.user("ann").deputy is None
