"""Users, groups, roles, deputies and API tokens (rules in engine.identity)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from engine.commands import identity as cmd
from engine.commands.context import CommandContext
from engine.errors import NotFound
from engine.identity import (
    check_name,
    check_roles,
    hash_password,
    new_token_secret,
    split_token,
    token_matches,
    verify_password,
)
from engine.services.base import Service
from engine.store.records import UserRecord


class IdentityService(Service):
    def add_user(self, user_id: str, name: str | None, password: str,
                 roles: Iterable[str] = ("staff",), groups: Iterable[str] = (),
                 email: str | None = None, *, by: str | None = None) -> UserRecord:
        """Create a user; groups that do not exist yet are created too."""
        check_name("user", user_id)
        roles = check_roles(roles)
        groups = list(groups)
        return self.executor.execute(cmd.AddUser(user_id, name, hash_password(password),
                                                 roles, groups, email, by))

    def update_user(self, user_id: str, *, name: str | None = None,
                    password: str | None = None, roles: Iterable[str] | None = None,
                    groups: Iterable[str] | None = None, email: str | None = None,
                    by: str | None = None) -> UserRecord:
        """Change the given fields of a user (None leaves a field as it is)."""
        roles = check_roles(roles) if roles is not None else None
        pw_hash = hash_password(password) if password else None
        return self.executor.execute(cmd.UpdateUser(
            user_id, name, pw_hash, roles, list(groups) if groups is not None else None,
            email, by))

    def get_user(self, user_id: str) -> UserRecord | None:
        def read(c: CommandContext) -> UserRecord | None:
            return c.tx.get_user(user_id) if isinstance(user_id, str) else None

        return self.read(read)

    def user(self, user_id: str) -> UserRecord:
        rec = self.get_user(user_id)
        if rec is None:
            raise NotFound(f"user '{user_id}' not found")
        return rec

    def users(self) -> list[UserRecord]:
        return self.read(lambda c: c.tx.users())

    def check_password(self, user_id: str, password: str) -> UserRecord | None:
        """The user if `password` is theirs, else None (same cost for unknown users)."""
        rec = self.get_user(user_id) if isinstance(user_id, str) else None
        return rec if verify_password(rec, password) else None

    def add_group(self, group_id: str, name: str | None = None, *,
                  by: str | None = None) -> None:
        self.executor.execute(cmd.AddGroup(group_id, name, by))

    def groups(self) -> dict[str, str]:
        """Group id -> display name."""
        return self.read(lambda c: c.tx.groups())

    def add_to_group(self, user_id: str, group_id: str, *, by: str | None = None) -> None:
        self.executor.execute(cmd.SetMembership(user_id, group_id, True, by))

    def remove_from_group(self, user_id: str, group_id: str, *, by: str | None = None) -> None:
        self.executor.execute(cmd.SetMembership(user_id, group_id, False, by))

    def set_deputy(self, user_id: str, deputy: str | None, start: datetime | None = None,
                   end: datetime | None = None, *, by: str | None = None) -> UserRecord:
        """Name a deputy for a period (`start` defaults to now, `end` None means until
        cleared); `deputy=None` clears it."""
        return self.executor.execute(cmd.SetDeputy(user_id, deputy, start, end, by))

    def new_api_token(self, user_id: str, *, by: str | None = None) -> str:
        """Issue a new API token for the user (replacing any old one); shown only now."""
        secret = new_token_secret()
        self.executor.execute(cmd.SetApiToken(user_id, secret, by))
        return f"{user_id}.{secret}"

    def revoke_api_token(self, user_id: str, *, by: str | None = None) -> None:
        self.executor.execute(cmd.SetApiToken(user_id, None, by))

    def user_for_token(self, token: str) -> UserRecord | None:
        """The user an API token belongs to, or None for a wrong, revoked or malformed one."""
        parts = split_token(token)
        if parts is None:
            return None
        rec = self.get_user(parts[0])
        return rec if token_matches(rec, parts[1]) else None

    def persistent_secret(self, name: str) -> str:
        """A random secret kept in the store (created on first use): e.g. the web app's
        session signing key, which must survive restarts."""
        def get(c: CommandContext) -> str:
            value = c.tx.get_secret(name)
            if not value:
                value = new_token_secret()
                c.tx.set_secret(name, value)
            return value

        return self.executor.run(get)

    def authorize(self, user: str | None, resource: str, action: str) -> None:
        """Forbidden unless the policy lets `user` do `action` on `resource` at all (a door
        asks before reading a large body it would otherwise parse for nothing)."""
        def check(c: CommandContext) -> None:
            c.authorize(resource, action)

        self.read(check, user)
