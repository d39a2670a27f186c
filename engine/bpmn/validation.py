"""Checks on a compiled process that catch diagrams which would run wrongly or get stuck.

They run on the linked graph (indexes, flows, containers known), and report on the XML
element so the message carries the BPMN tag, the id and the line the analyst can find.
"""

from __future__ import annotations

from lxml import etree

from engine.bpmn.context import Context
from engine.bpmn.elements import TRIGGERED_KINDS
from engine.bpmn.parser import bpmn_child
from engine.graph import Node, ProcessGraph
from engine.separation import EXT_KEY as SEPARATION_KEY

EVENT_GATEWAY_TARGET_EVENTS = frozenset({"message", "timer", "signal", "conditional"})


def validate_process(graph: ProcessGraph, elements: list[etree._Element],
                     flow_elements: list[etree._Element], process_el: etree._Element,
                     ctx: Context) -> None:
    checker = _Checker(graph, elements, flow_elements, ctx)
    checker.starts(process_el)
    for node in graph.nodes:
        checker.node(node)
    checker.links()


class _Checker:
    def __init__(self, graph: ProcessGraph, elements: list[etree._Element],
                 flow_elements: list[etree._Element], ctx: Context) -> None:
        self.graph = graph
        self.elements = elements
        self.flow_elements = flow_elements
        self.problems = ctx.problems

    def add(self, node: Node, message: str) -> None:
        self.problems.add(self.elements[node.index], message)

    # ------------------------------------------------------------------ starts

    def starts(self, process_el: etree._Element) -> None:
        graph = self.graph
        if not self._can_start(graph.children):
            self.problems.add(process_el, "the process has no start event and no node without "
                                          "incoming sequence flows, so it can never start")
        for node in graph.nodes:
            if node.kind == "subProcess":
                self._subprocess_starts(node)
            elif node.kind == "eventSubProcess":
                self._event_subprocess_starts(node)

    def _can_start(self, children: tuple[int, ...]) -> bool:
        nodes = self.graph.nodes
        if any(nodes[i].kind == "startEvent" for i in children):
            return True
        return any(not nodes[i].incoming and nodes[i].kind not in TRIGGERED_KINDS
                   and not nodes[i].is_for_compensation for i in children)

    def _subprocess_starts(self, node: Node) -> None:
        nodes = self.graph.nodes
        if not node.children:
            return  # a collapsed subprocess drawn without content: runs as a no-op
        if not self._can_start(node.children):
            self.add(node, "the subprocess has no start event and no node without incoming "
                           "sequence flows, so it can never start")
        for i in node.children:
            child = nodes[i]
            if child.kind == "startEvent" and child.event is not None \
                    and child.event.type != "none":
                self.add(child, f"a start event inside a subprocess must be a none start event, "
                                f"not a {child.event.type} start event")

    def _event_subprocess_starts(self, node: Node) -> None:
        nodes = self.graph.nodes
        if len(node.event_starts) != 1:
            self.add(node, f"an event subprocess needs exactly one start event, it has "
                           f"{len(node.event_starts)}")
            return
        start = nodes[node.event_starts[0]]
        if start.event is None or start.event.type == "none":
            self.add(start, "the start event of an event subprocess needs a trigger (message, "
                            "timer, signal, error, escalation, conditional or compensation)")

    # ------------------------------------------------------------------ nodes

    def node(self, node: Node) -> None:
        if node.kind in ("exclusiveGateway", "inclusiveGateway"):
            self._decision(node)
        elif node.kind == "eventBasedGateway":
            self._event_gateway(node)
        elif node.kind == "parallelGateway":
            conditioned = [f for f in node.outgoing if self._has_condition(f)]
            if conditioned:
                self.problems.warn(self.elements[node.index],
                                   "conditions on the outgoing flows of a parallel gateway are "
                                   "ignored")
        if node.kind in ("startEvent", "boundaryEvent") and node.incoming:
            self.add(node, f"a {node.kind} cannot have incoming sequence flows")
        if node.kind == "endEvent" and node.outgoing:
            self.add(node, "an end event cannot have outgoing sequence flows")
        if node.kind == "userTask" and node.ext and node.ext.get(SEPARATION_KEY):
            self._separation(node)
        if node.event is not None and node.event.type == "compensate" and node.event.ref:
            target = self.graph.index.get(node.event.ref)
            if target is None:
                self.add(node, f"activityRef '{node.event.ref}' does not name an activity of "
                               "this process")

    def _separation(self, node: Node) -> None:
        """baton:separateFrom must name other user tasks of this process: a typo, a service
        task or a task of another pool would leave the four-eyes rule guarding nothing."""
        for other_id in node.ext[SEPARATION_KEY]:
            position = self.graph.index.get(other_id)
            other = self.graph.nodes[position] if position is not None else None
            if other is None:
                self.add(node, f"baton:separateFrom names '{other_id}', which is not an "
                               f"element of process '{self.graph.key}'; it must name user "
                               "tasks of the same process")
            elif other.index == node.index:
                self.add(node, "baton:separateFrom names the task itself; it must name the "
                               "other user tasks whose workers may not work this one")
            elif other.kind != "userTask":
                self.add(node, f"baton:separateFrom names {other.label}, which is not a user "
                               "task; it must name user tasks of the same process")

    def _has_condition(self, flow_index: int) -> bool:
        return bpmn_child(self.flow_elements[flow_index], "conditionExpression") is not None

    def _decision(self, node: Node) -> None:
        if len(node.outgoing) < 2 or node.default_flow is not None:
            return
        unconditioned = [f for f in node.outgoing if not self._has_condition(f)]
        if len(unconditioned) > 1:
            self.add(node, f"{len(unconditioned)} outgoing flows without condition and no "
                           "default flow")

    def _event_gateway(self, node: Node) -> None:
        nodes = self.graph.nodes
        for flow_index in node.outgoing:
            target = nodes[self.graph.flows[flow_index].target]
            ok = target.kind == "receiveTask" or (
                target.kind == "intermediateCatchEvent" and target.event is not None
                and target.event.type in EVENT_GATEWAY_TARGET_EVENTS)
            if not ok:
                self.add(node, f"the event-based gateway leads to {target.kind} '{target.id}'; "
                               "its flows must lead to intermediate catch events (message, timer, "
                               "signal, conditional) or receive tasks")

    # ------------------------------------------------------------------ links

    def links(self) -> None:
        """Every link throw needs exactly one catch of the same name in its scope."""
        catches: dict[tuple[int | None, str], Node] = {}
        for node in self.graph.nodes:
            if node.kind == "intermediateCatchEvent" and node.event is not None \
                    and node.event.type == "link" and node.event.ref:
                key = (node.scope, node.event.ref)
                if key in catches:
                    self.add(node, f"another link catch event in the same scope is named "
                                   f"'{node.event.ref}'")
                catches[key] = node
        for node in self.graph.nodes:
            if node.kind == "intermediateThrowEvent" and node.event is not None \
                    and node.event.type == "link" and node.event.ref:
                if (node.scope, node.event.ref) not in catches:
                    self.add(node, f"no link catch event named '{node.event.ref}' in the same "
                                   "scope")
