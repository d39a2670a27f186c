"""Baton's engine. `Engine` is the public API."""

from engine.errors import Conflict, EngineError, Forbidden, MessageNotCorrelated, NotFound
from engine.service import Engine, InstanceView, ProcessDefinition

__all__ = ["Engine", "EngineError", "NotFound", "Forbidden", "Conflict", "MessageNotCorrelated",
           "InstanceView", "ProcessDefinition"]
