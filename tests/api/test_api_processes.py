"""Deploying diagrams, listing definitions and starting instances through /api."""

from __future__ import annotations

import io

from .diagrams import BROKEN, CLAIM, PLAIN


def test_analyst_deploys_a_file_upload(as_user, engine):
    r = as_user("ana").client.post(
        "/api/deployments", headers=as_user("ana").headers,
        data={"name": "claims", "file": (io.BytesIO(CLAIM.encode()), "claim.bpmn")},
        content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    (d,) = r.get_json()["definitions"]
    assert (d["key"], d["version"], d["new"]) == ("claim", 1, True)
    assert [x.key for x in engine.definitions()] == ["claim"]


def test_several_files_under_one_field_deploy_together(as_user, engine):
    ana = as_user("ana")
    r = ana.client.post(
        "/api/deployments", headers=ana.headers, content_type="multipart/form-data",
        data={"file": [(io.BytesIO(CLAIM.encode()), "claim.bpmn"),
                       (io.BytesIO(PLAIN.encode()), "plain.bpmn")]})
    assert r.status_code == 201
    assert sorted(d["key"] for d in r.get_json()["definitions"]) == ["claim", "plain"]


def test_deploy_raw_xml_body_and_redeploy_unchanged(as_user, engine):
    ana = as_user("ana")
    headers = {**ana.headers, "Content-Type": "application/xml"}
    r = ana.client.post("/api/deployments", data=PLAIN, headers=headers)
    assert r.status_code == 201
    r = ana.client.post("/api/deployments", data=PLAIN, headers=headers)
    assert r.get_json()["definitions"][0]["new"] is False
    assert len(engine.definitions("plain")) == 1


def test_broken_diagram_lists_problems_and_deploys_nothing(as_user, engine):
    ana = as_user("ana")
    r = ana.client.post(
        "/api/deployments", headers=ana.headers, content_type="multipart/form-data",
        data={"a": (io.BytesIO(PLAIN.encode()), "plain.bpmn"),
              "b": (io.BytesIO(BROKEN.encode()), "broken.bpmn")})
    assert r.status_code == 400
    err = r.get_json()["error"]
    assert err["type"] == "invalid_bpmn" and err["problems"]
    assert any(p["elementId"] == "f1" and p["line"] for p in err["problems"]), err
    assert engine.definitions() == []


def test_deploy_refuses_other_bodies(as_user):
    ana = as_user("ana")
    r = ana.post("/api/deployments", json={"xml": PLAIN})
    assert r.status_code == 400 and "multipart/form-data" in r.get_json()["error"]["message"]
    r = ana.client.post("/api/deployments", data=b"", headers={
        **ana.headers, "Content-Type": "application/xml"})
    assert r.status_code == 400
    r = ana.client.post("/api/deployments", data=b"<definitions", headers={
        **ana.headers, "Content-Type": "application/xml"})
    assert r.status_code == 400 and r.get_json()["error"]["type"] == "invalid_bpmn"


def test_staff_cannot_upload_diagrams(as_user, engine):
    ann = as_user("ann")
    r = ann.client.post("/api/deployments", data=PLAIN, headers={
        **ann.headers, "Content-Type": "application/xml"})
    assert r.status_code == 403 and "analyst" in r.get_json()["error"]["message"]
    assert engine.definitions() == []


def test_admin_may_deploy_too(as_user):
    ada = as_user("ada")
    r = ada.client.post("/api/deployments", data=PLAIN, headers={
        **ada.headers, "Content-Type": "application/xml"})
    assert r.status_code == 201


def test_definitions_and_xml(as_user, engine):
    (d,) = engine.deploy(CLAIM)
    ann = as_user("ann")
    listed = ann.get("/api/definitions").get_json()
    assert [x["id"] for x in listed] == [d.id]
    assert ann.get("/api/definitions?key=other").get_json() == []
    assert ann.get(f"/api/definitions/{d.id}").get_json()["key"] == "claim"
    r = ann.get(f"/api/definitions/{d.id}/xml")
    assert r.mimetype == "application/xml" and b"Review claim" in r.data
    assert ann.get("/api/definitions/nope").status_code == 404


def test_analyst_starts_an_instance(as_user, engine):
    engine.deploy(CLAIM)
    r = as_user("ana").post("/api/processes/claim/start",
                            json={"variables": {"amount": 5}, "businessKey": "C-9"})
    assert r.status_code == 201
    inst = r.get_json()
    assert inst["status"] == "running" and inst["waitingAt"] == ["review"]
    assert inst["variables"] == {"amount": 5} and inst["businessKey"] == "C-9"
    assert engine.instance(inst["id"]).business_key == "C-9"


def test_start_errors(as_user, engine):
    engine.deploy(CLAIM)
    r = as_user("ana").post("/api/processes/none/start")
    assert r.status_code == 404
    r = as_user("ana").post("/api/processes/claim/start", json={"version": "1"})
    assert r.status_code == 400 and "'version' must be a whole number" in r.get_json()[
        "error"]["message"]
    r = as_user("ana").post("/api/processes/claim/start", json={"variables": {"1x": 1}})
    assert r.status_code == 400
    assert engine.instances() == []
    # staff start processes (as through the web's start forms): the policy's one answer
    assert as_user("ann").post("/api/processes/claim/start").status_code == 201
