"""The element table: every BPMN flow node Baton knows, in one place.

Adding a BPMN element is one `ElementSpec` in `ELEMENTS` plus one behaviour class in
`engine.runtime.behaviors`. Everything else that used to be a hand-kept list is derived
from the table here: the tags the compiler walks, the tag -> node kind mapping, the field
readers each element gets (`engine.bpmn.nodes.READERS`), the kind sets the compiler,
validation and runtime test against, the wait states a token can rest in, and the node
kind -> behaviour dispatch (`engine.runtime.behaviors.BEHAVIORS`). Kept separate lists
drift: a kind added to the parser but not to the runtime only failed when an instance
reached it; now the runtime refuses to import.

The module is a leaf (standard library only) so that the runtime can read it without
pulling the compiler into its import graph, and so that `engine.graph` stays free of it.
The table names behaviours by class name rather than importing them: the compiler must not
depend on the runtime.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

# categories (BPMN 2.0.2 flow node classes)
EVENT = "event"
ACTIVITY = "activity"
GATEWAY = "gateway"
CHOREOGRAPHY = "choreography"

# flags
CATCH = "catch"          # an event that waits for its trigger
THROW = "throw"          # an event that throws its result (and never catches)
JOIN = "join"            # a gateway that synchronises several incoming tokens
CONTAINER = "container"  # holds flow nodes of its own (the compiler walks into it)
TRIGGERED = "triggered"  # entered by an event, never by a sequence flow nor as implicit start

# Event definitions per event element (BPMN 2.0.2, table 10.83 ff.) that Baton runs.
_START_TYPES = frozenset({"none", "message", "timer", "signal", "conditional", "error",
                          "escalation", "compensate"})
_END_TYPES = frozenset({"none", "message", "signal", "error", "escalation", "terminate",
                        "cancel", "compensate"})
_CATCH_TYPES = frozenset({"message", "timer", "signal", "conditional", "link"})
_THROW_TYPES = frozenset({"none", "message", "signal", "escalation", "compensate", "link"})
_BOUNDARY_TYPES = frozenset({"message", "timer", "signal", "conditional", "error",
                             "escalation", "compensate", "cancel"})

# Field readers (by name, see engine.bpmn.nodes.READERS) shared by element groups.
_ACTIVITY_READERS = ("loop", "spiff_scripts", "compensation", "quantities", "data_stores")
_TASK_READERS = ("io_specification", *_ACTIVITY_READERS)
_SERVICE_READERS = (*_TASK_READERS, "implementation")


@dataclass(frozen=True, slots=True, kw_only=True)
class ElementSpec:
    """One BPMN element: how it is read, what node kind it becomes, what runs it.

    `parse` names the field readers the element gets on top of those every flow node gets
    (execution listeners, async flags, input/output mappings); they run in the order of
    `engine.bpmn.nodes.READERS`, whatever the order here. `kind` None marks an element Baton
    knows but cannot run: it is refused with a clear message rather than as unknown.
    """

    tag: str                                  # local name in the BPMN model namespace
    kind: str | None                          # Node.kind it compiles to
    category: str                             # EVENT | ACTIVITY | GATEWAY | CHOREOGRAPHY
    behavior: str | None = None               # runtime Behavior class name for the kind
    parse: tuple[str, ...] = ()               # field readers (engine.bpmn.nodes.READERS)
    flags: frozenset[str] = frozenset()
    when: str | None = None                   # this entry only when this attribute is "true"
    event_types: frozenset[str] = frozenset()  # events: the definitions it may carry
    interrupting_attr: str | None = None      # events: attribute that says "interrupting"
    waits: tuple[str, ...] = ()               # Token.wait values its behaviour rests in
    # Token.wait values in which its token holds the element open for something else (a
    # called instance): not a wait state of this instance, so never listed as `waiting`
    holds: tuple[str, ...] = ()
    marks: tuple[tuple[str, bool], ...] = ()  # entries every such node carries in Node.ext


ELEMENTS: tuple[ElementSpec, ...] = (
    # events
    ElementSpec(tag="startEvent", kind="startEvent", category=EVENT, behavior="StartEvent",
                parse=("event",), flags=frozenset({CATCH}), event_types=_START_TYPES,
                interrupting_attr="isInterrupting"),
    ElementSpec(tag="endEvent", kind="endEvent", category=EVENT, behavior="EndEvent",
                parse=("event",), flags=frozenset({THROW}), event_types=_END_TYPES,
                waits=("external",)),
    ElementSpec(tag="intermediateCatchEvent", kind="intermediateCatchEvent", category=EVENT,
                behavior="IntermediateCatchEvent", parse=("event",), flags=frozenset({CATCH}),
                event_types=_CATCH_TYPES, waits=("catch",)),
    ElementSpec(tag="intermediateThrowEvent", kind="intermediateThrowEvent", category=EVENT,
                behavior="IntermediateThrowEvent", parse=("event",), flags=frozenset({THROW}),
                event_types=_THROW_TYPES, waits=("external",)),
    ElementSpec(tag="boundaryEvent", kind="boundaryEvent", category=EVENT,
                behavior="BoundaryEvent", parse=("event",),
                flags=frozenset({CATCH, TRIGGERED}), event_types=_BOUNDARY_TYPES,
                interrupting_attr="cancelActivity"),
    # activities
    ElementSpec(tag="task", kind="task", category=ACTIVITY, behavior="Task",
                parse=_TASK_READERS),
    ElementSpec(tag="manualTask", kind="manualTask", category=ACTIVITY, behavior="ManualTask",
                parse=_TASK_READERS),
    ElementSpec(tag="userTask", kind="userTask", category=ACTIVITY, behavior="UserTask",
                parse=(*_TASK_READERS, "user_task"), waits=("user",)),
    ElementSpec(tag="serviceTask", kind="serviceTask", category=ACTIVITY,
                behavior="ServiceTask", parse=_SERVICE_READERS, waits=("external",)),
    ElementSpec(tag="sendTask", kind="sendTask", category=ACTIVITY, behavior="SendTask",
                parse=(*_SERVICE_READERS, "message"), waits=("external",)),
    ElementSpec(tag="businessRuleTask", kind="businessRuleTask", category=ACTIVITY,
                behavior="BusinessRuleTask", parse=_SERVICE_READERS, waits=("external",)),
    ElementSpec(tag="receiveTask", kind="receiveTask", category=ACTIVITY,
                behavior="ReceiveTask", parse=(*_TASK_READERS, "message", "instantiate"),
                waits=("receive",)),
    ElementSpec(tag="scriptTask", kind="scriptTask", category=ACTIVITY, behavior="ScriptTask",
                parse=(*_TASK_READERS, "script")),
    ElementSpec(tag="callActivity", kind="callActivity", category=ACTIVITY,
                behavior="CallActivity", parse=(*_TASK_READERS, "call_activity"),
                holds=("call",)),
    # (an event subprocess is a subProcess with triggeredByEvent="true": its entry comes
    # first so that it wins; it reads no ioSpecification, as before the table)
    ElementSpec(tag="subProcess", kind="eventSubProcess", category=ACTIVITY,
                behavior="EventSubProcess", parse=_ACTIVITY_READERS,
                flags=frozenset({CONTAINER, TRIGGERED}), when="triggeredByEvent"),
    ElementSpec(tag="subProcess", kind="subProcess", category=ACTIVITY, behavior="SubProcess",
                parse=_TASK_READERS, flags=frozenset({CONTAINER})),
    ElementSpec(tag="transaction", kind="subProcess", category=ACTIVITY, behavior="SubProcess",
                parse=_TASK_READERS, flags=frozenset({CONTAINER}),
                marks=(("transaction", True),)),
    ElementSpec(tag="adHocSubProcess", kind="adHocSubProcess", category=ACTIVITY,
                behavior="AdHocSubProcess", parse=(*_TASK_READERS, "adhoc"),
                flags=frozenset({CONTAINER})),
    # gateways
    ElementSpec(tag="exclusiveGateway", kind="exclusiveGateway", category=GATEWAY,
                behavior="ExclusiveGateway"),
    ElementSpec(tag="parallelGateway", kind="parallelGateway", category=GATEWAY,
                behavior="ParallelGateway", flags=frozenset({JOIN})),
    ElementSpec(tag="inclusiveGateway", kind="inclusiveGateway", category=GATEWAY,
                behavior="InclusiveGateway", flags=frozenset({JOIN})),
    ElementSpec(tag="eventBasedGateway", kind="eventBasedGateway", category=GATEWAY,
                behavior="EventBasedGateway", parse=("instantiate",), waits=("eventgw",)),
    ElementSpec(tag="complexGateway", kind="complexGateway", category=GATEWAY,
                behavior="ComplexGateway", parse=("activation",), flags=frozenset({JOIN})),
    # flow nodes Baton knows but cannot run
    ElementSpec(tag="callChoreography", kind=None, category=CHOREOGRAPHY),
    ElementSpec(tag="choreographyTask", kind=None, category=CHOREOGRAPHY),
    ElementSpec(tag="subChoreography", kind=None, category=CHOREOGRAPHY),
)

# BPMN elements that may sit inside a process or subprocess without being run: not flow
# nodes, so they have no kind and no behaviour (the compiler reads some of them elsewhere).
PASSIVE_TAGS = frozenset({
    "documentation", "extensionElements", "auditing", "monitoring", "property", "laneSet",
    "sequenceFlow", "dataObject", "dataObjectReference", "dataStoreReference", "association",
    "textAnnotation", "group", "ioSpecification", "ioBinding", "correlationSubscription",
    "supports", "resourceRole", "performer", "humanPerformer", "potentialOwner",
    "categoryValueRef", "dataInput", "dataOutput", "inputSet", "outputSet",
    # children of a subProcess as an activity
    "incoming", "outgoing", "multiInstanceLoopCharacteristics", "standardLoopCharacteristics",
    "dataInputAssociation", "dataOutputAssociation",
    # an ad-hoc subprocess's own (read by its reader)
    "completionCondition",
})


def index_by_tag(elements: tuple[ElementSpec, ...]) -> Mapping[str, tuple[ElementSpec, ...]]:
    """tag -> its entries, conditional ones (`when`) first so they are tried first."""
    found: dict[str, list[ElementSpec]] = {}
    for spec in elements:
        found.setdefault(spec.tag, []).append(spec)
    for tag, specs in found.items():
        if sum(1 for s in specs if s.when is None) != 1:
            raise ValueError(f"element table: '{tag}' needs exactly one entry without `when`")
    return MappingProxyType({tag: tuple(sorted(specs, key=lambda s: s.when is None))
                             for tag, specs in found.items()})


def behaviors_by_kind(elements: tuple[ElementSpec, ...]) -> Mapping[str, str]:
    """kind -> behaviour class name; several tags may share a kind, never two behaviours."""
    found: dict[str, str] = {}
    for spec in elements:
        if spec.kind is None:
            continue
        if spec.behavior is None:
            raise ValueError(f"element table: '{spec.tag}' has kind '{spec.kind}' but no "
                             "behaviour")
        if found.setdefault(spec.kind, spec.behavior) != spec.behavior:
            raise ValueError(f"element table: kind '{spec.kind}' is run by both "
                             f"{found[spec.kind]} and {spec.behavior}")
    return MappingProxyType(found)


def _kinds(category: str | None = None, flag: str | None = None) -> frozenset[str]:
    return frozenset(spec.kind for spec in ELEMENTS if spec.kind is not None
                     and (category is None or spec.category == category)
                     and (flag is None or flag in spec.flags))


BY_TAG = index_by_tag(ELEMENTS)
BEHAVIOR_OF_KIND = behaviors_by_kind(ELEMENTS)

# tags
FLOW_NODE_TAGS = frozenset(BY_TAG)          # what sequence flows may connect
UNSUPPORTED_TAGS = frozenset(spec.tag for spec in ELEMENTS if spec.kind is None)
CONTAINER_TAGS = frozenset(spec.tag for spec in ELEMENTS if CONTAINER in spec.flags)

# node kinds
KINDS = frozenset(BEHAVIOR_OF_KIND)
EVENT_KINDS = _kinds(EVENT)
ACTIVITY_KINDS = _kinds(ACTIVITY)           # what a boundary event may be attached to
GATEWAY_KINDS = _kinds(GATEWAY)
CATCH_KINDS = _kinds(EVENT, CATCH)
THROW_KINDS = _kinds(EVENT, THROW)
JOIN_KINDS = _kinds(GATEWAY, JOIN)
CONTAINER_KINDS = _kinds(flag=CONTAINER)    # open a scope of their own
TRIGGERED_KINDS = _kinds(flag=TRIGGERED)    # never entered by a flow, never implicit starts

# event element kind -> event definition types it may carry
EVENT_TYPES: Mapping[str, frozenset[str]] = MappingProxyType(
    {spec.kind: spec.event_types for spec in ELEMENTS
     if spec.kind is not None and spec.category == EVENT})

# every Token.wait value that means "waiting for something outside" at an element: what
# `Engine.instance(id).waiting` lists (elements holding a token in a wait state, never
# containers, boundary events or call activities)
WAIT_STATES = frozenset(wait for spec in ELEMENTS for wait in spec.waits)
# Token.wait values of elements that hold their token while another instance runs (a call
# activity: where its child waits is the child's own `waiting`, reached through
# `InstanceView.called`)
HOLD_STATES = frozenset(hold for spec in ELEMENTS for hold in spec.holds)


def element_spec(tag: str, attributes: Mapping[str, str]) -> ElementSpec | None:
    """The entry for an element with this tag and these attributes; None if not a flow
    node. `attributes` is read for `when` only (lxml elements are such a mapping)."""
    specs = BY_TAG.get(tag)
    if specs is None:
        return None
    for spec in specs:
        if spec.when is None or (attributes.get(spec.when) or "").strip().lower() == "true":
            return spec
    return specs[-1]  # (unreachable: the last entry has no `when`)


__all__ = [
    "ACTIVITY", "ACTIVITY_KINDS", "BEHAVIOR_OF_KIND", "BY_TAG", "CATCH", "CATCH_KINDS",
    "CHOREOGRAPHY", "CONTAINER", "CONTAINER_KINDS", "CONTAINER_TAGS", "ELEMENTS", "EVENT",
    "EVENT_KINDS", "EVENT_TYPES", "ElementSpec", "FLOW_NODE_TAGS", "GATEWAY", "GATEWAY_KINDS",
    "HOLD_STATES",
    "JOIN", "JOIN_KINDS", "KINDS", "PASSIVE_TAGS", "THROW", "THROW_KINDS", "TRIGGERED",
    "TRIGGERED_KINDS", "UNSUPPORTED_TAGS", "WAIT_STATES", "behaviors_by_kind", "element_spec",
    "index_by_tag",
]
