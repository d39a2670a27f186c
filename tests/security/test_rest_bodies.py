"""Hostile request bodies get a 400 naming the problem - never a 500, never a stored value
the database cannot hold - and uploads or form keys cannot name files or templates."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from flask import Flask

from engine import Engine
from engine.store import open_store
from engine.testing import ManualClock
from tasklist_ui.app import create_app
from tasklist_ui.form_render import form_template_name, resolve_form_template
from tests.security.conftest import PASSWORD, USERS, basic, bearer
from tests.security.diagrams import user_task_process

DEEP = "[" * 5000 + "]" * 5000


@pytest.fixture
def sql_app(tmp_path: Path) -> tuple[Flask, Engine]:
    """The app on SQLite: the store encodes variables as strict JSON, as in production."""
    engine = Engine(store=open_store(f"sqlite:///{tmp_path / 'b.db'}"), clock=ManualClock())
    for uid, (roles, groups) in USERS.items():
        engine.add_user(uid, uid.title(), PASSWORD, roles, groups)
    engine.deploy(user_task_process().encode())
    app = create_app(engine, {"TESTING": True, "SECRET_KEY": "x"})
    yield app, engine
    engine.store.close()


@pytest.mark.parametrize("variables", [
    '{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}', '{"a": 1e400}',
    '{"a": "\\ud800"}', '{"a": ' + "9" * 5000 + "}", '{"a": ' + DEEP + "}",
    '{"__class__": 1}',
])
def test_api_refuses_values_nothing_could_store(sql_app, variables: str) -> None:
    app, engine = sql_app
    token = engine.new_api_token("ann")
    r = app.test_client().post("/api/processes/plain/start",
                               data=f'{{"variables": {variables}}}',
                               headers={**bearer(token), "Content-Type": "application/json"})
    assert r.status_code == 400, r.get_data(as_text=True)
    assert r.get_json()["error"]["message"]
    assert engine.instances() == []


@pytest.mark.parametrize("body", [
    '{"variables": {"a": {"value": "NaN", "type": "Double"}}}',
    '{"variables": {"a": {"value": "1e400", "type": "Double"}}}',
    '{"variables": {"a": {"value": NaN}}}',
    '{"variables": {"a": {"value": "' + DEEP + '", "type": "Json"}}}',
    '{"variables": {"a": {"value": "' + "9" * 5000 + '", "type": "Long"}}}',
    '{"variables": {"a": {"value": "rO0ABXQAA2FiYw==", "type": "Object", "valueInfo": '
    '{"serializationDataFormat": "application/x-java-serialized-object", '
    '"objectTypeName": "java.lang.String"}}}}',
    '{"variables": {"a": {"value": "2026-13-45T99:00:00", "type": "Date"}}}',
    '{"variables": {"a": {"value": "x", "type": "File"}}}',
    '{"variables": {"a": {"value": "\\udfff"}}}',
    DEEP,
])
def test_engine_rest_refuses_unreadable_variables(sql_app, body: str) -> None:
    app, engine = sql_app
    r = app.test_client().post("/engine-rest/process-definition/key/plain/start", data=body,
                               headers={**basic("ann"), "Content-Type": "application/json"})
    assert r.status_code == 400, r.get_data(as_text=True)
    assert r.get_json()["type"] == "InvalidRequestException"
    assert engine.instances() == []


def test_numbers_out_of_range_are_a_bad_request(app: Flask, engine: Engine) -> None:
    engine.deploy(user_task_process().encode())
    token = engine.new_api_token("ann")
    r = app.test_client().post("/api/processes/plain/start",
                               json={"version": 10 ** 30}, headers=bearer(token))
    assert r.status_code == 400


def test_bodies_over_the_size_limit_are_refused(app: Flask, engine: Engine) -> None:
    token = engine.new_api_token("ann")
    r = app.test_client().post("/api/processes/plain/start", data=b"{" + b" " * (6 << 20),
                               headers={**bearer(token), "Content-Type": "application/json"})
    assert r.status_code == 413


@pytest.mark.parametrize("name", ["a\x00b.bpmn", "x" * 300 + ".bpmn",
                                  "../../../tmp/evil.bpmn", "..\\..\\evil.bpmn"])
def test_deployment_file_names_are_only_names(app: Flask, engine: Engine, name: str) -> None:
    r = app.test_client().post(
        "/engine-rest/deployment/create", headers=basic("ann"),
        data={"upload": (io.BytesIO(user_task_process().encode()), name)},
        content_type="multipart/form-data")
    assert r.status_code == 200, r.get_data(as_text=True)
    (definition,) = engine.definitions("plain")
    resource = definition.resource or ""
    assert "/" not in resource and "\\" not in resource and "\x00" not in resource
    assert len(resource) <= 200
    assert not Path("/tmp/evil.bpmn").exists()


@pytest.mark.parametrize("form_key", [
    "../base.html", "forms/../base.html", "embedded:app:forms/../../etc/passwd",
    "/etc/passwd", "app:forms/..%2fbase.html", "forms/x.html/../../base.html",
    "embedded:deployment:../login.html", "forms\\..\\base.html", "{{ config }}",
    "forms/supervisor_review.html\x00.txt", "base.html", "login.html",
])
def test_form_keys_name_only_templates_under_forms(app: Flask, form_key: str) -> None:
    name = form_template_name(form_key)
    assert name is None or (name.startswith("forms/") and ".." not in name)
    assert resolve_form_template(app.jinja_env, form_key) is None


def test_a_form_key_template_renders_and_a_template_like_label_stays_text(
        app: Flask, engine: Engine, browser) -> None:
    """The one known form renders; text that looks like Jinja2 is never evaluated."""
    assert resolve_form_template(app.jinja_env, "embedded:app:forms/supervisor_review.html")
    engine.deploy(user_task_process(form_key="{{ config.SECRET_KEY }}").encode())
    engine.start("plain", {"remarks": "{{ config.SECRET_KEY }} {% raw %}"})
    (task,) = engine.tasks()
    page = browser("alice").get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "security-tests" not in page              # the app's SECRET_KEY
    assert "{{ config.SECRET_KEY }}" in page


def test_errors_do_not_show_stack_traces(app: Flask, engine: Engine, browser,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected failure is a plain 500 page or JSON error, without the exception."""
    def broken(*args, **kwargs):
        raise RuntimeError("/work/main/engine/secret_internal_detail.py line 42")

    monkeypatch.setattr(engine, "task_list", broken)
    monkeypatch.setattr(engine, "tasks", broken)
    app.config["TESTING"] = False          # real error handling, as in production
    page = browser("alice").get("/tasks")
    api = app.test_client().get("/api/tasks", headers=bearer(engine.new_api_token("alice")))
    rest = app.test_client().get("/engine-rest/task", headers=basic("alice"))
    for r in (page, api, rest):
        text = r.get_data(as_text=True)
        assert r.status_code == 500
        assert "secret_internal_detail" not in text and "Traceback" not in text
    assert json.loads(api.get_data())["error"]
