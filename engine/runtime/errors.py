"""Errors the runtime raises. A raised error aborts the whole command: the caller's
transaction rolls back and nothing already stored is lost."""

from __future__ import annotations


class RuntimeFailure(Exception):
    """A step could not run (no outgoing flow, a failing expression or script, ...).
    The message names the element; `activity_id` lets a UI or incident point at it."""

    def __init__(self, message: str, activity_id: str | None = None) -> None:
        super().__init__(message)
        self.activity_id = activity_id


class UnhandledBpmnError(RuntimeFailure):
    """A BPMN error reached the top of the instance and no one catches it."""

    def __init__(self, code: str | None, message: str | None, activity_id: str | None) -> None:
        super().__init__(
            f"no catching boundary event or event subprocess for BPMN error '{code}'"
            + (f" ({message})" if message else "")
            + (f", thrown at '{activity_id}'" if activity_id else ""),
            activity_id,
        )
        self.code = code
        self.error_message = message


class StaleTrigger(Exception):
    """The token or subscription a trigger names is gone: the instance moved on (the task
    was completed or cancelled, the timer's activity ended). Callers report 'not found'."""
