"""Events: boundary events, cancel events, timers and the throws that name what they throw.

Each rule here is a constraint of BPMN 2.0.2 chapter 10.5 whose breach Baton could not run as
drawn (an error boundary that does not interrupt, a cancel outside a transaction, a timer
with two times), or runs with a fallback the analyst should know about (a boundary event
leading nowhere, a receive task no message can reach).
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.bpmn.catalog import ERROR, WARNING
from engine.bpmn.events import TIMER_KINDS
from engine.bpmn.parser import bpmn_child, ref, text_of
from engine.bpmn.rules.model import Model
from engine.bpmn.rules.registry import Finding, rule
from engine.graph import Node

ALWAYS_INTERRUPTING = {"error": "an error", "cancel": "a cancel", "compensate": "a compensation"}


def _where(node: Node | None) -> str:
    return "the process" if node is None else f"{node.kind} '{node.id}'"


@rule("boundary-interrupting", ERROR, applies_to="error, cancel and compensation boundary "
                                                 "events",
      constraint="Error and cancel boundary events interrupt their activity; a compensation "
                 "boundary event has no non-interrupting form either.",
      spec="BPMN 2.0.2 Table 10.92 (cancelActivity), p. 254")
def boundary_interrupting(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        event_type = m.event_type(node) or "none"
        if node.kind == "boundaryEvent" and not node.interrupting \
                and event_type in ALWAYS_INTERRUPTING:
            yield Finding(m.element(node), f"{ALWAYS_INTERRUPTING[event_type]} boundary event is "
                                           "always interrupting (BPMN has no non-interrupting "
                                           "version); remove cancelActivity=\"false\"")


@rule("boundary-scope", ERROR, applies_to="boundary events",
      constraint="A boundary event is drawn in the same (sub)process as the activity it is "
                 "attached to.",
      spec="BPMN 2.0.2 10.5.4 Intermediate Event (attached to an activity boundary)")
def boundary_scope(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.kind != "boundaryEvent" or node.attached_to is None:
            continue
        activity = m.nodes[node.attached_to]
        if activity.scope != node.scope:
            yield Finding(m.element(node), f"the boundary event is drawn in "
                                           f"{_where(m.container(node))} but attached to "
                                           f"'{activity.id}' in "
                                           f"{_where(m.container(activity))}; it must belong "
                                           "to the same (sub)process as its activity")


@rule("boundary-outgoing", WARNING, applies_to="boundary events (except compensation)",
      constraint="A boundary event has an outgoing sequence flow.",
      spec="BPMN 2.0.2 10.5.4 Intermediate Event (boundary), p. 258",
      instead="When it fires, its token ends there (after cancelling the activity if it "
              "interrupts), like an implicit end event.")
def boundary_outgoing(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.kind == "boundaryEvent" and not node.outgoing \
                and m.event_type(node) != "compensate":
            cancel = ", after cancelling the activity," if node.interrupting else ""
            yield Finding(m.element(node), f"the boundary event has no outgoing sequence flow: "
                                           f"when it fires{cancel} its token ends there")


@rule("compensation-boundary-outgoing", ERROR, applies_to="compensation boundary events",
      constraint="A compensation boundary event has no outgoing sequence flow: it connects to "
                 "its compensation handler by an association.",
      spec="BPMN 2.0.2 10.5.4 Intermediate Event (boundary), p. 258")
def compensation_boundary_outgoing(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.kind == "boundaryEvent" and node.outgoing and m.event_type(node) == "compensate":
            ids = m.names(m.flow(f).id for f in node.outgoing)
            yield Finding(m.element(node), f"a compensation boundary event connects to its "
                                           "handler by an association, never by a sequence flow;"
                                           f" remove {ids}")


@rule("cancel-end-transaction", ERROR, applies_to="cancel end events",
      constraint="A cancel end event is drawn directly inside a transaction subprocess.",
      spec="BPMN 2.0.2 10.5.3 End Event (cancel), p. 261")
def cancel_end_transaction(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.kind == "endEvent" and m.event_type(node) == "cancel":
            container = m.container(node)
            if not m.is_transaction(container):
                yield Finding(m.element(node), f"a cancel end event cancels the transaction it "
                                               f"is drawn in, but {_where(container)} is not "
                                               "a transaction")


@rule("cancel-boundary-transaction", ERROR, applies_to="cancel boundary events",
      constraint="A cancel boundary event is attached to a transaction subprocess.",
      spec="BPMN 2.0.2 10.5.4 Intermediate Event (cancel), p. 254 and 257")
def cancel_boundary_transaction(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.kind == "boundaryEvent" and m.event_type(node) == "cancel" \
                and node.attached_to is not None \
                and not m.is_transaction(m.nodes[node.attached_to]):
            activity = m.nodes[node.attached_to]
            yield Finding(m.element(node), f"a cancel boundary event catches the cancellation of "
                                           f"a transaction, but {activity.kind} '{activity.id}' "
                                           "is not a transaction")


@rule("timer-single-time", ERROR, applies_to="timer events",
      constraint="A timer event definition has exactly one of timeDate, timeDuration and "
                 "timeCycle.",
      spec="BPMN 2.0.2 Table 10.101 (TimerEventDefinition), p. 273")
def timer_single_time(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if m.event_type(node) not in ("timer", "multiple"):
            continue
        for definition in m.definitions(node, "timerEventDefinition"):
            # (an empty leftover element, as modelers leave when the timer type is switched,
            # carries no time and is ignored by the reader too)
            kinds = [k for k in TIMER_KINDS if text_of(bpmn_child(definition, k))]
            if len(kinds) > 1:
                yield Finding(m.element(node), f"the timer has {' and '.join(kinds)}; a timer "
                                               "takes exactly one of them, so Baton cannot tell "
                                               "when it is due")


@rule("receive-task-message", WARNING, applies_to="receive tasks",
      constraint="A receive task names the message it waits for (messageRef).",
      spec="BPMN 2.0.2 10.3.3 Tasks (Receive Task, messageRef)",
      instead="The task waits until it is triggered through the API (Camunda 7's signal); no "
              "message can reach it.")
def receive_task_message(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.kind == "receiveTask" and not ref(m.element(node), "messageRef"):
            yield Finding(m.element(node), "the receive task names no message (messageRef), so "
                                           "no message can reach it; it waits until triggered "
                                           "through the API")


@rule("throw-without-code", WARNING, applies_to="error and escalation throw events",
      constraint="An error or escalation throw event names the error (errorRef) or escalation "
                 "(escalationRef) it throws.",
      spec="BPMN 2.0.2 10.5.5 Error and Escalation Event Definitions",
      instead="Baton throws it without a code: only catch events that name no error or "
              "escalation (catch-alls) catch it.")
def throw_without_code(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.kind not in ("endEvent", "intermediateThrowEvent"):
            continue
        for kind, attribute in (("error", "errorRef"), ("escalation", "escalationRef")):
            if m.event_type(node) != kind:
                continue
            definitions = m.definitions(node, f"{kind}EventDefinition")
            if definitions and not any(ref(d, attribute) for d in definitions):
                yield Finding(m.element(node), f"the {kind} event names no {kind} ({attribute}),"
                                               f" so it throws an {kind} without code, which "
                                               f"only {kind} catch "
                                               f"events without {attribute} catch")
