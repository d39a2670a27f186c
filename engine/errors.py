"""The engine's refusals. Every door maps these to its own status codes, so they live apart
from the services: a command, a store or a validation module can raise them without
importing the facade (and without an import circle)."""

from __future__ import annotations


class EngineError(Exception):
    """A command refused: bad input or a state that does not allow it. `status` is the
    HTTP status a web layer should answer with."""

    status = 400


class NotFound(EngineError):
    status = 404


class Forbidden(EngineError):
    status = 403


class Conflict(EngineError):
    status = 409


class MessageNotCorrelated(EngineError):
    """No instance waits for the message and no start event takes it."""
