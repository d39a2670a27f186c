"""Instances, history, incidents, messages and signals through /api, and who may use them."""

from __future__ import annotations

import pytest

from .diagrams import CLAIM, FAILING, PLAIN


@pytest.fixture
def incident(engine):
    engine.deploy(FAILING)
    engine.start("failing")
    (ext,) = engine.fetch_and_lock("w1", {"broken-service": 60})
    engine.fail_external(ext.id, "service down", retries=0, worker_id="w1")
    (inc,) = engine.incidents()
    return inc


def test_instances_for_inspectors_only(as_user, engine):
    engine.deploy(CLAIM)
    iid = engine.start("claim", {"amount": 1}, business_key="C-1")
    engine.start("claim", business_key="C-2")
    body = as_user("ana").get("/api/instances?key=claim&pageSize=1").get_json()
    assert body["total"] == 2 and len(body["items"]) == 1
    assert as_user("sue").get("/api/instances?businessKey=C-1").get_json()["items"][0][
        "id"] == iid
    assert as_user("ann").get("/api/instances").status_code == 403
    assert as_user("ann").get(f"/api/instances/{iid}").status_code == 403
    r = as_user("ana").get("/api/instances?status=sleeping")
    assert r.status_code == 400


def test_instance_detail_and_history(as_user, engine):
    engine.deploy(CLAIM)
    iid = engine.start("claim", {"amount": 1})
    (t,) = engine.tasks(instance_id=iid)
    engine.claim(t.id, "ann")
    engine.comment(t.id, "ann", "on it")
    d = as_user("ana").get(f"/api/instances/{iid}").get_json()
    assert d["variables"] == {"amount": 1} and d["waitingAt"] == ["review"]
    assert [x["id"] for x in d["tasks"]] == [t.id]
    assert [c["text"] for c in d["comments"]] == ["on it"]
    hist = as_user("ana").get(f"/api/instances/{iid}/history").get_json()
    types = [h["type"] for h in hist]
    assert types[0] == "process_started"
    assert "task_claimed" in types and "task_commented" in types
    claimed = next(h for h in hist if h["type"] == "task_claimed")
    assert claimed["user"] == "ann" and claimed["detail"]["task_id"] == t.id
    assert as_user("ana").get("/api/instances/nope").status_code == 404
    assert as_user("ana").get("/api/instances/nope/history").status_code == 404


def test_cancel_is_for_admins(as_user, engine):
    engine.deploy(CLAIM)
    iid = engine.start("claim")
    assert as_user("ana").post(f"/api/instances/{iid}/cancel").status_code == 403
    r = as_user("ada").post(f"/api/instances/{iid}/cancel", json={"reason": "duplicate"})
    assert r.status_code == 200 and r.get_json()["status"] == "terminated"
    assert engine.tasks(instance_id=iid) == []


def test_incidents_listed_for_inspectors(as_user, incident):
    listed = as_user("ana").get("/api/incidents").get_json()
    assert [i["id"] for i in listed] == [incident.id]
    assert listed[0]["message"] == "service down"
    assert as_user("ann").get("/api/incidents").status_code == 403


def test_analyst_cannot_retry_incidents_but_admin_can(as_user, engine, incident):
    r = as_user("ana").post(f"/api/incidents/{incident.id}/retry")
    assert r.status_code == 403 and "role admin" in r.get_json()["error"]["message"]
    assert engine.incidents() != []
    r = as_user("ada").post(f"/api/incidents/{incident.id}/retry", json={"retries": 2})
    assert r.status_code == 200
    assert engine.incidents() == []
    assert engine.external_tasks("broken-service")[0].retries == 2
    assert as_user("ada").get("/api/incidents?all=true").get_json()[0]["resolved"]
    assert as_user("ada").post(f"/api/incidents/{incident.id}/retry").status_code == 404
    r = as_user("ada").post("/api/incidents/x/retry", json={"retries": 99})
    assert r.status_code == 400


def test_messages_move_a_waiting_instance(as_user, engine):
    engine.deploy(CLAIM)
    iid = engine.start("claim", business_key="C-5")
    (t,) = engine.tasks(instance_id=iid)
    engine.submit_form(t.id, "ann", {"amount": "10"})
    assert engine.instance(iid).waiting == ["wait_docs"]
    r = as_user("ann").post("/api/messages", json={"name": "documents-received"})
    assert r.status_code == 403
    r = as_user("ana").post("/api/messages", json={"name": "documents-received",
                                                   "businessKey": "C-5",
                                                   "variables": {"pages": 3}})
    assert r.status_code == 200 and r.get_json() == {"instances": [iid]}
    inst = engine.instance(iid)
    assert inst.status == "completed" and inst.variables["pages"] == 3
    r = as_user("ana").post("/api/messages", json={"name": "documents-received"})
    assert r.status_code == 400
    assert r.get_json()["error"]["type"] == "message_not_correlated"
    r = as_user("ana").post("/api/messages", json={"businessKey": "C-5"})
    assert r.status_code == 400 and "'name' is required" in r.get_json()["error"]["message"]


def test_signals_reach_waiting_instances(as_user, engine):
    engine.deploy(PLAIN)
    iid = engine.start("plain")
    (t,) = engine.tasks(instance_id=iid)
    engine.complete_task(t.id, {}, user="ann")
    r = as_user("ana").post("/api/signals", json={"name": "go-ahead"})
    assert r.status_code == 200 and r.get_json() == {"instances": [iid]}
    assert engine.instance(iid).status == "completed"
    r = as_user("ana").post("/api/signals", json={"name": "go-ahead", "variables": "x"})
    assert r.status_code == 400


def test_modify_moves_a_token_admin_only(as_user, engine):
    engine.deploy(PLAIN)
    iid = engine.start("plain")
    (t,) = engine.tasks(instance_id=iid)
    before = t.activity_id
    body = {"instructions": [{"type": "cancel", "activityId": before},
                             {"type": "start_before", "activityId": before}],
            "reason": "reset by ops"}
    assert as_user("ana").post(f"/api/instances/{iid}/modify", json=body).status_code == 403
    r = as_user("ada").post(f"/api/instances/{iid}/modify", json=body)
    assert r.status_code == 200, r.get_json()
    (t2,) = engine.tasks(instance_id=iid)
    assert t2.activity_id == before and t2.id != t.id
    kinds = [h.type for h in engine.history(iid)]
    assert "instance_modified" in kinds
    bad = as_user("ada").post(f"/api/instances/{iid}/modify",
                              json={"instructions": [{"type": "teleport", "activityId": "x"}]})
    assert bad.status_code == 400 and "type" in bad.get_json()["error"]["message"]
    unknown = as_user("ada").post(f"/api/instances/{iid}/modify", json={
        "instructions": [{"type": "start_before", "activityId": "nowhere"}]})
    assert unknown.status_code == 400 and "nowhere" in unknown.get_json()["error"]["message"]
