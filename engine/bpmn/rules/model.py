"""What a rule looks at: one compiled process, with the XML element of each node and flow.

The linked graph answers structural questions (flows, scopes, boundaries, handlers); the XML
answers what the graph does not keep (a second timer definition, a link's explicit target,
an attribute the compiler ignores). Rules read the XML through here, without reporting
anything while they read: the compiler has already reported what is unreadable.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lxml import etree

from engine.bpmn.context import Context
from engine.bpmn.errors import local_name
from engine.bpmn.parser import bpmn_child, bpmn_children, ref_text
from engine.graph import Flow, Node, ProcessGraph


@dataclass(frozen=True, slots=True)
class Model:
    graph: ProcessGraph
    elements: Sequence[etree._Element]       # per node index
    flow_elements: Sequence[etree._Element]  # per flow index
    process_el: etree._Element
    ctx: Context

    # ------------------------------------------------------------------ graph

    @property
    def nodes(self) -> tuple[Node, ...]:
        return self.graph.nodes

    def element(self, node: Node) -> etree._Element:
        return self.elements[node.index]

    def flow(self, index: int) -> Flow:
        return self.graph.flows[index]

    def flow_element(self, index: int) -> etree._Element:
        return self.flow_elements[index]

    def source(self, flow_index: int) -> Node:
        return self.graph.nodes[self.graph.flows[flow_index].source]

    def target(self, flow_index: int) -> Node:
        return self.graph.nodes[self.graph.flows[flow_index].target]

    def has_condition(self, flow_index: int) -> bool:
        """A conditionExpression is written (even one that did not compile)."""
        return bpmn_child(self.flow_elements[flow_index], "conditionExpression") is not None

    def container(self, node: Node) -> Node | None:
        """The (event) subprocess the node is drawn in; None at the process level."""
        return self.graph.nodes[node.scope] if node.scope is not None else None

    def scopes(self) -> Iterable[tuple[Node | None, tuple[int, ...]]]:
        """Each flow-holding level: (None, process children), then every container."""
        yield None, self.graph.children
        for node in self.graph.nodes:
            if node.children or node.kind in ("subProcess", "eventSubProcess"):
                yield node, node.children

    def event_type(self, node: Node) -> str | None:
        return node.event.type if node.event is not None else None

    def is_transaction(self, node: Node | None) -> bool:
        return node is not None and bool(node.ext.get("transaction"))

    def event_starts_with(self, container: Node | None, event_type: str) -> bool:
        """True for an event subprocess started by an event of this type."""
        if container is None or container.kind != "eventSubProcess":
            return False
        return any(self.event_type(self.graph.nodes[s]) == event_type
                   for s in container.event_starts)

    # ------------------------------------------------------------------ XML

    def definitions(self, node: Node, tag: str) -> list[etree._Element]:
        """The node's event definitions with this local name, inline or referenced by
        eventDefinitionRef (unresolvable references were reported by the compiler)."""
        element = self.elements[node.index]
        found = list(bpmn_children(element, tag))
        for ref_element in bpmn_children(element, "eventDefinitionRef"):
            target = self.ctx.elements.get(ref_text(ref_element) or "")
            if target is not None and local_name(target) == tag:
                found.append(target)
        return found

    @staticmethod
    def names(nodes_or_ids: Iterable[str]) -> str:
        """'a', 'b' and 'c' - for sentences naming several elements."""
        quoted = [f"'{ident}'" for ident in nodes_or_ids]
        if len(quoted) <= 1:
            return "".join(quoted)
        return ", ".join(quoted[:-1]) + " and " + quoted[-1]


__all__ = ["Model"]
