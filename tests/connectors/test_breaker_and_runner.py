"""The circuit breaker state machine and `call_connector`: timeout, result checks, breaker."""

from __future__ import annotations

import threading

import pytest

from connectors import BpmnError, CircuitOpen, ConnectorError, ConnectorPolicy, ConnectorTimeout
from connectors.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from connectors.registry import ConnectorContext, Registry
from connectors.runner import call_connector


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def ctx(**variables: object) -> ConnectorContext:
    return ConnectorContext(variables, "inst", "act", 1, "key", "topic")


def test_breaker_opens_after_n_failures_within_the_window() -> None:
    clock = FakeClock()
    b = CircuitBreaker("svc", failures=3, window=10, cooldown=30, clock=clock)
    b.record_failure()
    clock.t += 4
    b.record_failure()
    assert b.state == CLOSED
    b.before_call()                         # still lets calls through
    clock.t += 4
    b.record_failure()
    assert b.state == OPEN
    with pytest.raises(CircuitOpen) as err:
        b.before_call()
    assert err.value.retry_after == pytest.approx(30)
    clock.t += 12
    with pytest.raises(CircuitOpen) as err:
        b.before_call()
    assert err.value.retry_after == pytest.approx(18)


def test_failures_spread_wider_than_the_window_do_not_open_it() -> None:
    clock = FakeClock()
    b = CircuitBreaker("svc", failures=2, window=10, cooldown=30, clock=clock)
    b.record_failure()
    clock.t += 11
    b.record_failure()
    assert b.state == CLOSED
    b.record_success()
    b.record_failure()
    assert b.state == CLOSED                 # a success cleared the count


def test_half_open_lets_one_trial_through_and_success_closes() -> None:
    clock = FakeClock()
    b = CircuitBreaker("svc", failures=1, window=10, cooldown=5, clock=clock)
    b.record_failure()
    clock.t += 5
    assert b.state == HALF_OPEN
    b.before_call()                          # the trial
    with pytest.raises(CircuitOpen, match="circuit breaker is open"):
        b.before_call()                      # others still wait while it runs
    b.record_success()
    assert b.state == CLOSED
    b.before_call()


def test_a_failed_trial_opens_it_for_another_cooldown() -> None:
    clock = FakeClock()
    b = CircuitBreaker("svc", failures=1, window=10, cooldown=5, clock=clock)
    b.record_failure()
    clock.t += 6
    b.before_call()
    b.record_failure()
    assert b.state == OPEN
    with pytest.raises(CircuitOpen) as err:
        b.before_call()
    assert err.value.retry_after == pytest.approx(5)


def test_call_connector_fails_fast_while_open_without_calling_the_handler() -> None:
    reg = Registry()
    calls = []

    def down(c: ConnectorContext) -> None:
        calls.append(1)
        raise ConnectionError("service down")

    r = reg.register("down", down, ConnectorPolicy(timeout=None, breaker_failures=2,
                                                   breaker_cooldown=60))
    for _ in range(2):
        with pytest.raises(ConnectionError, match="^service down$"):
            call_connector(r, ctx())
    with pytest.raises(CircuitOpen, match="circuit breaker is open"):
        call_connector(r, ctx())
    assert len(calls) == 2


def test_bpmn_errors_are_answers_and_do_not_trip_the_breaker() -> None:
    reg = Registry()

    def reject(c: ConnectorContext) -> None:
        raise BpmnError("REJECTED", "not insured", {"reason": "x"})

    r = reg.register("reject", reject, ConnectorPolicy(timeout=None, breaker_failures=1))
    for _ in range(3):
        with pytest.raises(BpmnError) as err:
            call_connector(r, ctx())
        assert err.value.code == "REJECTED" and err.value.variables == {"reason": "x"}
    assert r.breaker is not None and r.breaker.state == CLOSED


def test_timeout_raises_connector_timeout_and_counts_as_a_failure() -> None:
    reg = Registry()
    release = threading.Event()

    def slow(c: ConnectorContext) -> dict[str, int]:
        release.wait(5)
        return {"late": 1}

    r = reg.register("slow", slow, ConnectorPolicy(timeout=0.05, breaker_failures=1))
    try:
        with pytest.raises(ConnectorTimeout, match="did not return within 0.05s"):
            call_connector(r, ctx())
    finally:
        release.set()
    assert isinstance(ConnectorTimeout("x"), TimeoutError)
    assert r.breaker is not None and r.breaker.state == OPEN


def test_the_context_carries_the_policy_timeout() -> None:
    reg = Registry()
    seen = {}
    r = reg.register("t", lambda c: seen.update(t=c.timeout), ConnectorPolicy(timeout=7.5))
    call_connector(r, ctx())
    assert seen == {"t": 7.5}


@pytest.mark.parametrize("result, message", [
    ([1, 2], "returned list, not a dict"),
    ({"9lives": 1}, "variable name '9lives'"),
    ({"_private": 1}, "variable name '_private'"),
])
def test_results_must_be_dicts_of_variable_names(result: object, message: str) -> None:
    reg = Registry()
    r = reg.register("bad", lambda c: result, ConnectorPolicy(timeout=None))
    with pytest.raises(ConnectorError, match=message):
        call_connector(r, ctx())


def test_handler_exceptions_pass_through_with_their_type() -> None:
    reg = Registry()

    def boom(c: ConnectorContext) -> None:
        raise KeyError("missing")

    r = reg.register("boom", boom)       # default policy: runs in a thread with a timeout
    with pytest.raises(KeyError, match="missing"):
        call_connector(r, ctx())


def test_secrets_come_from_prefixed_environment_or_the_table(monkeypatch) -> None:
    monkeypatch.setenv("BATON_SECRET_API_KEY", "from-env")
    monkeypatch.setenv("DATABASE_URL", "postgres://secret")
    table = {"CRM_TOKEN": "from-table", "API_KEY": "shadowed"}
    c = ConnectorContext({}, "i", "a", 1, "k", "t", secrets=table.get)
    assert c.secret("API_KEY") == "from-env"
    assert c.secret("CRM_TOKEN") == "from-table"
    with pytest.raises(KeyError, match="BATON_SECRET_DATABASE_URL"):
        c.secret("DATABASE_URL")            # unprefixed settings stay private
    with pytest.raises(KeyError, match="not valid"):
        c.secret("../etc")
