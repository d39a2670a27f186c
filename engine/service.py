"""Where `Engine` used to live: kept so `from engine.service import Engine` (and the error
classes) still work. New code imports from `engine` (or engine.engine / engine.errors)."""

from engine.engine import Engine, InstanceView, ProcessDefinition
from engine.errors import Conflict, EngineError, Forbidden, MessageNotCorrelated, NotFound
from engine.ids import new_id

__all__ = ["Engine", "InstanceView", "ProcessDefinition", "EngineError", "NotFound",
           "Forbidden", "Conflict", "MessageNotCorrelated", "new_id"]
