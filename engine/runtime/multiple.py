"""Multiple and parallel multiple events (BPMN 2.0.2 10.5.1 and 13.5).

An event with several event definitions is a *multiple* event. A catching one waits with one
subscription per definition (`Subscription.part` says which) and fires on the first that
occurs: the owner then leaves, and leaving drops the other subscriptions like any other
boundary or catch subscription. With parallelMultiple="true" it fires once *all* have
occurred: each arrival drops its own subscription, and the event fires when none of its
siblings is left, so the instance state needs no counter of its own. A throwing multiple
event throws every definition (behaviors/events.py).

Nodes without several definitions never reach this module: the runtime only comes here when
`Node.events` or `Node.parallel_multiple` is set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.runtime.state import WAITING, Subscription, Token

if TYPE_CHECKING:
    from engine.graph import Node
    from engine.runtime.run import Run

CATCHABLE = frozenset({"message", "signal", "timer", "conditional"})


def subscribe_parts(run: Run, node: Node, owner: Token | None, sid: int,
                    skip: tuple[str, str] | None = None) -> int:
    """Subscribe every definition of a multiple catch event; `skip` is a (kind, name)
    already received (a parallel multiple start event started by it). Returns how many
    subscriptions were made."""
    made = 0
    for i, ev in enumerate(node.events):
        if ev.type not in CATCHABLE:
            continue
        if skip is not None and (ev.type, ev.ref) == skip:
            skip = None
            continue
        run.subscribe(node, owner, sid, part=i)  # (a condition already true fires soon)
        made += 1
    return made


def all_parts_fired(run: Run, sub: Subscription, variables: dict[str, Any]) -> bool:
    """parallelMultiple: `sub` has occurred. True when it was the last definition still
    awaited; otherwise its variables are kept in the waiting scope and the event waits on."""
    run.unsubscribe(sub)
    for other in run.state.subs.values():
        if other.node == sub.node and other.token == sub.token and other.scope == sub.scope:
            if variables:
                run.set_vars(sub.scope, variables)
            return False
    return True


def start_parallel(run: Run, node: Node, fired: tuple[str, str]) -> None:
    """A process started at its parallel multiple start event by one of its messages or
    signals (`fired`): the instance exists now and its start event waits for the others."""
    token = Token(run.state.new_id(), node.index, 0, WAITING, None, False, "catch")
    run.state.tokens[token.id] = token
    run.history("activity_started", node, token)
    if not subscribe_parts(run, node, token, 0, skip=fired):
        run.leave(token)


__all__ = ["CATCHABLE", "all_parts_fired", "start_parallel", "subscribe_parts"]
