"""Where a process, a subprocess and an event subprocess start, and with what trigger.

A scope with no way to start never runs; a start event whose trigger cannot occur where it is
drawn is never fired. Both look fine in a modeler and do nothing at run time, so they are
refused at upload.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.bpmn.catalog import ERROR, WARNING
from engine.bpmn.elements import TRIGGERED_KINDS
from engine.bpmn.rules.model import Model
from engine.bpmn.rules.registry import Finding, rule

# triggers that only an event subprocess can catch (BPMN 2.0.2 Tables 10.84 and 10.86)
EVENT_SUBPROCESS_ONLY = {"error": "an error", "escalation": "an escalation",
                         "compensate": "a compensation"}
# triggers whose event subprocess always interrupts (Table 10.86)
ALWAYS_INTERRUPTING = {"error": "An error", "compensate": "A compensation",
                       "cancel": "A cancel"}


def _can_start(m: Model, children: tuple[int, ...]) -> bool:
    nodes = m.nodes
    if any(nodes[i].kind == "startEvent" for i in children):
        return True
    return any(not nodes[i].incoming and nodes[i].kind not in TRIGGERED_KINDS
               and not nodes[i].is_for_compensation for i in children)


@rule("process-can-start", ERROR, applies_to="processes",
      constraint="A process has a start event, or a flow node without incoming sequence "
                 "flows to start at.",
      spec="BPMN 2.0.2 10.5.2 Start Event (implicit start)")
def process_can_start(m: Model) -> Iterator[Finding]:
    if not _can_start(m, m.graph.children):
        yield Finding(m.process_el, "the process has no start event and no node without "
                                    "incoming sequence flows, so it can never start")


@rule("process-implicit-start", WARNING, applies_to="processes",
      constraint="A process has a start event, so that it is clear where and how it starts.",
      spec="BPMN 2.0.2 10.5.2 Start Event (a start event is optional; without one, every "
           "flow node without incoming sequence flows is instantiated); Camunda 7 refuses "
           "to start such a process",
      instead="Baton starts a token at every flow node without incoming sequence flows at "
              "once, when the process is started by key or called; nothing else starts it.")
def process_implicit_start(m: Model) -> Iterator[Finding]:
    nodes = m.nodes
    if any(nodes[i].kind == "startEvent" for i in m.graph.children):
        return
    starts = m.graph.start_nodes
    if starts:       # none at all is process-can-start's error
        yield Finding(m.process_el,
                      f"the process has no start event; it can be started (by key, or by a "
                      f"call activity), and then Baton starts a token at each flow node "
                      f"without incoming sequence flows at once: "
                      f"{m.names(nodes[i].id for i in starts)} (Camunda 7 cannot start it)")


@rule("subprocess-can-start", ERROR, applies_to="embedded subprocesses, transactions",
      constraint="An expanded subprocess has a start event, or a flow node without incoming "
                 "sequence flows to start at.",
      spec="BPMN 2.0.2 10.3.5 Sub-Process, 10.5.2 Start Event")
def subprocess_can_start(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        # a collapsed subprocess drawn without content runs as a no-op
        if node.kind == "subProcess" and node.children and not _can_start(m, node.children):
            yield Finding(m.element(node), "the subprocess has no start event and no node "
                                           "without incoming sequence flows, so it can never "
                                           "start")


@rule("subprocess-start-none", ERROR, applies_to="start events in embedded subprocesses",
      constraint="A start event inside an embedded subprocess is a none start event: the "
                 "token arriving at the subprocess is its trigger.",
      spec="BPMN 2.0.2 Table 10.85 (Sub-Process Start Event Types)")
def subprocess_start_none(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        container = m.container(node)
        if node.kind == "startEvent" and container is not None \
                and container.kind == "subProcess" and m.event_type(node) not in (None, "none"):
            yield Finding(m.element(node), f"a start event inside a subprocess must be a none "
                                           f"start event, not a {m.event_type(node)} start "
                                           "event")


@rule("event-subprocess-one-start", ERROR, applies_to="event subprocesses",
      constraint="An event subprocess has exactly one start event.",
      spec="BPMN 2.0.2 10.3.5 Event Sub-Process, p. 174")
def event_subprocess_one_start(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.kind == "eventSubProcess" and len(node.event_starts) != 1:
            yield Finding(m.element(node), f"an event subprocess needs exactly one start "
                                           f"event, it has {len(node.event_starts)}")


@rule("event-subprocess-start-trigger", ERROR, applies_to="event subprocesses",
      constraint="The start event of an event subprocess has a trigger (message, timer, "
                 "signal, error, escalation, conditional, compensation or multiple).",
      spec="BPMN 2.0.2 Table 10.86, p. 174 and 241")
def event_subprocess_start_trigger(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.kind != "eventSubProcess" or len(node.event_starts) != 1:
            continue
        start = m.nodes[node.event_starts[0]]
        if m.event_type(start) in (None, "none"):
            yield Finding(m.element(start), "the start event of an event subprocess needs a "
                                            "trigger (message, timer, signal, error, escalation,"
                                            " conditional or compensation)")


@rule("start-trigger-top-level", ERROR, applies_to="error, escalation, compensation start "
                                                   "events",
      constraint="Error, escalation and compensation start events start event subprocesses "
                 "only, never a process.",
      spec="BPMN 2.0.2 Table 10.84 (p. 239), p. 262")
def start_trigger_top_level(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        event_type = m.event_type(node) or "none"
        if node.kind == "startEvent" and node.scope is None \
                and event_type in EVENT_SUBPROCESS_ONLY:
            yield Finding(m.element(node),
                          f"{EVENT_SUBPROCESS_ONLY[event_type]} start event can only start an "
                          "event subprocess; at the top level of a process nothing ever "
                          "triggers it (draw it inside an event subprocess)")


@rule("start-interrupting", ERROR, applies_to="error and compensation start events",
      constraint="The start event of an error or compensation event subprocess is "
                 "interrupting.",
      spec="BPMN 2.0.2 Table 10.86 (Event Sub-Process Start Event Types)")
def start_interrupting(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        event_type = m.event_type(node) or "none"
        container = m.container(node)
        if node.kind == "startEvent" and not node.interrupting \
                and event_type in ALWAYS_INTERRUPTING \
                and container is not None and container.kind == "eventSubProcess":
            yield Finding(m.element(node),
                          f"{ALWAYS_INTERRUPTING[event_type]} start event always interrupts "
                          "(BPMN has no non-interrupting version); remove "
                          "isInterrupting=\"false\"")


@rule("none-start-single", WARNING, applies_to="processes and subprocesses",
      constraint="A process or subprocess has at most one none start event.",
      spec="BPMN 2.0.2 10.5.2 Start Event; Camunda 7 refuses several",
      instead="Baton starts a token at every none start event at once (Camunda 7 refuses "
              "such a diagram).")
def none_start_single(m: Model) -> Iterator[Finding]:
    for container, children in m.scopes():
        if container is not None and container.kind == "eventSubProcess":
            continue
        starts = [m.nodes[i] for i in children if m.nodes[i].kind == "startEvent"
                  and m.event_type(m.nodes[i]) in (None, "none")]
        if len(starts) > 1:
            where = "process" if container is None else "subprocess"
            yield Finding(m.element(starts[1]),
                          f"the {where} has {len(starts)} none start events "
                          f"({m.names(s.id for s in starts)}); Baton starts a token at each of "
                          "them at once, so the paths after them run in parallel")

