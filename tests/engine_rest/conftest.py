"""A tiny app around the engine-rest blueprint, a test client with credentials, and a real
threaded HTTP server for clients that speak HTTP (the camunda client, long polling)."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

import engine.identity as identity
from engine import Engine
from engine.testing import ManualClock
from tasklist_ui.engine_rest import bp
from tests.databases import STORE_KINDS

WORKER = ("worker", "worker-password")        # role admin: may use every endpoint
CLERK = ("clerk", "clerk-password")           # role staff, group clerks
OTHER = ("other", "other-password")           # role staff, group clerks


def create_app(eng: Engine, auth: bool = True) -> Flask:
    app = Flask(__name__)
    app.config["BATON_REST_AUTH"] = auth
    app.config["BATON_REST_POLL_INTERVAL"] = 0.05
    app.extensions["baton"] = SimpleNamespace(engine=eng)
    app.register_blueprint(bp)
    return app


def basic(user: tuple[str, str]) -> dict[str, str]:
    token = base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(identity, "PASSWORD_METHOD", "pbkdf2:sha256:1000")


@pytest.fixture(params=STORE_KINDS)
def engine(request: pytest.FixtureRequest, new_store: Callable[[str], Any]) -> Engine:
    """Every /engine-rest test runs on the memory store, SQLite and PostgreSQL (the long
    polls and the client's threads too)."""
    eng = Engine(store=new_store(request.param))
    eng.add_user(WORKER[0], "Worker", WORKER[1], roles=["admin"])
    eng.add_user(CLERK[0], "Clerk", CLERK[1], roles=["staff"], groups=["clerks"])
    eng.add_user(OTHER[0], "Other", OTHER[1], roles=["staff"], groups=["clerks"])
    return eng


@pytest.fixture(params=STORE_KINDS)
def manual_engine(request: pytest.FixtureRequest, new_store: Callable[[str], Any]) -> Engine:
    eng = Engine(store=new_store(request.param), clock=ManualClock())
    eng.add_user(WORKER[0], "Worker", WORKER[1], roles=["admin"])
    return eng


class Api:
    """A Flask test client that sends JSON and credentials and returns (status, json)."""

    def __init__(self, app: Flask, user: tuple[str, str] | None = WORKER) -> None:
        self.client = app.test_client()
        self.headers = basic(user) if user else {}

    def as_(self, user: tuple[str, str] | None) -> Api:
        other = Api.__new__(Api)
        other.client = self.client
        other.headers = basic(user) if user else {}
        return other

    def call(self, method: str, path: str, json: Any = None, **kw: Any) -> tuple[int, Any]:
        resp = self.client.open("/engine-rest" + path, method=method, json=json,
                                headers={**self.headers, **kw.pop("headers", {})}, **kw)
        data = resp.get_json(silent=True) if resp.data else None
        return resp.status_code, data

    def get(self, path: str, **kw: Any) -> tuple[int, Any]:
        return self.call("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> tuple[int, Any]:
        return self.call("POST", path, json, **kw)

    def put(self, path: str, json: Any = None, **kw: Any) -> tuple[int, Any]:
        return self.call("PUT", path, json, **kw)

    def delete(self, path: str, **kw: Any) -> tuple[int, Any]:
        return self.call("DELETE", path, **kw)


@pytest.fixture
def app(engine: Engine) -> Flask:
    return create_app(engine)


@pytest.fixture
def api(app: Flask) -> Api:
    return Api(app)


class LiveServer:
    def __init__(self, app: Flask) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/engine-rest"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def live(app: Flask) -> Iterator[LiveServer]:
    srv = LiveServer(app).start()
    try:
        yield srv
    finally:
        srv.stop()
