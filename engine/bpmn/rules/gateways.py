"""Gateways: which outgoing flows a token can take, and where an event-based gateway waits.

Baton's exclusive gateway is Camunda 7's: it tests the outgoing flows in document order
(the order of the <sequenceFlow> elements in the file) and takes the first whose condition
holds, a flow without condition always holding, the default flow last. That is also the
order BPMN 2.0.2 13.3.2 prescribes, so a diagram with several flows without condition runs,
but not as its picture suggests: the warning names the flow that wins.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.bpmn.catalog import ERROR, WARNING
from engine.bpmn.rules.model import Model
from engine.bpmn.rules.registry import Finding, rule
from engine.graph import Node

EVENT_GATEWAY_TARGET_EVENTS = frozenset({"message", "timer", "signal", "conditional"})


def _plain_flows(m: Model, node: Node) -> list[int]:
    """Outgoing flows without condition other than the default, in document order."""
    return [f for f in node.outgoing if f != node.default_flow and not m.has_condition(f)]


@rule("exclusive-gateway-unconditioned", WARNING, applies_to="exclusive gateways",
      constraint="At most one outgoing flow of an exclusive gateway has no condition (and it "
                 "is best made the default flow).",
      spec="BPMN 2.0.2 10.6.2 Exclusive Gateway; 13.3.2",
      instead="Baton takes the first flow without condition in document order and never the "
              "others, as Camunda 7 does.")
def exclusive_gateway_unconditioned(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.kind != "exclusiveGateway":
            continue
        plain = _plain_flows(m, node)
        if len(plain) > 1:
            first = m.flow(plain[0]).id
            besides = " and no default flow" if node.default_flow is None \
                else " besides the default flow"
            others = m.names(m.flow(f).id for f in plain[1:])
            yield Finding(m.element(node), f"{len(plain)} outgoing flows without condition"
                                           f"{besides}; Baton takes the first of them in "
                                           f"document order, '{first}' (as Camunda 7 does), and "
                                           f"never {others}")


@rule("exclusive-gateway-flow-order", WARNING, applies_to="exclusive gateways",
      constraint="An outgoing flow without condition comes after the conditional flows of its "
                 "exclusive gateway, or is its default flow.",
      spec="BPMN 2.0.2 13.3.2 (conditions are tested in order)",
      instead="Baton tests flows in document order, as Camunda 7 does: the flow without "
              "condition is always taken and the conditions after it are never tested.")
def exclusive_gateway_flow_order(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.kind != "exclusiveGateway":
            continue
        plain = _plain_flows(m, node)
        if len(plain) != 1:
            continue  # several: exclusive-gateway-unconditioned
        position = node.outgoing.index(plain[0])
        shadowed = [m.flow(f).id for f in node.outgoing[position + 1:]
                    if f != node.default_flow and m.has_condition(f)]
        if shadowed:
            flow = m.flow(plain[0]).id
            yield Finding(m.element(node), f"'{flow}' has no condition and comes before "
                                           f"{m.names(shadowed)} in document order, so Baton "
                                           "always takes it and never tests the conditions "
                                           f"after it (as Camunda 7); make '{flow}' the default "
                                           "flow")


@rule("inclusive-gateway-unconditioned", WARNING, applies_to="inclusive gateways",
      constraint="The outgoing flows of an inclusive gateway have conditions.",
      spec="BPMN 2.0.2 10.6.3 Inclusive Gateway; 13.3.3",
      instead="Baton takes every flow without condition, as Camunda 7 does: with several, the "
              "gateway splits like a parallel gateway.")
def inclusive_gateway_unconditioned(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.kind != "inclusiveGateway":
            continue
        plain = _plain_flows(m, node)
        if len(plain) > 1:
            yield Finding(m.element(node), f"{len(plain)} outgoing flows without condition"
                                           + (" and no default flow" if node.default_flow is None
                                              else "")
                                           + f"; Baton always takes all of them "
                                             f"({m.names(m.flow(f).id for f in plain)})")


@rule("parallel-gateway-conditions", WARNING, applies_to="parallel gateways",
      constraint="The outgoing flows of a parallel gateway have no condition.",
      spec="BPMN 2.0.2 10.6.4 Parallel Gateway",
      instead="Baton ignores the conditions and takes every outgoing flow.")
def parallel_gateway_conditions(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.kind == "parallelGateway" and any(m.has_condition(f) for f in node.outgoing):
            yield Finding(m.element(node), "conditions on the outgoing flows of a parallel "
                                           "gateway are ignored")


@rule("event-gateway-targets", ERROR, applies_to="event-based gateways",
      constraint="The flows of an event-based gateway lead to intermediate catch events "
                 "(message, timer, signal, conditional) or receive tasks.",
      spec="BPMN 2.0.2 10.6.6 Event-Based Gateway, p. 297")
def event_gateway_targets(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.kind != "eventBasedGateway":
            continue
        for flow in node.outgoing:
            target = m.target(flow)
            if not _waits(m, target):
                yield Finding(m.element(node), f"the event-based gateway leads to {target.kind} "
                                               f"'{target.id}'; its flows must lead to "
                                               "intermediate catch events (message, timer, "
                                               "signal, conditional) or receive tasks")


def _waits(m: Model, target: Node) -> bool:
    return target.kind == "receiveTask" or (
        target.kind == "intermediateCatchEvent"
        and m.event_type(target) in EVENT_GATEWAY_TARGET_EVENTS)


@rule("event-gateway-target-incoming", ERROR, applies_to="targets of event-based gateways",
      constraint="An event or receive task after an event-based gateway has no other incoming "
                 "sequence flow.",
      spec="BPMN 2.0.2 10.6.6 Event-Based Gateway, p. 297")
def event_gateway_target_incoming(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.kind != "eventBasedGateway":
            continue
        for flow in node.outgoing:
            target = m.target(flow)
            others = [m.flow(f).id for f in target.incoming if f != flow]
            if others and _waits(m, target):
                yield Finding(m.element(target), f"the element waits for event-based gateway "
                                                 f"'{node.id}' and must have no other incoming "
                                                 f"sequence flow, but {m.names(others)} also "
                                                 "lead here")


@rule("event-gateway-conditions", WARNING, applies_to="event-based gateways",
      constraint="The outgoing flows of an event-based gateway have no condition.",
      spec="BPMN 2.0.2 10.6.6 Event-Based Gateway, p. 296",
      instead="Baton ignores the conditions: the first event to occur picks the flow.")
def event_gateway_conditions(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.kind != "eventBasedGateway":
            continue
        conditioned = [m.flow(f).id for f in node.outgoing if m.has_condition(f)]
        if conditioned:
            yield Finding(m.element(node), f"the conditions on {m.names(conditioned)} are "
                                           "ignored: after an event-based gateway, the first "
                                           "event to occur picks the flow")


@rule("event-gateway-outgoing", WARNING, applies_to="event-based gateways",
      constraint="An event-based gateway has at least two outgoing flows.",
      spec="BPMN 2.0.2 10.6.6 Event-Based Gateway, p. 296",
      instead="With one flow Baton waits for its one event; with none the token ends there.")
def event_gateway_outgoing(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.kind == "eventBasedGateway" and len(node.outgoing) < 2:
            yield Finding(m.element(node), f"an event-based gateway chooses between events, but "
                                           f"this one has {len(node.outgoing)} outgoing "
                                           "flow" + ("" if len(node.outgoing) == 1 else "s"))
