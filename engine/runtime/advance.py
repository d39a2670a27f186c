"""`advance(graph, state, trigger, now)`: the one entry point of the pure runtime."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.expr.guards import SCRIPT_CLOCK
from engine.graph import ProcessGraph
from engine.runtime import effects as fx
from engine.runtime import triggers as tr
from engine.runtime.errors import RuntimeFailure, StaleTrigger
from engine.runtime.events import fire_subscription
from engine.runtime.instantiate import is_instantiating, start_at
from engine.runtime.run import GIVEN, Run
from engine.runtime.state import WAITING, InstanceState


def start(graph: ProcessGraph, trigger: tr.Start, now: datetime,
          has_parent: bool = False,
          decisions: Mapping[str, Any] | None = None,
          context: Mapping[str, Any] | None = None,
          stores: Mapping[str, Any] | None = None) -> tuple[InstanceState, list[Any]]:
    """Create a new instance and run it until every token waits or the instance ends.

    `decisions` (decision id -> compiled DMN decision) serves business rule tasks;
    `context` ({"instance_id", "business_key", "definition_id"}) is what scripts and
    listeners read as execution.processInstanceId, execution.processBusinessKey...;
    `stores` the current values of the data stores the process refers to
    (`ProcessGraph.data_stores`; a name never written is absent)."""
    clock = SCRIPT_CLOCK.set(now)  # datetime.now() in scripts is the command's time
    try:
        return _start(graph, trigger, now, has_parent, decisions, context, stores)
    finally:
        SCRIPT_CLOCK.reset(clock)


def _start(graph: ProcessGraph, trigger: tr.Start, now: datetime, has_parent: bool,
           decisions: Mapping[str, Any] | None,
           context: Mapping[str, Any] | None = None,
           stores: Mapping[str, Any] | None = None) -> tuple[InstanceState, list[Any]]:
    state = InstanceState()
    run = Run(graph, state, now, decisions, context, stores)
    run.effects.append(fx.event(run.instance_id, "process_started", graph.key, now))
    root = state.scopes[0]
    variables = trigger.variables
    if graph.data_inputs and not trigger.start_before:
        from engine.runtime.iospec import start_variables

        variables = start_variables(graph, variables)
    if variables:
        root.vars.update(variables)
        if has_parent:  # a called instance: what it deletes is deleted in its caller too
            root.data = {GIVEN: list(variables)}
    if trigger.fired is not None and trigger.fired[0] == "message" and graph.correlations:
        from engine.runtime.correlation import on_start

        on_start(graph, state, trigger.fired[1], trigger.variables)
    if graph.listeners_start:
        run.notify(graph.listeners_start, 0, "start", graph.key, graph.name)
    run.subscribe_event_subprocesses(0, graph.event_subprocesses, None)
    if trigger.start_before:  # started (restarted) at activities, Camunda's startBeforeActivity
        from engine.runtime.modification import start_here

        start_here(run, trigger.start_before)
        _finish(run, has_parent)
        return state, run.effects
    if trigger.start_node is not None:
        if trigger.start_node not in graph.index:
            raise RuntimeFailure(f"process '{graph.key}' has no start event "
                                 f"'{trigger.start_node}'")
        starts: tuple[int, ...] = (graph.index[trigger.start_node],)
    else:
        starts = graph.start_nodes or _single_event_start(graph)
    if not starts:
        raise RuntimeFailure(f"process '{graph.key}' has no none start event to start it "
                             "with (start it by a message, signal or timer)")
    for s in starts:
        if trigger.start_node is not None and is_instantiating(graph, graph.nodes[s]):
            start_at(run, graph.nodes[s])  # a receive task / event gateway target started it
        elif graph.nodes[s].parallel_multiple and trigger.fired is not None:
            from engine.runtime.multiple import start_parallel

            start_parallel(run, graph.nodes[s], trigger.fired)  # waits for the others
        else:
            run.new_token(s, 0)
    _finish(run, has_parent)
    return state, run.effects


def _single_event_start(graph: ProcessGraph) -> tuple[int, ...]:
    """A process whose only start event waits for a message, signal, timer or condition can
    still be started by key, at that event (Camunda 7's startProcessInstanceByKey does so)."""
    events = {*graph.message_starts.values(), *graph.signal_starts.values(),
              *graph.timer_starts, *graph.conditional_starts}
    return tuple(events) if len(events) == 1 else ()


def advance(graph: ProcessGraph, state: InstanceState, trigger: Any, now: datetime,
            has_parent: bool = False,
            decisions: Mapping[str, Any] | None = None,
            context: Mapping[str, Any] | None = None,
            stores: Mapping[str, Any] | None = None) -> list[Any]:
    """Apply one trigger to a running instance; mutates `state`, returns the effects.
    `decisions`, `context` and `stores` as for `start`."""
    clock = SCRIPT_CLOCK.set(now)  # datetime.now() in scripts is the command's time
    try:
        return _advance(graph, state, trigger, now, has_parent, decisions, context, stores)
    finally:
        SCRIPT_CLOCK.reset(clock)


def _advance(graph: ProcessGraph, state: InstanceState, trigger: Any, now: datetime,
             has_parent: bool, decisions: Mapping[str, Any] | None,
             context: Mapping[str, Any] | None = None,
             stores: Mapping[str, Any] | None = None) -> list[Any]:
    if state.status != "running":
        raise StaleTrigger(f"the instance has already ended ({state.status})")
    run = Run(graph, state, now, decisions, context, stores)
    nodes = graph.nodes
    if isinstance(trigger, tr.Complete | tr.Continue):
        token = state.tokens.get(trigger.token)
        if token is None or token.state != WAITING and token.wait != "mi":
            raise StaleTrigger(f"token {trigger.token} is not waiting any more")
        node = nodes[token.node]
        if isinstance(trigger, tr.Continue):
            if token.wait == "async-before":
                token.wait = "async-done"
                token.state = "ready"
                run.queue.append(token)
            elif token.wait == "async-after":
                token.wait = "async-after-done"
                token.state = "ready"
                run.leave(token, record=False)
            else:
                raise StaleTrigger(f"token {trigger.token} is not at an async continuation")
        elif token.wait in ("catch", "receive") and not isinstance(trigger.variables, type(None)):
            run.detach(token)
            run.set_vars(token.scope, trigger.variables, trigger.local)
            run.leave(token)
        elif token.wait == "eventgw":
            raise StaleTrigger(f"{node.label} waits for an event, not a completion")
        else:
            run.behaviors[node.kind].resume(run, token, node, trigger.variables, trigger.local)
    elif isinstance(trigger, tr.Fire):
        sub = state.subs.get(trigger.sub)
        if sub is None:
            raise StaleTrigger(f"subscription {trigger.sub} is gone")
        if sub.kind == "message" and graph.correlations:
            from engine.runtime.correlation import on_catch

            on_catch(run, sub, trigger.variables or {})  # NotCorrelated: not for this one
        fire_subscription(run, sub, trigger.variables)
    elif isinstance(trigger, tr.Throw):
        token = state.tokens.get(trigger.token)
        if token is None or token.state != WAITING:
            raise StaleTrigger(f"token {trigger.token} is not waiting any more")
        node = nodes[token.node]
        if token.wait == "external":
            run.effects.append(fx.ServiceTaskEnded(token.id, "error"))
            token.wait = None
        elif token.wait == "user":
            run.effects.append(fx.UserTaskEnded(token.id, "error"))
            token.wait = None
        if trigger.kind == "escalation":
            run.throw("escalation", trigger.code, trigger.message, token, node,
                      trigger.variables)
        else:
            run.throw("error", trigger.code, trigger.message, token, node, trigger.variables)
    elif isinstance(trigger, tr.ChildEnded):
        token = state.tokens.get(trigger.token)
        if token is None or token.wait != "call":
            raise StaleTrigger(f"token {trigger.token} does not wait for a called instance")
        run.behaviors["callActivity"].child_ended(run, token, nodes[token.node],
                                                  trigger.variables, trigger.deleted)
    elif isinstance(trigger, tr.SetVariables):
        run.set_vars(0, trigger.variables)
    elif isinstance(trigger, tr.AdHocStart):
        from engine.runtime.adhoc import start_activity

        start_activity(run, trigger.activity_id, trigger.variables)
    elif isinstance(trigger, tr.AdHocComplete):
        from engine.runtime.adhoc import complete

        complete(run, trigger.adhoc_id)
    elif isinstance(trigger, tr.Terminate):
        run.clear_scope(0)
        for sub in list(state.subs.values()):
            run.unsubscribe(sub)
        state.status = "terminated"
        run.effects.append(fx.InstanceEnded("terminated", state.variables, now,
                                            cancelled=trigger.reason))
        return run.effects
    elif isinstance(trigger, tr.Modify):
        from engine.runtime.modification import modify

        modify(run, trigger)
    else:
        raise TypeError(f"unknown trigger {trigger!r}")
    _finish(run, has_parent)
    return run.effects


def _finish(run: Run, has_parent: bool) -> None:
    try:
        run.drain()
    except Exception as e:
        from engine.runtime.errors import UnhandledBpmnError

        if isinstance(e, UnhandledBpmnError) and has_parent:
            # the error goes up to the calling activity; this instance ends with it
            state = run.state
            run.clear_scope(0)
            for sub in list(state.subs.values()):
                run.unsubscribe(sub)
            state.status = "terminated"
            run.effects.append(fx.InstanceEnded("terminated", state.variables, run.now))
            return
        raise
