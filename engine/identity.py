"""Users, groups, roles, deputies and API tokens: who may work in Baton.

Kept in the engine's store (not in the web app) because the task rules need them: a task's
candidate groups are matched against a user's groups, supervisors may take over any task,
and a user who is away hands new tasks to a deputy. `Engine` inherits `IdentityMixin`.

Roles (a user may hold several):
- staff: works tasks (claim, complete, comment) in their groups;
- analyst: deploys diagrams, starts instances, sends messages and signals, inspects instances;
- supervisor: sees and re-routes every open task (also: membership of group "supervisors");
- admin: everything, including retrying incidents.

Passwords are stored as werkzeug (scrypt/pbkdf2) hashes. An API token is shown once, as
"<user id>.<secret>"; only a SHA-256 of the secret is kept, so a leaked database does not
leak working tokens, and the user id in front lets a request find its user in one lookup.
Every change to a user is announced to the engine's listeners as ("user_changed", user id).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from werkzeug.security import check_password_hash, generate_password_hash

from engine.store.records import UserRecord

if TYPE_CHECKING:
    from engine.service import _Command

ROLES = frozenset({"staff", "analyst", "supervisor", "admin"})
SUPERVISOR_ROLES = frozenset({"supervisor", "admin"})
SUPERVISOR_GROUP = "supervisors"
# werkzeug's default (scrypt): slow on purpose. Tests set a cheap method to stay fast.
PASSWORD_METHOD = "scrypt"
MIN_PASSWORD = 8
MAX_PASSWORD = 256
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
# A hash to compare against when the user does not exist, so a login attempt for an
# unknown name costs as much time as one for a known name (no user enumeration by timing).
_DUMMY_HASH = generate_password_hash("baton-no-such-user")


def is_supervisor(user: UserRecord | None) -> bool:
    """Supervisors may see, claim and re-route every task: role supervisor or admin, or
    membership of the group "supervisors"."""
    if user is None:
        return False
    return bool(SUPERVISOR_ROLES & set(user.roles)) or SUPERVISOR_GROUP in user.groups


def has_role(user: UserRecord | None, *roles: str) -> bool:
    """True if the user holds one of `roles`; admin holds every role."""
    if user is None:
        return False
    held = set(user.roles)
    return "admin" in held or bool(held & set(roles))


def check_name(kind: str, name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        from engine.errors import EngineError

        raise EngineError(f"{kind} id {name!r} is not allowed: use 1-64 letters, digits, "
                          "'_', '.', '@' or '-', starting with a letter or digit")
    return name


def _check_roles(roles: Iterable[str]) -> list[str]:
    from engine.errors import EngineError

    out = []
    for role in roles:
        if role not in ROLES:
            raise EngineError(f"unknown role {role!r}: roles are {', '.join(sorted(ROLES))}")
        if role not in out:
            out.append(role)
    return out


def _check_password(password: Any) -> str:
    from engine.errors import EngineError

    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise EngineError(f"a password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


def _hash(password: Any) -> str:
    return generate_password_hash(_check_password(password), method=PASSWORD_METHOD)


def _token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _require_user(c: _Command, user_id: str) -> UserRecord:
    from engine.errors import NotFound

    rec = c.tx.get_user(user_id) if isinstance(user_id, str) else None
    if rec is None:
        raise NotFound(f"user '{user_id}' not found")
    return rec


def _save(c: _Command, rec: UserRecord) -> None:
    """Store a changed user and tell the engine's listeners ("user_changed", user id) once
    the change commits, so whoever remembers a login (engine-rest's credential cache)
    forgets it at once."""
    c.tx.update_user(rec)
    c.notifications.append(("user_changed", rec.id))


class IdentityMixin:
    """User and group administration on the Engine facade (each call one transaction)."""

    store: Any
    _execute: Callable[..., Any]      # provided by Engine

    # ------------------------------------------------------------------ users
    def add_user(self, user_id: str, name: str | None, password: str,
                 roles: Iterable[str] = ("staff",), groups: Iterable[str] = (),
                 email: str | None = None) -> UserRecord:
        """Create a user; groups that do not exist yet are created too."""
        from engine.errors import Conflict

        check_name("user", user_id)
        role_list = _check_roles(roles)
        group_list = [check_name("group", g) for g in dict.fromkeys(groups)]
        pw_hash = _hash(password)

        def cmd(c: _Command) -> UserRecord:
            if c.tx.get_user(user_id) is not None:
                raise Conflict(f"user '{user_id}' already exists")
            known = c.tx.groups()
            for g in group_list:
                if g not in known:
                    c.tx.add_group(g, g)
            rec = UserRecord(user_id, (name or user_id).strip() or user_id, pw_hash,
                             role_list, group_list, email)
            c.tx.add_user(rec)
            return rec

        return self._execute(cmd)

    def update_user(self, user_id: str, *, name: str | None = None,
                    password: str | None = None, roles: Iterable[str] | None = None,
                    groups: Iterable[str] | None = None,
                    email: str | None = None) -> UserRecord:
        """Change the given fields of a user (None leaves a field as it is)."""
        role_list = _check_roles(roles) if roles is not None else None
        group_list = ([check_name("group", g) for g in dict.fromkeys(groups)]
                      if groups is not None else None)
        pw_hash = _hash(password) if password else None

        def cmd(c: _Command) -> UserRecord:
            rec = _require_user(c, user_id)
            if name is not None:
                rec.name = name.strip() or user_id
            if pw_hash is not None:
                rec.password_hash = pw_hash
            if role_list is not None:
                rec.roles = role_list
            if group_list is not None:
                known = c.tx.groups()
                for g in group_list:
                    if g not in known:
                        c.tx.add_group(g, g)
                rec.groups = group_list
            if email is not None:
                rec.email = email or None
            _save(c, rec)
            return rec

        return self._execute(cmd)

    def get_user(self, user_id: str) -> UserRecord | None:
        with self.store.transaction() as tx:
            return tx.get_user(user_id)

    def user(self, user_id: str) -> UserRecord:
        from engine.errors import NotFound

        rec = self.get_user(user_id)
        if rec is None:
            raise NotFound(f"user '{user_id}' not found")
        return rec

    def users(self) -> list[UserRecord]:
        with self.store.transaction() as tx:
            return tx.users()

    def check_password(self, user_id: str, password: str) -> UserRecord | None:
        """The user if `password` is theirs, else None (same cost for unknown users)."""
        rec = self.get_user(user_id) if isinstance(user_id, str) else None
        if rec is None or not isinstance(password, str):
            check_password_hash(_DUMMY_HASH, password if isinstance(password, str) else "")
            return None
        return rec if check_password_hash(rec.password_hash, password) else None

    # ------------------------------------------------------------------ groups
    def add_group(self, group_id: str, name: str | None = None) -> None:
        check_name("group", group_id)
        self._execute(lambda c: c.tx.add_group(group_id, name or group_id))

    def groups(self) -> dict[str, str]:
        """Group id -> display name."""
        with self.store.transaction() as tx:
            return tx.groups()

    def add_to_group(self, user_id: str, group_id: str) -> None:
        check_name("group", group_id)

        def cmd(c: _Command) -> None:
            rec = _require_user(c, user_id)
            if group_id not in c.tx.groups():
                c.tx.add_group(group_id, group_id)
            if group_id not in rec.groups:
                rec.groups = [*rec.groups, group_id]
                _save(c, rec)

        self._execute(cmd)

    def remove_from_group(self, user_id: str, group_id: str) -> None:
        def cmd(c: _Command) -> None:
            rec = _require_user(c, user_id)
            if group_id in rec.groups:
                rec.groups = [g for g in rec.groups if g != group_id]
                _save(c, rec)

        self._execute(cmd)

    # ------------------------------------------------------------------ out of office
    def set_deputy(self, user_id: str, deputy: str | None, start: datetime | None = None,
                   end: datetime | None = None) -> UserRecord:
        """Name a deputy for a period (`start` defaults to now, `end` None means until
        cleared); tasks assigned to `user_id` while the period runs go to the deputy with a
        note saying why. `deputy=None` clears it."""
        from engine.errors import EngineError

        if start is not None and end is not None and end <= start:
            raise EngineError("the out-of-office period ends before it starts")
        for when, label in ((start, "start"), (end, "end")):
            if when is not None and (not isinstance(when, datetime) or when.tzinfo is None):
                raise EngineError(f"the out-of-office {label} must be a date-time with a "
                                  "time zone")

        def cmd(c: _Command) -> UserRecord:
            rec = _require_user(c, user_id)
            if deputy is not None:
                if deputy == user_id:
                    raise EngineError(f"user '{user_id}' cannot be their own deputy")
                _require_user(c, deputy)
            rec.deputy = deputy
            rec.away_from = (start or c.now) if deputy else None
            rec.away_until = end if deputy else None
            _save(c, rec)
            return rec

        return self._execute(cmd)

    # ------------------------------------------------------------------ API tokens
    def new_api_token(self, user_id: str) -> str:
        """Issue a new API token for the user (replacing any old one); shown only now."""
        secret = secrets.token_urlsafe(32)

        def cmd(c: _Command) -> None:
            rec = _require_user(c, user_id)
            rec.api_token = _token_digest(secret)
            _save(c, rec)

        self._execute(cmd)
        return f"{user_id}.{secret}"

    def revoke_api_token(self, user_id: str) -> None:
        def cmd(c: _Command) -> None:
            rec = _require_user(c, user_id)
            rec.api_token = None
            _save(c, rec)

        self._execute(cmd)

    def user_for_token(self, token: str) -> UserRecord | None:
        """The user an API token belongs to, or None for a wrong, revoked or malformed one."""
        if not isinstance(token, str) or len(token) > 200:
            return None
        user_id, dot, secret = token.rpartition(".")
        if not dot or not user_id or not secret:
            return None
        rec = self.get_user(user_id)
        if rec is None or not rec.api_token:
            return None
        if not hmac.compare_digest(rec.api_token, _token_digest(secret)):
            return None
        return rec
