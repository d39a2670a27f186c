"""Sequence flows: which elements may have them, and what their conditions mean.

A flow drawn where BPMN allows none (into a start event, out of an event subprocess, through
a compensation handler) has no execution meaning; a condition on the only way out of an
activity stops the instance whenever it is false. Baton evaluates the outgoing flows of
activities and events as Camunda 7 does: every flow without condition or whose condition
holds is taken, the default flow only when none is; with none taken the instance stops with
an incident.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.bpmn.catalog import ERROR, WARNING
from engine.bpmn.elements import ACTIVITY_KINDS, EVENT_KINDS
from engine.bpmn.parser import is_true
from engine.bpmn.rules.model import Model
from engine.bpmn.rules.registry import Finding, rule
from engine.graph import Node

# flow nodes that something other than a sequence flow starts
_ENTERED_OTHERWISE = frozenset({"startEvent", "boundaryEvent", "eventSubProcess"})


@rule("start-event-incoming", ERROR, applies_to="start events",
      constraint="A start event has no incoming sequence flow.",
      spec="BPMN 2.0.2 10.5.2 Start Event")
def start_event_incoming(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.kind == "startEvent" and node.incoming:
            yield Finding(m.element(node), "a startEvent cannot have incoming sequence flows")


@rule("boundary-event-incoming", ERROR, applies_to="boundary events",
      constraint="A boundary event has no incoming sequence flow.",
      spec="BPMN 2.0.2 10.5.4 Intermediate Event (boundary), p. 258")
def boundary_event_incoming(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.kind == "boundaryEvent" and node.incoming:
            yield Finding(m.element(node), "a boundaryEvent cannot have incoming sequence flows")


@rule("end-event-outgoing", ERROR, applies_to="end events",
      constraint="An end event has no outgoing sequence flow.",
      spec="BPMN 2.0.2 10.5.3 End Event")
def end_event_outgoing(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.kind == "endEvent" and node.outgoing:
            yield Finding(m.element(node), "an end event cannot have outgoing sequence flows")


@rule("event-subprocess-flows", ERROR, applies_to="event subprocesses",
      constraint="An event subprocess has no incoming and no outgoing sequence flow: its "
                 "start event starts it, its end events end it.",
      spec="BPMN 2.0.2 10.3.5 Event Sub-Process, p. 174")
def event_subprocess_flows(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.kind != "eventSubProcess":
            continue
        if node.incoming:
            ids = m.names(m.flow(f).id for f in node.incoming)
            yield Finding(m.element(node), f"an event subprocess is started by its start event, "
                                           f"never by a sequence flow; remove {ids}")
        if node.outgoing:
            ids = m.names(m.flow(f).id for f in node.outgoing)
            yield Finding(m.element(node), f"an event subprocess ends with its end events and "
                                           f"cannot be the source of a sequence flow; remove "
                                           f"{ids}")


@rule("compensation-handler-flows", ERROR, applies_to="compensation handlers "
                                                      "(isForCompensation activities)",
      constraint="A compensation handler has no incoming and no outgoing sequence flow: only "
                 "compensation starts it.",
      spec="BPMN 2.0.2 10.7.1 Compensation Handler")
def compensation_handler_flows(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.is_for_compensation and node.kind != "eventSubProcess" \
                and (node.incoming or node.outgoing):  # (event-subprocess-flows says it)
            ids = m.names(m.flow(f).id for f in (*node.incoming, *node.outgoing))
            yield Finding(m.element(node), "a compensation handler (isForCompensation=\"true\") "
                                           "runs only when compensation is triggered; it cannot "
                                           f"have sequence flows ({ids})")


@rule("conditional-flow-single", ERROR, applies_to="activities",
      constraint="A conditional sequence flow is never the only outgoing flow of an activity.",
      spec="BPMN 2.0.2 ch. 8, Sequence Flow (conditional flow); 10.3 Activities")
def conditional_flow_single(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.kind not in ACTIVITY_KINDS or len(node.outgoing) != 1:
            continue
        flow = node.outgoing[0]
        if m.has_condition(flow) and node.default_flow != flow:
            yield Finding(m.element(node), f"the only outgoing sequence flow '{m.flow(flow).id}' "
                                           "has a condition: whenever it is false the token has "
                                           "nowhere to go and the instance stops with an "
                                           "incident; remove the condition or add another flow")


@rule("conditional-flows-no-default", WARNING, applies_to="activities",
      constraint="When every outgoing flow of an activity has a condition, one of them is "
                 "the default flow or the conditions cover every case.",
      spec="BPMN 2.0.2 10.3 Activities (default); 13.2.1 (sequence flow semantics)",
      instead="Baton takes every flow whose condition holds; when none holds the instance "
              "stops with an incident, as in Camunda 7.")
def conditional_flows_no_default(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.kind not in ACTIVITY_KINDS or len(node.outgoing) < 2 \
                or node.default_flow is not None:
            continue
        if all(m.has_condition(f) for f in node.outgoing):
            yield Finding(m.element(node), "every outgoing sequence flow has a condition and "
                                           "none is the default flow: when all conditions are "
                                           "false the instance stops with an incident; mark one "
                                           "flow as the default")


@rule("condition-on-event-flow", WARNING, applies_to="sequence flows out of events",
      constraint="Sequence flows out of events have no condition (conditions belong to flows "
                 "out of activities and gateways).",
      spec="BPMN 2.0.2 ch. 8, Sequence Flow (conditional flow)",
      instead="Baton evaluates the condition as for a flow out of an activity, as Camunda 7 "
              "does: when no flow can be taken, the instance stops with an incident.")
def condition_on_event_flow(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.kind not in EVENT_KINDS:
            continue
        conditioned = [m.flow(f).id for f in node.outgoing if m.has_condition(f)]
        if not conditioned:
            continue
        one = len(conditioned) == 1
        stuck = "" if len(conditioned) < len(node.outgoing) or node.default_flow is not None \
            else " (when every condition is false, the instance stops with an incident)"
        yield Finding(m.element(node),
                      f"the outgoing sequence flow{'' if one else 's'} {m.names(conditioned)} "
                      f"of this event {'has a condition' if one else 'have conditions'}, which "
                      "BPMN allows only out of activities and gateways; Baton evaluates "
                      f"{'it' if one else 'them'} as for an activity{stuck}")


@rule("default-flow-condition", WARNING, applies_to="default sequence flows",
      constraint="A default flow has no condition.",
      spec="BPMN 2.0.2 10.6.2 Exclusive Gateway (default); ch. 8, Sequence Flow",
      instead="Baton ignores the condition: the default flow is taken when no other flow is.")
def default_flow_condition(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.default_flow is not None and m.has_condition(node.default_flow):
            flow = m.flow(node.default_flow)
            yield Finding(m.flow_element(node.default_flow),
                          f"'{flow.id}' is the default flow of '{node.id}' and has a condition, "
                          "which Baton ignores: a default flow is taken exactly when no other "
                          "flow is")


@rule("default-flow-never-taken", WARNING,
      applies_to="activities, exclusive and inclusive gateways",
      constraint="An element with a default flow has no other outgoing flow without "
                 "condition.",
      spec="BPMN 2.0.2 10.6.2, 10.6.3 (default); 13.3.2, 13.3.3",
      instead="The flow without condition is always taken, so the default flow never is.")
def default_flow_never_taken(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.default_flow is None or node.kind in ("parallelGateway", "eventBasedGateway"):
            continue
        plain = [m.flow(f).id for f in node.outgoing
                 if f != node.default_flow and not m.has_condition(f)]
        if plain:
            yield Finding(m.element(node), f"the default flow '{m.flow(node.default_flow).id}' "
                                           f"is never taken: {m.names(plain)} "
                                           f"{'has' if len(plain) == 1 else 'have'} no condition "
                                           "and Baton takes such a flow whenever it reaches it")


@rule("unreachable-node", WARNING, applies_to="flow nodes",
      constraint="In a (sub)process that has a start event, every flow node other than start "
                 "events, boundary events, event subprocesses and compensation handlers has an "
                 "incoming sequence flow.",
      spec="BPMN 2.0.2 10.5.2 Start Event (implicit start only without start events)",
      instead="Baton never runs the node: the process starts at its start events only.")
def unreachable_node(m: Model) -> Iterator[Finding]:
    for container, children in m.scopes():
        if not any(m.nodes[i].kind == "startEvent" for i in children):
            continue  # no start event: nodes without incoming flows are where it starts
        for i in children:
            node = m.nodes[i]
            if not node.incoming and _needs_incoming(m, node):
                where = "process" if container is None else container.kind
                yield Finding(m.element(node), f"the element has no incoming sequence flow and "
                                               f"its {where} has a start event, so no token "
                                               "ever reaches it")


def _needs_incoming(m: Model, node: Node) -> bool:
    if node.kind in _ENTERED_OTHERWISE or node.is_for_compensation:
        return False
    if m.event_type(node) == "link" and node.kind == "intermediateCatchEvent":
        return False  # reached by its throw (see link-catch-unused)
    # a receive task or event-based gateway with instantiate="true" starts the process
    return not is_true(m.element(node).get("instantiate"))
