"""The API inside the real tasklist app (`tasklist_ui.app.create_app`): registered under
/api, exempt from the form CSRF check for token requests, JSON errors from its views."""

from __future__ import annotations

import pytest

from .diagrams import PLAIN


@pytest.fixture
def real_app(engine):
    from tasklist_ui.app import create_app

    return create_app(engine, {"SECRET_KEY": "test", "TESTING": True})


def test_token_requests_work_without_a_csrf_token(real_app, engine, tokens):
    engine.deploy(PLAIN)
    (t,) = engine.tasks(instance_id=engine.start("plain"))
    client = real_app.test_client()
    r = client.post(f"/api/tasks/{t.id}/claim",
                    headers={"Authorization": f"Bearer {tokens['ann']}"})
    assert r.status_code == 200 and r.get_json()["assignee"] == "ann"


def test_anonymous_gets_401_json_not_a_login_redirect(real_app):
    r = real_app.test_client().get("/api/tasks")
    assert r.status_code == 401 and r.get_json()["error"]["type"] == "unauthenticated"


def test_openapi_is_served(real_app):
    doc = real_app.test_client().get("/api/openapi.json").get_json()
    assert "/api/tasks/{task_id}/complete" in doc["paths"]
