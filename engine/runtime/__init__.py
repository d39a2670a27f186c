"""The pure token runtime: `start()` and `advance()`; no I/O, no clock."""

from engine.runtime.advance import advance, start
from engine.runtime.errors import RuntimeFailure, StaleTrigger, UnhandledBpmnError
from engine.runtime.state import InstanceState

__all__ = ["advance", "start", "RuntimeFailure", "StaleTrigger", "UnhandledBpmnError",
           "InstanceState"]
