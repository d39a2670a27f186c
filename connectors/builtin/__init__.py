"""Connectors that ship with Baton: `http` and `python`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connectors.registry import Registry


def register_builtins(registry: Registry) -> None:
    """Add the built-ins to `registry`, keeping any name it already holds (a deployment may
    replace a built-in with its own handler of the same name)."""
    from connectors.builtin.http import HttpConnector
    from connectors.builtin.python import PythonConnector

    for name, factory in (("http", HttpConnector), ("python", lambda: PythonConnector(registry))):
        if registry._items.get(name) is None:
            handler = factory()
            registry.register(name, handler, handler.policy, source="built-in")
