"""What happens when a subscription fires: a message, signal, timer or condition arrived for
a catch event, a boundary event, an event-based gateway's target or an event subprocess."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.runtime import effects as fx
from engine.runtime.state import Subscription

if TYPE_CHECKING:
    from engine.runtime.run import Run


def fire_subscription(run: Run, sub: Subscription, variables: dict[str, Any]) -> None:
    graph = run.graph
    state = run.state
    node = graph.nodes[sub.node]
    owner = state.tokens.get(sub.token) if sub.token is not None else None
    # a non-interrupting message/signal catcher (boundary or event-subprocess start) keeps
    # listening while its activity or scope lives: each delivery starts one more path
    keep = (sub.kind in ("message", "signal") and not node.interrupting
            and node.kind in ("boundaryEvent", "startEvent"))
    if node.parallel_multiple:
        from engine.runtime.multiple import all_parts_fired, subscribe_parts

        if not all_parts_fired(run, sub, variables):
            return  # a parallel multiple event waits for all its definitions
        if keep and (owner is not None or sub.token is None):
            subscribe_parts(run, node, owner, sub.scope)  # non-interrupting: listen again
    elif not (keep or _reschedule_cycle(run, sub, node)):
        run.unsubscribe(sub)

    if node.kind == "startEvent" and (owner is None or owner.node != node.index):
        # an event subprocess start (a process-level parallel multiple start event waits
        # with its own token, like a catch event)
        if sub.scope not in state.scopes:
            return
        token = run.trigger_event_subprocess(node, sub.scope, node.interrupting)
        run.set_vars(token.scope, variables)
        return

    if node.kind == "boundaryEvent":
        if owner is None:
            return
        sid = run.outer_scope(owner)
        if node.interrupting:
            run.cancel(owner)
        run.set_vars(sid, variables)
        run.new_token(node.index, sid)
        return

    if owner is None:
        return
    owner_node = graph.nodes[owner.node]
    if owner_node.kind == "eventBasedGateway":
        run.detach(owner)
        run.history("activity_completed", owner_node, owner)
        owner.node = node.index
        owner.state = "ready"
        run.set_vars(owner.scope, variables)
        run.history("activity_started", node, owner)
        run.leave(owner)
        return

    # the owner itself waits at this catch event / receive task
    run.set_vars(owner.scope, variables)
    run.leave(owner)


def _reschedule_cycle(run: Run, sub: Subscription, node: Any) -> bool:
    """Cycle timers on non-interrupting catchers fire again: schedule the next one."""
    ev = run.event_of(sub)
    if sub.kind != "timer" or ev is None or ev.timer_kind != "timeCycle":
        return False
    interrupting_start = node.kind == "startEvent" and node.interrupting
    if node.interrupting and node.kind == "boundaryEvent" or interrupting_start:
        return False
    if node.kind not in ("boundaryEvent", "startEvent"):
        return False
    fired = run.state.scopes[sub.scope].data or {}
    key = f"cycle:{sub.id}"
    count = int(fired.get(key, 0)) + 1
    from engine.timers import TimerError, parse_timer

    try:
        spec = parse_timer("timeCycle", run._timer_text(node, sub.scope, ev))
    except TimerError:
        return False
    first = spec.first_due(run.now)
    nxt = spec.next_due(run.now, count) if first is not None else None
    if nxt is None:
        return False
    data = run.state.scopes[sub.scope].data
    if data is None:
        data = run.state.scopes[sub.scope].data = {}
    data[key] = count
    run.effects.append(
        fx.TimerScheduled(sub.id, sub.token, node.id, nxt, "timeCycle", spec.text, count)
    )
    return True
