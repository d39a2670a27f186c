"""A tiny Flask app around the API blueprint: Flask-Login with a session user loader and a
test-only login route, the engine in `app.extensions["baton"]`, and the users of
tests/tasks (ann, bob adjusters; cat underwriter; sue supervisor; ada admin; ana analyst).
Each user has an API token in `tokens`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask_login import LoginManager, UserMixin, login_user

from engine.service import Engine
from engine.testing import ManualClock
from tasklist_ui.api import bp
from tests.databases import STORE_KINDS

PASSWORD = "correct horse"
USERS = {
    "ann": (["staff"], ["adjusters"]), "bob": (["staff"], ["adjusters"]),
    "cat": (["staff"], ["underwriters"]), "sue": (["staff"], ["supervisors"]),
    "ada": (["admin"], []), "ana": (["analyst"], []),
}


class SessionUser(UserMixin):
    def __init__(self, record: Any) -> None:
        self.id = record.id
        self.groups = list(record.groups)
        self.roles = set(record.roles)


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("engine.identity.PASSWORD_METHOD", "pbkdf2:sha256:1")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(params=STORE_KINDS)
def engine(request: pytest.FixtureRequest, clock: ManualClock,
           new_store: Callable[[str], Any]) -> Engine:
    """Every API test runs on the memory store, SQLite and PostgreSQL: the answers are
    the same whichever database the commands lock and write."""
    e = Engine(store=new_store(request.param), clock=clock)
    for uid, (roles, groups) in USERS.items():
        e.add_user(uid, uid.title(), PASSWORD, roles, groups)
    return e


@pytest.fixture
def tokens(engine: Engine) -> dict[str, str]:
    return {uid: engine.new_api_token(uid) for uid in USERS}


@pytest.fixture
def app(engine: Engine) -> Flask:
    app = Flask("baton-api-test")
    app.config.update(SECRET_KEY="test", TESTING=True)
    app.extensions["baton"] = engine
    manager = LoginManager(app)

    @manager.user_loader
    def load(user_id: str) -> SessionUser | None:
        rec = engine.get_user(user_id)
        return SessionUser(rec) if rec else None

    @app.post("/test-login/<user_id>")
    def test_login(user_id: str) -> str:
        login_user(SessionUser(engine.user(user_id)))
        return "ok"

    app.register_blueprint(bp)
    return app


class Api:
    """A test client speaking as one user with a bearer token."""

    def __init__(self, client: Any, token: str | None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.headers, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.client.post(path, json=json, headers=self.headers, **kw)

    def patch(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.client.patch(path, json=json, headers=self.headers, **kw)


@pytest.fixture
def as_user(app: Flask, tokens: dict[str, str]):
    def make(uid: str | None) -> Api:
        return Api(app.test_client(), tokens[uid] if uid else None)
    return make
