"""Authentication and the CSRF rule of /api: bearer tokens, sessions, anonymous callers."""

from __future__ import annotations

import pytest

from .diagrams import PLAIN


@pytest.fixture
def task_id(engine):
    engine.deploy(PLAIN)
    (t,) = engine.tasks(instance_id=engine.start("plain"))
    return t.id


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/api/tasks"), ("get", "/api/me"), ("post", "/api/deployments"),
    ("post", "/api/messages"), ("get", "/api/instances"), ("get", "/api/incidents"),
    ("post", "/api/tasks/x/claim"),
])
def test_anonymous_requests_get_401_json(app, method, path):
    r = getattr(app.test_client(), method)(path)
    assert r.status_code == 401
    assert r.get_json()["error"]["type"] == "unauthenticated"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_openapi_needs_no_login(app):
    assert app.test_client().get("/api/openapi.json").status_code == 200


@pytest.mark.parametrize("header", ["Bearer nope.nope", "Bearer ", "Basic YW5uOnB3",
                                    "Bearer ann.wrong-secret"])
def test_bad_tokens_are_401(app, header):
    r = app.test_client().get("/api/me", headers={"Authorization": header})
    assert r.status_code == 401 and r.get_json()["error"]["type"] == "unauthenticated"


def test_token_identifies_the_user(as_user):
    me = as_user("sue").get("/api/me").get_json()
    assert me["id"] == "sue" and me["groups"] == ["supervisors"]
    assert me["supervisor"] is True and me["authenticatedBy"] == "token"


def test_revoked_token_stops_working(as_user, engine):
    ann = as_user("ann")
    assert ann.get("/api/me").status_code == 200
    engine.revoke_api_token("ann")
    assert ann.get("/api/me").status_code == 401


def test_a_bad_token_is_refused_even_with_a_session(app):
    client = app.test_client()
    client.post("/test-login/ann")
    assert client.get("/api/me").status_code == 200
    r = client.get("/api/me", headers={"Authorization": "Bearer ann.forged"})
    assert r.status_code == 401


def test_session_reads_work_and_writes_need_x_requested_with(app, engine, task_id):
    client = app.test_client()
    client.post("/test-login/ann")
    me = client.get("/api/me").get_json()
    assert me["id"] == "ann" and me["authenticatedBy"] == "session"
    r = client.post(f"/api/tasks/{task_id}/claim")
    assert r.status_code == 403 and r.get_json()["error"]["type"] == "csrf"
    assert engine.task(task_id).assignee is None
    r = client.post(f"/api/tasks/{task_id}/claim", headers={"X-Requested-With": "fetch"})
    assert r.status_code == 200 and engine.task(task_id).assignee == "ann"


def remove_user(engine, user_id: str) -> None:
    """Delete a user behind the engine's back (it has no delete command): as a database
    administrator would, or a directory sync removing someone."""
    if hasattr(engine.store, "engine"):             # the SQL store: its memberships cascade
        import sqlalchemy as sa

        from engine.store.schema import users

        with engine.store.engine.begin() as conn:
            conn.execute(sa.delete(users).where(users.c.id == user_id))
        return
    with engine.store.transaction() as tx:
        del tx.t["users"][user_id]


def test_session_of_a_deleted_user_is_401(app, engine):
    client = app.test_client()
    client.post("/test-login/ann")
    remove_user(engine, "ann")
    assert client.get("/api/tasks").status_code == 401


def test_roles_are_read_on_every_request(as_user, engine):
    ann = as_user("ann")
    r = ann.post("/api/signals", json={"name": "go-ahead"})
    assert r.status_code == 403
    engine.update_user("ann", roles=["staff", "analyst"])
    assert ann.post("/api/signals", json={"name": "go-ahead"}).status_code == 200
