"""Who is calling: HTTP Basic against Baton's users, or `Authorization: Bearer <api token>`.

Every engine-rest request must authenticate (Camunda ships its REST API open by default;
Baton does not). `app.config["BATON_REST_AUTH"] = False` turns the check off for a
development server on localhost; requests then act as an administrator.

What a user may do is the engine's policy table (engine/policy.py, printed in SECURITY.md):
this door only names the user on every engine call. Give worker accounts the role analyst.
- any authenticated user: the task endpoints, where the engine's task rules decide
  (claim only as a candidate, complete only one's own task; supervisors may do more).

Password hashes are slow on purpose (scrypt), and a worker calls several times a second, so
a successful login is remembered for CACHE_SECONDS: keyed by a SHA-256 of the credentials,
an entry holds the user record, so a remembered request costs neither a hash check nor a
database read. A change to the user made through this process's engine (password, roles,
groups, API token: announced as "user_changed") forgets their logins at once; one made by
another process (a second server, the command line) takes effect within CACHE_SECONDS.
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

CACHE_SECONDS = 60.0
CACHE_SIZE = 1024


_caches: weakref.WeakKeyDictionary[Any, _LoginCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


class _LoginCache:
    """Successful logins: credential digest -> (user record, expiry on the monotonic clock).

    `generation` counts user changes: a login checked while a change committed is not
    remembered, since the record it read may be the one from before the change."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[str, tuple[Any, float]] = {}
        self.generation = 0

    def get(self, key: str) -> Any:
        with self.lock:
            got = self.entries.get(key)
            if got is None:
                return None
            if got[1] < time.monotonic():
                del self.entries[key]
                return None
            return got[0]

    def add(self, key: str, user: Any, generation: int) -> None:
        with self.lock:
            if generation != self.generation:
                return
            if len(self.entries) >= CACHE_SIZE:
                now = time.monotonic()
                self.entries = {k: v for k, v in self.entries.items() if v[1] >= now}
                if len(self.entries) >= CACHE_SIZE:
                    self.entries.clear()
            self.entries[key] = (user, time.monotonic() + CACHE_SECONDS)

    def on_event(self, event: str, payload: Any = None) -> None:
        """Engine listener: forget the logins of a user that changed."""
        if event == "user_changed":
            with self.lock:
                self.generation += 1
                self.entries = {k: v for k, v in self.entries.items() if v[0].id != payload}


def _cache_for(eng: Any) -> _LoginCache:
    """The engine's login cache, created and subscribed to its listeners on first use."""
    with _caches_lock:
        cache = _caches.get(eng)
        if cache is None:
            cache = _caches[eng] = _LoginCache()
            eng.listeners.append(cache.on_event)
        return cache


def _remembered(eng: Any, credentials: tuple[str, ...], check: Any) -> Any:
    """The user `check()` finds for these credentials, remembered when found."""
    cache = _cache_for(eng)
    key = hashlib.sha256("\0".join(f"{len(part)}:{part}" for part in credentials)
                         .encode("utf-8", "surrogatepass")).hexdigest()
    user = cache.get(key)
    if user is None:
        generation = cache.generation
        user = check()
        if user is not None:
            cache.add(key, user, generation)
    return user


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
        return
    eng = engine()
    auth = request.authorization
    if auth is None:
        raise _unauthorized("authentication required: HTTP Basic with a Baton user, or "
                            "'Authorization: Bearer <API token>'")
    user = None
    if auth.type == "basic":
        name, password = auth.username or "", auth.password or ""
        user = _remembered(eng, ("basic", name, password),
                           lambda: eng.check_password(name, password))  # same cost if unknown
    elif auth.type == "bearer":
        token = auth.token or ""
        user = _remembered(eng, ("bearer", token), lambda: eng.user_for_token(token))
    else:
        raise _unauthorized(f"authentication scheme '{auth.type}' is not supported")
    if user is None:
        raise _unauthorized("wrong user name, password or API token")
    g.rest_user = user


def user_id() -> str | None:
    rec = getattr(g, "rest_user", None)
    return rec.id if rec is not None else None
