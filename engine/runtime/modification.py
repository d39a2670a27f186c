"""Process instance modification: cancel tokens and start new ones where an operator says.

Why: a process stuck on a wrong path, a step that must be done again, a migration by hand -
operators need to move tokens without deploying a fix (Camunda 7's
`createProcessInstanceModification(id).cancelAllForActivity(a).startBeforeActivity(b)`,
SpiffWorkflow's "reset token to task"). One `Modify` trigger carries ordered instructions:

- `("cancel", activity_id)`: cancel every active instance of the activity (the tokens at
  it, the scopes they hold, their boundary subscriptions, their user tasks, external tasks
  and called instances), recorded as `activity_cancelled`;
- `("cancel_token", token_id)`: cancel one instance (Camunda's cancelActivityInstance);
- `("start_before", activity_id)`: a new token enters the activity, as if a flow led there:
  asyncBefore, multi-instance bodies, boundary events and input mappings work as usual.
  The subprocesses around it are reused when exactly one instance of each is active, and
  opened (history, boundary events, event subprocesses, start listeners; not their start
  events) when none is. An event subprocess itself can be started (non-interrupting);
  starting *inside* one, or inside a multi-instance subprocess, needs a live instance;
- `("start_after", activity_id)`: a token on the activity's single outgoing flow;
- `("start_transition", flow_id)`: a token on that sequence flow (joins see it arrive by it).

Each instruction may carry a third element, variables set in the scope the new token starts
in (the process for a top-level activity). A scope that the cancellations leave empty and
no start instruction refilled is cancelled too, up to the process: an instance left with no
token at all ends as terminated. (Camunda cancels an emptied scope at once, so a start in
the same subprocess after cancelling its last token opens a new instance of it; Baton keeps
the subprocess, its variables and its timers, which is what "move the token" means.)

`tokens_after` serves "reset to an activity": the tokens that went on from it.
Nothing here costs a node anything unless a modification runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from engine.runtime import effects as fx
from engine.runtime.errors import RuntimeFailure
from engine.runtime.state import ARRIVED, READY, InstanceState, Token

if TYPE_CHECKING:
    from engine.graph import Node, ProcessGraph
    from engine.runtime.run import Run
    from engine.runtime.triggers import Modify

INSTRUCTIONS = ("cancel", "cancel_token", "start_before", "start_after", "start_transition")
_CONTAINER_SCOPES = ("sub", "event")


# ---------------------------------------------------------------------------- entry point
def modify(run: Run, trigger: Modify) -> None:
    """Apply `trigger`'s instructions in order; the caller drains the queue afterwards."""
    graph = run.graph
    steps = [_instruction(graph, i) for i in trigger.instructions]
    if not steps:
        raise RuntimeFailure("a modification needs at least one instruction")
    run.effects.append(fx.event(
        run.instance_id, "instance_modified", graph.key, run.now, None, None, trigger.user,
        {"instructions": [[kind, str(target)] for kind, target, _ in steps],
         "reason": trigger.reason}))
    if trigger.variables:
        run.set_vars(0, trigger.variables)
    emptied: set[int] = set()
    for kind, target, variables in steps:
        if kind == "cancel":
            node = _node(graph, target)
            tokens = [t for t in run.state.tokens.values() if t.node == node.index]
            if not tokens:
                raise RuntimeFailure(f"{node.label} has no active instance to cancel", node.id)
            cancel_tokens(run, tokens, emptied)
        elif kind == "cancel_token":
            token = run.state.tokens.get(target)
            if token is None:
                raise RuntimeFailure(f"token {target} is not active in this instance")
            cancel_tokens(run, [token], emptied)
        elif kind == "start_before":
            start_before(run, _node(graph, target), variables)
        else:
            _start_on_flow(run, _flow_of(graph, kind, target), variables)
    close_emptied(run, emptied)
    if run.state.status == "running" and not run.state.tokens:
        end_instance(run, trigger.reason or "all tokens cancelled by a modification")


def _instruction(graph: ProcessGraph, raw: Sequence[Any]) -> tuple[str, Any, dict[str, Any]]:
    if not isinstance(raw, list | tuple) or len(raw) not in (2, 3):
        raise RuntimeFailure(f"a modification instruction is (kind, target[, variables]), "
                             f"not {raw!r}")
    kind, target = raw[0], raw[1]
    variables = dict(raw[2] or {}) if len(raw) == 3 else {}
    if kind not in INSTRUCTIONS:
        raise RuntimeFailure(f"unknown modification instruction {kind!r} (use one of "
                             f"{', '.join(INSTRUCTIONS)})")
    if kind == "cancel_token":
        if isinstance(target, bool) or not isinstance(target, int | str) or not str(
                target).isdigit():
            raise RuntimeFailure(f"cancel_token needs a token id, not {target!r}")
        target = int(target)
    elif not isinstance(target, str) or not target:
        raise RuntimeFailure(f"{kind} needs an element id, not {target!r}")
    if variables and not kind.startswith("start"):
        raise RuntimeFailure(f"variables go with start instructions, not with {kind}")
    return kind, target, variables


