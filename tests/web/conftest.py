"""Fixtures for the web tests: an engine on a SQLite file with the demo data and a manual
clock, the tasklist app around it, and logged-in test clients.

Loading the demo data hashes five passwords (slow on purpose), so it is done once per
session into a template database that each test copies.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from connectors.registry import Registry
from engine import Engine
from engine.store import MemoryStore, open_store
from engine.testing import ManualClock
from tasklist_ui.app import create_app
from tasklist_ui.demo import DEMO_PASSWORD, load_demo, register_demo_connectors
from tests.databases import SQL_KINDS

CSRF_INPUT = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def demo_registry() -> Registry:
    registry = Registry()
    register_demo_connectors(registry)
    return registry


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "demo.db"
    engine = Engine(store=open_store(f"sqlite:///{path}"), clock=ManualClock(),
                    connectors=demo_registry())
    load_demo(engine)
    engine.store.close()
    return path


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="session")
def memory_template() -> MemoryStore:
    engine = Engine(clock=ManualClock(), connectors=demo_registry())
    load_demo(engine)
    return engine.store


@pytest.fixture(params=SQL_KINDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock,
           new_store: Callable[[str], Any]) -> Iterator[Engine]:
    """The demo data on SQLite (a copy of the session's template) and on PostgreSQL and
    MariaDB (loaded into the emptied schema or database, with cheap password hashes:
    loading costs ~0.3 s then). $BATON_WEB_TEST_STORE=memory runs the SQLite cases on the
    in-memory store instead."""
    if request.param in ("postgres", "mariadb"):
        e = Engine(store=new_store(request.param), clock=clock, connectors=demo_registry())
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("engine.identity.PASSWORD_METHOD", "pbkdf2:sha256:1")
            load_demo(e)
        yield e
        return
    if os.environ.get("BATON_WEB_TEST_STORE") == "memory":
        template = request.getfixturevalue("memory_template")
        store = MemoryStore()
        for name, value in vars(template).items():
            if name != "lock":
                setattr(store, name, copy.deepcopy(value))
        yield Engine(store=store, clock=clock, connectors=demo_registry())
        return
    demo_template = request.getfixturevalue("demo_template")
    path = tmp_path / "baton.db"
    shutil.copy(demo_template, path)
    e = Engine(store=open_store(f"sqlite:///{path}"), clock=clock, connectors=demo_registry())
    yield e
    e.store.close()


@pytest.fixture
def app(engine: Engine) -> Flask:
    return create_app(engine, {"TESTING": True, "SECRET_KEY": "test-secret"})


class Browser:
    """A Flask test client that logs in and posts forms with the page's CSRF token, as a
    browser would."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token: str | None = None

    def login(self, user: str, password: str = DEMO_PASSWORD) -> None:
        page = self.client.get("/login").get_data(as_text=True)
        token = CSRF_INPUT.search(page).group(1)
        r = self.client.post("/login", data={"username": user, "password": password,
                                             "csrf_token": token})
        assert r.status_code == 302, r.get_data(as_text=True)
        self.token = CSRF_INPUT.search(self.client.get("/me").get_data(as_text=True)).group(1)

    def get(self, url: str, **kw):  # noqa: ANN201 - a werkzeug TestResponse
        return self.client.get(url, **kw)

    def post(self, url: str, data: dict | None = None, **kw):  # noqa: ANN201
        body = dict(data or {})
        body.setdefault("csrf_token", self.token)
        return self.client.post(url, data=body, **kw)


@pytest.fixture
def visitor(app: Flask) -> Browser:
    """A client that has not logged in."""
    return Browser(app.test_client())


@pytest.fixture
def as_user(app: Flask):  # noqa: ANN201 - a factory
    def make(user: str) -> Browser:
        b = Browser(app.test_client())
        b.login(user)
        return b

    return make
