"""The compiled token graph: what the runtime walks.

A `ProcessGraph` is built once per deployed process version by `engine.bpmn.compiler` and then
never changes, so it can be cached, shared between threads and indexed by integers: the runtime
state refers to nodes and flows by their index, never by object, which keeps the persisted
instance state small and independent of Python object identity.

Everything that can be computed from the diagram alone is computed here, at compile time:
compiled expressions and scripts, join arity, the upstream set an inclusive join waits for,
boundary events attached to their activity, event subprocesses attached to their scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from engine.expressions import Expression, Script

EMPTY: Mapping[str, Any] = MappingProxyType({})


def _empty() -> Mapping[str, Any]:
    return EMPTY


# Node kinds: the BPMN element's local name, except that a subProcess with
# triggeredByEvent="true" is an "eventSubProcess" and a transaction is a "subProcess". The
# kinds and their sets (events, activities, gateways, containers...) come from the element
# table, engine.bpmn.elements. This module does not import it: the compiler, which loading
# that package runs, imports this one, and the import would be a cycle.


@dataclass(frozen=True, slots=True, kw_only=True)
class EventDef:
    """One event definition (an event with several is a multiple event, see `Node.events`).

    `type` is one of: none, message, timer, signal, error, escalation, terminate, link,
    compensate, conditional, cancel, and "multiple" for an event with several definitions.
    `ref` is the resolved *name* the runtime matches on: the message name, the signal name,
    the error code, the escalation code, the link name, or (compensate) the id of the activity
    to compensate. None on a catch means "catch all" (error, escalation).
    """

    type: str
    ref: str | None = None
    ref_expr: Expression | None = None          # message/signal names with ${...}
    timer_kind: str | None = None               # timeDate | timeDuration | timeCycle
    timer_text: str | None = None               # raw text; may hold an expression
    timer_expr: Expression | None = None        # compiled when timer_text is an expression
    condition: Expression | None = None         # conditional events
    correlation_key: Expression | None = None   # zeebe:subscription correlationKey
    error_code_variable: str | None = None      # camunda:errorCodeVariable on error catches
    error_message_variable: str | None = None   # camunda:errorMessageVariable
    escalation_code_variable: str | None = None
    wait_for_completion: bool = True            # compensate throw
    payload: tuple[IOParam, ...] = ()           # message/signal payload mappings (zeebe/spiff)


@dataclass(frozen=True, slots=True, kw_only=True)
class IOParam:
    """One input/output mapping: `name` receives the value of `expr` (or the literal `value`).

    Used by camunda:inputOutput (input parameters are local to the activity; output
    parameters are written to the enclosing scope), camunda:in/out on call activities, and
    zeebe:ioMapping. For camunda:in/out, `source` names the variable to copy when the mapping
    is by name (`source="x" target="y"`); `all_variables` is `variables="all"`.
    """

    name: str
    expr: Expression | None = None
    value: Any = None
    source: str | None = None
    all_variables: bool = False
    local: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class FormField:
    """A form field drawn with camunda:formData (or a plain field list)."""

    id: str
    label: str | None = None
    type: str = "string"                      # string, long, boolean, date, enum, double
    default: Any = None
    default_expr: Expression | None = None
    required: bool = False
    readonly: bool = False
    constraints: Mapping[str, Any] = field(default_factory=_empty)    # minlength, maxlength, min, max, pattern
    enum_values: tuple[tuple[str, str], ...] = ()   # (id, label)


@dataclass(frozen=True, slots=True, kw_only=True)
class EscalationPolicy:
    """Per-task escalation an analyst sets in the diagram (baton:escalation extension).

    `after` is an ISO 8601 duration counted from task creation; `when` is "unclaimed" or
    "overdue"; actions: add `add_groups`, reassign to `reassign_user`/`reassign_group`, raise
    priority to `priority`.
    """

    after: str
    when: str = "unclaimed"
    add_groups: tuple[str, ...] = ()
    reassign_user: str | None = None
    reassign_group: str | None = None
    priority: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UserTaskSpec:
    """Who works a user task and how: all strings may be expressions/templates."""

    assignee: Expression | None = None
    candidate_users: Expression | None = None     # evaluates to "a, b" or a list
    candidate_groups: Expression | None = None
    due_date: Expression | None = None            # ISO date-time, or a duration like P2D
    follow_up_date: Expression | None = None
    priority: Expression | None = None
    form_key: str | None = None
    form_fields: tuple[FormField, ...] = ()
    timeout_listeners: tuple[tuple[str, str, str], ...] = ()   # (listener id, timer kind, text)
    listeners_create: tuple[Script, ...] = ()     # camunda:taskListener event="create"
    listeners_complete: tuple[Script, ...] = ()   # camunda:taskListener event="complete"
    escalations: tuple[EscalationPolicy, ...] = ()
    lane: str | None = None                        # name of the lane the task is drawn in
    name: Expression | None = None                 # only when the name holds ${...} / #{...}


@dataclass(frozen=True, slots=True, kw_only=True)
class MultiInstance:
    """multiInstanceLoopCharacteristics, Camunda 7 / zeebe / Spiff flavours unified."""

    sequential: bool = False
    cardinality: Expression | None = None
    collection: Expression | None = None          # evaluates to a list (or a dict / int)
    element_variable: str | None = None
    completion_condition: Expression | None = None
    output_collection: str | None = None
    output_element: Expression | None = None      # evaluated in the instance's scope
    # SpiffWorkflow's reading of camunda:collection (compat="spiffworkflow", engine.bpmn.compat;
    # all False otherwise): the runtime cannot tell from the diagram alone, so the compiler
    # says what the deployment asked for.
    # loopCardinality gives the items: a list (or other sequence) or a mapping is the input
    # collection, a number n the items 0..n-1 (the element variable is the index)
    cardinality_items: bool = False
    # output_collection is the input collection: as each instance completes, its
    # output_element is written into it at the instance's index (a mapping: its key)
    write_back: bool = False
    # output_collection gets each instance's output_element as the instance completes:
    # appended in completion order, or, for a mapping input, under the item's key (else a
    # list in the order of the items, None for an instance that did not complete)
    output_as_completed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class StandardLoop:
    condition: Expression | None = None
    test_before: bool = False
    maximum: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AdHoc:
    """An ad-hoc subprocess's rules (BPMN 2.0.2 10.3.5, 13.3.5): which of its enabled
    activities may run at once, and when it is done."""

    sequential: bool = False                      # ordering="Sequential": one at a time
    completion_condition: Expression | None = None
    cancel_remaining: bool = True                 # cancelRemainingInstances (parallel only)


@dataclass(frozen=True, slots=True, kw_only=True)
class CorrelationRule:
    """How one correlation property of a correlation key is read from a message (BPMN
    2.0.2 8.3.2: a correlationProperty's correlationPropertyRetrievalExpression for that
    message). `path` is the messagePath, evaluated against the message's payload."""

    key: str                                     # the correlationKey's name
    property: str                                # the correlationProperty's id
    path: Expression


