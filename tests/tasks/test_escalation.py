"""Timeouts and escalation on user tasks, driven by a manual clock and run_due_jobs:
boundary timers, camunda:taskListener event="timeout", and baton:escalation policies."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.errors import Forbidden

from .diagrams import one_task, review_with_boundary

HOUR = timedelta(hours=1)


def history(engine, iid, kind):
    return [h for h in engine.history(iid) if h.type == kind]


# ---------------------------------------------------------------- boundary timers


def test_review_task_times_out_after_48_hours_and_a_supervisor_task_appears(engine, clock):
    engine.deploy(review_with_boundary("PT48H"))
    iid = engine.start("review")
    (review,) = engine.tasks(instance_id=iid)
    clock.advance(47 * HOUR)
    assert engine.run_due_jobs() == 0
    assert [t.activity_id for t in engine.tasks(instance_id=iid)] == ["review_task"]

    clock.advance(HOUR)
    assert engine.run_due_jobs() == 1
    (supervise,) = engine.tasks(instance_id=iid)
    assert supervise.activity_id == "supervise"
    assert supervise.candidate_groups == ["supervisors"]

    # visible to the supervisors group only
    assert [t.id for t in engine.task_list("sue", "claimable").items] == [supervise.id]
    assert engine.task_list("ann", "claimable").total == 0
    assert engine.task_list("ann").total == 0
    with pytest.raises(Forbidden, match="user 'ann' is not a candidate .* it is for groups "
                                        "supervisors"):
        engine.claim(supervise.id, "ann")
    with pytest.raises(Forbidden, match="user 'ann' is not involved in task"):
        engine.task_for(supervise.id, "ann")
    engine.claim(supervise.id, "sue")
    engine.complete_task(supervise.id, {}, user="sue")
    inst = engine.instance(iid)
    assert inst.status == "completed"
    ended = [h.activity_id for h in engine.history(iid) if h.type == "activity_completed"]
    assert "escalated_end" in ended and "done" not in ended


def test_review_completed_in_time_cancels_the_timer(engine, clock):
    engine.deploy(review_with_boundary("PT48H"))
    iid = engine.start("review")
    (review,) = engine.tasks(instance_id=iid)
    engine.claim(review.id, "ann")
    clock.advance(10 * HOUR)
    engine.complete_task(review.id, {}, user="ann")
    clock.advance(100 * HOUR)
    assert engine.run_due_jobs() == 0
    assert engine.instance(iid).status == "completed"
    assert engine.tasks() == []


def test_non_interrupting_reminder_keeps_the_review_task(engine, clock):
    engine.deploy(review_with_boundary("PT24H", interrupting=False))
    iid = engine.start("review")
    (review,) = engine.tasks(instance_id=iid)
    engine.claim(review.id, "ann")
    clock.advance(25 * HOUR)
    engine.run_due_jobs()
    tasks = {t.activity_id: t for t in engine.tasks(instance_id=iid)}
    assert set(tasks) == {"review_task", "supervise"}
    assert tasks["review_task"].assignee == "ann"       # the claim survives
    engine.complete_task(review.id, {}, user="ann")
    assert engine.instance(iid).status == "running"    # the supervisor task is still open


# ---------------------------------------------------------------- timeout listeners

TIMEOUT = """<camunda:taskListener event="timeout" id="remind">
  <timerEventDefinition><timeDuration>PT2H</timeDuration></timerEventDefinition>
</camunda:taskListener>"""
TIMEOUT_CYCLE = """<camunda:taskListener event="timeout" id="nag">
  <timerEventDefinition><timeCycle>R3/PT1H</timeCycle></timerEventDefinition>
