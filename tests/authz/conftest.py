"""The world each cell of the authorization suite runs in: a fresh engine with one user of
every kind, the tasklist app pointed at it, and a client per door speaking as that user.

Why the app is shared and the engine is not: building the Flask app costs about 65 ms
(blueprints, Jinja, CSRF), and the suite builds a world for every cell and door (hundreds).
The app keeps nothing of an engine but `extensions["baton"]` (and a menu cache, dropped
here), so pointing it at the next fresh engine gives each door run a clean store while the
routes, error handlers and authentication are the real ones.
"""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine import Engine
from engine.store.sql import SqlStore
from engine.testing import ManualClock
from tasklist_ui.app import BatonExtension, create_app
from tasklist_ui.auth import WebUser

PASSWORD = "correct horse battery"
# The kinds of user every policy row is asked about, and the user who is that kind.
KINDS: dict[str, str] = {
    "staff candidate": "alice",          # staff, in the group the tasks are for
    "staff non-candidate": "carol",      # staff, in another group
    "analyst": "ann",
    "supervisor": "sue",
    "admin": "root",
    "unknown user": "ghost",             # not in the directory: only the Python API can name it
}
UNKNOWN = "ghost"
# (roles, groups) of the directory; dave is no kind of his own: he holds, delegates and
# receives tasks in the setups.
DIRECTORY: dict[str, tuple[list[str], list[str]]] = {
    "alice": (["staff"], ["adjusters"]),
    "carol": (["staff"], ["underwriters"]),
    "ann": (["analyst"], []),
    "sue": (["supervisor"], []),
    "root": (["admin"], []),
    "dave": (["staff"], ["adjusters"]),
}


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("engine.identity.PASSWORD_METHOD", "pbkdf2:sha256:1")


@pytest.fixture(scope="session")
def door_app() -> Flask:
    """The real tasklist app (pages, /api, /engine-rest). CSRF is off: the suite asks who
    may act, tests/security checks the tokens."""
    return create_app(Engine(), {"TESTING": True, "SECRET_KEY": "authz-suite",
                                 "WTF_CSRF_ENABLED": False})


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database holding the directory; each world copies it (migrating
    costs 250 ms, adding the users 20 ms: a copy costs a few)."""
    path = tmp_path_factory.mktemp("authz-sqlite") / "template.db"
    store = SqlStore(f"sqlite:///{path}")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("engine.identity.PASSWORD_METHOD", "pbkdf2:sha256:1")
        add_directory(Engine(store=store))
    store.close()
    return path


@dataclass
class World:
    """One fresh engine with the directory, the ids a setup made, and (for the HTTP doors)
    the shared app pointed at the engine."""

    engine: Engine
    ids: dict[str, str] = field(default_factory=dict)
    app: Flask | None = None

    def client(self, door: str, user: str) -> tuple[FlaskClient, dict[str, str]]:
        """A client of `door` authenticated as `user`, and the headers it must send."""
        assert self.app is not None
        client = self.app.test_client()
        if door == "api":
            return client, {"Authorization": f"Bearer {self.engine.new_api_token(user)}"}
        if door == "engine-rest":
            raw = base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()
            return client, {"Authorization": f"Basic {raw}"}
        assert door == "web"
        with client.session_transaction() as session:    # as the login form leaves it
            session["_user_id"] = WebUser(self.engine.user(user)).get_id()
            session["_fresh"] = True
        return client, {}


def add_directory(engine: Engine) -> None:
    for uid, (roles, groups) in DIRECTORY.items():
        engine.add_user(uid, uid.title(), PASSWORD, roles, groups)


def new_world(store: Any = None, app: Flask | None = None) -> World:
    """A fresh engine on `store` (a new memory store when None; a SQL store copied from
    the template already holds the directory)."""
    engine = Engine(store=store, clock=ManualClock())
    if store is None:
        add_directory(engine)
    if app is not None:
        app.extensions["baton"] = BatonExtension(engine)
        app.extensions.pop("baton_process_choices", None)
    return World(engine, app=app)


@pytest.fixture
def sqlite_stores(sqlite_template: Path, tmp_path: Path) -> Iterator[Any]:
    """Makes stores on copies of the template; closes them after the test."""
    opened: list[SqlStore] = []

    def make() -> SqlStore:
        path = tmp_path / f"world-{len(opened)}.db"
        shutil.copy(sqlite_template, path)
        # the copy has the template's schema: no migration check per world
        store = SqlStore(f"sqlite:///{path}", auto_upgrade=False, verify_schema=False)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def state_of(engine: Engine) -> str:
    """Everything a command could change, read as the trusted caller: two equal states
    mean nothing happened."""
    instances = sorted(engine.instances(), key=lambda v: v.id)
    parts: list[Any] = [
        instances,
        sorted(engine.tasks(), key=lambda t: t.id),
        [(v.id, engine.history(v.id), engine.comments(instance_id=v.id)) for v in instances],
        sorted(engine.definitions() + engine.decisions(), key=lambda d: d.id),
        sorted(engine.external_tasks(), key=lambda t: t.id),
        sorted(engine.jobs(), key=lambda j: j.id),
        sorted(engine.incidents(open_only=False), key=lambda i: i.id),
        sorted(engine.users(), key=lambda u: u.id),
    ]
    return repr(parts)