def _node(graph: ProcessGraph, activity_id: str) -> Node:
    index = graph.index.get(activity_id)
    if index is None:
        raise RuntimeFailure(f"process '{graph.key}' has no activity '{activity_id}'",
                             activity_id)
    return graph.nodes[index]


def _flow_of(graph: ProcessGraph, kind: str, target: str) -> Any:
    if kind == "start_transition":
        index = graph.flow_index.get(target)
        if index is None:
            raise RuntimeFailure(f"process '{graph.key}' has no sequence flow '{target}'",
                                 target)
        return graph.flows[index]
    node = _node(graph, target)
    if len(node.outgoing) != 1:
        raise RuntimeFailure(f"cannot start after {node.label}: it has "
                             f"{len(node.outgoing)} outgoing sequence flows, not exactly one "
                             "(start before the activity you want instead)", node.id)
    return graph.flows[node.outgoing[0]]


# ---------------------------------------------------------------------------- cancelling
def cancel_tokens(run: Run, tokens: Iterable[Token], emptied: set[int]) -> None:
    """Cancel `tokens` (outermost first, so a held scope goes with its holder) and note the
    scopes they stood in, to close those left empty (`close_emptied`)."""
    state = run.state
    for token in sorted(tokens, key=lambda t: _depth(state, t.scope)):
        if state.tokens.get(token.id) is not token:
            continue  # already gone with a scope cancelled before it
        emptied.add(_cancel(run, token))


def _cancel(run: Run, token: Token) -> int:
    """Cancel one token; return the scope it stood in - for one instance of a
    multi-instance activity, the body, whose count of active instances drops by one (the
    instance's own scope goes with its token)."""
    state = run.state
    sid = run.outer_scope(token)
    scope = state.scopes[sid]
    run.cancel(token)
    if scope.kind != "inner" or scope.token != token.id or scope.parent is None:
        return sid
    body = state.scopes.get(scope.parent)
    if body is not None and body.data is not None and "active" in body.data:
        body.data["active"] -= 1
        body.vars["nrOfActiveInstances"] = body.data["active"]
    return scope.parent


def _depth(state: InstanceState, sid: int) -> int:
    depth = 0
    scope = state.scopes.get(sid)
    while scope is not None and scope.parent is not None:
        depth += 1
        scope = state.scopes.get(scope.parent)
    return depth


def close_emptied(run: Run, emptied: set[int]) -> None:
    """Cancel the containers whose scope the cancellations left without a token: a
    subprocess, an event subprocess (one instance of a multi-instance subprocess: the
    others go on), a whole multi-instance activity once none of its instances is left."""
    state = run.state
    pending = sorted(emptied, key=lambda sid: -_depth(state, sid))
    while pending:
        sid = pending.pop(0)
        scope = state.scopes.get(sid)
        if scope is None or scope.parent is None:
            continue
        parent = scope.parent
        if scope.kind in _CONTAINER_SCOPES:
            if run.scope_busy(sid):
                continue
        elif scope.kind == "mi":
            if any(s.parent == sid for s in state.scopes.values()):
                continue
        else:
            continue
        holder = state.tokens.get(scope.token) if scope.token is not None else None
        if holder is None:
            run.cancel_scope(sid)
        else:
            parent = _cancel(run, holder)
        if parent not in pending:
            pending.append(parent)
            pending.sort(key=lambda s: -_depth(state, s))


def end_instance(run: Run, reason: str) -> None:
    """No token is left: the instance ends as terminated (Camunda deletes it)."""
    state = run.state
    run.clear_scope(0)
    for sub in list(state.subs.values()):
        run.unsubscribe(sub)
    state.status = "terminated"
    run.effects.append(fx.InstanceEnded("terminated", state.variables, run.now,
                                        cancelled=reason))


# ---------------------------------------------------------------------------- starting
def start_here(run: Run, activity_ids: Sequence[str]) -> None:
    """A new instance starts before these activities instead of at its start events
    (Camunda's startBeforeActivity on instantiation; what a restart does)."""
    for activity_id in activity_ids:
        start_before(run, _node(run.graph, activity_id))


def start_before(run: Run, node: Node, variables: dict[str, Any] | None = None) -> Token:
    """Queue a token that enters `node`, opening the subprocesses around it as needed."""
    if node.kind == "boundaryEvent":
        raise RuntimeFailure(f"cannot start before {node.label}: start before the activity "
                             "it is attached to, or after the boundary event", node.id)
    sid = scope_for(run, node.scope, node)
    if variables:
        run.set_vars(sid, variables, local=True)
    if node.kind == "eventSubProcess":
        if not node.event_starts:
            raise RuntimeFailure(f"{node.label} has no start event", node.id)
        start = run.graph.nodes[node.event_starts[0]]
        return run.trigger_event_subprocess(start, sid, interrupting=False)
    return run.new_token(node.index, sid)


