"""Claim, unclaim, delegate, reassign, comment, priorities and dates, and who may do each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.errors import Conflict, EngineError, Forbidden, NotFound

from .diagrams import one_task


@pytest.fixture
def task(engine):
    engine.deploy(one_task())
    engine.start("p", {"claim_id": "C-1"})
    (t,) = engine.tasks()
    return t


def events(engine, instance_id, kind):
    return [h for h in engine.history(instance_id) if h.type == kind]


# ---------------------------------------------------------------- claim / unclaim


def test_candidate_claims_and_it_is_recorded(engine, task, clock):
    got = engine.claim(task.id, "ann")
    assert got.assignee == "ann" and got.claimed == clock()
    assert engine.task(task.id).assignee == "ann"
    (ev,) = events(engine, task.instance_id, "task_claimed")
    assert ev.user == "ann" and ev.detail["task_id"] == task.id


def test_staff_cannot_claim_outside_their_groups(engine, task):
    with pytest.raises(Forbidden, match="not a candidate.*adjusters"):
        engine.claim(task.id, "cat")
    assert engine.task(task.id).assignee is None
    assert events(engine, task.instance_id, "task_claimed") == []


def test_unknown_user_has_no_groups(engine, task):
    with pytest.raises(Forbidden, match="user 'stranger' is not a candidate .* it is for "
                                        "groups adjusters"):
        engine.claim(task.id, "stranger")


def test_claim_of_a_claimed_task_conflicts_but_own_claim_is_idempotent(engine, task):
    engine.claim(task.id, "ann")
    with pytest.raises(Conflict, match="already claimed by 'ann'"):
        engine.claim(task.id, "bob")
    assert engine.claim(task.id, "ann").assignee == "ann"
    assert len(events(engine, task.instance_id, "task_claimed")) == 1


def test_supervisors_may_claim_any_task(engine, task):
    assert engine.claim(task.id, "sue").assignee == "sue"      # group supervisors
    engine.unclaim(task.id, "sue")
    assert engine.claim(task.id, "ada").assignee == "ada"      # role admin


def test_claim_unknown_task_is_not_found(engine):
    with pytest.raises(NotFound, match="task 'no-such-task' not found"):
        engine.claim("no-such-task", "ann")


def test_unclaim_by_assignee_or_supervisor_only(engine, task):
    engine.claim(task.id, "ann")
    with pytest.raises(Forbidden, match="only its assignee or a supervisor"):
        engine.unclaim(task.id, "bob")
    assert engine.unclaim(task.id, "ann").assignee is None
    with pytest.raises(Conflict, match="not claimed"):
        engine.unclaim(task.id, "ann")
    engine.claim(task.id, "bob")
    engine.unclaim(task.id, "sue")
    (first, second) = events(engine, task.instance_id, "task_unclaimed")
    assert (first.user, first.detail["previous"]) == ("ann", "ann")
    assert (second.user, second.detail["previous"]) == ("sue", "bob")


# ---------------------------------------------------------------- completing


def test_staff_cannot_complete_another_users_task(engine, task):
    engine.claim(task.id, "ann")
    with pytest.raises(Forbidden, match="assigned to 'ann'"):
        engine.complete_task(task.id, {}, user="bob")
    engine.complete_task(task.id, {"ok": True}, user="ann")
    inst = engine.instance(task.instance_id)
    assert inst.status == "completed" and inst.variables["ok"] is True
    (done,) = [h for h in engine.history(task.instance_id)
               if h.type == "activity_completed" and h.activity_id == "t"]
    assert done.user == "ann"


# ---------------------------------------------------------------- delegate / reassign


def test_delegate_keeps_the_owner_and_the_delegate_completes(engine, task):
    engine.claim(task.id, "ann")
    got = engine.delegate(task.id, "cat", by="ann")
    assert (got.assignee, got.owner, got.delegation) == ("cat", "ann", "pending")
    (ev,) = events(engine, task.instance_id, "task_delegated")
    assert ev.user == "ann" and ev.detail["to"] == "cat"
    engine.complete_task(task.id, {}, user="cat")
    assert engine.instance(task.instance_id).status == "completed"


def test_resolve_gives_a_delegated_task_back(engine, task):
    engine.claim(task.id, "ann")
    engine.delegate(task.id, "cat", by="ann")
    with pytest.raises(Forbidden, match="only the delegate 'cat' may resolve task"):
        engine.resolve(task.id, "bob")
    got = engine.resolve(task.id, "cat")
    assert (got.assignee, got.delegation) == ("ann", "resolved")


def test_delegate_only_by_assignee_and_to_known_users(engine, task):
    engine.claim(task.id, "ann")
    with pytest.raises(Forbidden, match="user 'bob' may not delegate task .* it is assigned "
                                        "to 'ann'"):
        engine.delegate(task.id, "cat", by="bob")
    with pytest.raises(NotFound, match="user 'nobody'"):
        engine.delegate(task.id, "nobody", by="ann")
    with pytest.raises(EngineError, match="already assigned"):
        engine.delegate(task.id, "ann", by="ann")
    assert engine.task(task.id).assignee == "ann"


def test_the_owner_may_take_a_delegated_task_back(engine, task):
    engine.claim(task.id, "ann")
    engine.delegate(task.id, "cat", by="ann")
    got = engine.reassign(task.id, to_user="ann", by="ann")
    assert (got.assignee, got.owner, got.delegation) == ("ann", None, None)


def test_supervisor_reassigns_to_a_group(engine, task):
    engine.claim(task.id, "ann")
    got = engine.reassign(task.id, to_group="underwriters", by="sue")
    assert got.assignee is None and got.candidate_groups == ["underwriters"]
    assert engine.claim(task.id, "cat").assignee == "cat"
    with pytest.raises(Forbidden, match="user 'ann' may not unclaim task .* it is assigned "
                                        "to 'cat'"):
        engine.unclaim(task.id, "ann")      # no longer hers
    (ev,) = events(engine, task.instance_id, "task_assigned")
    assert ev.user == "sue" and ev.detail == {"task_id": task.id, "to": None,
                                              "group": "underwriters", "previous": "ann"}


def test_reassign_rules(engine, task):
    with pytest.raises(Forbidden, match="user 'ann' may not reassign task .* it is not "
                                        "assigned to you"):
        engine.reassign(task.id, to_user="bob", by="ann")   # ann is not the assignee
    with pytest.raises(EngineError, match="needs a user or a group"):
        engine.reassign(task.id, by="sue")
    with pytest.raises(NotFound, match="group 'ghosts'"):
        engine.reassign(task.id, to_group="ghosts", by="sue")
    assert engine.reassign(task.id, to_user="bob", by="sue").assignee == "bob"


# ---------------------------------------------------------------- comments


def test_comments_are_kept_with_author_time_and_history(engine, task, clock):
    c = engine.comment(task.id, "ann", "  Called the customer.  ")
    assert (c.author, c.text, c.time, c.instance_id) == ("ann", "Called the customer.",
                                                         clock(), task.instance_id)
    clock.advance(timedelta(minutes=5))
    engine.comment(task.id, "sue", "Please check the photos.")
    assert [x.text for x in engine.comments(task_id=task.id)] == [
        "Called the customer.", "Please check the photos."]
    (ev, _) = events(engine, task.instance_id, "task_commented")
    assert ev.user == "ann" and ev.detail["comment_id"] == c.id
    engine.claim(task.id, "ann")
    engine.complete_task(task.id, {}, user="ann")
    assert len(engine.comments(instance_id=task.instance_id)) == 2


def test_comment_rules(engine, task):
    with pytest.raises(Forbidden, match="user 'cat' is not involved in task"):
        engine.comment(task.id, "cat", "not my business")
    with pytest.raises(EngineError, match="needs some text"):
        engine.comment(task.id, "ann", "   ")
    with pytest.raises(EngineError, match="at most 4000"):
        engine.comment(task.id, "ann", "x" * 4001)
    assert engine.comments(task_id=task.id) == []


# ---------------------------------------------------------------- priority and dates


def test_priority_and_due_by_assignee_or_supervisor(engine, task, clock):
    with pytest.raises(Forbidden, match="user 'ann' may not change the priority of task"):
        engine.set_priority(task.id, 90, by="ann")
    engine.claim(task.id, "ann")
    assert engine.set_priority(task.id, 90, by="ann").priority == 90
    with pytest.raises(EngineError, match="0 to 100"):
        engine.set_priority(task.id, 101, by="ann")
    due = clock() + timedelta(days=1)
    assert engine.set_due(task.id, due, by="sue").due == due
    with pytest.raises(EngineError, match="time zone"):
        engine.set_due(task.id, datetime(2026, 1, 2), by="ann")
    assert engine.set_due(task.id, None, by="ann").due is None
    ev = events(engine, task.instance_id, "task_updated")
    assert [(e.user, e.detail["field"], e.detail["new"]) for e in ev] == [
        ("ann", "priority", 90), ("sue", "due", due.isoformat()), ("ann", "due", None)]


def test_task_for_hides_tasks_from_the_uninvolved(engine, task):
    assert engine.task_for(task.id, "ann").id == task.id
    assert engine.task_for(task.id, "sue").id == task.id
    with pytest.raises(Forbidden, match="not involved"):
        engine.task_for(task.id, "cat")


# ---------------------------------------------------------------- task lists


@pytest.fixture
def many(engine, clock):
    engine.deploy(one_task('camunda:candidateGroups="adjusters"', key="claims",
                           name="Review claim"))
    engine.deploy(one_task('camunda:candidateGroups="underwriters"', key="policies",
                           name="Check policy"))
    ids = []
    for i in range(5):
        engine.start("claims", business_key=f"C-{i}")
        clock.advance(timedelta(minutes=1))
    for i in range(3):
        engine.start("policies", business_key=f"P-{i}")
        clock.advance(timedelta(minutes=1))
    ids = [t.id for t in engine.tasks(definition_key="claims")]
    return ids


def test_task_list_views(engine, many, clock):
    engine.claim(many[0], "ann")
    engine.claim(many[1], "bob")
    mine = engine.task_list("ann", "mine")
    assert [t.id for t in mine.items] == [many[0]] and mine.total == 1
    claimable = engine.task_list("ann", "claimable")
    assert [t.id for t in claimable.items] == many[2:] and claimable.total == 3
    involved = engine.task_list("ann")
    assert {t.id for t in involved.items} == {many[0], *many[2:]}
    assert engine.task_list("cat", "claimable").total == 3          # underwriters
    with pytest.raises(Forbidden, match="supervisors only"):
        engine.task_list("ann", "all")
    assert engine.task_list("sue", "all").total == 8


def test_task_list_filters_sorting_and_pages(engine, many, clock):
    engine.claim(many[3], "ann")
    engine.set_priority(many[3], 90, by="ann")
    engine.set_due(many[3], clock() - timedelta(hours=1), by="ann")
    engine.set_due(many[4], clock() + timedelta(days=3), by="sue")
    assert [t.id for t in engine.task_list("sue", "all", overdue=True).items] == [many[3]]
    assert engine.task_list("sue", "all", priority_min=80).total == 1
    assert engine.task_list("sue", "all", process="policies").total == 3
    assert engine.task_list("sue", "all", name_like="CHECK").total == 3
    assert engine.task_list("sue", "all", business_key="C-4").items[0].id == many[4]
    before = clock() + timedelta(days=1)
    assert [t.id for t in engine.task_list("sue", "all", due_before=before).items] == [many[3]]
    assert engine.task_list("sue", "all", sort="-priority").items[0].id == many[3]
    page1 = engine.task_list("sue", "all", process="claims", page=1, page_size=2)
    page3 = engine.task_list("sue", "all", process="claims", page=3, page_size=2)
    assert [t.id for t in page1.items] == many[:2] and page1.total == 5
    assert [t.id for t in page3.items] == many[4:]
    newest = engine.task_list("sue", "all", process="claims", sort="-created", page_size=1)
    assert newest.items[0].id == many[4]


def test_task_list_refuses_bad_arguments(engine):
    with pytest.raises(EngineError, match="unknown task view"):
        engine.task_list("ann", "everything")
    with pytest.raises(EngineError, match="cannot sort"):
        engine.task_list("ann", sort="color")
    with pytest.raises(EngineError, match="page size"):
        engine.task_list("ann", page_size=1000)
    with pytest.raises(EngineError, match="page must"):
        engine.task_list("ann", page=0)


def test_overdue_is_relative_to_the_engine_clock(engine, task, clock):
    engine.set_due(task.id, clock() + timedelta(hours=2), by="sue")
    assert engine.task_list("ann", overdue=True).total == 0
    clock.advance(timedelta(hours=3))
    assert engine.task_list("ann", overdue=True).total == 1


def test_a_refused_operation_changes_nothing(engine, task):
    engine.claim(task.id, "ann")
    before = engine.task(task.id)
    hist = len(engine.history(task.instance_id))
    for error, message, op in (
            (Conflict, "is already claimed by 'ann'", lambda: engine.claim(task.id, "bob")),
            (Forbidden, "user 'bob' may not delegate task",
             lambda: engine.delegate(task.id, "cat", by="bob")),
            (Forbidden, "user 'bob' may not change the due of task",
             lambda: engine.set_due(task.id, datetime(2030, 1, 1, tzinfo=UTC), by="bob"))):
        with pytest.raises(error, match=message):
            op()
    assert engine.task(task.id) == before
    assert len(engine.history(task.instance_id)) == hist
