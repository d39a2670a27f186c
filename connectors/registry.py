"""The connector registry: names to handlers for service tasks that run inside Baton.

A handler is a function (or a class whose instances are callable) taking a
`ConnectorContext` and returning a dict of output variables (or None). Three ways in:

- `@connector("fraud-score", retries=5, timeout=2.0)` on a function or class;
- an installed package declaring an entry point in the group `baton.connectors`
  (`fraud-score = mypkg.handlers:fraud_score`): the entry point's name is the connector's;
- the modules named in the environment variable `BATON_CONNECTOR_MODULES` (comma
  separated), imported so their decorators run - for code that is not a package.

The process-wide `registry` discovers built-ins, entry points and those modules lazily, on
first use, so importing Baton stays cheap and a broken plug-in cannot stop the engine: its
error is kept in `registry.problems` and shown by `baton connectors`. Names registered
explicitly (decorator or `register`) win over discovered ones.

Functions for the built-in `python` connector are registered the same way with
`@function("name")` or the entry-point group `baton.functions`.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from connectors.breaker import CircuitBreaker

log = logging.getLogger("baton.connectors")

ENTRY_POINT_GROUP = "baton.connectors"
FUNCTION_GROUP = "baton.functions"
MODULES_ENV = "BATON_CONNECTOR_MODULES"
SECRET_ENV_PREFIX = "BATON_SECRET_"
_SECRET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")

Handler = Callable[["ConnectorContext"], Mapping[str, Any] | None]


@dataclass(slots=True)
class ConnectorContext:
    """What a handler gets: inputs, where it runs, and how to stay idempotent.

    `variables` are the task's inputs after `camunda:inputOutput` mapping. `attempt` counts
    from 1. `idempotency_key` is the same on every retry of one call and different for the
    next call of the same task (a loop), so a handler can pass it to services that
    deduplicate (HTTP `Idempotency-Key`, a unique column, ...): delivery is at-least-once.
    `timeout` is the policy's limit in seconds, for handlers that pass it on (HTTP clients).
    """

    variables: Mapping[str, Any]
    instance_id: str
    activity_id: str
    attempt: int
    idempotency_key: str
    topic: str
    business_key: str | None = None
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("baton.connector"))
    secrets: Callable[[str], str | None] | None = None
    timeout: float | None = None

    def secret(self, name: str) -> str:
        """A secret from the environment (`BATON_SECRET_<NAME>`) or the secrets table.

        Only prefixed environment variables are readable: a diagram names secrets, and it
        must not be able to read `DATABASE_URL` or any other setting of the server."""
        if not isinstance(name, str) or not _SECRET_NAME.match(name):
            raise KeyError(f"secret name {name!r} is not valid: use letters, digits and "
                           "underscores, not starting with a digit")
        value = os.environ.get(SECRET_ENV_PREFIX + name)
        if value is None and self.secrets is not None:
            value = self.secrets(name)
        if value is None:
            raise KeyError(f"secret '{name}' is not set (environment variable "
                           f"{SECRET_ENV_PREFIX}{name} or the secrets table)")
        return value


@dataclass(slots=True)
class ConnectorPolicy:
    """How a connector is called.

    `retries` is the number of attempts in all (Camunda's job retries: 3 means the first call
    and two retries) before an incident. The n-th retry waits
    `min(max_backoff, backoff * backoff_factor ** (n - 1))` seconds, unless the diagram sets
    `camunda:failedJobRetryTimeCycle`. `breaker_failures` > 0 turns the circuit breaker on:
    that many failures within `breaker_window` seconds open it for `breaker_cooldown`.
    """

    timeout: float | None = 60.0          # seconds; None: no limit
    retries: int = 3
    backoff: float = 10.0
    backoff_factor: float = 2.0
    max_backoff: float = 3600.0
    breaker_failures: int = 0
    breaker_window: float = 60.0
    breaker_cooldown: float = 30.0

    def __post_init__(self) -> None:
        if self.timeout is not None and self.timeout <= 0:
            raise ValueError(f"connector timeout must be positive seconds, not {self.timeout}")
        if self.retries < 1:
            raise ValueError(f"connector retries counts attempts and must be >= 1, "
                             f"not {self.retries}")
        if self.backoff < 0 or self.max_backoff < 0 or self.backoff_factor < 1:
            raise ValueError("connector backoff must be >= 0 with a factor >= 1")
        if self.breaker_failures < 0:
            raise ValueError("breaker_failures must be >= 0 (0 turns the breaker off)")
        if self.breaker_failures and (self.breaker_window <= 0 or self.breaker_cooldown <= 0):
            raise ValueError("a circuit breaker needs a positive window and cooldown")

    def delay(self, failures: int) -> float:
        """Seconds to wait before the next attempt after `failures` failed attempts (>= 1)."""
        n = max(1, failures)
        return min(self.max_backoff, self.backoff * self.backoff_factor ** (n - 1))


@dataclass(slots=True)
class Registration:
    name: str
    handler: Handler
    policy: ConnectorPolicy
    source: str                           # "decorator <module>" | "entry point <dist> ..."
    breaker: CircuitBreaker | None = None
    description: str | None = None


@dataclass(slots=True)
class DiscoveryProblem:
    """A plug-in that could not be loaded; the engine runs on without it."""

    name: str
    source: str
    error: str


def _describe(handler: Any) -> str | None:
    doc = getattr(handler, "__doc__", None)
    if not doc:
        return None
    return doc.strip().splitlines()[0].strip() or None


def _breaker_for(name: str, policy: ConnectorPolicy) -> CircuitBreaker | None:
    if not policy.breaker_failures:
        return None
    return CircuitBreaker(name, policy.breaker_failures, policy.breaker_window,
                          policy.breaker_cooldown)


class Registry:
    """Connector names to registrations, plus named functions for the `python` connector.

    `discover=True` (the process-wide registry) loads built-ins, entry points and
    `BATON_CONNECTOR_MODULES` on first lookup; a registry made by a test or an embedding
    application holds only what it is given, unless it calls `discover()` itself.
    """

    def __init__(self, *, discover: bool = False) -> None:
        self._items: dict[str, Registration] = {}
        self.functions: dict[str, tuple[Callable[..., Any], str]] = {}
        self.problems: list[DiscoveryProblem] = []
        self._auto = discover
        self._discovered = False
        self._lock = threading.RLock()

    # ---------------------------------------------------------------- registering
    def register(self, name: str, handler: Any, policy: ConnectorPolicy | None = None,
                 source: str | None = None) -> Registration:
        """Register `handler` (a function, a callable object, or a class to instantiate with
        no arguments) under `name`, replacing any earlier registration of that name."""
        if not name or not isinstance(name, str) or name != name.strip():
            raise ValueError(f"a connector needs a non-empty name without surrounding "
                             f"spaces, not {name!r}")
        target = handler
        if isinstance(handler, type):
            if policy is None and isinstance(getattr(handler, "policy", None), ConnectorPolicy):
                policy = handler.policy
            handler = handler()
        if not callable(handler):
            raise TypeError(f"connector '{name}': {type(handler).__name__} is not callable "
                            "(give a function, or a class with __call__(self, ctx))")
        policy = policy or ConnectorPolicy()
        reg = Registration(name, handler, policy,
                           source or f"decorator {getattr(target, '__module__', '?')}",
                           _breaker_for(name, policy), _describe(target))
        with self._lock:
            self._items[name] = reg
        return reg

    def register_function(self, name: str, fn: Callable[..., Any],
                          source: str | None = None) -> None:
        """A function the built-in `python` connector may call by name."""
        if not name or not isinstance(name, str):
            raise ValueError("a function needs a non-empty name")
        if not callable(fn):
            raise TypeError(f"function '{name}' is not callable")
        with self._lock:
            self.functions[name] = (fn, source or f"decorator {getattr(fn, '__module__', '?')}")

    def unregister(self, name: str) -> None:
        with self._lock:
            self._items.pop(name, None)

    # ---------------------------------------------------------------- lookup
    def get(self, name: str) -> Registration | None:
        if self._auto and not self._discovered:
            self.discover()
        return self._items.get(name)

    def function(self, name: str) -> Callable[..., Any] | None:
        if self._auto and not self._discovered:
            self.discover()
        got = self.functions.get(name)
        return got[0] if got else None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def all(self) -> list[Registration]:
        if self._auto and not self._discovered:
            self.discover()
        return sorted(self._items.values(), key=lambda r: r.name)

    # ---------------------------------------------------------------- discovery
    def discover(self, *, builtins: bool = True, entry_points: bool = True,
                 modules: bool = True) -> list[DiscoveryProblem]:
        """Load built-ins, `baton.connectors` / `baton.functions` entry points and the
        modules in `BATON_CONNECTOR_MODULES`. Idempotent; returns the problems found."""
        with self._lock:
            if self._discovered:
                return list(self.problems)
            self._discovered = True   # set first: a plug-in that looks itself up must not loop
            if builtins:
                from connectors.builtin import register_builtins

                register_builtins(self)
            if modules:
                self._import_modules(os.environ.get(MODULES_ENV, ""))
            if entry_points:
                self.load_entry_points()
            return list(self.problems)

    def _import_modules(self, spec: str) -> None:
        for module in (m.strip() for m in spec.split(",")):
            if not module:
                continue
            try:
                importlib.import_module(module)
            except Exception as e:  # noqa: BLE001 - a broken plug-in must not stop the engine
                self._problem(module, f"module {module} ({MODULES_ENV})", e)

    def load_entry_points(self, group: str = ENTRY_POINT_GROUP,
                          function_group: str = FUNCTION_GROUP) -> None:
        """Register every handler that installed packages declare in `group`, and every
        function declared in `function_group`. A name already registered explicitly is
        kept (and the shadowed entry point noted in `problems`)."""
        for ep in metadata.entry_points(group=group):
            source = _ep_source(ep)
            try:
                target = ep.load()
            except Exception as e:  # noqa: BLE001
                self._problem(ep.name, source, e)
                continue
            existing = self._items.get(ep.name)
            if existing is not None and not _same_handler(existing, target):
                self.problems.append(DiscoveryProblem(
                    ep.name, source, f"not loaded: '{ep.name}' is already registered by "
                                     f"{existing.source}"))
                continue
            marked = getattr(target, "__baton_connector__", None)
            policy = marked[1] if marked else None
            try:
                self.register(ep.name, target, policy, source)
            except Exception as e:  # noqa: BLE001
                self._problem(ep.name, source, e)
        for ep in metadata.entry_points(group=function_group):
            source = _ep_source(ep)
            try:
                self.register_function(ep.name, ep.load(), source)
            except Exception as e:  # noqa: BLE001
                self._problem(ep.name, source, e)

    def _problem(self, name: str, source: str, error: BaseException) -> None:
        message = f"{type(error).__name__}: {error}"
        log.warning("connector plug-in %s from %s not loaded: %s", name, source, message)
        self.problems.append(DiscoveryProblem(name, source, message))


def _ep_source(ep: metadata.EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    where = f"{dist.name} {dist.version}" if dist is not None else "unknown package"
    return f"entry point {where} ({ep.value})"


def _same_handler(reg: Registration, target: Any) -> bool:
    if reg.handler is target:
        return True
    return isinstance(target, type) and isinstance(reg.handler, target)


registry = Registry(discover=True)


def connector(name: str, *, registry_: Registry | None = None, **policy: Any) -> Callable[[Any], Any]:
    """Decorator: `@connector("fraud-score", retries=5, timeout=2.0)` on a function taking a
    `ConnectorContext`, or on a class whose instances are such callables. Policy keywords
    are `ConnectorPolicy`'s fields; a class may instead carry a `policy` attribute."""
    made = ConnectorPolicy(**policy) if policy else None

    def wrap(handler: Any) -> Any:
        target_registry = registry_ if registry_ is not None else registry
        target_registry.register(name, handler, made)
        try:
            handler.__baton_connector__ = (name, made)
        except (AttributeError, TypeError):
            pass
        return handler

    return wrap


def function(name: str, *, registry_: Registry | None = None) -> Callable[[Any], Any]:
    """Decorator: make a function callable from the built-in `python` connector by name."""

    def wrap(fn: Any) -> Any:
        (registry_ if registry_ is not None else registry).register_function(name, fn)
        return fn

    return wrap
