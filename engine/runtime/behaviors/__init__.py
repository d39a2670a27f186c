"""One behaviour per BPMN node kind, looked up by the node's kind."""

from __future__ import annotations

from engine.runtime.behaviors.base import Behavior
from engine.runtime.behaviors.containers import EventSubProcess, SubProcess
from engine.runtime.behaviors.events import (
    BoundaryEvent,
    EndEvent,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    StartEvent,
)
from engine.runtime.behaviors.gateways import (
    EventBasedGateway,
    ExclusiveGateway,
    InclusiveGateway,
    ParallelGateway,
)
from engine.runtime.behaviors.tasks import (
    BusinessRuleTask,
    CallActivity,
    ManualTask,
    ReceiveTask,
    ScriptTask,
    SendTask,
    ServiceTask,
    Task,
    UserTask,
)

BEHAVIORS: dict[str, Behavior] = {
    b.kind: b
    for b in (
        StartEvent(), EndEvent(), IntermediateCatchEvent(), IntermediateThrowEvent(),
        BoundaryEvent(), Task(), ManualTask(), UserTask(), ServiceTask(), SendTask(),
        BusinessRuleTask(), ReceiveTask(), ScriptTask(), CallActivity(), ExclusiveGateway(),
        ParallelGateway(), InclusiveGateway(), EventBasedGateway(), SubProcess(),
        EventSubProcess(),
    )
}
