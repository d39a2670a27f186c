"""The behaviour contract: one class per BPMN node kind (compare Camunda 7's ActivityBehavior).

`enter` runs when a token arrives at the node; `resume` when a wait state is triggered
(task completed, async job ran). Cancelling is uniform and lives in `Run.cancel`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.runtime.errors import RuntimeFailure

if TYPE_CHECKING:
    from engine.graph import Node
    from engine.runtime.run import Run
    from engine.runtime.state import Token


class Behavior:
    kind = ""

    def enter(self, run: Run, token: Token, node: Node) -> None:
        run.leave(token)

    def resume(self, run: Run, token: Token, node: Node, variables: dict[str, Any],
               local: bool = False) -> None:
        raise RuntimeFailure(f"{node.label} is not waiting for completion", node.id)


class PassThrough(Behavior):
    """Elements that do their work and leave at once (task, manualTask, boundary event)."""
