"""Fixtures for the security tests: the real tasklist app around an in-memory engine, users
in every role, and clients that log in and post forms with the page's CSRF token.

Users: alice (staff, adjusters), carol (staff, underwriters), sue (supervisor), ann
(analyst), root (admin); all with PASSWORD. Password hashing is made cheap for speed.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine import Engine
from engine.testing import ManualClock
from tasklist_ui.app import create_app
from tests.databases import STORE_KINDS

PASSWORD = "correct horse battery"
USERS: dict[str, tuple[list[str], list[str]]] = {
    "alice": (["staff"], ["adjusters"]),
    "carol": (["staff"], ["underwriters"]),
    "sue": (["supervisor"], []),
    "ann": (["analyst"], []),
    "root": (["admin"], []),
}
CSRF_INPUT = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("engine.identity.PASSWORD_METHOD", "pbkdf2:sha256:1")


@pytest.fixture(params=STORE_KINDS)
def engine(request: pytest.FixtureRequest, new_store: Callable[[str], Any]) -> Engine:
    """Every security test runs on the memory store, SQLite and PostgreSQL: who may do
    what, and what bad input leaves behind, must not depend on the database."""
    e = Engine(store=new_store(request.param), clock=ManualClock())
    for uid, (roles, groups) in USERS.items():
        e.add_user(uid, uid.title(), PASSWORD, roles, groups)
    return e


@pytest.fixture
def app(engine: Engine) -> Flask:
    return create_app(engine, {"TESTING": True, "SECRET_KEY": "security-tests"})


class Browser:
    """A test client that logs in through the login form and sends the CSRF token."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token: str | None = None

    def login(self, user: str, password: str = PASSWORD) -> Any:
        page = self.client.get("/login").get_data(as_text=True)
        token = CSRF_INPUT.search(page).group(1)
        r = self.client.post("/login", data={"username": user, "password": password,
                                             "csrf_token": token})
        if r.status_code == 302:
            self.token = CSRF_INPUT.search(self.client.get("/me").get_data(as_text=True)
                                           ).group(1)
        return r

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, **kw)

    def post(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        body = dict(data or {})
        body.setdefault("csrf_token", self.token)
        return self.client.post(url, data=body, **kw)


@pytest.fixture
def browser(app: Flask) -> Callable[[str | None], Browser]:
    """browser("alice") is logged in as alice; browser(None) is anonymous."""

    def make(user: str | None) -> Browser:
        b = Browser(app.test_client())
        if user is not None:
            r = b.login(user)
            assert r.status_code == 302, r.get_data(as_text=True)
        return b

    return make


def basic(user: str, password: str = PASSWORD) -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
