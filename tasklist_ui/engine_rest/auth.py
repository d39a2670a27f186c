"""Who is calling: HTTP Basic against Baton's users, or `Authorization: Bearer <api token>`.

Every engine-rest request must authenticate (Camunda ships its REST API open by default;
Baton does not). `app.config["BATON_REST_AUTH"] = False` turns the check off for a
development server on localhost; requests then act as an administrator.

What a user may do (roles from `engine.identity`):
- analyst (or admin): everything engine-wide - external-task workers, deployments, starting
  instances, messages, jobs, incidents, instance variables. Give worker accounts this role.
- any authenticated user: the task endpoints, where the engine's task rules decide
  (claim only as a candidate, complete only one's own task; supervisors may do more).

Password hashes are slow on purpose (scrypt), and a worker long-polls several times a
second, so a successful Basic check is remembered for a few minutes, keyed by a digest of
user, password *and the stored hash*: changing the password ends the cached login at once.
"""

from __future__ import annotations

import hashlib
import threading
import time
import weakref
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, g, request

from tasklist_ui.engine_rest.common import engine
from tasklist_ui.engine_rest.errors import RestError

CACHE_SECONDS = 300.0
CACHE_SIZE = 1024
ENGINE_ROLES = ("analyst",)

_caches: weakref.WeakKeyDictionary[Any, _LoginCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


class _LoginCache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[str, float] = {}

    def hit(self, key: str) -> bool:
        with self.lock:
            until = self.entries.get(key)
            if until is None:
                return False
            if until < time.monotonic():
                del self.entries[key]
                return False
            return True

    def add(self, key: str) -> None:
        with self.lock:
            if len(self.entries) >= CACHE_SIZE:
                now = time.monotonic()
                self.entries = {k: v for k, v in self.entries.items() if v >= now}
                if len(self.entries) >= CACHE_SIZE:
                    self.entries.clear()
            self.entries[key] = time.monotonic() + CACHE_SECONDS


def _cache_for(eng: Any) -> _LoginCache:
    with _caches_lock:
        cache = _caches.get(eng)
        if cache is None:
            cache = _caches[eng] = _LoginCache()
        return cache


def _unauthorized(message: str) -> RestError:
    return RestError(401, "AuthenticationException", message,
                     {"WWW-Authenticate": 'Basic realm="baton engine-rest"'})


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def refuse_cross_site() -> None:
    """Browsers remember HTTP Basic credentials and send them with requests *other* sites
    make (a form posting `text/plain` JSON, a `no-cors` fetch of multipart data), so a
    state-changing call is refused when the browser marks it as coming from another site.
    Workers and scripts send neither header; a page of Baton's own origin passes."""
    if request.method in _SAFE_METHODS:
        return
    fetch_site = request.headers.get("Sec-Fetch-Site")
    origin = request.headers.get("Origin")
    if fetch_site in ("cross-site", "same-site") or (
            fetch_site is None and origin is not None
            and urlsplit(origin).netloc != request.host):   # browsers without Sec-Fetch-*
        raise RestError(403, "AuthorizationException",
                        "cross-site requests to the engine-rest API are refused")


def authenticate() -> None:
    """`before_request` of the blueprint: set `g.rest_user` (a UserRecord, or None when
    authentication is off) or answer 401."""
    refuse_cross_site()
    if not current_app.config.get("BATON_REST_AUTH", True):
        g.rest_user = None
        g.rest_unrestricted = True
        return
    eng = engine()
    auth = request.authorization
    if auth is None:
        raise _unauthorized("authentication required: HTTP Basic with a Baton user, or "
                            "'Authorization: Bearer <API token>'")
    user = None
    if auth.type == "basic":
        user = _basic(eng, auth.username or "", auth.password or "")
    elif auth.type == "bearer":
        user = eng.user_for_token(auth.token or "")
    else:
        raise _unauthorized(f"authentication scheme '{auth.type}' is not supported")
    if user is None:
        raise _unauthorized("wrong user name, password or API token")
    g.rest_user = user
    from engine.identity import has_role

    g.rest_unrestricted = has_role(user, *ENGINE_ROLES)


def _basic(eng: Any, user_id: str, password: str) -> Any:
    rec = eng.get_user(user_id) if user_id else None
    cache = _cache_for(eng)
    if rec is not None:
        key = hashlib.sha256("\0".join((user_id, password, rec.password_hash))
                             .encode("utf-8")).hexdigest()
        if cache.hit(key):
            return rec
    checked = eng.check_password(user_id, password)   # same cost for unknown users
    if checked is not None and rec is not None:
        cache.add(key)
    return checked


def user_id() -> str | None:
    rec = getattr(g, "rest_user", None)
    return rec.id if rec is not None else None


def unrestricted() -> bool:
    """True for analysts and admins (and when authentication is off)."""
    return bool(getattr(g, "rest_unrestricted", False))


def require_engine_role() -> None:
    if not unrestricted():
        raise RestError(403, "AuthorizationException",
                        f"user '{user_id()}' may not use this endpoint: it needs the "
                        f"role {' or '.join(ENGINE_ROLES)} (or admin)")
