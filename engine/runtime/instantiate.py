"""Starting a process at a receive task or event-based gateway with instantiate="true".

BPMN 2.0.2 10.3.3 / 10.6.6: such a receive task, or the events such a gateway waits for,
are in effect start events: the message (signal, timer) that arrives creates the instance,
and the element it arrived for completes at once with it. The compiler lists them among
the process's message, signal and timer starts, so a message correlated to no waiting
instance starts one here. For a gateway with eventGatewayType="Parallel" the other events
are then awaited in that same instance (each completes its own path when it arrives), as
for a parallel multiple start event; an exclusive one has done its choice.

Started by key instead (no event), the same elements simply wait, as they would anywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.graph import Node, ProcessGraph
    from engine.runtime.run import Run


def instantiating_gateway(graph: ProcessGraph, node: Node) -> Node | None:
    """The instantiating event-based gateway that leads to `node`, if one does."""
    for f in node.incoming:
        source = graph.nodes[graph.flows[f].source]
        if source.kind == "eventBasedGateway" and source.instantiate:
            return source
    return None


def is_instantiating(graph: ProcessGraph, node: Node) -> bool:
    """True for a node that a message, signal or timer arriving for it starts the process
    at without waiting (rather than a start event's token moving on)."""
    if node.kind == "startEvent":
        return False
    return node.instantiate or instantiating_gateway(graph, node) is not None


def start_at(run: Run, node: Node) -> None:
    """The event for `node` arrived and created the instance: complete it and move on."""
    graph = run.graph
    gateway = instantiating_gateway(graph, node)
    token = run.new_token(node.index, 0)
    run.queue.pop()  # it does not enter `node` (that would wait again): it completes there
    if gateway is not None:
        run.history("activity_started", gateway, token)
        run.history("activity_completed", gateway, token)
        for f in gateway.outgoing:
            flow = graph.flows[f]
            if flow.target == node.index:
                token.flow = f
            elif gateway.parallel_event_gateway:
                run.new_token(flow.target, 0, f)  # awaited in this instance
    run.history("activity_started", node, token)
    run.leave(token)


__all__ = ["instantiating_gateway", "is_instantiating", "start_at"]