def _start_on_flow(run: Run, flow: Any, variables: dict[str, Any]) -> Token:
    target = run.graph.nodes[flow.target]
    sid = scope_for(run, target.scope, target)
    if variables:
        run.set_vars(sid, variables, local=True)
    if flow.listeners:
        run.notify(flow.listeners, sid, "take", flow.id, flow.name)
    return run.new_token(flow.target, sid, flow.index)


def scope_for(run: Run, container: int | None, target: Node) -> int:
    """The scope instance of `container` to start `target` in, opening the missing ones
    from the outermost live scope down."""
    if container is None:
        return 0
    nodes = run.graph.nodes
    chain: list[int] = []
    c: int | None = container
    while c is not None:
        chain.append(c)
        c = nodes[c].scope
    chain.reverse()
    sid = 0
    for c in chain:
        node = nodes[c]
        live = [s.id for s in run.state.scopes.values()
                if s.node == c and s.kind in _CONTAINER_SCOPES and _within(run.state, s.id, sid)]
        if len(live) > 1:
            raise RuntimeFailure(
                f"cannot start {target.label}: {len(live)} instances of {node.label} are "
                "active, so where to start is ambiguous (cancel the others first)", target.id)
        if live:
            sid = live[0]
            continue
        if node.kind == "eventSubProcess":
            raise RuntimeFailure(
                f"cannot start {target.label} inside {node.label}: the event subprocess is "
                f"not running (start before '{node.id}' itself to run it)", target.id)
        if node.multi_instance is not None or node.loop is not None:
            raise RuntimeFailure(
                f"cannot start {target.label} inside {node.label}: none of the "
                "multi-instance or loop subprocess's instances is active (start before "
                f"'{node.id}' itself)", target.id)
        sid = open_container(run, node, sid)
    return sid


def _within(state: InstanceState, sid: int, ancestor: int) -> bool:
    """Scope `sid` sits directly in `ancestor`: only input-mapping and multi-instance
    scopes (no other container) lie between them."""
    scopes = state.scopes
    parent = scopes[sid].parent
    while parent is not None:
        if parent == ancestor:
            return True
        scope = scopes.get(parent)
        if scope is None or scope.kind not in ("local", "io", "mi", "inner"):
            return False
        parent = scope.parent
    return False


def open_container(run: Run, node: Node, sid: int) -> int:
    """Enter subprocess `node` in scope `sid` as `Run.enter` would, without starting its
    start events; returns the new scope's id."""
    state = run.state
    holder = Token(state.new_id(), node.index, sid, READY)
    state.tokens[holder.id] = holder
    run.history("activity_started", node, holder)
    if node.inputs:
        run.push_local(holder, node)
    if node.boundaries:
        run.attach_boundaries(holder, node)
    if node.pre_script is not None:
        run.run_script(node.pre_script, holder, node)
    if node.listeners_start:
        run.notify(node.listeners_start, holder.scope, "start", node.id, node.name)
    return run.enter_scope(holder, node).id


# ---------------------------------------------------------------------------- reset
def reachable_after(graph: ProcessGraph, index: int) -> set[int]:
    """Nodes a token at node `index` can go on to: the node itself, what its flows and
    boundary events lead to in its (sub)process, then what follows each enclosing
    subprocess once it ends (its flows and interrupting boundary events) - not the
    enclosing subprocesses themselves."""
    nodes, flows = graph.nodes, graph.flows
    seen: set[int] = set()
    todo = [index]
    node = nodes[index]
    while True:
        while todo:
            n = todo.pop()
            if n in seen:
                continue
            seen.add(n)
            todo.extend(flows[f].target for f in nodes[n].outgoing)
            todo.extend(nodes[n].boundaries)
        if node.scope is None:
            return seen
        node = nodes[node.scope]
        todo = [flows[f].target for f in node.outgoing]
        todo.extend(b for b in node.boundaries if nodes[b].interrupting)


def tokens_after(graph: ProcessGraph, state: InstanceState, index: int) -> list[int]:
    """Ids of the tokens that went on from node `index` (see `reachable_after`): cancelled
    by a reset to it. A token waiting at a join counts only when it arrived from there, so
    parallel branches that did not pass the node keep their place."""
    after = reachable_after(graph, index)
    flows = graph.flows
    out = []
    for t in state.tokens.values():
        if t.inner or t.node not in after:
            continue  # an inner instance goes with its multi-instance body
        if t.state == ARRIVED and t.flow is not None and flows[t.flow].source not in after:
            continue
        out.append(t.id)
    return out
