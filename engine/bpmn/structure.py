"""Linking compiled nodes into a graph: flows, defaults, boundaries, containers and their
start nodes, event subprocesses, inclusive-join upstream sets and compensation handlers.

All of it is derived from the diagram alone, so it is computed once here rather than by the
runtime on every step. Sequence flows are the only truth for incoming/outgoing: the
<incoming>/<outgoing> children of flow nodes are redundant and often missing or stale.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from lxml import etree

from engine.bpmn.context import Context
from engine.bpmn.elements import ACTIVITY_KINDS, CONTAINER_KINDS, TRIGGERED_KINDS
from engine.bpmn.parser import ref

Draft = dict[str, Any]
# joins that wait for the tokens that can still reach them (BPMN 2.0.2 13.3.3, 13.3.4)
UPSTREAM_JOINS = frozenset({"inclusiveGateway", "complexGateway"})


def link_structure(drafts: list[Draft], elements: list[etree._Element],
                   flows: list[dict[str, Any]], associations: list[etree._Element],
                   ctx: Context) -> dict[str, Any]:
    """Fill the linking fields of every draft (in place); return the process-level fields."""
    _flows(drafts, flows)
    _defaults(drafts, elements, flows, ctx)
    _boundaries(drafts, elements, ctx)
    process_fields = _containers(drafts, elements, flows, ctx)
    _join_upstream(drafts, flows)
    _compensation(drafts, elements, associations, ctx)
    return process_fields


def _flows(drafts: list[Draft], flows: list[dict[str, Any]]) -> None:
    incoming: list[list[int]] = [[] for _ in drafts]
    outgoing: list[list[int]] = [[] for _ in drafts]
    for flow in flows:
        outgoing[flow["source"]].append(flow["index"])
        incoming[flow["target"]].append(flow["index"])
    for draft, ins, outs in zip(drafts, incoming, outgoing, strict=True):
        draft["incoming"] = tuple(ins)
        draft["outgoing"] = tuple(outs)


def _defaults(drafts: list[Draft], elements: list[etree._Element],
              flows: list[dict[str, Any]], ctx: Context) -> None:
    by_id = {flow["id"]: flow["index"] for flow in flows}
    for draft, element in zip(drafts, elements, strict=True):
        default_id = ref(element, "default")
        if not default_id:
            continue
        index = by_id.get(default_id)
        if index is None or index not in draft["outgoing"]:
            ctx.problems.add(element, f"default flow '{default_id}' is not an outgoing sequence "
                                      "flow of this element")
            continue
        draft["default_flow"] = index


def _boundaries(drafts: list[Draft], elements: list[etree._Element], ctx: Context) -> None:
    index = {draft["id"]: draft["index"] for draft in drafts}
    attached: dict[int, list[int]] = {}
    for draft, element in zip(drafts, elements, strict=True):
        if draft["kind"] != "boundaryEvent":
            continue
        target_id = ref(element, "attachedToRef")
        if not target_id:
            ctx.problems.add(element, "the boundary event has no attachedToRef")
            continue
        target = index.get(target_id)
        if target is None:
            ctx.problems.add(element, f"attachedToRef '{target_id}' does not name an activity of "
                                      "this process")
            continue
        if drafts[target]["kind"] not in ACTIVITY_KINDS:
            ctx.problems.add(element, f"attachedToRef '{target_id}' names a "
                                      f"{drafts[target]['kind']}; boundary events attach to "
                                      "activities (tasks, subprocesses, call activities)")
            continue
        draft["attached_to"] = target
        attached.setdefault(target, []).append(draft["index"])
    for target, boundary_indexes in attached.items():
        drafts[target]["boundaries"] = tuple(boundary_indexes)


def _containers(drafts: list[Draft], elements: list[etree._Element],
                flows: list[dict[str, Any]], ctx: Context) -> dict[str, Any]:
    by_scope: dict[int | None, list[int]] = {}
    for draft in drafts:
        by_scope.setdefault(draft["scope"], []).append(draft["index"])
    for draft in drafts:
        if draft["kind"] not in CONTAINER_KINDS:
            continue
        children = by_scope.get(draft["index"], [])
        draft["children"] = tuple(children)
        draft["event_subprocesses"] = _event_subprocesses(drafts, children)
        if draft["kind"] == "eventSubProcess":
            starts = tuple(i for i in children if drafts[i]["kind"] == "startEvent")
            draft["event_starts"] = starts
        elif draft["kind"] == "adHocSubProcess":
            draft["start_nodes"] = _adhoc_inside(drafts, elements, children, ctx)
        else:
            draft["start_nodes"] = _start_nodes(drafts, children)
    children = by_scope.get(None, [])
    fields: dict[str, Any] = {
        "children": tuple(children),
        "start_nodes": _start_nodes(drafts, children),
        "event_subprocesses": _event_subprocesses(drafts, children),
    }
    fields.update(_process_starts(drafts, elements, flows, children, ctx))
    return fields


def _adhoc_inside(drafts: list[Draft], elements: list[etree._Element], children: list[int],
                  ctx: Context) -> tuple[int, ...]:
    """An ad-hoc subprocess holds activities, gateways, intermediate events and flows, no
    start event (BPMN 2.0.2 13.3.5); its enabled activities are those without incoming
    flow. Every activity directly inside is marked: its completion is when the
    completionCondition is evaluated."""
    enabled = []
    for i in children:
        draft = drafts[i]
        if draft["kind"] == "startEvent":
            ctx.problems.add(elements[i], "an ad-hoc subprocess has no start events: its "
                                          "activities without incoming flow are started on "
                                          "request")
        if draft["kind"] not in ACTIVITY_KINDS or draft["kind"] in TRIGGERED_KINDS \
                or draft.get("is_for_compensation"):
            continue
        draft["in_adhoc"] = True
        if not draft["incoming"]:
            enabled.append(i)
    return tuple(enabled)


def _event_subprocesses(drafts: list[Draft], children: list[int]) -> tuple[int, ...]:
    return tuple(i for i in children if drafts[i]["kind"] == "eventSubProcess")


def _start_nodes(drafts: list[Draft], children: list[int]) -> tuple[int, ...]:
    """None start events; with no start event at all, every node without incoming flow
    (BPMN 2.0.2 section 13.3.5 - implicit start), except those something else triggers."""
    starts = [i for i in children if drafts[i]["kind"] == "startEvent"]
    if starts:
        return tuple(i for i in starts
                     if drafts[i].get("event") is None or drafts[i]["event"].type == "none")
    return tuple(i for i in children if _implicit_start(drafts[i]))


def _implicit_start(draft: Draft) -> bool:
    if draft["incoming"] or draft["kind"] in TRIGGERED_KINDS:
        return False
    if draft.get("is_for_compensation"):
        return False
    event = draft.get("event")
    return not (draft["kind"] == "intermediateCatchEvent" and event is not None
                and event.type == "link")


def _process_starts(drafts: list[Draft], elements: list[etree._Element],
                    flows: list[dict[str, Any]], children: list[int],
                    ctx: Context) -> dict[str, Any]:
    message_starts: dict[str, int] = {}
    signal_starts: dict[str, int] = {}
    timer_starts: list[int] = []
    conditional_starts: list[int] = []
    for i in children:
        draft = drafts[i]
        event = draft.get("event")
        if draft["kind"] != "startEvent" or event is None:
            continue
        if event.type == "multiple":
            _multiple_start(draft, elements[i], message_starts, signal_starts, ctx)
        elif event.type in ("message", "signal") and event.ref is not None:
            table = message_starts if event.type == "message" else signal_starts
            if event.ref in table:
                ctx.problems.add(elements[i], f"another start event of this process already "
                                              f"waits for {event.type} '{event.ref}'")
            table[event.ref] = i
        elif event.type == "timer":
            timer_starts.append(i)
        elif event.type == "conditional":
            conditional_starts.append(i)
    starts = {"message": message_starts, "signal": signal_starts}
    for i, draft in enumerate(drafts):
        if draft.get("instantiate"):
            _instantiating(drafts, elements, flows, i, starts, timer_starts, ctx)
    return {
        "message_starts": message_starts,
        "signal_starts": signal_starts,
        "timer_starts": tuple(timer_starts),
        "conditional_starts": tuple(conditional_starts),
    }


def _instantiating(drafts: list[Draft], elements: list[etree._Element],
                   flows: list[dict[str, Any]], i: int, starts: dict[str, dict[str, int]],
                   timer_starts: list[int], ctx: Context) -> None:
    """instantiate="true" (BPMN 2.0.2 10.3.3, 10.6.6): a receive task, or each event an
    event-based gateway waits for, is a start event of the process: its message (signal,
    timer) starts an instance there (see engine/runtime/instantiate.py)."""
    draft = drafts[i]
    ignored = "; Baton ignores instantiate=\"true\" here and runs it as drawn"
    if draft["scope"] is not None:
        ctx.problems.warn(elements[i], f"a {draft['kind']} inside a subprocess cannot "
                                       f"instantiate the process{ignored}")
        draft["instantiate"] = False
        return
    if draft["kind"] == "receiveTask":
        if any(not drafts[flows[f]["source"]].get("instantiate") for f in draft["incoming"]):
            ctx.problems.warn(elements[i], "a receive task with incoming sequence flows (other "
                                           "than from an instantiating event-based gateway) "
                                           f"cannot instantiate the process{ignored}")
            draft["instantiate"] = False
        elif not draft["incoming"]:
            _start_on(drafts, elements, i, "message", draft.get("message_ref"), starts, ctx)
        return
    if draft["incoming"]:
        ctx.problems.warn(elements[i], "an event-based gateway with incoming sequence flows "
                                       f"cannot instantiate the process{ignored}")
        draft["instantiate"] = False
        return
    for f in draft["outgoing"]:
        target = flows[f]["target"]
        event = drafts[target].get("event")
        if drafts[target]["kind"] == "receiveTask":
            _start_on(drafts, elements, target, "message", drafts[target].get("message_ref"),
                      starts, ctx)
        elif event is not None and event.type in ("message", "signal"):
            _start_on(drafts, elements, target, event.type, event.ref, starts, ctx)
        elif event is not None and event.type == "timer":
            timer_starts.append(target)
        elif drafts[target]["kind"] == "intermediateCatchEvent":
            ctx.problems.add(elements[target], "an event-based gateway that instantiates the "
                                               "process can start it on messages, signals and "
                                               "timers; Baton cannot start it on a "
                                               f"{event.type if event else 'none'} event")


def _start_on(drafts: list[Draft], elements: list[etree._Element], i: int, kind: str,
              name: str | None, starts: dict[str, dict[str, int]], ctx: Context) -> None:
    if name is None:
        ctx.problems.add(elements[i], f"the {drafts[i]['kind']} instantiates the process but "
                                      f"names no {kind}, so nothing could start it")
        return
    if starts[kind].setdefault(name, i) != i:
        ctx.problems.add(elements[i], f"another start event of this process already waits "
                                      f"for {kind} '{name}'")


def _multiple_start(draft: Draft, element: etree._Element, message_starts: dict[str, int],
                    signal_starts: dict[str, int], ctx: Context) -> None:
    """A multiple start event of the process starts it on each of its messages and signals
    (parallelMultiple: the first one starts the instance, which waits at the start event
    for the others)."""
    i = draft["index"]
    for part in draft.get("events", ()):
        if part.type not in ("message", "signal"):
            ctx.problems.add(element, f"the multiple start event has a {part.type} definition; "
                                      "Baton starts a process on the messages and signals of a "
                                      "multiple start event only")
            continue
        if part.ref is None:
            continue  # reported where the definition was read
        table = message_starts if part.type == "message" else signal_starts
        if table.get(part.ref, i) != i:
            ctx.problems.add(element, f"another start event of this process already waits for "
                                      f"{part.type} '{part.ref}'")
        table[part.ref] = i


def _join_upstream(drafts: list[Draft], flows: list[dict[str, Any]]) -> None:
    """For each inclusive join (and complex gateway, whose reset waits as an inclusive join
    does): the nodes from which a token could still reach it.

    Walks sequence flows backwards from the join without passing through it. A boundary
    event found on the way adds its activity too: a token waiting in that activity can reach
    the join through the boundary. Flows never cross scopes, so the set stays in the join's
    scope; the runtime maps tokens inside subprocesses to their enclosing node.
    """
    for draft in drafts:
        if draft["kind"] not in UPSTREAM_JOINS or len(draft["incoming"]) < 2:
            continue
        join = draft["index"]
        # per incoming flow, the nodes that can reach it: the spec's join waits only for a
        # token that could reach an incoming flow without a token and no flow with one
        reach = tuple(_reaching(drafts, flows, flows[f]["source"], join)
                      for f in draft["incoming"])
        draft["join_reach"] = reach
        draft["join_upstream"] = frozenset().union(*reach)


def _reaching(drafts: list[Draft], flows: list[dict[str, Any]], start: int,
              join: int) -> frozenset[int]:
    """`start` and every node from which it can be reached without passing `join`."""
    seen: set[int] = set()
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == join or node in seen:
            continue
        seen.add(node)
        queue.extend(flows[f]["source"] for f in drafts[node]["incoming"])
        attached = drafts[node].get("attached_to")
        if attached is not None:
            queue.append(attached)
    return frozenset(seen)


def _compensation(drafts: list[Draft], elements: list[etree._Element],
                  associations: list[etree._Element], ctx: Context) -> None:
    """Compensation boundary event --association--> handler activity (isForCompensation)."""
    index = {draft["id"]: draft["index"] for draft in drafts}
    linked: set[int] = set()
    for association in associations:
        ends = [index.get(ref(association, "sourceRef") or ""),
                index.get(ref(association, "targetRef") or "")]
        if None in ends:
            continue
        for boundary, handler in (ends, ends[::-1]):
            if not _is_compensation_boundary(drafts[boundary]):
                continue
            if not drafts[handler].get("is_for_compensation"):
                ctx.problems.add(elements[handler], "this activity is associated with the "
                                                    "compensation boundary event "
                                                    f"'{drafts[boundary]['id']}' but is not marked "
                                                    "isForCompensation=\"true\"")
                continue
            activity = drafts[boundary].get("attached_to")
            if activity is not None:
                drafts[activity]["compensation_handler"] = handler
                linked.add(boundary)
    for draft, element in zip(drafts, elements, strict=True):
        if _is_compensation_boundary(draft) and draft["index"] not in linked \
                and draft.get("attached_to") is not None:
            ctx.problems.add(element, "the compensation boundary event has no association to a "
                                      "compensation handler (an activity with "
                                      "isForCompensation=\"true\")")


def _is_compensation_boundary(draft: Draft) -> bool:
    event = draft.get("event")
    return draft["kind"] == "boundaryEvent" and event is not None and event.type == "compensate"
