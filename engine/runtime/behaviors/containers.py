"""Embedded subprocesses and event subprocesses: containers that open a scope."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.runtime.behaviors.base import Behavior
from engine.runtime.errors import RuntimeFailure

if TYPE_CHECKING:
    from engine.graph import Node
    from engine.runtime.run import Run
    from engine.runtime.state import Token


class SubProcess(Behavior):
    """An embedded subprocess (a transaction too): opens its scope, starts its start events."""

    def enter(self, run: Run, token: Token, node: Node) -> None:
        scope = run.enter_scope(token, node)
        starts = node.start_nodes
        if not starts:
            raise RuntimeFailure(f"{node.label}: no start event inside", node.id)
        for s in starts:
            run.new_token(s, scope.id)


class AdHocSubProcess(Behavior):
    """An ad-hoc subprocess: opens its scope and starts nothing; its activities are started
    on request (see engine/runtime/adhoc.py)."""

    def enter(self, run: Run, token: Token, node: Node) -> None:
        run.enter_scope(token, node)


class EventSubProcess(Behavior):
    """Never entered by a sequence flow: started by `Run.trigger_event_subprocess`."""

    def enter(self, run: Run, token: Token, node: Node) -> None:
        raise RuntimeFailure(f"{node.label}: an event subprocess cannot be entered by a flow",
                             node.id)
