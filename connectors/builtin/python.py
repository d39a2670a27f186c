"""The built-in `python` connector: call a registered Python function by name.

Inputs:

    function        required: a name given with `@function("name")` or declared in the
                    entry-point group `baton.functions`
    arguments       dict of keyword arguments (default: none)
    resultVariable  where a non-dict result goes (default "result")

Only registered functions can be called, never a dotted import path from the diagram: a
diagram must not be able to run `os.system`. A function that declares a parameter named
`ctx` also receives the `ConnectorContext` (for the idempotency key, secrets, logger).
A dict result becomes the output variables; anything else goes to `resultVariable`.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from connectors.errors import ConnectorError
from connectors.registry import ConnectorContext, ConnectorPolicy

if TYPE_CHECKING:
    from connectors.registry import Registry


class PythonConnector:
    """Call a registered Python function by name (see the module docstring)."""

    policy = ConnectorPolicy(timeout=60.0, retries=3, backoff=10.0)

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def __call__(self, ctx: ConnectorContext) -> dict[str, Any]:
        v = ctx.variables
        name = v.get("function")
        if not isinstance(name, str) or not name:
            raise ConnectorError("python connector: input 'function' is required "
                                 "(the name of a registered function)")
        fn = self.registry.function(name)
        if fn is None:
            known = ", ".join(sorted(self.registry.functions)) or "none"
            raise ConnectorError(f"python connector: no function named '{name}' is registered "
                                 f"(registered: {known})")
        args = v.get("arguments") or {}
        if not isinstance(args, Mapping) or not all(isinstance(k, str) for k in args):
            raise ConnectorError("python connector: input 'arguments' must be a map of "
                                 "argument names to values")
        kwargs = dict(args)
        if _takes_ctx(fn):
            kwargs["ctx"] = ctx
        try:
            inspect.signature(fn).bind(**kwargs)
        except TypeError as e:
            raise ConnectorError(f"python connector: function '{name}' cannot take these "
                                 f"arguments: {e}") from None
        except ValueError:
            pass   # builtins without a signature: let the call decide
        result = fn(**kwargs)
        if isinstance(result, Mapping):
            return dict(result)
        target = v.get("resultVariable") or "result"
        if not isinstance(target, str) or not target.isidentifier():
            raise ConnectorError(f"python connector: resultVariable {target!r} is not a "
                                 "variable name")
        return {target: result}


def _takes_ctx(fn: Any) -> bool:
    try:
        return "ctx" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
