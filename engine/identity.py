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
from collections.abc import Iterable
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from engine.store.records import UserRecord

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
DUMMY_HASH = generate_password_hash("baton-no-such-user")


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


def check_roles(roles: Iterable[str]) -> list[str]:
    from engine.errors import EngineError

    out = []
    for role in roles:
        if role not in ROLES:
            raise EngineError(f"unknown role {role!r}: roles are {', '.join(sorted(ROLES))}")
        if role not in out:
            out.append(role)
    return out


def check_password_rules(password: Any) -> str:
    from engine.errors import EngineError

    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise EngineError(f"a password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


def hash_password(password: Any) -> str:
    return generate_password_hash(check_password_rules(password), method=PASSWORD_METHOD)


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def verify_password(rec: UserRecord | None, password: Any) -> bool:
    """True if `password` is the user's; as costly for an unknown user (no user enumeration
    by timing)."""
    if rec is None or not isinstance(password, str):
        check_password_hash(DUMMY_HASH, password if isinstance(password, str) else "")
        return False
    return check_password_hash(rec.password_hash, password)


def new_token_secret() -> str:
    return secrets.token_urlsafe(32)


def split_token(token: Any) -> tuple[str, str] | None:
    """(user id, secret) of an API token "<user id>.<secret>", None if malformed."""
    if not isinstance(token, str) or len(token) > 200:
        return None
    user_id, dot, secret = token.rpartition(".")
    if not dot or not user_id or not secret:
        return None
    return user_id, secret


def token_matches(rec: UserRecord | None, secret: str) -> bool:
    if rec is None or not rec.api_token:
        return False
    return hmac.compare_digest(rec.api_token, token_digest(secret))
