"""Validation warnings through every door: the Python API, /api, /engine-rest and the upload
page return them without blocking the deployment, and `strict` refuses them on each door
(with the rule and severity of every problem)."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import pytest
from flask import Flask

from engine import Engine
from tasklist_ui.app import create_app

PASSWORD = "correct horse battery"
# a receive task without messageRef: Baton runs it (it waits for an API trigger), and warns
WARNED = b"""<?xml version="1.0"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
<process id="waiting" isExecutable="true">
<startEvent id="s"/><receiveTask id="r"/><endEvent id="e"/>
<sequenceFlow id="f1" sourceRef="s" targetRef="r"/><sequenceFlow id="f2" sourceRef="r" targetRef="e"/>
</process></definitions>
"""
RULE = "[receive-task-message]"


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("engine.identity.PASSWORD_METHOD", "pbkdf2:sha256:1")


@pytest.fixture
def engine() -> Engine:
    e = Engine()
    e.add_user("ana", "Ana", PASSWORD, ["analyst"], [])
    return e


@pytest.fixture
def app(engine: Engine) -> Flask:
    return create_app(engine, {"TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False})


def _basic() -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"ana:{PASSWORD}".encode()).decode()}


def test_api_deployment_returns_warnings_and_strict_refuses(app: Flask, engine: Engine) -> None:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {engine.new_api_token('ana')}",
               "Content-Type": "application/xml"}
    refused = client.post("/api/deployments?strict=true", data=WARNED, headers=headers)
    assert refused.status_code == 400, refused.get_data(as_text=True)
    [problem] = refused.get_json()["error"]["problems"]
    assert (problem["elementId"], problem["rule"], problem["severity"]) == (
        "r", "receive-task-message", "warning")
    assert engine.definitions() == []
    done = client.post("/api/deployments", data=WARNED, headers=headers)
    assert done.status_code == 201
    [warning] = done.get_json()["warnings"]
    assert "receiveTask 'r' (line 4)" in warning and warning.endswith(RULE)


def test_engine_rest_deployment_returns_baton_warnings(app: Flask, engine: Engine) -> None:
    client = app.test_client()

    def create(query: str = "") -> Any:
        return client.post(f"/engine-rest/deployment/create{query}", headers=_basic(),
                           data={"deployment-name": "w",
                                 "data": (io.BytesIO(WARNED), "waiting.bpmn")},
                           content_type="multipart/form-data")

    refused = create("?strict=true")
    assert refused.status_code == 400 and RULE in refused.get_json()["message"]
    done = create()
    assert done.status_code == 200, done.get_data(as_text=True)
    [warning] = done.get_json()["batonWarnings"]
    assert warning.startswith("waiting.bpmn: receiveTask 'r' (line 4)") and warning.endswith(RULE)


def test_upload_page_flashes_warnings_and_strict_lists_them(app: Flask,
                                                            engine: Engine) -> None:
    client = app.test_client()
    assert client.post("/login", data={"username": "ana", "password": PASSWORD}
                       ).status_code == 302

    def upload(query: str = "") -> Any:
        return client.post(f"/processes/upload{query}", content_type="multipart/form-data",
                           data={"diagram": (io.BytesIO(WARNED), "waiting.bpmn")},
                           follow_redirects=True)

    refused = upload("?strict=true")
    assert refused.status_code == 422
    assert "the receive task names no message" in refused.get_data(as_text=True)
    page = upload().get_data(as_text=True)
    assert re.search(r'class="flash warn">Warning: waiting.bpmn: receiveTask \'r\' '
                     r"\(line 4\): the receive task names no message", page.replace("&#39;", "'"))
