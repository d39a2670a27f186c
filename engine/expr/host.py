"""Host functions: trusted Python that diagram scripts and expressions may call by name.

Why: diagrams often need a little domain logic that a diagram's own small functions
(`def`, `lambda`, run inside the sandbox) cannot provide: a tax rule kept in one place, a
lookup in the host's data, a formatting helper shared by many diagrams.
A developer registers such functions; a script then calls them like builtins -
`c1 = custom_function('hello')`, `${vat(amount)}` - the way SpiffWorkflow's script engine
takes injected globals and Camunda's scripts reach beans. Three ways in:

- `Engine(script_functions={"vat": vat})` or `engine.script_functions["vat"] = vat`: that
  engine only (checked first);
- `@script_function()` / `@script_function("vat")` on a module-level function, or
  `script_functions.register("vat", vat)`: every engine of the process;
- an installed package's entry point in the group `baton.script_functions`, loaded on first
  use (modules named in `BATON_CONNECTOR_MODULES` are imported then too, so their
  decorators run).

The sandbox stays shut: only a *call* of a bare name that is not a safe builtin and not a
name the script assigns is resolved here, when it runs; a registered function is never a
value (`f = vat`, `map(vat, xs)` read a variable called `vat`), so it cannot reach process
variables. Its result must be data (numbers, text, dates, and lists, tuples, sets and dicts
of them) within the sandbox's size limits; a function, class, module or other object in it is
refused. An unregistered name fails with an error naming it. Registered
functions run inside the engine's command (its transaction; a retried command calls them
again), so they should be quick and free of side effects a retry could repeat; the diagram
decides the arguments, so treat them as untrusted input.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from importlib import metadata
from typing import Any

from engine.expr.errors import BudgetExhausted, GuardError
from engine.expr.guards import MAX_INT_BITS, MAX_LENGTH, charge

log = logging.getLogger("baton.script_functions")

ENTRY_POINT_GROUP = "baton.script_functions"
CALL_HELPER = "__baton_call"

# The engine's own functions while one of its commands runs (set by Engine._execute only
# when it has some, so an engine without them pays nothing).
ENGINE_FUNCTIONS: ContextVar[Mapping[str, Callable[..., Any]] | None] = ContextVar(
    "baton_script_functions", default=None)


def check_name(name: Any) -> str:
    """A name scripts can call: an identifier not starting with '_'."""
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        raise ValueError(f"a script function needs a name scripts can call (letters, digits "
                         f"and underscores, not starting with a digit or '_'), not {name!r}")
    return name


def checked_functions(functions: Mapping[str, Callable[..., Any]] | None
                      ) -> dict[str, Callable[..., Any]]:
    """An engine's own functions (`Engine(script_functions=...)`), names and values vetted."""
    if functions is None:
        return {}
    if not isinstance(functions, Mapping):
        raise TypeError("script_functions must map names to functions")
    out = {}
    for name, fn in functions.items():
        check_name(name)
        if not callable(fn) or isinstance(fn, type):
            raise TypeError(f"script function '{name}' must be a function, not "
                            f"{type(fn).__name__}")
        out[name] = fn
    return out


class ScriptFunctions:
    """Names to trusted functions; `discover=True` loads entry points on first lookup."""

    def __init__(self, *, discover: bool = False) -> None:
        self._functions: dict[str, Callable[..., Any]] = {}
        self.problems: list[str] = []
        self._auto = discover
        self._discovered = False
        self._lock = threading.RLock()
        # run before the entry points load: the engine adds the connector registry's own
        # discovery (BATON_CONNECTOR_MODULES may register script functions), so this module,
        # which the sandbox imports, needs no import of the connectors package
        self.discovery_hooks: list[Callable[[], object]] = []

    def register(self, name: str, fn: Callable[..., Any]) -> None:
        """Make `fn` callable from scripts as `name(...)` (replacing an earlier one)."""
        check_name(name)
        if not callable(fn) or isinstance(fn, type):
            raise TypeError(f"script function '{name}' must be a function, not "
                            f"{type(fn).__name__}")
        with self._lock:
            self._functions[name] = fn

    def unregister(self, name: str) -> None:
        with self._lock:
            self._functions.pop(name, None)

    def get(self, name: str) -> Callable[..., Any] | None:
        if self._auto and not self._discovered:
            self.discover()
        return self._functions.get(name)

    def names(self) -> list[str]:
        if self._auto and not self._discovered:
            self.discover()
        return sorted(self._functions)

    def discover(self) -> list[str]:
        """Import `BATON_CONNECTOR_MODULES` (through the connector registry) and load the
        `baton.script_functions` entry points; names registered explicitly win. A plug-in
        that fails to load is logged and kept in `problems`, never fatal."""
        with self._lock:
            if self._discovered:
                return list(self.problems)
            self._discovered = True
            for hook in list(self.discovery_hooks):
                hook()
            for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
                if ep.name in self._functions:
                    continue
                try:
                    self.register(ep.name, ep.load())
                except Exception as e:  # noqa: BLE001 - a broken plug-in must not stop Baton
                    message = f"{ep.name} ({ep.value}): {type(e).__name__}: {e}"
                    log.warning("script function not loaded: %s", message)
                    self.problems.append(message)
            return list(self.problems)


