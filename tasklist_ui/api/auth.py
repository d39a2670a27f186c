"""Who is calling the API, and what they may do.

Authentication, in this order:
1. `Authorization: Bearer <token>`: the token's user (a wrong or revoked token is 401 even
   if a session cookie is also sent, so a script never acts as whoever is logged in);
2. the tasklist's login session (Flask-Login `current_user`);
otherwise 401 with a JSON error. The user's record (roles, groups) is read from the engine
on every request, so a changed role counts at once.

CSRF: the API blueprint is exempt from the form CSRF check (it takes JSON, not forms), and
instead every state-changing request (POST, PUT, PATCH, DELETE) authenticated by the
session cookie must carry an `X-Requested-With` header (any value). Browsers do not let a
page on another site add custom headers to a cross-site request without a CORS preflight,
which Baton never grants, so a forged request cannot carry it; bearer-token requests need
nothing more because a browser never adds the token on its own.

Roles: staff work tasks (the engine checks candidates and assignees); analysts deploy,
start instances, send messages and signals; analysts and supervisors inspect instances and
incidents; admins do everything, including retrying incidents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, g, request
from flask_login import current_user

from engine.identity import has_role, is_supervisor
from engine.store.records import UserRecord
from tasklist_ui.api import bp
from tasklist_ui.api.errors import ApiError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_ENDPOINTS = frozenset({"api.openapi_document"})


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller of this request."""

    record: UserRecord
    via: str                      # "token" | "session"

    @property
    def id(self) -> str:
        return self.record.id

    def has_role(self, *roles: str) -> bool:
        return has_role(self.record, *roles)

    @property
    def is_supervisor(self) -> bool:
        return is_supervisor(self.record)


def engine() -> Any:
    """The app's engine: `extensions["baton"]` is the Engine or an object holding it."""
    ext = current_app.extensions["baton"]
    return getattr(ext, "engine", ext)


def unauthenticated(message: str) -> ApiError:
    return ApiError(401, "unauthenticated", message)


@bp.before_request
def _authenticate() -> None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthenticated("the Authorization header must be 'Bearer <token>'")
        record = engine().user_for_token(token.strip())
        if record is None:
            raise unauthenticated("the API token is wrong or has been revoked")
        g.api_caller = Caller(record, "token")
        return
    if current_user and current_user.is_authenticated:
        record = engine().get_user(str(current_user.id))
        if record is None:
            raise unauthenticated("your user no longer exists; log in again")
        if request.method not in SAFE_METHODS and not request.headers.get("X-Requested-With"):
            raise ApiError(403, "csrf", "a request authenticated by the session cookie must "
                                        "send an X-Requested-With header (or use a bearer token)")
        g.api_caller = Caller(record, "session")
        return
    raise unauthenticated("log in, or send 'Authorization: Bearer <token>'")


def caller() -> Caller:
    return g.api_caller
