"""Compensation: undo completed work by running handlers in reverse order of completion.

Completed activities that have a compensation handler are logged per scope (only their
node index, so the log stays small). A completed embedded subprocess without a handler of its
own is logged as one entry `[node index, id of its finished scope]`, its inner log kept under
that id: compensating the subprocess then compensates its inner activities, or starts its
compensation event subprocess, which sees that inner log (Camunda 7 and BPMN 2.0 13.5.5).

A compensate throw runs the handlers for the whole scope, or for one activity, one after the
other in a "comp" scope held by the thrower. A cancel end event compensates its transaction
the same way and then leaves through the transaction's cancel boundary event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.runtime.state import Scope

if TYPE_CHECKING:
    from engine.graph import Node
    from engine.runtime.run import Run
    from engine.runtime.state import InstanceState, Token

# a log entry: a node index, or [subprocess node index, id of its finished scope]
Entry = Any


def entry_node(entry: Entry) -> int:
    return entry if isinstance(entry, int) else entry[0]


def compensate(run: Run, token: Token, node: Node) -> None:
    ev = node.event
    sid = run.outer_scope(token)
    target = ev.ref if ev is not None and ev.type == "compensate" else None
    state = run.state
    nodes = run.graph.nodes
    log = list(state.compensations.get(sid, []))
    chosen = [e for e in log if target is None or nodes[entry_node(e)].id == target]
    remaining = [e for e in log if not (target is None or nodes[entry_node(e)].id == target)]
    if remaining:
        state.compensations[sid] = remaining
    else:
        state.compensations.pop(sid, None)
    queue: list[Entry] = []
    for entry in reversed(chosen):
        _plan(run, entry, queue)
    if not queue:
        _done(run, token, node)
        return
    run.wait(token, "compensate")
    token.state = "active"
    cid = state.new_id()
    scope = Scope(cid, "comp", node.index, sid, token.id, {}, {"queue": queue})
    state.scopes[cid] = scope
    next_handler(run, scope)


def _plan(run: Run, entry: Entry, queue: list[Entry]) -> None:
    """Queue what compensates one log entry: its handler, a subprocess's compensation event
    subprocess (with the subprocess's inner log), or the inner entries one by one."""
    nodes = run.graph.nodes
    if isinstance(entry, int):
        handler = nodes[entry].compensation_handler
        if handler is not None:
            queue.append(handler)
        return
    sub_index, inner_sid = entry
    start = compensation_start(run, nodes[sub_index])
    if start is not None:
        queue.append([start, inner_sid])
        return
    for inner in reversed(run.state.compensations.pop(inner_sid, [])):
        _plan(run, inner, queue)


def compensation_start(run: Run, node: Node) -> int | None:
    """The compensate start event of `node`'s compensation event subprocess, if it has one."""
    nodes = run.graph.nodes
    for esp in node.event_subprocesses:
        for start in nodes[esp].event_starts:
            ev = nodes[start].event
            if ev is not None and ev.type == "compensate":
                return start
    return None


def next_handler(run: Run, scope: Scope) -> None:
    queue = scope.data["queue"] if scope.data else []
    if queue:
        item = queue.pop(0)
        if isinstance(item, int):
            run.new_token(item, scope.id)
            return
        start, inner_sid = item
        token = run.trigger_event_subprocess(run.graph.nodes[start], scope.id, False)
        inner_log = run.state.compensations.pop(inner_sid, None)
        if inner_log:
            run.state.compensations[token.scope] = inner_log
        return
    run.state.scopes.pop(scope.id, None)
    drop_log(run.state, scope.id)
    holder = run.state.tokens.get(scope.token) if scope.token is not None else None
    if holder is not None:
        _done(run, holder, run.graph.nodes[holder.node])


def drop_log(state: InstanceState, sid: int) -> None:
    """Forget a scope's compensation log, with the inner logs of its subprocess entries."""
    for entry in state.compensations.pop(sid, ()):
        if not isinstance(entry, int):
            drop_log(state, entry[1])


def _done(run: Run, token: Token, node: Node) -> None:
    token.state = "ready"
    token.wait = None
    ev = node.event
    if node.kind == "endEvent" and ev is not None and ev.type == "cancel":
        _leave_transaction(run, token, node)
        return
    run.leave(token)


def _leave_transaction(run: Run, token: Token, node: Node) -> None:
    """After a cancel end event compensated its transaction: interrupt the transaction and
    continue at its cancel boundary event (without one, the end event just ends)."""
    sid = run.outer_scope(token)
    scope = run.state.scopes.get(sid)
    holder = run.state.tokens.get(scope.token) if scope is not None and scope.token else None
    if holder is None:
        run.leave(token)
        return
    nodes = run.graph.nodes
    for b in nodes[holder.node].boundaries:
        ev = nodes[b].event
        if ev is not None and ev.type == "cancel":
            run.history("activity_completed", node, token)
            run.state.tokens.pop(token.id, None)
            run._catch_boundary(nodes[b], holder, "cancel", None, None, None)
            return
    run.leave(token)
