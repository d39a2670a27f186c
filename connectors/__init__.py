"""Connectors: handlers that service tasks call, in process or through external workers.

Layer rule: this package imports nothing from `engine` or `tasklist_ui`.
"""

from connectors.errors import BpmnError, CircuitOpen, ConnectorError, ConnectorTimeout
from connectors.registry import (
    ConnectorContext,
    ConnectorPolicy,
    Registration,
    Registry,
    connector,
    function,
    registry,
)

__all__ = ["BpmnError", "CircuitOpen", "ConnectorError", "ConnectorTimeout", "ConnectorContext",
           "ConnectorPolicy", "Registration", "Registry", "connector", "function", "registry"]
