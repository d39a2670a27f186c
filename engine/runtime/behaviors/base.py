"""The behaviour contract: one class per BPMN node kind (compare Camunda 7's ActivityBehavior).

`enter` runs when a token arrives at the node; `resume` when a wait state is triggered
(task completed, async job ran). Cancelling is uniform and lives in `Run.cancel`.

Which class runs which node kind is the element table's call (`engine.bpmn.elements`, by
class name): every subclass registers itself in `BEHAVIOR_CLASSES` when its module is
imported, so adding an element needs no list kept here besides the class itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.runtime.errors import RuntimeFailure

if TYPE_CHECKING:
    from engine.graph import Node
    from engine.runtime.run import Run
    from engine.runtime.state import Token

# class name -> class, for every Behavior subclass defined so far
BEHAVIOR_CLASSES: dict[str, type[Behavior]] = {}


class Behavior:
    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__name__
        if BEHAVIOR_CLASSES.get(name, cls) is not cls:
            raise TypeError(f"two behaviour classes are named {name}; the element table "
                            "names behaviours by class name, so they must differ")
        BEHAVIOR_CLASSES[name] = cls

    def enter(self, run: Run, token: Token, node: Node) -> None:
        run.leave(token)

    def resume(self, run: Run, token: Token, node: Node, variables: dict[str, Any],
               local: bool = False) -> None:
        raise RuntimeFailure(f"{node.label} is not waiting for completion", node.id)


class PassThrough(Behavior):
    """Elements that do their work and leave at once (task, manualTask, boundary event)."""
