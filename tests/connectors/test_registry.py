"""The registry: decorators, classes, policies, entry-point discovery, and `baton connectors`."""

from __future__ import annotations

import argparse
import io
import json
import sys
import textwrap

import pytest

from connectors import ConnectorPolicy, Registry, connector, function
from connectors import registry as global_registry
from connectors.cli import add_connector_commands, run_connectors_command
from connectors.registry import ConnectorContext


def ctx(**variables: object) -> ConnectorContext:
    return ConnectorContext(variables, "inst", "act", 1, "key", "topic")


def test_decorator_registers_a_function_with_its_policy_and_module(reg: Registry) -> None:
    @connector("fraud-score", registry_=reg, retries=5, timeout=2.0)
    def fraud_score(c: ConnectorContext) -> dict[str, int]:
        """Score an order for fraud."""
        return {"score": 7}

    got = reg.get("fraud-score")
    assert got is not None
    assert got.handler(ctx()) == {"score": 7}
    assert got.policy.retries == 5 and got.policy.timeout == 2.0
    assert got.source == f"decorator {__name__}"
    assert got.description == "Score an order for fraud."
    assert "fraud-score" in reg and "other" not in reg


def test_decorator_on_a_class_instantiates_it_and_reads_its_policy(reg: Registry) -> None:
    @connector("policy-lookup", registry_=reg)
    class PolicyLookup:
        policy = ConnectorPolicy(retries=7, breaker_failures=3)

        def __init__(self) -> None:
            self.calls = 0

        def __call__(self, c: ConnectorContext) -> dict[str, int]:
            self.calls += 1
            return {"calls": self.calls}

    got = reg.get("policy-lookup")
    assert got is not None and isinstance(got.handler, PolicyLookup)
    assert got.handler(ctx()) == {"calls": 1}
    assert got.handler(ctx()) == {"calls": 2}      # one instance, kept
    assert got.policy.retries == 7
    assert got.breaker is not None and got.breaker.failures == 3


def test_bad_registrations_are_refused_with_a_reason(reg: Registry) -> None:
    with pytest.raises(ValueError, match="non-empty name"):
        reg.register("", lambda c: None)
    with pytest.raises(TypeError, match="not callable"):
        reg.register("x", 42)
    with pytest.raises(ValueError, match="retries"):
        ConnectorPolicy(retries=0)
    with pytest.raises(ValueError, match="timeout"):
        ConnectorPolicy(timeout=0)


def test_policy_backoff_grows_and_is_capped() -> None:
    p = ConnectorPolicy(backoff=2.0, backoff_factor=3.0, max_backoff=50.0)
    assert [p.delay(n) for n in (1, 2, 3, 4)] == [2.0, 6.0, 18.0, 50.0]


def test_registering_again_replaces_and_unregister_removes(reg: Registry) -> None:
    reg.register("a", lambda c: {"v": 1})
    reg.register("a", lambda c: {"v": 2})
    got = reg.get("a")
    assert got is not None and got.handler(ctx()) == {"v": 2}
    reg.unregister("a")
    assert reg.get("a") is None


def test_a_plain_registry_discovers_nothing_until_asked() -> None:
    fresh = Registry()
    assert fresh.get("http") is None
    fresh.discover(entry_points=False, modules=False)
    http = fresh.get("http")
    assert http is not None and http.source == "built-in"
    assert fresh.get("python") is not None


def test_explicit_registration_wins_over_builtins() -> None:
    fresh = Registry()
    fresh.register("http", lambda c: {"mine": True}, source="mine")
    fresh.discover(entry_points=False, modules=False)
    got = fresh.get("http")
    assert got is not None and got.source == "mine"


