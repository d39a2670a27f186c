"""Commands on users, groups, deputies and API tokens.

Administering users is for admins (policy row ("identity", "manage")); a user may change
their own name, password and API token, and name their own deputy."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from engine.commands.context import CommandContext
from engine.commands.executor import BaseCommand
from engine.errors import Conflict, EngineError, NotFound
from engine.identity import check_name, check_roles, token_digest
from engine.store.records import UserRecord


def require_user(c: CommandContext, user_id: Any) -> UserRecord:
    rec = c.tx.get_user(user_id) if isinstance(user_id, str) else None
    if rec is None:
        raise NotFound(f"user '{user_id}' not found")
    return rec


def save(c: CommandContext, rec: UserRecord) -> None:
    """Store a changed user and tell the engine's listeners ("user_changed", user id) once
    the change commits, so whoever remembers a login (engine-rest's credential cache)
    forgets it at once."""
    c.tx.update_user(rec)
    c.notifications.append(("user_changed", rec.id))


def self_or_admin(c: CommandContext, user_id: str, what: str) -> None:
    if c.actor is not None and c.actor.id == user_id:
        return
    c.authorize("identity", "manage", what=what)


@dataclass(slots=True)
class AddUser(BaseCommand):
    permission: ClassVar[tuple[str, str] | None] = ("identity", "manage")
    user_id: str
    name: str | None
    password_hash: str     # hashed by the service, outside the transaction (slow on purpose)
    roles: Iterable[str] = ("staff",)
    groups: Iterable[str] = ()
    email: str | None = None
    user: str | None = None

    def execute(self, c: CommandContext) -> UserRecord:
        check_name("user", self.user_id)
        role_list = check_roles(self.roles)
        group_list = [check_name("group", g) for g in dict.fromkeys(self.groups)]
        if c.tx.get_user(self.user_id) is not None:
            raise Conflict(f"user '{self.user_id}' already exists")
        pw_hash = self.password_hash
        known = c.tx.groups()
        for g in group_list:
            if g not in known:
                c.tx.add_group(g, g)
        rec = UserRecord(self.user_id, (self.name or self.user_id).strip() or self.user_id,
                         pw_hash, role_list, group_list, self.email)
        c.tx.add_user(rec)
        return rec


@dataclass(slots=True)
class UpdateUser(BaseCommand):
    """Change the given fields of a user (None leaves a field as it is). Roles and groups
    only an admin changes; name, password and email also the user themselves."""

    user_id: str
    name: str | None = None
    password_hash: str | None = None
    roles: Iterable[str] | None = None
    groups: Iterable[str] | None = None
    email: str | None = None
    user: str | None = None

    def execute(self, c: CommandContext) -> UserRecord:
        if self.roles is not None or self.groups is not None:
            c.authorize("identity", "manage", what=f"the roles or groups of '{self.user_id}'")
        else:
            self_or_admin(c, self.user_id, f"user '{self.user_id}'")
        role_list = check_roles(self.roles) if self.roles is not None else None
        group_list = ([check_name("group", g) for g in dict.fromkeys(self.groups)]
                      if self.groups is not None else None)
        rec = require_user(c, self.user_id)
        if self.name is not None:
            rec.name = self.name.strip() or self.user_id
        if self.password_hash:
            rec.password_hash = self.password_hash
        if role_list is not None:
            rec.roles = role_list
        if group_list is not None:
            known = c.tx.groups()
            for g in group_list:
                if g not in known:
                    c.tx.add_group(g, g)
            rec.groups = group_list
        if self.email is not None:
            rec.email = self.email or None
        save(c, rec)
        return rec


@dataclass(slots=True)
class AddGroup(BaseCommand):
    permission: ClassVar[tuple[str, str] | None] = ("identity", "manage")
    group_id: str
    name: str | None = None
    user: str | None = None

    def execute(self, c: CommandContext) -> None:
        check_name("group", self.group_id)
        c.tx.add_group(self.group_id, self.name or self.group_id)


@dataclass(slots=True)
class SetMembership(BaseCommand):
    """Add a user to a group (created if new), or take them out of it."""

    permission: ClassVar[tuple[str, str] | None] = ("identity", "manage")
    user_id: str
    group_id: str
    member: bool
    user: str | None = None

    def execute(self, c: CommandContext) -> None:
        rec = require_user(c, self.user_id)
        if self.member:
            check_name("group", self.group_id)
            if self.group_id not in c.tx.groups():
                c.tx.add_group(self.group_id, self.group_id)
            if self.group_id not in rec.groups:
                rec.groups = [*rec.groups, self.group_id]
                save(c, rec)
        elif self.group_id in rec.groups:
            rec.groups = [g for g in rec.groups if g != self.group_id]
            save(c, rec)


@dataclass(slots=True)
class SetDeputy(BaseCommand):
    """Name a deputy for a period; tasks assigned to the user while it runs go to the
    deputy with a note saying why. `deputy=None` clears it."""

    user_id: str
    deputy: str | None
    start: datetime | None = None
    end: datetime | None = None
    user: str | None = None

    def execute(self, c: CommandContext) -> UserRecord:
        self_or_admin(c, self.user_id, f"the deputy of '{self.user_id}'")
        start, end = self.start, self.end
        for when, label in ((start, "start"), (end, "end")):
            if when is not None and (not isinstance(when, datetime) or when.tzinfo is None):
                raise EngineError(f"the out-of-office {label} must be a date-time with a "
                                  "time zone")
        if start is not None and end is not None and end <= start:
            raise EngineError("the out-of-office period ends before it starts")
        rec = require_user(c, self.user_id)
        if self.deputy is not None:
            if self.deputy == self.user_id:
                raise EngineError(f"user '{self.user_id}' cannot be their own deputy")
            require_user(c, self.deputy)
        rec.deputy = self.deputy
        rec.away_from = (start or c.now) if self.deputy else None
        rec.away_until = end if self.deputy else None
        save(c, rec)
        return rec


@dataclass(slots=True)
class SetApiToken(BaseCommand):
    """Store the digest of a new API token (or revoke it with None)."""

    user_id: str
    secret: str | None
    user: str | None = None

    def execute(self, c: CommandContext) -> None:
        self_or_admin(c, self.user_id, f"the API token of '{self.user_id}'")
        rec = require_user(c, self.user_id)
        rec.api_token = token_digest(self.secret) if self.secret is not None else None
        save(c, rec)
