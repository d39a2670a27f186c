"""The connector registry: names to handlers for service tasks that run inside Baton.

A handler is a function (or an object with `__call__`) taking a `ConnectorContext` and
returning a dict of output variables (or None). Register with `@connector("fraud-score")`
or from an installed package's `baton.connectors` entry point.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[["ConnectorContext"], Mapping[str, Any] | None]


@dataclass(slots=True)
class ConnectorContext:
    """What a handler gets: inputs, where it runs, and how to stay idempotent."""

    variables: Mapping[str, Any]
    instance_id: str
    activity_id: str
    attempt: int
    idempotency_key: str
    topic: str
    business_key: str | None = None
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("baton.connector"))
    secrets: Callable[[str], str | None] | None = None

    def secret(self, name: str) -> str:
        """A secret from the environment or the secrets table, never from the diagram."""
        import os

        value = os.environ.get(name)
        if value is None and self.secrets is not None:
            value = self.secrets(name)
        if value is None:
            raise KeyError(f"secret '{name}' is not set (environment or secrets table)")
        return value


@dataclass(slots=True)
class ConnectorPolicy:
    timeout: float | None = None          # seconds
    retries: int = 3
    backoff: float = 10.0                 # seconds for the first retry, doubled each time
    max_backoff: float = 3600.0
    breaker_failures: int = 0             # 0 = no circuit breaker
    breaker_window: float = 60.0
    breaker_cooldown: float = 30.0


@dataclass(slots=True)
class Registration:
    name: str
    handler: Handler
    policy: ConnectorPolicy
    source: str                           # "decorator <module>" | "entry point <dist>"


class Registry:
    def __init__(self) -> None:
        self._items: dict[str, Registration] = {}

    def register(self, name: str, handler: Any, policy: ConnectorPolicy | None = None,
                 source: str | None = None) -> Registration:
        if not name or not isinstance(name, str):
            raise ValueError("a connector needs a non-empty name")
        if isinstance(handler, type):
            handler = handler()
        if not callable(handler):
            raise TypeError(f"connector '{name}' is not callable")
        reg = Registration(name, handler, policy or ConnectorPolicy(),
                           source or f"decorator {getattr(handler, '__module__', '?')}")
        self._items[name] = reg
        return reg

    def unregister(self, name: str) -> None:
        self._items.pop(name, None)

    def get(self, name: str) -> Registration | None:
        return self._items.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def all(self) -> list[Registration]:
        return sorted(self._items.values(), key=lambda r: r.name)


registry = Registry()


def connector(name: str, **policy: Any) -> Callable[[Any], Any]:
    """Decorator: `@connector("fraud-score", retries=5, timeout=2.0)`."""

    def wrap(handler: Any) -> Any:
        registry.register(name, handler, ConnectorPolicy(**policy) if policy else None)
        return handler

    return wrap