def test_entry_points_of_an_installed_package_are_discovered() -> None:
    pytest.importorskip("baton_test_connectors",
                        reason="tests/fixtures/baton_test_connectors is not installed "
                               "(scripts/setup-env.sh --test installs it)")
    fresh = Registry()
    fresh.load_entry_points()
    echo = fresh.get("test-echo")
    assert echo is not None
    assert echo.source.startswith("entry point baton-test-connectors 0.1.0")
    assert "baton_test_connectors:echo" in echo.source
    assert echo.handler(ctx(text="hi")) == {"echoed": "hi", "attempt": 1}
    greeter = fresh.get("test-greeter")
    assert greeter is not None and greeter.handler(ctx(name="Ann")) == {"greeting": "hello Ann"}
    assert fresh.function("test-add") is not None
    assert fresh.function("test-add")(a=2, b=3) == 5   # type: ignore[misc]
    assert fresh.problems == []


def test_the_global_registry_discovers_builtins_and_entry_points_lazily() -> None:
    pytest.importorskip("baton_test_connectors")
    names = {r.name for r in global_registry.all()}
    assert {"http", "python", "test-echo", "test-greeter"} <= names


def test_a_broken_plugin_is_reported_not_fatal() -> None:
    pytest.importorskip("baton_test_connectors")
    fresh = Registry()
    fresh.load_entry_points(group="baton_test.broken_connectors", function_group="none")
    by_name = {p.name: p for p in fresh.problems}
    assert set(by_name) == {"test-missing", "test-not-callable"}
    assert "ModuleNotFoundError" in by_name["test-missing"].error
    assert "not callable" in by_name["test-not-callable"].error
    assert fresh.all() == []


def test_an_entry_point_never_replaces_an_explicit_registration() -> None:
    pytest.importorskip("baton_test_connectors")
    fresh = Registry()
    fresh.register("test-echo", lambda c: {"mine": True}, source="mine")
    fresh.load_entry_points()
    got = fresh.get("test-echo")
    assert got is not None and got.source == "mine"
    assert any(p.name == "test-echo" and "already registered by mine" in p.error
               for p in fresh.problems)


def test_modules_named_in_the_environment_are_imported(tmp_path, monkeypatch) -> None:
    (tmp_path / "baton_envmod_ok.py").write_text(textwrap.dedent("""
        from connectors import connector

        @connector("env-module-connector")
        def handler(ctx):
            return {"ok": True}
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("BATON_CONNECTOR_MODULES", "baton_envmod_ok, baton_envmod_missing")
    fresh = Registry()
    try:
        fresh.discover(entry_points=False)
        # decorators register in the process-wide registry, which is what the engine uses
        got = global_registry.get("env-module-connector")
        assert got is not None and got.source == "decorator baton_envmod_ok"
        assert [p.name for p in fresh.problems] == ["baton_envmod_missing"]
    finally:
        global_registry.unregister("env-module-connector")
        sys.modules.pop("baton_envmod_ok", None)


def test_function_decorator_and_cli_listing(reg: Registry) -> None:
    @connector("crm", registry_=reg, retries=4, breaker_failures=2)
    def crm(c: ConnectorContext) -> None:
        """Update the CRM."""

    @function("normalize", registry_=reg)
    def normalize(text: str) -> str:
        return text.strip().lower()

    parser = argparse.ArgumentParser(prog="baton")
    add_connector_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["connectors"])
    out = io.StringIO()
    assert args.func(args, registry=reg, out=out) == 0
    text = out.getvalue()
    assert "crm" in text and f"decorator {__name__}" in text
    assert "4 attempts" in text and "breaker 2 in 60s (closed)" in text
    assert "Update the CRM." in text
    assert "normalize" in text

    out = io.StringIO()
    args = parser.parse_args(["connectors", "--json"])
    assert run_connectors_command(args, registry=reg, out=out) == 0
    data = json.loads(out.getvalue())
    assert data["connectors"][0]["name"] == "crm"
    assert data["connectors"][0]["policy"]["retries"] == 4
    assert data["functions"] == [{"name": "normalize", "source": f"decorator {__name__}"}]


def test_cli_exit_code_says_a_plugin_failed() -> None:
    pytest.importorskip("baton_test_connectors")
    fresh = Registry()
    fresh.load_entry_points(group="baton_test.broken_connectors", function_group="none")
    out = io.StringIO()
    assert run_connectors_command(argparse.Namespace(json=False), registry=fresh, out=out) == 1
    assert "not loaded:" in out.getvalue() and "test-missing" in out.getvalue()