</camunda:taskListener>"""


def test_timeout_listener_marks_the_task_and_records_history(engine, clock):
    engine.deploy(one_task(extensions=TIMEOUT))
    iid = engine.start("p")
    clock.advance(HOUR)
    assert engine.run_due_jobs() == 0
    clock.advance(HOUR)
    assert engine.run_due_jobs() == 1
    (t,) = engine.tasks(instance_id=iid)
    assert t.escalated == 1 and t.note == "timed out (listener remind)"
    (ev,) = history(engine, iid, "task_timeout")
    assert ev.detail["listener"] == "remind" and ev.time == clock()
    clock.advance(10 * HOUR)
    assert engine.run_due_jobs() == 0                 # a duration fires once


def test_timeout_cycle_fires_on_its_cycle_while_the_task_is_open(engine, clock):
    engine.deploy(one_task(extensions=TIMEOUT_CYCLE))
    iid = engine.start("p")
    for _ in range(5):
        clock.advance(HOUR)
        engine.run_due_jobs()
    assert len(history(engine, iid, "task_timeout")) == 3
    assert engine.tasks(instance_id=iid)[0].escalated == 3


def test_timeout_of_a_completed_task_does_nothing(engine, clock):
    engine.deploy(one_task(extensions=TIMEOUT))
    iid = engine.start("p")
    (t,) = engine.tasks(instance_id=iid)
    engine.complete_task(t.id, {}, user="ann")
    clock.advance(3 * HOUR)
    engine.run_due_jobs()
    assert history(engine, iid, "task_timeout") == []
    assert engine.jobs(instance_id=iid) == []


# ---------------------------------------------------------------- escalation policies


def policy(**attrs):
    text = " ".join(f'{k}="{v}"' for k, v in attrs.items())
    return f"<baton:escalation {text}/>"


def start_with(engine, *policies, attrs='camunda:candidateGroups="adjusters"'):
    engine.deploy(one_task(attrs, "".join(policies)))
    iid = engine.start("p")
    (t,) = engine.tasks(instance_id=iid)
    return iid, t


def test_unclaimed_task_gets_more_groups_and_priority(engine, clock):
    iid, t = start_with(engine, policy(after="PT4H", when="unclaimed",
                                       addGroups="underwriters", priority="80"))
    assert engine.task_list("cat", "claimable").total == 0
    clock.advance(4 * HOUR)
    assert engine.run_due_jobs() == 1
    got = engine.task(t.id)
    assert got.candidate_groups == ["adjusters", "underwriters"] and got.priority == 80
    assert got.escalated == 1
    assert got.note == "escalated: added groups underwriters; priority raised to 80"
    assert engine.task_list("cat", "claimable").total == 1
    (ev,) = history(engine, iid, "task_escalated")
    assert ev.detail["changes"] == ["added groups underwriters", "priority raised to 80"]


def test_claimed_task_is_not_escalated_as_unclaimed(engine, clock):
    iid, t = start_with(engine, policy(after="PT4H", when="unclaimed", priority="80"))
    engine.claim(t.id, "ann")
    clock.advance(5 * HOUR)
    engine.run_due_jobs()
    assert engine.task(t.id).escalated == 0 and engine.task(t.id).priority == 50
    assert history(engine, iid, "task_escalated") == []


def test_reassign_to_user_goes_to_their_deputy_when_away(engine, clock):
    engine.set_deputy("sue", "ada")
    iid, t = start_with(engine, policy(after="PT1H", reassignUser="sue"))
    clock.advance(HOUR)
    engine.run_due_jobs()
    got = engine.task(t.id)
    assert got.assignee == "ada"
    assert "reassigned to ada" in got.note and "deputy of sue" in got.note


def test_reassign_to_group_replaces_the_candidates(engine, clock):
    iid, t = start_with(engine, policy(after="PT1H", reassignGroup="supervisors"),
                        attrs='camunda:candidateUsers="bob" camunda:candidateGroups="adjusters"')
    clock.advance(HOUR)
    engine.run_due_jobs()
    got = engine.task(t.id)
    assert (got.assignee, got.candidate_users, got.candidate_groups) == (
        None, [], ["supervisors"])
    assert engine.task_list("bob", "claimable").total == 0


def test_overdue_policy_waits_for_the_due_date(engine, clock):
    iid, t = start_with(engine, policy(after="PT1H", when="overdue", priority="90"),
                        attrs='camunda:candidateGroups="adjusters" camunda:dueDate="PT8H"')
    clock.advance(2 * HOUR)
    engine.run_due_jobs()
    assert engine.task(t.id).escalated == 0              # not overdue yet: check moved
    clock.advance(6 * HOUR)
    assert engine.run_due_jobs() == 1
    assert engine.task(t.id).priority == 90
    assert len(history(engine, iid, "task_escalated")) == 1


def test_moving_the_due_date_moves_the_overdue_check(engine, clock):
    iid, t = start_with(engine, policy(after="PT1H", when="overdue", priority="90"),
                        attrs='camunda:candidateGroups="adjusters" camunda:dueDate="PT8H"')
    engine.set_due(t.id, clock() + 24 * HOUR, by="sue")
    clock.advance(9 * HOUR)
    engine.run_due_jobs()
    assert engine.task(t.id).escalated == 0
    clock.advance(16 * HOUR)
    engine.run_due_jobs()
    assert engine.task(t.id).escalated == 1


def test_a_task_without_due_date_gets_an_overdue_check_once_it_has_one(engine, clock):
    iid, t = start_with(engine, policy(after="PT1H", when="overdue", priority="90"))
    clock.advance(2 * HOUR)
    engine.run_due_jobs()                                # no due date: nothing to do
    engine.set_due(t.id, clock() + HOUR, by="sue")
    clock.advance(2 * HOUR)
    engine.run_due_jobs()
    assert engine.task(t.id).priority == 90
    engine.set_due(t.id, clock() + HOUR, by="sue")       # already escalated: not again
    clock.advance(2 * HOUR)
    engine.run_due_jobs()
    assert engine.task(t.id).escalated == 1


def test_priority_escalation_never_lowers_the_priority(engine, clock):
    iid, t = start_with(engine, policy(after="PT1H", priority="30"))
    clock.advance(HOUR)
    engine.run_due_jobs()
    got = engine.task(t.id)
    assert got.priority == 50 and got.note == "escalated: nothing left to change"


def test_jobs_of_a_task_go_when_a_boundary_timer_cancels_it(engine, clock):
    xml = review_with_boundary("PT2H").replace(
        '<userTask id="review_task" name="Review claim" camunda:candidateGroups="adjusters"/>',
        '<userTask id="review_task" name="Review claim" camunda:candidateGroups="adjusters">'
        '<extensionElements>' + policy(after="PT4H", priority="90") + TIMEOUT.replace(
            "PT2H", "PT3H") + '</extensionElements></userTask>')
    engine.deploy(xml)
    iid = engine.start("review")
    assert {j.kind for j in engine.jobs(instance_id=iid)} == {"timer", "timeout", "escalation"}
    clock.advance(2 * HOUR)
    engine.run_due_jobs()
    assert [j.kind for j in engine.jobs(instance_id=iid)] == []
    clock.advance(5 * HOUR)
    engine.run_due_jobs()
    (supervise,) = engine.tasks(instance_id=iid)
    assert supervise.escalated == 0 and supervise.activity_id == "supervise"
    assert history(engine, iid, "task_escalated") == history(engine, iid, "task_timeout") == []


def test_cancelling_the_instance_removes_task_jobs(engine, clock):
    iid, t = start_with(engine, policy(after="PT1H", priority="90"))
    engine.cancel(iid)
    assert engine.jobs(instance_id=iid) == []
    assert engine.tasks(instance_id=iid) == []
