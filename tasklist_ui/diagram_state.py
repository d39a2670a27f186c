"""What an instance's drawing shows: where tokens wait now and the path taken so far.

The history records activities (started, completed, cancelled), not sequence flows, so the
path is reconstructed: a flow counts as taken when its target started after its source
completed, attributing each start to the most recent completed predecessor. A history event
that names its flow (`detail["flow"]`) is taken at its word.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from engine.graph import ProcessGraph
from tasklist_ui.svg import DiagramState


def instance_diagram_state(graph: ProcessGraph | None, tokens: Iterable[dict[str, Any]],
                           history: Iterable[Any], highlight: Iterable[str] = ()
                           ) -> DiagramState:
    active: Counter[str] = Counter()
    for token in tokens:
        if token.get("state") in ("waiting", "arrived"):
            active[token["activity_id"]] += 1
    done: set[str] = set()
    taken: set[str] = set()
    incoming: dict[str, list[tuple[str, str]]] = {}
    if graph is not None:
        for flow in graph.flows:
            source = graph.nodes[flow.source].id
            target = graph.nodes[flow.target].id
            incoming.setdefault(target, []).append((source, flow.id))
    completed_order: dict[str, int] = {}
    for position, event in enumerate(history):
        activity = getattr(event, "activity_id", None)
        kind = getattr(event, "type", "")
        if not activity:
            continue
        if kind == "activity_completed":
            done.add(activity)
            completed_order[activity] = position
        elif kind == "activity_started":
            detail = getattr(event, "detail", None) or {}
            flow_id = detail.get("flow") if isinstance(detail, dict) else None
            if flow_id:
                taken.add(flow_id)
                continue
            best: tuple[int, str] | None = None
            for source, fid in incoming.get(activity, ()):
                at = completed_order.get(source)
                if at is not None and (best is None or at > best[0]):
                    best = (at, fid)
            if best is not None:
                taken.add(best[1])
        elif kind == "activity_cancelled":
            done.add(activity)
    return DiagramState(active=dict(active), done=done, taken=taken,
                        highlight=set(highlight))
