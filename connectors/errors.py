"""Exceptions a connector handler raises to steer the process, and the ones the runner raises.

How the job executor treats each (see `engine/jobs.py`):

- `BpmnError`: a business outcome the diagram models. Never retried: it is thrown at the
  task and caught by an error boundary event or error event subprocess (or fails the
  instance when nothing catches it, as BPMN says).
- `CircuitOpen`: the call was *not made* because the connector's circuit breaker is open.
  It is not the task's fault, so it must not burn one of the task's retries: the job is
  postponed by `retry_after` seconds and tried again.
- anything else (`ConnectorError`, `ConnectorTimeout`, any exception a handler lets out):
  a technical failure; retried with the connector's backoff, then an incident.
"""

from __future__ import annotations

from typing import Any


class BpmnError(Exception):
    """A business error the diagram models: caught by an error boundary event or error
    event subprocess whose errorCode matches (or a catch-all). Not retried."""

    def __init__(self, code: str, message: str | None = None,
                 variables: dict[str, Any] | None = None) -> None:
        if not isinstance(code, str) or not code:
            raise ValueError("BpmnError needs a non-empty error code")
        super().__init__(message or code)
        self.code = code
        self.message = message
        self.variables = dict(variables or {})


class ConnectorError(Exception):
    """A technical failure worth retrying (the job executor backs off, then opens an
    incident). Any other exception is treated the same way."""


class ConnectorTimeout(ConnectorError, TimeoutError):
    """The handler did not return within the policy's timeout. Its thread is left to
    finish on its own (Python cannot kill a thread); its late result is discarded."""


class CircuitOpen(ConnectorError):
    """The connector's circuit breaker is open: the call was refused without being made.

    `retry_after` is how many seconds remain of the cooldown; a job executor should
    postpone the job by that long without counting an attempt."""

    def __init__(self, name: str, retry_after: float) -> None:
        super().__init__(f"connector '{name}' is failing: its circuit breaker is open for "
                         f"another {retry_after:.1f}s")
        self.name = name
        self.retry_after = max(0.0, float(retry_after))
