"""Start, end, intermediate and boundary events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.runtime import effects as fx
from engine.runtime.behaviors.base import Behavior
from engine.runtime.errors import RuntimeFailure

if TYPE_CHECKING:
    from engine.graph import EventDef, Node
    from engine.runtime.run import Run
    from engine.runtime.state import Token


def _payload(run: Run, token: Token, node: Node, ev: EventDef | None) -> dict[str, Any]:
    if ev is None or not ev.payload:
        return {}
    view = run.view(token.scope)
    return {p.name: run.param_value(p, view, node) for p in ev.payload}


def throw_message_or_signal(run: Run, token: Token, node: Node,
                            ev: EventDef | None = None) -> None:
    """Throw the node's message or signal (or `ev`, one definition of a multiple event)."""
    ev = ev or node.event
    assert ev is not None
    name = ev.ref
    if ev.ref_expr is not None:
        name = str(run.evaluate(ev.ref_expr, token.scope, node))
    payload = _payload(run, token, node, ev)
    if ev.type == "message":
        if ev is node.event and node.task_type == "expression":
            payload = _send_implementation(run, token, node, payload)
        key = run.evaluate(ev.correlation_key, token.scope, node) if ev.correlation_key else None
        if run.graph.correlations:
            from engine.runtime.correlation import on_throw

            payload = on_throw(run, run.outer_scope(token), name or "", payload,
                               drawn=bool(ev.payload))
        run.effects.append(fx.MessageThrown(name or "", payload, node.id, key))
    else:
        # Catchers in this very instance get the signal now, before the thrower moves on
        # (it may reach its end in this step); the service broadcasts it to the others.
        from engine.runtime.events import fire_subscription

        for sub in [s for s in run.state.subs.values()
                    if s.kind == "signal" and s.name == (name or "")]:
            if sub.id in run.state.subs:
                fire_subscription(run, sub, dict(payload))
        run.effects.append(fx.SignalThrown(name or "", payload, node.id))


def _send_implementation(run: Run, token: Token, node: Node,
                         payload: dict[str, Any]) -> dict[str, Any]:
    """A message throw drawn with camunda:expression: Camunda 7's implementation of the
    send. Its value goes to camunda:resultVariable in the thrower (as in Camunda 7) and,
    since Baton delivers the message itself, the message carries it under that name too:
    the value is what was sent (SpiffWorkflow's Camunda dialect reads the attribute as the
    message's content alone)."""
    if node.script is not None:              # ${execution.setVariable(...)}: an action
        run.run_script(node.script, token, node)
        return payload
    if node.expression is None:
        return payload
    value = run.evaluate(node.expression, token.scope, node)
    if not node.result_variable:
        return payload
    run.set_var(token.scope, node.result_variable, value)
    return {**payload, node.result_variable: value}


def throw_all(run: Run, token: Token, node: Node) -> None:
    """A throwing multiple event throws each of its messages and signals (until one of
    them interrupts the thrower itself)."""
    for ev in node.events:
        if not thrower_alive(run, token):
            return
        throw_message_or_signal(run, token, node, ev)


def thrower_alive(run: Run, token: Token) -> bool:
    """False when what the token just threw interrupted it: a signal caught by an
    interrupting boundary event of an enclosing subprocess, or by an interrupting event
    subprocess of its scope, cancels the very token that is still throwing."""
    return run.state.tokens.get(token.id) is token


def leave_after_throw(run: Run, token: Token, node: Node) -> None:
    """Move on after throwing, unless the throw interrupted the thrower: then the event
    has done its work (it threw) and ends there, its scope already cancelled."""
    if thrower_alive(run, token):
        run.leave(token)
    else:
        run.history("activity_completed", node, token)


def start_external_worker(run: Run, token: Token, node: Node) -> bool:
    """A message throw drawn with camunda:type="external": an outside worker sends the
    message, so the token waits for it like a service task. False when not external."""
    if node.task_type != "external" or node.topic is None:
        return False
    run.wait(token, "external")
    run.effects.append(fx.ServiceTaskStarted(
        token.id, node.id, node.topic, node.task_type, dict(run.view(token.scope)), None,
        node.retry_cycle, 0))
    return True


class _ExternalThrow(Behavior):
    """Resume of a message throw event that waited for an external worker."""

    def resume(self, run: Run, token: Token, node: Node, variables: dict[str, Any],
               local: bool = False) -> None:
        if token.wait != "external":
            super().resume(run, token, node, variables, local)
            return
        run.effects.append(fx.ServiceTaskEnded(token.id, "completed"))
        token.wait = None
        run.set_vars(token.scope, variables, local)
        run.leave(token)


