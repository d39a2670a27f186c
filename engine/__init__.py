"""Baton's engine. `Engine` is the public API."""

from engine.service import (
    Conflict,
    Engine,
    EngineError,
    Forbidden,
    InstanceView,
    MessageNotCorrelated,
    NotFound,
    ProcessDefinition,
)

__all__ = ["Engine", "EngineError", "NotFound", "Forbidden", "Conflict", "MessageNotCorrelated",
           "InstanceView", "ProcessDefinition"]
