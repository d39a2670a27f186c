"""The whole tasklist app (pages, /api, /engine-rest) around a fresh engine, with one admin
("ada", who holds every role) calling every door with an API token.

Kept small on purpose: the property tests build many apps, so an engine is one in-memory
store (or one in-memory SQLite database) with two tiny processes deployed."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from engine import Engine
from engine.store import MemoryStore

PASSWORD = "correct horse battery"
USER = "ada"
HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
        'targetNamespace="http://baton.dev/inputs">\n')
WORK = HEAD + """
<process id="work" isExecutable="true">
  <startEvent id="start"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="task"/>
  <userTask id="task" name="Do the work" camunda:assignee="ada"/>
  <sequenceFlow id="f2" sourceRef="task" targetRef="end"/>
  <endEvent id="end"/>
</process>
</definitions>"""
EXTERNAL = HEAD + """
<process id="external" isExecutable="true">
  <startEvent id="start"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="pay"/>
  <serviceTask id="pay" camunda:type="external" camunda:topic="pay"/>
  <sequenceFlow id="f2" sourceRef="pay" targetRef="end"/>
  <endEvent id="end"/>
</process>
</definitions>"""


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("engine.identity.PASSWORD_METHOD", "pbkdf2:sha256:1")


def new_engine(kind: str = "memory") -> Engine:
    """An engine with ada and both processes: on the memory store or on SQLite, whose
    driver refuses what the memory store would keep (a lone surrogate, for one)."""
    if kind == "sqlite":
        from engine.store.sql import SqlStore

        store: Any = SqlStore("sqlite://")
    else:
        store = MemoryStore()
    eng = Engine(store=store)
    eng.add_user(USER, "Ada", PASSWORD, roles=["admin"])
    eng.deploy(WORK.encode(), EXTERNAL.encode())
    return eng


def new_app(eng: Engine) -> Flask:
    from tasklist_ui.app import create_app

    return create_app(eng, {"TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False})


class Client:
    """A test client that sends ada's bearer token with each request."""

    def __init__(self, app: Flask, token: str) -> None:
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {token}"}

    def open(self, method: str, path: str, **kw: Any) -> Any:
        return self.client.open(path, method=method,
                                headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def get(self, path: str, **kw: Any) -> Any:
        return self.open("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.open("POST", path, json=json, **kw)

    def put(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.open("PUT", path, json=json, **kw)

    def patch(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.open("PATCH", path, json=json, **kw)


@pytest.fixture
def engine() -> Engine:
    return new_engine()


@pytest.fixture
def app(engine: Engine) -> Flask:
    return new_app(engine)


@pytest.fixture
def client(app: Flask, engine: Engine) -> Client:
    return Client(app, engine.new_api_token(USER))
