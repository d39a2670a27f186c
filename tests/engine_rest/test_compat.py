"""The SpiffWorkflow migration mode through /engine-rest: `POST /deployment/create` takes
Baton's own multipart field `baton-compat`, the deployment and its definitions show the
mode (`batonCompat`), an unknown value is a Camunda-shaped 400 naming the allowed ones with
nothing deployed, and the OpenAPI document describes the field (on every store)."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask

from engine import Engine
from tests.engine_rest.conftest import Api
from tests.engine_rest.diagrams import HEAD

SPIFF = "spiffworkflow"
# camunda:collection + elementVariable without an output: SpiffWorkflow writes each
# element variable back into the collection, Camunda 7 does not
WRITE_BACK = (HEAD + """
<process id="mi" isExecutable="true">
  <startEvent id="s"/>
  <sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
  <userTask id="t">
    <multiInstanceLoopCharacteristics isSequential="true" camunda:collection="items"
        camunda:elementVariable="item"/>
  </userTask>
  <sequenceFlow id="f2" sourceRef="t" targetRef="e"/>
  <endEvent id="e"/>
</process>
</definitions>""").encode()


def deploy(api: Api, **fields: str) -> tuple[int, Any]:
    resp = api.client.post("/engine-rest/deployment/create", headers=api.headers,
                           content_type="multipart/form-data",
                           data={**fields, "data": (io.BytesIO(WRITE_BACK), "mi.bpmn")})
    return resp.status_code, resp.get_json()


def run_items(engine: Engine, definition_version: int) -> list[Any]:
    """Start version `definition_version` with two items, complete each with a new value,
    and return what `items` holds at the end."""
    iid = engine.start("mi", {"items": [1, 2]}, version=definition_version)
    for value in (10, 20):
        (task,) = engine.tasks(instance_id=iid)
        engine.complete_task(task.id, {"item": value})
    return engine.instance(iid).variables["items"]


def test_baton_compat_deploys_in_the_mode_and_the_answers_show_it(api: Api,
                                                                   engine: Engine) -> None:
    status, got = deploy(api, **{"baton-compat": SPIFF, "deployment-name": "mi"})
    assert status == 200, got
    assert got["batonCompat"] == SPIFF
    ((def_id, shown),) = got["deployedProcessDefinitions"].items()
    assert shown["batonCompat"] == SPIFF
    status, one = api.get(f"/process-definition/{def_id}")
    assert status == 200 and one["batonCompat"] == SPIFF
    assert engine.definition_by_id(def_id).compat == SPIFF
    assert run_items(engine, 1) == [10, 20]        # SpiffWorkflow's write-back


def test_without_the_field_the_reading_is_camunda_7s(api: Api, engine: Engine) -> None:
    status, got = deploy(api)
    assert status == 200, got
    assert got["batonCompat"] is None
    (shown,) = got["deployedProcessDefinitions"].values()
    assert shown["batonCompat"] is None
    status, listed = api.get("/process-definition")
    assert [d["batonCompat"] for d in listed] == [None]
    assert run_items(engine, 1) == [1, 2]
    # the same file in the mode compiles differently: a new version
    status, got = deploy(api, **{"baton-compat": SPIFF})
    (shown,) = got["deployedProcessDefinitions"].values()
    assert (shown["version"], shown["batonCompat"]) == (2, SPIFF)


def test_an_unknown_mode_is_a_400_naming_the_allowed_ones(api: Api, engine: Engine) -> None:
    for value in ("spiff", "camunda7", "SpiffWorkflow"):
        status, got = deploy(api, **{"baton-compat": value})
        assert status == 400, got
        assert set(got) == {"type", "message"} and got["type"] == "BadUserRequestException"
        assert f"compat '{value}' is not a migration mode: use 'spiffworkflow'" \
            in got["message"]
    assert engine.definitions() == []


def test_the_openapi_document_describes_the_field(app: Flask) -> None:
    doc = app.test_client().get("/engine-rest/openapi.json").get_json()
    body = doc["paths"]["/engine-rest/deployment/create"]["post"]["requestBody"]
    field = body["content"]["multipart/form-data"]["schema"]["properties"]["baton-compat"]
    assert field["enum"] == [SPIFF] and "400" in field["description"]
    schemas = doc["components"]["schemas"]
    for schema in ("Deployment", "ProcessDefinition"):
        assert schemas[schema]["properties"]["batonCompat"]["enum"] == [SPIFF, None]
