"""Exceptions a connector handler raises to steer the process."""

from __future__ import annotations

from typing import Any


class BpmnError(Exception):
    """A business error the diagram models: caught by an error boundary event or error
    event subprocess whose errorCode matches (or a catch-all). Not retried."""

    def __init__(self, code: str, message: str | None = None,
                 variables: dict[str, Any] | None = None) -> None:
        super().__init__(message or code)
        self.code = code
        self.message = message
        self.variables = dict(variables or {})


class ConnectorError(Exception):
    """A technical failure worth retrying (the job executor backs off, then opens an
    incident). Any other exception is treated the same way."""
