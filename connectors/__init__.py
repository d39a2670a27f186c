"""Connectors: handlers that service tasks call, in process or through external workers."""

from connectors.errors import BpmnError, ConnectorError
from connectors.registry import ConnectorContext, ConnectorPolicy, connector, registry

__all__ = ["BpmnError", "ConnectorError", "ConnectorContext", "ConnectorPolicy", "connector",
           "registry"]
