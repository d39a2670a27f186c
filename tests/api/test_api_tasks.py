"""The task endpoints of /api through the Flask test client, with bearer tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest

from .diagrams import CLAIM, PLAIN


@pytest.fixture
def claim_task(engine):
    engine.deploy(CLAIM)
    iid = engine.start("claim", {"amount": 120, "customer": "Acme"}, business_key="C-1")
    (t,) = engine.tasks(instance_id=iid)
    return t


def error_of(resp):
    body = resp.get_json()
    assert set(body) == {"error"}, body
    return body["error"]


# ---------------------------------------------------------------- lists


def test_task_list_views_and_paging(as_user, engine, claim_task, clock):
    ann = as_user("ann")
    r = ann.get("/api/tasks")
    assert r.status_code == 200
    body = r.get_json()
    assert body["total"] == 1 and body["page"] == 1 and body["pageSize"] == 25
    item = body["items"][0]
    assert item["id"] == claim_task.id and item["candidateGroups"] == ["adjusters"]
    assert item["businessKey"] == "C-1" and item["overdue"] is False
    assert as_user("cat").get("/api/tasks").get_json()["total"] == 0
    assert ann.get("/api/tasks?view=mine").get_json()["total"] == 0
    assert ann.get("/api/tasks?view=claimable&process=claim").get_json()["total"] == 1
    assert ann.get("/api/tasks?name=nothing").get_json()["total"] == 0
    r = ann.get("/api/tasks?view=all")
    assert r.status_code == 403 and error_of(r)["type"] == "forbidden"
    assert as_user("sue").get("/api/tasks?view=all").get_json()["total"] == 1


def test_task_list_filters_overdue_and_due_before(as_user, engine, claim_task, clock):
    engine.set_due(claim_task.id, clock() + timedelta(hours=1), by="sue")
    sue = as_user("sue")
    assert sue.get("/api/tasks?view=all&overdue=true").get_json()["total"] == 0
    clock.advance(timedelta(hours=2))
    body = sue.get("/api/tasks?view=all&overdue=true").get_json()
    assert body["total"] == 1 and body["items"][0]["overdue"] is True
    assert sue.get("/api/tasks?view=all&dueBefore=2025-01-01T00:00:00Z").get_json()[
        "total"] == 0
    assert sue.get("/api/tasks?view=all&priorityMin=60").get_json()["total"] == 0


@pytest.mark.parametrize(("query", "fragment"), [
    ("view=everything", "unknown task view"), ("sort=colour", "cannot sort"),
    ("pageSize=1000", "'pageSize' must be from 1 to 200"), ("page=x", "whole number"),
    ("overdue=perhaps", "true or false"), ("dueBefore=tomorrow", "ISO 8601"),
])
def test_task_list_bad_queries_are_400(as_user, query, fragment):
    r = as_user("ann").get(f"/api/tasks?{query}")
    assert r.status_code == 400
    assert fragment in error_of(r)["message"]


# ---------------------------------------------------------------- detail


def test_task_detail_has_form_variables_comments_and_actions(as_user, engine, claim_task):
    engine.comment(claim_task.id, "bob", "looks fine")
    r = as_user("ann").get(f"/api/tasks/{claim_task.id}")
    assert r.status_code == 200
    d = r.get_json()
    assert d["variables"] == {"amount": 120, "customer": "Acme"}
    amount = d["form"]["fields"][0]
    assert (amount["id"], amount["type"], amount["required"], amount["value"]) == (
        "amount", "long", True, 120)
    assert [c["text"] for c in d["comments"]] == ["looks fine"]
    assert d["actions"] == {"claim": True, "unclaim": False, "complete": True,
                            "delegate": False, "comment": True}
    form = as_user("ann").get(f"/api/tasks/{claim_task.id}/form").get_json()
    assert [f["id"] for f in form["fields"]] == ["amount", "approved"]


def test_task_detail_is_forbidden_to_the_uninvolved_and_404_when_unknown(as_user, claim_task):
    r = as_user("cat").get(f"/api/tasks/{claim_task.id}")
    assert r.status_code == 403 and error_of(r)["type"] == "forbidden"
    r = as_user("ann").get("/api/tasks/nope")
    assert r.status_code == 404 and error_of(r)["type"] == "not_found"


# ---------------------------------------------------------------- operations


def test_claim_unclaim_and_conflicts(as_user, engine, claim_task):
    path = f"/api/tasks/{claim_task.id}"
    r = as_user("ann").post(path + "/claim")
    assert r.status_code == 200 and r.get_json()["assignee"] == "ann"
    r = as_user("bob").post(path + "/claim")
    assert r.status_code == 409 and error_of(r)["type"] == "conflict"
    r = as_user("bob").post(path + "/unclaim")
    assert r.status_code == 403
    r = as_user("ann").post(path + "/unclaim")
    assert r.status_code == 200 and r.get_json()["assignee"] is None


def test_staff_cannot_claim_outside_their_groups(as_user, engine, claim_task):
    r = as_user("cat").post(f"/api/tasks/{claim_task.id}/claim")
    assert r.status_code == 403 and "not a candidate" in error_of(r)["message"]
    assert engine.task(claim_task.id).assignee is None


def test_delegate_resolve_and_assign(as_user, engine, claim_task):
    path = f"/api/tasks/{claim_task.id}"
    as_user("ann").post(path + "/claim")
    r = as_user("ann").post(path + "/delegate", json={"user": "cat"})
    assert r.status_code == 200 and r.get_json()["assignee"] == "cat"
    assert r.get_json()["owner"] == "ann" and r.get_json()["delegation"] == "pending"
    assert as_user("cat").post(path + "/resolve").get_json()["assignee"] == "ann"
    r = as_user("ann").post(path + "/delegate", json={})
    assert r.status_code == 400 and "'user' is required" in error_of(r)["message"]
    r = as_user("bob").post(path + "/assign", json={"group": "underwriters"})
    assert r.status_code == 403
    r = as_user("sue").post(path + "/assign", json={"group": "underwriters"})
    assert r.status_code == 200
    assert r.get_json()["candidateGroups"] == ["underwriters"]
    assert r.get_json()["assignee"] is None
    r = as_user("sue").post(path + "/assign", json={"user": "ghost"})
    assert r.status_code == 404


def test_patch_priority_and_due(as_user, engine, claim_task):
    path = f"/api/tasks/{claim_task.id}"
    as_user("ann").post(path + "/claim")
    r = as_user("ann").patch(path, json={"priority": 75, "due": "2026-02-01T12:00:00Z"})
    assert r.status_code == 200
    assert r.get_json()["priority"] == 75 and r.get_json()["due"] == "2026-02-01T12:00:00+00:00"
    r = as_user("ann").patch(path, json={"due": None})
    assert r.get_json()["due"] is None
    for body, fragment in [({"priority": "high"}, "whole number"),
                           ({"priority": 500}, "0 to 100"),
                           ({"owner": "x"}, "cannot change owner"), ({}, "nothing to change"),
                           ({"due": "soon"}, "ISO 8601")]:
        r = as_user("ann").patch(path, json=body)
        assert r.status_code == 400 and fragment in error_of(r)["message"], body
    assert as_user("bob").patch(path, json={"priority": 1}).status_code == 403
    assert engine.task(claim_task.id).priority == 75


def test_complete_with_an_invalid_form_lists_field_errors(as_user, engine, claim_task):
    path = f"/api/tasks/{claim_task.id}"
    as_user("ann").post(path + "/claim")
    r = as_user("ann").post(path + "/complete", json={"form": {"amount": "12a"}})
    assert r.status_code == 400
    err = error_of(r)
    assert err["type"] == "form_invalid" and err["fields"] == {"amount": "must be a whole number"}
    r = as_user("ann").post(path + "/complete", json={"variables": {"amount": 0}})
    assert r.status_code == 400 and error_of(r)["fields"] == {"amount": "must be at least 1"}
    assert engine.instance(claim_task.instance_id).waiting == ["review"]

    r = as_user("ann").post(path + "/complete", json={"form": {"amount": "300",
                                                             "approved": "true",
                                                             "role": "admin"}})
    assert r.status_code == 200
    assert r.get_json()["variables"] == {"amount": 300, "approved": True}
    inst = engine.instance(claim_task.instance_id)
    assert inst.waiting == ["wait_docs"] and "role" not in inst.variables


def test_staff_cannot_complete_another_users_task(as_user, engine, claim_task):
    path = f"/api/tasks/{claim_task.id}"
    as_user("ann").post(path + "/claim")
    r = as_user("bob").post(path + "/complete", json={"form": {"amount": "5"}})
    assert r.status_code == 403
    assert engine.instance(claim_task.instance_id).waiting == ["review"]


def test_complete_a_task_without_form_takes_variables(as_user, engine):
    engine.deploy(PLAIN)
    iid = engine.start("plain")
    (t,) = engine.tasks(instance_id=iid)
    r = as_user("bob").post(f"/api/tasks/{t.id}/complete",
                            json={"variables": {"ok": True, "n": [1, 2]}})
    assert r.status_code == 200
    assert engine.instance(iid).variables == {"ok": True, "n": [1, 2]}
    r = as_user("bob").post(f"/api/tasks/{t.id}/complete", json={})
    assert r.status_code == 404


def test_complete_refuses_bad_variable_names_and_bodies(as_user, engine):
    engine.deploy(PLAIN)
    (t,) = engine.tasks(instance_id=engine.start("plain"))
    path = f"/api/tasks/{t.id}/complete"
    r = as_user("bob").post(path, json={"variables": {"_secret": 1}})
    assert r.status_code == 400 and "variable name '_secret'" in error_of(r)["message"]
    r = as_user("bob").post(path, json={"variables": [1]})
    assert r.status_code == 400 and "must be an object, not an array" in error_of(r)["message"]
    r = as_user("bob").post(path, json={"form": {}, "variables": {}})
    assert r.status_code == 400 and "not both" in error_of(r)["message"]
    r = as_user("bob").client.post(path, data="{not json", headers={
        **as_user("bob").headers, "Content-Type": "application/json"})
    assert r.status_code == 400 and "not valid JSON" in error_of(r)["message"]
    r = as_user("bob").client.post(path, data="x=1", headers={
        **as_user("bob").headers, "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400 and "Content-Type: application/json" in error_of(r)["message"]
    r = as_user("bob").client.post(path, data="[" * 100_000, headers={
        **as_user("bob").headers, "Content-Type": "application/json"})
    assert r.status_code == 400
    r = as_user("bob").post(path, json=["a"])
    assert r.status_code == 400 and "must be an object" in error_of(r)["message"]
    assert engine.tasks(instance_id=t.instance_id)[0].id == t.id


def test_comments(as_user, engine, claim_task):
    path = f"/api/tasks/{claim_task.id}/comments"
    r = as_user("ann").post(path, json={"text": "Asked for photos"})
    assert r.status_code == 201
    c = r.get_json()
    assert c["author"] == "ann" and c["text"] == "Asked for photos" and c["time"]
    assert [x["text"] for x in as_user("sue").get(path).get_json()] == ["Asked for photos"]
    assert as_user("cat").post(path, json={"text": "hi"}).status_code == 403
    assert as_user("cat").get(path).status_code == 403
    r = as_user("ann").post(path, json={"text": "x" * 5000})
    assert r.status_code == 400 and "at most 4000" in error_of(r)["message"]
    r = as_user("ann").post(path, json={"text": 5})
    assert r.status_code == 400 and "must be a string" in error_of(r)["message"]
    history = [h.type for h in engine.history(claim_task.instance_id)]
    assert history.count("task_commented") == 1
