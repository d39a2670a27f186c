"""One behaviour per BPMN node kind, looked up by the node's kind.

`BEHAVIORS` (kind -> behaviour instance) is built from the element table
(`engine.bpmn.elements.BEHAVIOR_OF_KIND`, which names each kind's class) and the classes
the behaviour modules below register (`BEHAVIOR_CLASSES`). A kind the table lists without a
class stops the import, so a half-added element fails at once rather than when a token
first reaches it.
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.bpmn.elements import BEHAVIOR_OF_KIND

# imported for their classes, which register themselves in BEHAVIOR_CLASSES
from engine.runtime.behaviors import complex_gateway, containers, events, gateways, tasks
from engine.runtime.behaviors.base import BEHAVIOR_CLASSES, Behavior

MODULES = (complex_gateway, containers, events, gateways, tasks)


def build_behaviors(behavior_of_kind: Mapping[str, str],
                    classes: Mapping[str, type[Behavior]]) -> dict[str, Behavior]:
    """kind -> behaviour; one instance per class (behaviours hold no state), shared by the
    kinds the table gives the same class. Raises ImportError naming every missing class."""
    missing = sorted(f"{kind} -> {name}" for kind, name in behavior_of_kind.items()
                     if name not in classes)
    if missing:
        raise ImportError("the element table names behaviour classes that do not exist: "
                          + ", ".join(missing))
    instances: dict[str, Behavior] = {}
    for name in dict.fromkeys(behavior_of_kind.values()):
        instances[name] = classes[name]()
    return {kind: instances[name] for kind, name in behavior_of_kind.items()}


BEHAVIORS: dict[str, Behavior] = build_behaviors(BEHAVIOR_OF_KIND, BEHAVIOR_CLASSES)

__all__ = ["BEHAVIORS", "BEHAVIOR_CLASSES", "Behavior", "MODULES", "build_behaviors"]