script_functions = ScriptFunctions(discover=True)


def script_function(name: str | None = None, *,
                    registry: ScriptFunctions | None = None) -> Callable[[Any], Any]:
    """Decorator: `@script_function()` registers the function under its own name,
    `@script_function("vat")` under another (in `registry`, default the process-wide one)."""

    def wrap(fn: Any) -> Any:
        (registry if registry is not None else script_functions).register(
            name or getattr(fn, "__name__", ""), fn)
        return fn

    return wrap


# ---------------------------------------------------------------------------- the sandbox's side
def resolve(name: str) -> Callable[..., Any]:
    """The function a script's `name(...)` calls: the engine's own, else a registered one."""
    own = ENGINE_FUNCTIONS.get()
    fn = own.get(name) if own is not None else None
    if fn is None:
        fn = script_functions.get(name)
    if fn is None:
        raise GuardError(f"unknown function {name!r}: it is not a builtin Baton scripts "
                         "offer, and no script function of that name is registered "
                         "(Engine(script_functions=...) or @script_function)")
    return fn


def call(name: str, /, *args: Any, **kwargs: Any) -> Any:
    """`name(*args, **kwargs)` as compiled scripts run it (`__baton_call`)."""
    fn = resolve(name)
    try:
        result = fn(*args, **kwargs)
    except (GuardError, BudgetExhausted):
        raise
    except Exception as e:
        raise GuardError(f"script function {name!r} raised {type(e).__name__}: {e}") from e
    return _checked_result(name, result)


_SCALARS = (type(None), bool, int, float, complex, str, bytes, decimal.Decimal, uuid.UUID,
            _dt.date, _dt.time, _dt.timedelta, _dt.timezone)
_CONTAINERS = (list, tuple, set, frozenset, dict)


def _checked_result(name: str, result: Any) -> Any:
    """The sandbox's limits on what a host function hands back: data only (numbers, text,
    dates, and lists/tuples/sets/dicts of them, however nested), within the size limits -
    never a function, class, module or other object a script could reach further through."""
    stack = [result]
    seen = 0
    while stack:
        value = stack.pop()
        seen += 1
        if seen > MAX_LENGTH:
            raise GuardError(f"script function {name!r} returned more than {MAX_LENGTH} "
                             "values in all")
        if isinstance(value, _SCALARS) and not isinstance(value, type):
            _check_size(name, value)
            continue
        if type(value) in _CONTAINERS or isinstance(value, _CONTAINERS):
            _check_size(name, value)
            stack.extend(value.keys() if isinstance(value, dict) else value)
            if isinstance(value, dict):
                stack.extend(value.values())
            continue
        raise GuardError(f"script function {name!r} returned {type(value).__name__}; script "
                         "functions must return data (numbers, text, dates, and lists or "
                         "dicts of them)")
    return result


def _check_size(name: str, value: Any) -> None:
    if type(value) is int and value.bit_length() > MAX_INT_BITS:
        raise GuardError(f"script function {name!r} returned an integer of "
                         f"{value.bit_length()} bits (the limit is {MAX_INT_BITS})")
    if isinstance(value, str | bytes | list | tuple | dict | set | frozenset):
        if len(value) > MAX_LENGTH:
            raise GuardError(f"script function {name!r} returned {len(value)} characters or "
                             f"items (the limit is {MAX_LENGTH})")
        charge(len(value))


HOST_GLOBALS: dict[str, Any] = {CALL_HELPER: call}
