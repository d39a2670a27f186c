"""Compensation: what a compensate throw can undo, and handlers that can ever run.

Baton keeps the log of completed compensable activities per scope and a compensate throw
reads the log of the scope it is drawn in (a compensation event subprocess reads the log of
the subprocess it belongs to). A throw that names an activity of another scope, or that sits
in an ordinary event subprocess and means the scope around it (as Camunda 7 reads it), would
compensate nothing: those are refused rather than silently doing nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.bpmn.catalog import ERROR, WARNING
from engine.bpmn.elements import ACTIVITY_KINDS
from engine.bpmn.rules.model import Model
from engine.bpmn.rules.registry import Finding, rule
from engine.graph import Node


def _throws(m: Model) -> Iterator[Node]:
    for node in m.nodes:
        if node.kind in ("endEvent", "intermediateThrowEvent") \
                and m.event_type(node) == "compensate":
            yield node


def _log_scopes(m: Model, node: Node) -> set[int | None]:
    """The scopes whose completed activities a compensate throw at `node` can reach."""
    scopes: set[int | None] = {node.scope}
    container = m.container(node)
    if m.event_starts_with(container, "compensate") and container is not None:
        scopes.add(container.scope)   # it holds the log of the subprocess it compensates
    return scopes


@rule("compensate-activity-ref", ERROR, applies_to="compensation throw events",
      constraint="activityRef names an activity of the (sub)process the throw event is drawn "
                 "in.",
      spec="BPMN 2.0.2 10.7.2 Compensation Triggering; Camunda 7 (same scope)")
def compensate_activity_ref(m: Model) -> Iterator[Finding]:
    for node in _throws(m):
        target_id = node.event.ref if node.event is not None else None
        if not target_id:
            continue
        position = m.graph.index.get(target_id)
        if position is None:
            yield Finding(m.element(node), f"activityRef '{target_id}' does not name an activity "
                                           "of this process")
            continue
        target = m.nodes[position]
        if target.kind not in ACTIVITY_KINDS:
            yield Finding(m.element(node), f"activityRef '{target_id}' names a {target.kind}; "
                                           "only an activity can be compensated")
        elif target.scope not in _log_scopes(m, node):
            yield Finding(m.element(node), f"activityRef '{target_id}' names an activity of "
                                           "another (sub)process; a compensate throw can only "
                                           "undo activities completed in the (sub)process it is "
                                           "drawn in, so nothing would be compensated")


@rule("compensate-in-event-subprocess", ERROR, applies_to="compensation throw events",
      constraint="A compensate throw without activityRef is not drawn inside an event "
                 "subprocess (other than a compensation event subprocess).",
      spec="Baton: compensation reads the log of the throw's own scope (a runtime limit; "
           "Camunda 7 compensates the scope around the event subprocess)")
def compensate_in_event_subprocess(m: Model) -> Iterator[Finding]:
    for node in _throws(m):
        container = m.container(node)
        if node.event is not None and node.event.ref:
            continue  # compensate-activity-ref checks where the named activity is
        if container is not None and container.kind == "eventSubProcess" \
                and not m.event_starts_with(container, "compensate"):
            yield Finding(m.element(node), "a compensate throw inside an event subprocess would "
                                           "compensate the scope around it, which Baton cannot "
                                           "do: it compensates only activities completed inside "
                                           "the event subprocess itself; name the activity "
                                           "(activityRef) or throw from the main flow")


@rule("compensation-handler-unused", WARNING, applies_to="compensation handlers "
                                                         "(isForCompensation activities)",
      constraint="A compensation handler is associated with a compensation boundary event.",
      spec="BPMN 2.0.2 10.7.1 Compensation Handler",
      instead="Baton never runs the handler.")
def compensation_handler_unused(m: Model) -> Iterator[Finding]:
    used = {node.compensation_handler for node in m.nodes
            if node.compensation_handler is not None}
    for node in m.nodes:
        # (a compensation event subprocess is marked too: its start event is its trigger)
        if node.is_for_compensation and node.index not in used \
                and node.kind != "eventSubProcess":
            yield Finding(m.element(node), "the activity is a compensation handler "
                                           "(isForCompensation=\"true\") but no compensation "
                                           "boundary event is associated with it, so it never "
                                           "runs")
