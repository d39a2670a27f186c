"""Users, groups, roles, passwords and API tokens (engine/identity.py)."""

from __future__ import annotations

import pytest

from engine.errors import Conflict, EngineError, NotFound
from engine.identity import has_role, is_supervisor

from .conftest import PASSWORD


def test_password_is_stored_hashed_and_checked(engine):
    rec = engine.user("ann")
    assert PASSWORD not in rec.password_hash
    assert engine.check_password("ann", PASSWORD).id == "ann"
    assert engine.check_password("ann", "wrong password") is None
    assert engine.check_password("nobody", PASSWORD) is None


def test_add_user_refuses_duplicates_bad_ids_roles_and_short_passwords(engine):
    with pytest.raises(Conflict, match="already exists"):
        engine.add_user("ann", "Ann", PASSWORD)
    with pytest.raises(EngineError, match="user id"):
        engine.add_user("bad name", "x", PASSWORD)
    with pytest.raises(EngineError, match="unknown role 'boss'"):
        engine.add_user("zed", "Zed", PASSWORD, ["boss"])
    with pytest.raises(EngineError, match="password needs"):
        engine.add_user("zed", "Zed", "short")
    assert engine.get_user("zed") is None


def test_groups_are_created_with_users_and_membership_changes(engine):
    assert {"adjusters", "underwriters", "supervisors"} <= set(engine.groups())
    engine.add_to_group("cat", "adjusters")
    assert engine.user("cat").groups == ["underwriters", "adjusters"]
    engine.remove_from_group("cat", "underwriters")
    assert engine.user("cat").groups == ["adjusters"]
    with pytest.raises(NotFound, match="user 'nobody' not found"):
        engine.add_to_group("nobody", "adjusters")


def test_update_user_changes_only_given_fields(engine):
    engine.update_user("cat", roles=["staff", "analyst"], password="new password!")
    rec = engine.user("cat")
    assert rec.roles == ["staff", "analyst"] and rec.groups == ["underwriters"]
    assert engine.check_password("cat", "new password!") is not None
    assert engine.check_password("cat", PASSWORD) is None


def test_roles_and_supervisors(engine):
    assert is_supervisor(engine.user("sue"))        # group supervisors
    assert is_supervisor(engine.user("ada"))        # admin
    assert not is_supervisor(engine.user("ann"))
    assert has_role(engine.user("ada"), "analyst")  # admin holds every role
    assert has_role(engine.user("ana"), "analyst")
    assert not has_role(engine.user("ann"), "analyst")


def test_api_token_round_trip_and_revocation(engine):
    token = engine.new_api_token("ann")
    assert token.startswith("ann.")
    assert engine.user_for_token(token).id == "ann"
    assert token.split(".", 1)[1] not in (engine.user("ann").api_token or "")
    assert engine.user_for_token(token + "x") is None
    assert engine.user_for_token("bob." + token.split(".", 1)[1]) is None
    assert engine.user_for_token("garbage") is None
    newer = engine.new_api_token("ann")
    assert engine.user_for_token(token) is None       # replaced
    engine.revoke_api_token("ann")
    assert engine.user_for_token(newer) is None


def test_default_password_hash_is_scrypt(engine, monkeypatch):
    monkeypatch.setattr("engine.identity.PASSWORD_METHOD", "scrypt")
    engine.add_user("zed", "Zed", PASSWORD)
    assert engine.user("zed").password_hash.startswith("scrypt:")
    assert engine.check_password("zed", PASSWORD) is not None