@dataclass(frozen=True, slots=True, kw_only=True)
class Flow:
    index: int
    id: str
    source: int
    target: int
    name: str | None = None
    condition: Expression | None = None
    line: int | None = None
    listeners: tuple[Script, ...] = ()           # camunda:executionListener event="take"


@dataclass(frozen=True, slots=True, kw_only=True)
class Node:
    """One flow node. Fields that do not apply to a node's kind keep their defaults."""

    index: int
    id: str
    kind: str                                    # an ElementSpec.kind (engine.bpmn.elements)
    name: str | None = None
    line: int | None = None
    scope: int | None = None                     # enclosing subProcess/eventSubProcess; None = process
    incoming: tuple[int, ...] = ()               # flow indexes
    outgoing: tuple[int, ...] = ()               # flow indexes
    default_flow: int | None = None              # flow index
    event: EventDef | None = None
    # multiple / parallel multiple events: `event` is EventDef(type="multiple") and `events`
    # holds every definition; a catch fires on any of them, or (parallel_multiple) once all
    # have occurred; a throw throws them all
    events: tuple[EventDef, ...] = ()
    parallel_multiple: bool = False
    interrupting: bool = True                    # boundary cancelActivity / event-subprocess start
    attached_to: int | None = None               # boundary events: the activity node
    boundaries: tuple[int, ...] = ()             # activities: their boundary event nodes
    # containers: subProcess, eventSubProcess (and the process itself, see ProcessGraph)
    children: tuple[int, ...] = ()
    # none start events (or source-less nodes) inside; an ad-hoc subprocess: its enabled
    # activities (no incoming flow), which run when someone starts them
    start_nodes: tuple[int, ...] = ()
    event_subprocesses: tuple[int, ...] = ()     # event subprocesses directly inside
    event_starts: tuple[int, ...] = ()           # eventSubProcess: its (single) start event node
    # joins
    activation_condition: Expression | None = None  # complex gateway (BPMN 2.0.2 13.3.4)
    join_upstream: frozenset[int] = frozenset()  # inclusive join: nodes from which it is reachable
    join_reach: tuple[frozenset[int], ...] = ()  # ... per incoming flow (same order as incoming)
    # compensation
    is_for_compensation: bool = False
    compensation_handler: int | None = None      # activity: node that compensates it
    # tasks
    script: Script | None = None
    script_format: str | None = None
    result_variable: str | None = None
    expression: Expression | None = None         # camunda:expression on service tasks
    user_task: UserTaskSpec | None = None
    topic: str | None = None                     # connector name / external-task topic
    task_type: str | None = None                 # "external" | "connector" | "delegate" | "expression"
    called_element: str | None = None
    called_element_expr: Expression | None = None
    call_in: tuple[IOParam, ...] = ()
    call_out: tuple[IOParam, ...] = ()
    business_key_expr: Expression | None = None  # camunda:in businessKey
    inputs: tuple[IOParam, ...] = ()
    outputs: tuple[IOParam, ...] = ()
    # inputs/outputs come from a BPMN ioSpecification: the activity runs in an isolated scope
    # seeded with its data inputs and hands back only its data outputs (see runtime/iospec.py)
    io_spec: bool = False
    multi_instance: MultiInstance | None = None
    loop: StandardLoop | None = None
    adhoc: AdHoc | None = None                   # adHocSubProcess
    in_adhoc: bool = False                       # an activity directly inside one
    # activities (BPMN 2.0.2 13.2.1): tokens that must arrive before it starts, tokens it
    # sends down each outgoing flow it takes
    start_quantity: int = 1
    completion_quantity: int = 1
    async_before: bool = False
    async_after: bool = False
    retry_cycle: str | None = None               # camunda:failedJobRetryTimeCycle
    message_ref: str | None = None               # receive/send tasks: message name
    # instantiate="true": a receive task or event-based gateway that starts the process (its
    # messages, signals and timers are the process's start events; see runtime/instantiate)
    instantiate: bool = False
    parallel_event_gateway: bool = False         # eventGatewayType="Parallel"
    # data stores (dataStoreReference): variables an activity reads from its store as it
    # starts (dataInputAssociation) and writes to it as it ends (dataOutputAssociation);
    # ProcessGraph.data_stores maps each to its store
    store_reads: tuple[str, ...] = ()
    store_writes: tuple[str, ...] = ()
    # data objects (BPMN 2.0.2 10.4.1) in the activity's scope that it has no
    # dataOutputAssociation to: what it hands back under their names is dropped
    unwritable: tuple[str, ...] = ()
    pre_script: Script | None = None             # spiffworkflow:preScript
    post_script: Script | None = None            # spiffworkflow:postScript
    # camunda:executionListener (expressions and scripts, see engine.expressions.compile_action)
    listeners_start: tuple[Script, ...] = ()
    listeners_end: tuple[Script, ...] = ()
    ext: Mapping[str, Any] = field(default_factory=_empty)               # other extension data (documentation, properties)

    @property
    def label(self) -> str:
        """How messages name the element: "userTask 'review'"."""
        return f"{self.kind} '{self.id}'"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessGraph:
    """One executable process, compiled. Indexes are positions in `nodes` and `flows`."""

    key: str
    name: str | None
    nodes: tuple[Node, ...]
    flows: tuple[Flow, ...]
    index: Mapping[str, int]                     # node id -> node index
    flow_index: Mapping[str, int] = field(default_factory=_empty)        # flow id -> flow index
    children: tuple[int, ...] = ()               # nodes directly at process level
    start_nodes: tuple[int, ...] = ()            # none start events at process level
    message_starts: Mapping[str, int] = field(default_factory=_empty)    # message name -> start event node
    signal_starts: Mapping[str, int] = field(default_factory=_empty)
    timer_starts: tuple[int, ...] = ()
    conditional_starts: tuple[int, ...] = ()
    event_subprocesses: tuple[int, ...] = ()     # event subprocesses at process level
    executable: bool = True
    # the process's ioSpecification: variables it must be started with (and is started with
    # only), and the only variables it hands back to a calling activity
    data_inputs: tuple[str, ...] = ()
    data_outputs: tuple[str, ...] = ()
    lanes: Mapping[str, str] = field(default_factory=_empty)             # node id -> lane name
    ext: Mapping[str, Any] = field(default_factory=_empty)
    listeners_start: tuple[Script, ...] = ()     # the process's camunda:executionListener
    listeners_end: tuple[Script, ...] = ()
    # key-based correlation (BPMN 2.0.2 8.3.2): message name -> how its correlation
    # properties are read from its payload (see engine/runtime/correlation.py)
    correlations: Mapping[str, tuple[CorrelationRule, ...]] = field(default_factory=_empty)
    # data stores the process reads or writes (dataStoreReference): variable name -> the
    # name of the store shared by every instance (see engine/runtime/datastores.py)
    data_stores: Mapping[str, str] = field(default_factory=_empty)

    def node(self, node_id: str) -> Node:
        return self.nodes[self.index[node_id]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Shape:
    element_id: str
    x: float
    y: float
    width: float
    height: float
    expanded: bool | None = None
    label: tuple[float, float, float, float] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Edge:
    element_id: str
    waypoints: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagram:
    """Diagram interchange (BPMNDI) data, kept to draw the process as SVG."""

    shapes: Mapping[str, Shape] = field(default_factory=_empty)
    edges: Mapping[str, Edge] = field(default_factory=_empty)
    kinds: Mapping[str, str] = field(default_factory=_empty)              # element id -> BPMN tag (for drawing)
    names: Mapping[str, str] = field(default_factory=_empty)              # element id -> name (for labels)
    event_types: Mapping[str, str] = field(default_factory=_empty)        # event element id -> event definition type


@dataclass(frozen=True, slots=True, kw_only=True)
class Definitions:
    """One compiled BPMN file: its executable processes, keyed by process id."""

    processes: Mapping[str, ProcessGraph]
    diagram: Diagram = field(default_factory=Diagram)
    messages: Mapping[str, str] = field(default_factory=_empty)          # message id -> name
    signals: Mapping[str, str] = field(default_factory=_empty)           # signal id -> name
    errors: Mapping[str, str] = field(default_factory=_empty)            # error id -> errorCode
    escalations: Mapping[str, str] = field(default_factory=_empty)       # escalation id -> escalationCode
    target_namespace: str | None = None
    warnings: tuple[str, ...] = ()
