"""Compensation: undo completed work by running handlers in reverse order of completion.

Completed activities that have a compensation handler are logged per scope (only their
node index, so the log stays small); a compensate throw runs the handlers for the whole
scope, or for one activity, one after the other in a "comp" scope held by the thrower.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.runtime.state import Scope

if TYPE_CHECKING:
    from engine.graph import Node
    from engine.runtime.run import Run
    from engine.runtime.state import Token


def compensate(run: Run, token: Token, node: Node) -> None:
    ev = node.event
    sid = run.outer_scope(token)
    log = _collect(run, sid)
    target = ev.ref if ev is not None else None
    nodes = run.graph.nodes
    handlers: list[int] = []
    for n in reversed(log):
        if target is None or nodes[n].id == target:
            h = nodes[n].compensation_handler
            if h is not None:
                handlers.append(h)
    if target is None:
        run.state.compensations.pop(sid, None)
    else:
        remaining = [n for n in log if nodes[n].id != target]
        run.state.compensations[sid] = remaining
    if not handlers:
        _done(run, token, node)
        return
    run.wait(token, "compensate")
    token.state = "active"
    cid = run.state.new_id()
    scope = Scope(cid, "comp", node.index, sid, token.id, {}, {"queue": handlers})
    run.state.scopes[cid] = scope
    next_handler(run, scope)


def _collect(run: Run, sid: int) -> list[int]:
    return list(run.state.compensations.get(sid, []))


def next_handler(run: Run, scope: Scope) -> None:
    queue = scope.data["queue"] if scope.data else []
    if queue:
        h = queue.pop(0)
        run.new_token(h, scope.id)
        return
    run.state.scopes.pop(scope.id, None)
    holder = run.state.tokens.get(scope.token) if scope.token is not None else None
    if holder is not None:
        _done(run, holder, run.graph.nodes[holder.node])


def _done(run: Run, token: Token, node: Node) -> None:
    token.state = "ready"
    token.wait = None
    if node.kind == "endEvent":
        run.leave(token)
    else:
        run.leave(token)
