"""Who a new task is for: diagram attributes, lanes mapped to groups."""

from __future__ import annotations

import pytest

from .diagrams import in_lane, one_task


@pytest.mark.parametrize(("lane", "group"), [
    ("adjusters", "adjusters"), ("Adjusters", "adjusters"),
    ("Claims Adjusters", "claims-adjusters"), ("Unknown Team", "Unknown Team"),
])
def test_a_lane_maps_to_the_group_it_names(engine, lane, group):
    engine.add_group("claims-adjusters", "Claims adjusters")
    engine.deploy(in_lane(lane))
    (t,) = engine.tasks(instance_id=engine.start("lanes"))
    assert t.lane == lane and t.candidate_groups == [group]


def test_a_lane_matches_a_group_display_name(engine):
    engine.add_group("grp-7", "Night Shift")
    engine.deploy(in_lane("night shift"))
    (t,) = engine.tasks(instance_id=engine.start("lanes"))
    assert t.candidate_groups == ["grp-7"]


def test_explicit_candidates_win_over_the_lane(engine):
    engine.deploy(one_task('camunda:candidateUsers="cat" camunda:candidateGroups="${team}"'))
    (t,) = engine.tasks(instance_id=engine.start("p", {"team": "underwriters, adjusters"}))
    assert t.candidate_users == ["cat"]
    assert t.candidate_groups == ["underwriters", "adjusters"]
    assert engine.task_list("bob", "claimable").total == 1


def test_priority_and_due_date_from_the_diagram(engine, clock):
    from datetime import timedelta

    engine.deploy(one_task('camunda:candidateGroups="adjusters" camunda:priority="${p}" '
                           'camunda:dueDate="P2D"'))
    (t,) = engine.tasks(instance_id=engine.start("p", {"p": 70}))
    assert t.priority == 70 and t.due == clock() + timedelta(days=2)
