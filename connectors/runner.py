"""Calling a connector handler under its policy: circuit breaker, timeout, result check.

Retries and backoff are not done here: a failed call ends this attempt, and the job
executor stores the failure and schedules the next attempt `policy.delay(failures)` seconds
later (or opens an incident), so a retry survives a restart of the worker.

What `call_connector` raises, and what the job executor should do with it:

- `BpmnError` from the handler: throw it at the task (no retry). Counts as a *success* for
  the circuit breaker: the service answered.
- `CircuitOpen`: the call was not made; postpone the job `retry_after` seconds without
  counting an attempt.
- `ConnectorTimeout`, `ConnectorError` or any other exception: a failed attempt.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from connectors.errors import BpmnError, CircuitOpen, ConnectorError, ConnectorTimeout
from connectors.registry import ConnectorContext, Registration

__all__ = ["call_connector", "retry_delay", "BpmnError", "CircuitOpen", "ConnectorTimeout"]


def call_connector(reg: Registration, ctx: ConnectorContext) -> Mapping[str, Any] | None:
    """Call `reg`'s handler once with `ctx` and return its output variables."""
    breaker = reg.breaker
    if breaker is not None:
        breaker.before_call()
    if ctx.timeout is None:
        ctx.timeout = reg.policy.timeout
    try:
        result = _invoke(reg, ctx)
        _check_result(reg, result)
    except BpmnError:
        if breaker is not None:
            breaker.record_success()
        raise
    except BaseException:
        if breaker is not None:
            breaker.record_failure()
        raise
    if breaker is not None:
        breaker.record_success()
    return result


def retry_delay(reg: Registration, failures: int) -> float:
    """Seconds before the next attempt after `failures` failed attempts."""
    return reg.policy.delay(failures)


def _invoke(reg: Registration, ctx: ConnectorContext) -> Any:
    timeout = reg.policy.timeout
    if timeout is None:
        return reg.handler(ctx)
    # One daemon thread per call rather than a shared pool: a handler that hangs past its
    # timeout keeps its thread, and must not starve the calls that come after it.
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = reg.handler(ctx)
        except BaseException as e:  # noqa: BLE001 - handed back to the caller below
            box["error"] = e

    thread = threading.Thread(target=run, name=f"connector-{reg.name}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise ConnectorTimeout(f"connector '{reg.name}' did not return within {timeout:g}s")
    if "error" in box:
        raise box["error"]
    return box.get("result")


def _check_result(reg: Registration, result: Any) -> None:
    if result is None:
        return
    if not isinstance(result, Mapping):
        raise ConnectorError(f"connector '{reg.name}' returned {type(result).__name__}, "
                             "not a dict of output variables")
    for key in result:
        if not isinstance(key, str) or not key.isidentifier() or key.startswith("_"):
            raise ConnectorError(f"connector '{reg.name}' returned the variable name {key!r}: "
                                 "use letters, digits and underscores, not starting with a "
                                 "digit or an underscore")