def throw_from_end(run: Run, token: Token, node: Node, kind: str, code: str | None) -> None:
    """An error or escalation end event throws; how it ends depends on the catcher.

    Caught by an interrupting catcher (a boundary event on an enclosing subprocess, an
    event subprocess of an enclosing scope), the end event is cut short together with the
    scope it ends: it is recorded as cancelled, as Camunda 7's history does
    (HistoricActivityInstanceStateTest.testBoundaryErrorCancel) and BPMN 2.0.2 13.5.6
    implies (the catcher's activity is interrupted with everything inside it). An error
    nobody catches in this instance ends the instance (a calling activity takes it, or it
    is an incident): cancelled too. A non-interrupting escalation catcher, or none, lets
    the end event complete its token as usual."""
    from engine.runtime.errors import UnhandledBpmnError

    at = len(run.effects)                # the record goes before what the catcher does
    run.state.tokens.pop(token.id, None)
    try:
        caught = run.throw(kind, code, None, token, node, self_boundaries=False)
    except UnhandledBpmnError:
        _record_at(run, at, "activity_cancelled", node, token)
        raise
    _record_at(run, at, "activity_cancelled" if caught else "activity_completed", node, token)
    if not caught:
        run.check_scope(token.scope)


def _record_at(run: Run, at: int, type_: str, node: Node, token: Token) -> None:
    run.history(type_, node, token)
    run.effects.insert(at, run.effects.pop())


class StartEvent(Behavior):
    """A start event: its token moves on (what started it was the trigger's business)."""


class BoundaryEvent(Behavior):
    """A boundary event that fired: its token moves on (`fire_subscription` made it)."""


class EndEvent(_ExternalThrow):
    """Ends its token, throwing what its event definition says."""

    def enter(self, run: Run, token: Token, node: Node) -> None:
        ev = node.event
        etype = ev.type if ev is not None else "none"
        if etype == "none":
            run.leave(token)
        elif etype == "cancel":
            from engine.runtime.compensation import compensate

            compensate(run, token, node)   # then leaves through the cancel boundary
        elif etype == "terminate":
            run.history("activity_completed", node, token)
            sid = run.outer_scope(token)
            run.state.tokens.pop(token.id, None)
            run.clear_scope(sid)
            # the scope ends as drawn: at process level the instance is "completed" (as in
            # Camunda); "terminated" is kept for instances cancelled from outside
            run.check_scope(sid)
        elif etype in ("error", "escalation"):
            throw_from_end(run, token, node, etype, ev.ref)
        elif etype in ("message", "signal"):
            if etype == "message" and start_external_worker(run, token, node):
                return
            throw_message_or_signal(run, token, node)
            leave_after_throw(run, token, node)
        elif etype == "compensate":
            from engine.runtime.compensation import compensate

            compensate(run, token, node)
        elif etype == "multiple":
            throw_all(run, token, node)
            leave_after_throw(run, token, node)
        else:
            raise RuntimeFailure(f"{node.label}: '{etype}' end events are not supported", node.id)


class IntermediateThrowEvent(_ExternalThrow):
    """Throws a message, signal, escalation, link or compensation; moves on."""

    def enter(self, run: Run, token: Token, node: Node) -> None:
        ev = node.event
        etype = ev.type if ev is not None else "none"
        if etype == "none":
            run.leave(token)
        elif etype in ("message", "signal"):
            if etype == "message" and start_external_worker(run, token, node):
                return
            throw_message_or_signal(run, token, node)
            leave_after_throw(run, token, node)
        elif etype == "escalation":
            if not run.throw("escalation", ev.ref, None, token, node, self_boundaries=False):
                if token.id in run.state.tokens:
                    run.leave(token)
        elif etype == "link":
            # a link throw and its catch are one sequence flow drawn in two pieces (BPMN
            # 2.0.2 10.5.2: "a 'Go To' object within the Process level"): no activity
            # instance of their own in history, as in Camunda 7 (LinkEventTest)
            target = _link_target(run, node)
            token.node = target
            token.flow = None
            token.state = "ready"
            run.queue.append(token)
        elif etype == "compensate":
            from engine.runtime.compensation import compensate

            compensate(run, token, node)
        elif etype == "multiple":
            throw_all(run, token, node)
            leave_after_throw(run, token, node)
        else:
            raise RuntimeFailure(f"{node.label}: '{etype}' throw events are not supported", node.id)


def _link_target(run: Run, node: Node) -> int:
    assert node.event is not None
    name = node.event.ref
    for n in run.graph.nodes:
        if (n.kind == "intermediateCatchEvent" and n.scope == node.scope and n.event is not None
                and n.event.type == "link" and n.event.ref == name):
            return n.index
    raise RuntimeFailure(f"{node.label}: no link catch event named '{name}'", node.id)


class IntermediateCatchEvent(Behavior):
    """Waits for its message, signal, timer or condition (a link catch moves on)."""

    def enter(self, run: Run, token: Token, node: Node) -> None:
        ev = node.event
        if ev is None or ev.type == "none":
            run.leave(token)
            return
        if ev.type == "link":
            run.leave(token, record=False)   # the end of a link jump (see the throw)
            return
        if ev.type == "conditional" and ev.condition is not None:
            if run.condition_holds(ev.condition, token.scope, node):
                run.leave(token)
                return
        run.wait(token, "catch")
        if ev.type == "multiple":
            from engine.runtime.multiple import subscribe_parts

            subscribe_parts(run, node, token, token.scope)
            return
        run.subscribe(node, token, token.scope)
