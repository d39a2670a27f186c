"""The SpiffWorkflow migration mode through /api: a deployment asks for it (form field or
?compat=), the definitions show it, a wrong value is refused naming the allowed ones, and
instances run with SpiffWorkflow's multi-instance data rules (on every store)."""

from __future__ import annotations

import io
from pathlib import Path

SPIFF = "spiffworkflow"
# camunda:collection + elementVariable, no output: SpiffWorkflow writes each element back
WRITE_BACK = (Path(__file__).parents[1] / "fixtures" / "mi_write_back.bpmn").read_text()


def _upload(api, **form):
    return api.client.post("/api/deployments", headers=api.headers,
                           content_type="multipart/form-data",
                           data={**form, "file": (io.BytesIO(WRITE_BACK.encode()), "mi.bpmn")})


def test_a_form_field_deploys_in_the_mode_and_the_definition_shows_it(as_user, engine):
    ana = as_user("ana")
    r = _upload(ana, compat=SPIFF)
    assert r.status_code == 201, r.get_json()
    (d,) = r.get_json()["definitions"]
    assert d["compat"] == SPIFF
    assert ana.get(f"/api/definitions/{d['id']}").get_json()["compat"] == SPIFF
    assert [x["compat"] for x in ana.get("/api/definitions").get_json()] == [SPIFF]
    # instances run with SpiffWorkflow's rule: each item goes back into the collection
    r = ana.post("/api/processes/mi/start", json={"variables": {"items": [1, 2]}})
    iid = r.get_json()["id"]
    for value in (10, 20):
        (task,) = engine.tasks(instance_id=iid)
        engine.complete_task(task.id, {"item": value})
    assert engine.instance(iid).variables == {"items": [10, 20]}


def test_the_query_parameter_works_for_a_raw_body_and_the_default_is_none(as_user):
    ana = as_user("ana")
    headers = {**ana.headers, "Content-Type": "application/xml"}
    r = ana.client.post("/api/deployments?compat=spiffworkflow", data=WRITE_BACK,
                        headers=headers)
    assert r.status_code == 201 and r.get_json()["definitions"][0]["compat"] == SPIFF
    # the same file without the mode compiles differently: a new version
    r = ana.client.post("/api/deployments", data=WRITE_BACK, headers=headers)
    (d,) = r.get_json()["definitions"]
    assert (d["version"], d["new"], d["compat"]) == (2, True, None)


def test_an_unknown_mode_is_refused_naming_the_allowed_ones(as_user, engine):
    ana = as_user("ana")
    for r in (_upload(ana, compat="spiff"),
              ana.client.post("/api/deployments?compat=camunda7", data=WRITE_BACK,
                              headers={**ana.headers, "Content-Type": "application/xml"})):
        assert r.status_code == 400, r.get_json()
        message = r.get_json()["error"]["message"]
        assert "is not a migration mode: use 'spiffworkflow'" in message, message
    assert engine.definitions() == []
