"""Baton's engine. `Engine` is the public API."""

from engine.engine import Engine, InstanceView, ProcessDefinition
from engine.errors import Conflict, EngineError, Forbidden, MessageNotCorrelated, NotFound

__all__ = ["Engine", "EngineError", "NotFound", "Forbidden", "Conflict", "MessageNotCorrelated",
           "InstanceView", "ProcessDefinition"]
