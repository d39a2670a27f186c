"""The token machine: one `Run` per trigger, moving tokens until every one of them rests.

Behaviours (one class per node kind, in `behaviors/`) decide what entering or resuming a
node means; this module owns what is common: moving along flows, scopes and variables,
cancelling, boundary subscriptions, and routing errors and escalations to their catchers.
"""

from __future__ import annotations

from collections import ChainMap, deque
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.bpmn.elements import CONTAINER_KINDS, JOIN_KINDS
from engine.expressions import Expression, ExpressionError, Outcome, Script
from engine.graph import EventDef, Flow, Node, ProcessGraph
from engine.runtime import effects as fx
from engine.runtime.behaviors import BEHAVIORS
from engine.runtime.errors import RuntimeFailure, UnhandledBpmnError
from engine.runtime.state import (
    ACTIVE,
    ARRIVED,
    LOCAL_SCOPES,
    READY,
    WAITING,
    InstanceState,
    Scope,
    Subscription,
    Token,
)
from engine.timers import TimerError, parse_timer

# scopes that do not complete when their last token ends (their holder decides)
NOT_COMPLETED_BY_TOKENS = frozenset({"mi", "inner", "local", "io"})
GIVEN = "given"  # process scope data: names of the variables a called instance started with
# joins to look at again after every settled move (see `Run._wake_joins`)
WAKE_JOINS = frozenset({"inclusiveGateway", "complexGateway"})
WAIT_END = {"user": fx.UserTaskEnded, "external": fx.ServiceTaskEnded}
MAX_STEPS = 1_000_000


class Run:
    """The context of one `advance()` call: graph, state, time and the effects produced."""

    __slots__ = ("graph", "state", "now", "effects", "queue", "vars_changed", "behaviors", "steps",
                 "decisions", "context", "stores", "instance_id")

    def __init__(self, graph: ProcessGraph, state: InstanceState, now: datetime,
                 decisions: Mapping[str, Any] | None = None,
                 context: Mapping[str, Any] | None = None,
                 stores: Mapping[str, Any] | None = None) -> None:
        self.graph = graph
        # the data stores' values (name -> value; an absent name was never written), as the
        # caller read them; writes of this run update this copy (engine/runtime/datastores)
        self.stores: dict[str, Any] = dict(stores) if stores else {}
        self.decisions: Mapping[str, Any] = decisions or {}  # DMN decisions by id
        # What scripts may ask through execution.* (instance_id, business_key,
        # definition_id); the caller knows it, the pure runtime does not.
        self.context: Mapping[str, Any] = context or {}
        # stamped on the history events (None for the pure runtime called without one)
        self.instance_id: str | None = self.context.get("instance_id")
        self.state = state
        self.now = now
        self.effects: list[Any] = []
        self.queue: deque[Token] = deque()
        self.vars_changed = False
        self.behaviors = BEHAVIORS
        self.steps = 0

    # ------------------------------------------------------------------ loop
    def drain(self) -> None:
        """Enter every ready token until none is left; then wake conditional events and
        inclusive joins that the moves may have enabled."""
        queue = self.queue
        tokens = self.state.tokens
        while True:
            while queue:
                token = queue.popleft()
                if token.state is not READY or tokens.get(token.id) is not token:
                    continue
                self.steps += 1
                if self.steps > MAX_STEPS:
                    raise RuntimeFailure(
                        f"the instance took more than {MAX_STEPS} steps in one command; "
                        "is there an endless loop without a wait state?"
                    )
                self.enter(token)
            if not self._wake_conditionals() and not self._wake_joins():
                break

    # ------------------------------------------------------------------ tokens
    def new_token(
        self, node: int, scope: int, flow: int | None = None, inner: bool = False
    ) -> Token:
        token = Token(self.state.new_id(), node, scope, READY, flow, inner)
        self.state.tokens[token.id] = token
        self.queue.append(token)
        return token

    def history(self, type_: str, node: Node, token: Token | None) -> None:
        # fx.event's tuple, built in place: most effects of most runs are these
        self.effects.append((self.instance_id, type_, node.id, self.now, node.kind, node.name,
                             None, None, 0, token.id if token else None))

    def enter(self, token: Token) -> None:
        graph = self.graph
        node = graph.nodes[token.node]
        if node.start_quantity != 1 and token.wait is None and not token.inner \
                and not self._gathered(token, node):
            return
        if token.wait == "async-done":
            token.wait = None
        elif node.async_before and not token.inner:
            token.state = WAITING
            token.wait = "async-before"
            self.effects.append(fx.AsyncContinuation(token.id, node.id, False, node.retry_cycle))
            return
        behavior = self.behaviors[node.kind]
        if not token.inner and (node.multi_instance is not None or node.loop is not None):
            from engine.runtime.multi import enter_body

            self.attach_boundaries(token, node)
            enter_body(self, token, node)
            return
        ev = node.event
        if not ((node.kind in JOIN_KINDS and len(node.incoming) > 1)
                or (ev is not None and ev.type == "link")):  # a link pair: a flow's jump
            self.history("activity_started", node, token)
        if node.inputs:
            self.push_local(token, node)
        if node.store_reads:
            from engine.runtime.datastores import read_stores

            read_stores(self, token, node)
        if node.boundaries and not token.inner:
            self.attach_boundaries(token, node)
        if node.pre_script is not None:
            self.run_script(node.pre_script, token, node)
        if node.listeners_start and node.kind not in CONTAINER_KINDS:  # they: enter_scope
            self.notify(node.listeners_start, token.scope, "start", node.id, node.name)
        behavior.enter(self, token, node)

    def _gathered(self, token: Token, node: Node) -> bool:
        """startQuantity (BPMN 2.0.2 13.2.1): the activity starts once that many tokens
        have arrived (on any of its incoming flows, in one scope); until then they wait
        at it. True when this token completes the count: the others are consumed."""
        waiting = [t for t in self.state.tokens.values()
                   if t.node == token.node and t.scope == token.scope and t.state is ARRIVED
                   and t is not token]
        if len(waiting) + 1 < node.start_quantity:
            token.state = ARRIVED
            return False
        for t in waiting[:node.start_quantity - 1]:
            del self.state.tokens[t.id]
        return True

    def leave(self, token: Token, *, record: bool = True) -> None:
        """The node ended normally: close it and move on along its outgoing flows."""
        node = self.graph.nodes[token.node]
        if token.wait == "async-after-done":
            # the asyncAfter job: the activity already ended (scripts, outputs, listeners)
            token.wait = None
            self.take_outgoing(token, node)
            return
        if (node.boundaries and self.vars_changed and record and token.state is READY
                and not token.inner and self.interrupted_on_leave(token)):
            return
        if node.post_script is not None:
            self.run_script(node.post_script, token, node)
        if node.listeners_end and (
                token.inner or (node.multi_instance is None and node.loop is None)):
            # once per activity instance, not again for the multi-instance body
            self.notify(node.listeners_end, token.scope, "end", node.id, node.name)
        if node.store_writes:
            from engine.runtime.datastores import write_stores

            write_stores(self, token, node)
        if node.outputs or self.state.scopes[token.scope].kind == "local":
            self.pop_local(token, node)
        if record:
            self.history("activity_completed", node, token)
        if node.compensation_handler is not None:
            self._log_compensable(token, node)
        self.detach(token)
        if token.inner:
            from engine.runtime.multi import inner_done

            inner_done(self, token, node)
            return
        if node.in_adhoc:
            from engine.runtime.adhoc import inner_completed

            if inner_completed(self, token, node):
                return
        if node.async_after and token.wait != "async-after-done":
            token.state = WAITING
            token.wait = "async-after"
            self.effects.append(fx.AsyncContinuation(token.id, node.id, True, node.retry_cycle))
            return
        token.wait = None
        self.take_outgoing(token, node)

    def _log_compensable(self, token: Token, node: Node) -> None:
        """Log a completed activity that has a compensation handler in the scope it ran in.
        Each multi-instance/loop instance is logged (and later compensated) on its own, in
        the scope around the activity; the activity as a whole is then not logged again."""
        sid = token.scope
        if token.inner:
            scopes = self.state.scopes
            body = scopes[scopes[sid].parent]  # type: ignore[index]
            sid = body.parent  # type: ignore[assignment]
        elif node.multi_instance is not None or node.loop is not None:
            return
        self.state.compensations.setdefault(sid, []).append(node.index)

    def take_outgoing(self, token: Token, node: Node) -> None:
        flows = self.graph.flows
        outgoing = node.outgoing
        if not outgoing:
            self.end_token(token)
            return
        quantity = node.completion_quantity
        if len(outgoing) == 1 and flows[outgoing[0]].condition is None and quantity == 1:
            self.move(token, flows[outgoing[0]])
            return
        # BPMN 2.0.2 (10.3.1 `default`, 13.2.1): every unconditional flow and every flow
        # whose condition holds gets a token; the default flow gets one when no condition
        # of the other flows holds, whatever the unconditional flows do (Camunda 7 takes
        # it only when no other flow is taken at all; see the README's semantics notes)
        chosen: list[Flow] = []
        condition_held = False
        for i in outgoing:
            if i == node.default_flow:
                continue
            flow = flows[i]
            if flow.condition is None:
                chosen.append(flow)
            elif self.test(flow, token):
                chosen.append(flow)
                condition_held = True
        if node.default_flow is not None and not condition_held:
            chosen.append(flows[node.default_flow])
        if not chosen:
            raise RuntimeFailure(
                f"{node.label}: no outgoing sequence flow can be taken (all conditions are "
                "false and there is no default flow)", node.id,
            )
        if quantity != 1:  # completionQuantity: that many tokens down each flow taken
            chosen = [flow for flow in chosen for _ in range(quantity)]
        self.split(token, chosen)

    def split(self, token: Token, chosen: list[Flow]) -> None:
        self.move(token, chosen[0])
        for flow in chosen[1:]:
            if flow.listeners:
                self.notify(flow.listeners, token.scope, "take", flow.id, flow.name)
            self.new_token(flow.target, token.scope, flow.index)

    def move(self, token: Token, flow: Flow) -> None:
        if flow.listeners:
            self.notify(flow.listeners, token.scope, "take", flow.id, flow.name)
        token.node = flow.target
        token.flow = flow.index
        token.state = READY
        token.wait = None
        self.queue.append(token)

    def end_token(self, token: Token) -> None:
        tokens = self.state.tokens
        if tokens.get(token.id) is token:
            del tokens[token.id]
        self.check_scope(token.scope)

    def wait(self, token: Token, what: str) -> None:
        token.state = WAITING
        token.wait = what

    # ------------------------------------------------------------------ scopes
    def scope_busy(self, sid: int) -> bool:
        scopes = self.state.scopes
        for t in self.state.tokens.values():
            s = t.scope
            if s == sid:
                return True
            sc = scopes.get(s)
            if sc is not None and sc.parent == sid and sc.kind in LOCAL_SCOPES:
                return True
        return False

    def check_scope(self, sid: int) -> None:
        scope = self.state.scopes.get(sid)
        if scope is None or scope.kind in NOT_COMPLETED_BY_TOKENS:
            return
        if self.scope_busy(sid):
            return
        if scope.node is not None and self.graph.nodes[scope.node].adhoc is not None:
            from engine.runtime.adhoc import may_complete

            if not may_complete(scope):
                return  # an idle ad-hoc subprocess waits for its next activity
        self.complete_scope(scope)

    def complete_scope(self, scope: Scope) -> None:
        state = self.state
        self.drop_scope_subs(scope.id)
        if scope.kind == "process":
            if state.status == "running":
                if self.graph.listeners_end:
                    self.notify(self.graph.listeners_end, scope.id, "end", self.graph.key,
                                self.graph.name)
                state.status = "completed"
                self.effects.append(fx.event(self.instance_id, "process_completed",
                                                     self.graph.key, self.now))
                self.effects.append(self._instance_ended())
            return
        if scope.kind == "comp":
            from engine.runtime.compensation import next_handler

            next_handler(self, scope)
            return
        holder = state.tokens.get(scope.token) if scope.token is not None else None
        self._pass_compensation_log(scope)
        del state.scopes[scope.id]
        if holder is not None:
            self.leave(holder)

    def _instance_ended(self) -> fx.InstanceEnded:
        """The instance completed: what it hands to a calling activity. With data outputs
        declared (ioSpecification), only those; otherwise every variable, plus the names of
        the variables it was started with and deleted (so a caller passing all its
        variables deletes them too, see CallActivity.child_ended)."""
        state = self.state
        graph = self.graph
        variables = state.variables
        if graph.data_outputs:
            from engine.runtime.iospec import end_variables

            return fx.InstanceEnded("completed", end_variables(graph, variables), self.now)
        data = state.scopes[0].data
        given = data.get(GIVEN) if data else None
        deleted = tuple(n for n in given if n not in variables) if given else ()
        return fx.InstanceEnded("completed", variables, self.now, deleted=deleted)

    def _pass_compensation_log(self, scope: Scope) -> None:
        """A finished scope hands its compensation log to its parent. An embedded subprocess
        without a handler of its own becomes one entry that keeps its inner log apart, so
        compensating it later undoes its inner activities (or runs its compensation event
        subprocess); one with its own handler is undone by that handler alone."""
        from engine.runtime.compensation import compensation_start, drop_log

        state = self.state
        if scope.parent is None:
            drop_log(state, scope.id)
            return
        node = self.graph.nodes[scope.node] if scope.node is not None else None
        if scope.kind == "sub" and node is not None:
            if node.compensation_handler is not None:
                drop_log(state, scope.id)
                return
            if scope.id in state.compensations or compensation_start(self, node) is not None:
                state.compensations.setdefault(scope.id, [])
                state.compensations.setdefault(scope.parent, []).append([node.index, scope.id])
                return
        comp = state.compensations.pop(scope.id, None)
        if comp:
            state.compensations.setdefault(scope.parent, []).extend(comp)

    def enter_scope(self, token: Token, node: Node, kind: str = "sub") -> Scope:
        """Open a container's scope held by `token` and subscribe its event subprocesses."""
        sid = self.state.new_id()
        scope = Scope(sid, kind, node.index, token.scope, token.id)
        self.state.scopes[sid] = scope
        if node.listeners_start:  # in the new scope: setVariableLocal stays inside
            self.notify(node.listeners_start, sid, "start", node.id, node.name)
        token.state = ACTIVE
        token.wait = "scope"
        self.subscribe_event_subprocesses(sid, node.event_subprocesses, token)
        return scope

    def subscribe_event_subprocesses(
        self, sid: int, esps: tuple[int, ...], holder: Token | None
    ) -> None:
        nodes = self.graph.nodes
        for esp in esps:
            for start in nodes[esp].event_starts:
                ev = nodes[start].event
                if ev is not None and ev.type in ("message", "signal", "timer", "conditional"):
                    self.subscribe(nodes[start], holder, sid)
                elif nodes[start].events:
                    from engine.runtime.multiple import subscribe_parts

                    subscribe_parts(self, nodes[start], holder, sid)

    def drop_scope_subs(self, sid: int) -> None:
        """Drop the event-subprocess start subscriptions of a scope that is ending."""
        subs = self.state.subs
        if not subs:
            return
        nodes = self.graph.nodes
        for sub in [s for s in subs.values()
                    if s.scope == sid and (s.token is None or nodes[s.node].kind == "startEvent")]:
            self.unsubscribe(sub)

    def push_local(self, token: Token, node: Node) -> None:
        if node.io_spec:
            from engine.runtime.iospec import push_io

            push_io(self, token, node)
            return
        view = self.view(token.scope)
        local: dict[str, Any] = {}
        for p in node.inputs:
            local[p.name] = self.param_value(p, view, node)
        sid = self.state.new_id()
        self.state.scopes[sid] = Scope(sid, "local", node.index, token.scope, token.id, local)
        token.scope = sid

    def pop_local(self, token: Token, node: Node) -> None:
        scopes = self.state.scopes
        local = scopes[token.scope]
        if local.kind == "io":
            from engine.runtime.iospec import pop_io

            pop_io(self, token, node)
            return
        if node.io_spec:
            return  # a multi-instance body: each instance handed its data outputs back
        if local.kind != "local":
            if node.outputs:
                view = self.view(token.scope)
                for p in node.outputs:
                    self.set_var(token.scope, p.name, self.param_value(p, view, node))
            return
        parent = local.parent
        if node.outputs:
            view = self.view(local.id)
            values = [(p.name, self.param_value(p, view, node)) for p in node.outputs]
            for name, value in values:
                self.set_var(parent, name, value)
        comp = self.state.compensations.pop(local.id, None)
        if comp:
            self.state.compensations.setdefault(parent, []).extend(comp)
        del scopes[local.id]
        token.scope = parent

    def outer_scope(self, token: Token) -> int:
        scope = self.state.scopes[token.scope]
        return scope.parent if scope.kind in LOCAL_SCOPES else token.scope  # type: ignore[return-value]

    # ------------------------------------------------------------------ variables
    def view(self, sid: int) -> Mapping[str, Any]:
        scopes = self.state.scopes
        scope = scopes[sid]
        if scope.parent is None:
            return scope.vars
        maps = [scope.vars]
        while scope.parent is not None and scope.kind != "io":  # an io scope sees only itself
            scope = scopes[scope.parent]
            maps.append(scope.vars)
        return ChainMap(*maps)

    def set_var(self, sid: int, name: str, value: Any) -> None:
        """Camunda 7's rule: update the nearest scope that has the variable, else create it
        on the process instance (or, inside an activity's ioSpecification, on its scope)."""
        scopes = self.state.scopes
        scope = scopes[sid]
        while True:
            if name in scope.vars or scope.parent is None or scope.kind == "io":
                scope.vars[name] = value
                break
            scope = scopes[scope.parent]
        self.vars_changed = True

    def set_vars(self, sid: int, values: Mapping[str, Any] | None, local: bool = False) -> None:
        if not values:
            return
        if local:
            self.state.scopes[sid].vars.update(values)
            self.vars_changed = True
            return
        for k, v in values.items():
            self.set_var(sid, k, v)

    def evaluate(self, expr: Expression, sid: int, node: Node | None = None) -> Any:
        try:
            return expr.evaluate(self.view(sid))
        except ExpressionError as e:
            raise RuntimeFailure(str(e), node.id if node else None) from e

    def condition_holds(self, expr: Expression, sid: int, node: Node) -> bool:
        """A conditional event's condition. As in Camunda 7 (`tryEvaluate`), a variable the
        condition names but nobody has set yet makes it false rather than an error: the
        event simply keeps waiting for the variable to appear."""
        try:
            return expr.holds(self.view(sid))
        except ExpressionError as e:
            if isinstance(e.__cause__, NameError):
                return False
            raise RuntimeFailure(str(e), node.id) from e

    def holds(self, expr: Expression, sid: int, node: Node) -> bool:
        """A condition's verdict in scope `sid` (see `Expression.holds`: JUEL and FEEL
        conditions must give a boolean)."""
        try:
            return expr.holds(self.view(sid))
        except ExpressionError as e:
            raise RuntimeFailure(str(e), node.id) from e

    def test(self, flow: Flow, token: Token) -> bool:
        """A sequence flow's condition; a failure (also a JUEL/FEEL condition that gives no
        boolean) names the flow."""
        try:
            return flow.condition.holds(self.view(token.scope))  # type: ignore[union-attr]
        except ExpressionError as e:
            raise RuntimeFailure(str(e), flow.id) from e

    def run_script(self, script: Script, token: Token, node: Node) -> None:
        """A script task's script (its value goes to camunda:resultVariable), a service
        task's camunda:expression action, or a spiffworkflow pre/post script."""
        context = self.facts(node.id, node.name, None) if script.uses_context else None
        try:
            outcome = script.perform(self.view(token.scope), context)
        except ExpressionError as e:
            raise RuntimeFailure(str(e), node.id) from e
        if node.unwritable:  # data objects it has no dataOutputAssociation to
            outcome = outcome._replace(
                variables={k: v for k, v in outcome.variables.items()
                           if k not in node.unwritable})
        self.apply_outcome(outcome, token.scope)
        if script.has_value and node.result_variable and script is node.script:
            self.set_var(token.scope, node.result_variable, outcome.value)

    def notify(self, scripts: tuple[Script, ...], sid: int, event: str, element_id: str,
               element_name: str | None) -> None:
        """Run execution listeners (camunda:executionListener) in scope `sid`."""
        view = self.view(sid)
        for script in scripts:
            context = (self.facts(element_id, element_name, event) if script.uses_context
                       else None)
            try:
                outcome = script.perform(view, context)
            except ExpressionError as e:
                raise RuntimeFailure(str(e), element_id) from e
            self.apply_outcome(outcome, sid)

    def facts(self, element_id: str, element_name: str | None,
              event: str | None) -> dict[str, Any]:
        """What execution.processInstanceId, currentActivityId, eventName... read."""
        return {**self.context, "activity_id": element_id, "activity_name": element_name,
                "event_name": event}

    def apply_outcome(self, outcome: Outcome, sid: int) -> None:
        for k, v in outcome.variables.items():
            self.set_var(sid, k, v)
        if outcome.local:
            self.set_vars(sid, outcome.local, local=True)
        if outcome.deleted:
            self.delete_vars(sid, outcome.deleted)

    def delete_vars(self, sid: int, names: Any) -> None:
        """`del name`: remove each from the nearest scope that has it (never beyond an
        activity's ioSpecification scope)."""
        scopes = self.state.scopes
        for k in names:
            owner: int | None = sid
            while owner is not None:
                if k in scopes[owner].vars:
                    del scopes[owner].vars[k]
                    self.vars_changed = True
                    break
                owner = scopes[owner].parent if scopes[owner].kind != "io" else None

    def param_value(self, p: Any, view: Mapping[str, Any], node: Node) -> Any:
        if p.expr is not None:
            try:
                return p.expr.evaluate(view)
            except ExpressionError as e:
                raise RuntimeFailure(str(e), node.id) from e
        if p.source is not None:
            return view.get(p.source)
        return p.value

    # ------------------------------------------------------------------ subscriptions
    def subscribe(self, node: Node, owner: Token | None, sid: int, kind: str | None = None,
                  name: str | None = None, part: int | None = None) -> Subscription:
        """Wait for an event at `node`; `kind`/`name` default to its event definition
        (a receive task passes its message); `part` picks one definition of a multiple
        event (see engine/runtime/multiple.py)."""
        ev = node.event if part is None else node.events[part]
        kind = kind or (ev.type if ev is not None else "none")
        sub = Subscription(self.state.new_id(), kind, name or (ev.ref if ev else None),
                           owner.id if owner else None, node.index, sid, part)
        if ev is not None and ev.ref_expr is not None:
            sub.name = str(self.evaluate(ev.ref_expr, sid, node))
        self.state.subs[sub.id] = sub
        if kind == "timer":
            due = self.timer_due(node, sid, ev)
            self.effects.append(
                fx.TimerScheduled(sub.id, sub.token, node.id, due, ev.timer_kind or "",
                                  self._timer_text(node, sid, ev))
            )
        elif kind in ("message", "signal"):
            self.effects.append(fx.Subscribed(sub.id, kind, sub.name, sub.token, node.id))
        elif kind == "conditional":
            # evaluated by the runtime itself: first as soon as the moves under way settle
            # (a condition already true when its scope or activity is entered fires then,
            # as in Camunda 7), then on every variable change
            self.vars_changed = True
        return sub

    def event_of(self, sub: Subscription) -> EventDef | None:
        """The event definition a subscription waits for (one part of a multiple event)."""
        node = self.graph.nodes[sub.node]
        return node.event if sub.part is None else node.events[sub.part]

    def _timer_text(self, node: Node, sid: int, ev: EventDef | None = None) -> str:
        ev = ev or node.event
        assert ev is not None
        if ev.timer_expr is not None:
            value = self.evaluate(ev.timer_expr, sid, node)
            if isinstance(value, datetime):
                return value.isoformat()
            return str(value)
        return ev.timer_text or ""

    def timer_due(self, node: Node, sid: int, ev: EventDef | None = None) -> datetime:
        ev = ev or node.event
        assert ev is not None
        text = self._timer_text(node, sid, ev)
        try:
            spec = parse_timer(ev.timer_kind or "timeDuration", text)
            due = spec.first_due(self.now)
        except TimerError as e:
            raise RuntimeFailure(f"{node.label}: {e}", node.id) from e
        if due is None:
            raise RuntimeFailure(f"{node.label}: timer '{text}' never fires", node.id)
        return due

    def unsubscribe(self, sub: Subscription) -> None:
        if self.state.subs.pop(sub.id, None) is not None and sub.kind != "conditional":
            self.effects.append(fx.Unsubscribed(sub.id, sub.kind))

    def attach_boundaries(self, token: Token, node: Node) -> None:
        nodes = self.graph.nodes
        sid = self.outer_scope(token)
        for b in node.boundaries:
            bnode = nodes[b]
            ev = bnode.event
            if ev is not None and ev.type in ("message", "signal", "timer", "conditional"):
                self.subscribe(bnode, token, sid)
            elif bnode.events:
                from engine.runtime.multiple import subscribe_parts

                subscribe_parts(self, bnode, token, sid)

    def detach(self, token: Token) -> None:
        """Drop what a token waited for (boundary events, event-gateway targets)."""
        subs = self.state.subs
        if not subs:
            return
        tid = token.id
        for sub in [s for s in subs.values() if s.token == tid
                    and self.graph.nodes[s.node].kind != "startEvent"]:
            self.unsubscribe(sub)

    # ------------------------------------------------------------------ cancelling
    def cancel(self, token: Token, record: bool = True) -> None:
        state = self.state
        if state.tokens.pop(token.id, None) is None:
            return
        for scope in [s for s in state.scopes.values() if s.token == token.id]:
            self.cancel_scope(scope.id)
        for sub in [s for s in state.subs.values() if s.token == token.id]:
            self.unsubscribe(sub)
        node = self.graph.nodes[token.node]
        wait = token.wait
        if wait in WAIT_END:
            self.effects.append(WAIT_END[wait](token.id, "cancelled"))
        elif wait == "call":
            self.effects.append(fx.CallCancelled(token.id))
        if record and token.state in (WAITING, ACTIVE) and not (
            token.state is ACTIVE and token.wait == "mi"
        ):
            self.history("activity_cancelled", node, token)
        sc = state.scopes.get(token.scope)
        if sc is not None and sc.kind in LOCAL_SCOPES and sc.token == token.id:
            del state.scopes[sc.id]

    def cancel_scope(self, sid: int) -> None:
        state = self.state
        for t in [t for t in state.tokens.values() if t.scope == sid]:
            self.cancel(t)
        for child in [s for s in state.scopes.values() if s.parent == sid]:
            if child.id in state.scopes:
                self.cancel_scope(child.id)
        for sub in [s for s in state.subs.values() if s.scope == sid]:
            self.unsubscribe(sub)
        state.scopes.pop(sid, None)
        from engine.runtime.compensation import drop_log

        drop_log(state, sid)

    def clear_scope(self, sid: int, keep: Token | None = None) -> None:
        """Cancel every token inside a scope (interrupting event subprocess, terminate)."""
        state = self.state
        for t in [t for t in state.tokens.values()
                  if t is not keep and (t.scope == sid or state.scope_inside(t.scope, sid))]:
            self.cancel(t)

    # ------------------------------------------------------------------ errors and escalations
    def throw(self, kind: str, code: str | None, message: str | None, token: Token,
              node: Node, variables: Mapping[str, Any] | None = None,
              self_boundaries: bool = True) -> bool:
        """Route a BPMN error or escalation to its catcher, innermost first: boundary events
        on the throwing activity, event subprocesses of each enclosing scope and boundary
        events on each enclosing container, up to the process; then to a calling instance.
        Returns True when an interrupting catcher took over (the thrower is gone)."""
        nodes = self.graph.nodes
        state = self.state
        if self_boundaries and not token.inner:
            b = self._match_boundary(node, kind, code)
            if b is not None:
                return self._catch_boundary(b, token, kind, code, message, variables)
        sid = self.outer_scope(token)
        came_from: int | None = None
        while sid is not None:
            scope = state.scopes[sid]
            if scope.kind in ("process", "sub", "event"):
                esps = (self.graph.event_subprocesses if scope.node is None
                        else nodes[scope.node].event_subprocesses)
                start = self._match_esp(esps, kind, code, came_from)
                if start is not None:
                    return self._catch_esp(start, sid, kind, code, message, variables, token)
            if scope.kind in ("sub", "event", "mi", "comp") and scope.token is not None:
                holder = state.tokens.get(scope.token)
                if holder is not None and scope.kind != "event":
                    b = self._match_boundary(nodes[holder.node], kind, code)
                    if b is not None and not (holder.inner and scope.kind == "sub"):
                        return self._catch_boundary(b, holder, kind, code, message, variables)
                if scope.kind == "event":
                    came_from = scope.node
            sid = scope.parent
        if kind == "error" or code is not None:
            self.effects.append(
                fx.ErrorPropagated(kind, code, message, dict(variables or {}))
            )
        if kind == "error":
            raise UnhandledBpmnError(code, message, node.id)
        return False

    def _match_boundary(self, node: Node, kind: str, code: str | None) -> Node | None:
        nodes = self.graph.nodes
        fallback = None
        for b in node.boundaries:
            ev = nodes[b].event
            if ev is None or ev.type != kind:
                continue
            if ev.ref is not None and ev.ref == code:
                return nodes[b]
            if ev.ref is None and fallback is None:
                fallback = nodes[b]
        return fallback

    def _match_esp(self, esps: tuple[int, ...], kind: str, code: str | None,
                   came_from: int | None) -> Node | None:
        nodes = self.graph.nodes
        fallback = None
        for esp in esps:
            if esp == came_from:
                continue
            for s in nodes[esp].event_starts:
                ev = nodes[s].event
                if ev is None or ev.type != kind:
                    continue
                if ev.ref is not None and ev.ref == code:
                    return nodes[s]
                if ev.ref is None and fallback is None:
                    fallback = nodes[s]
        return fallback

    def _error_vars(self, catch: Node, sid: int, code: str | None, message: str | None,
                    variables: Mapping[str, Any] | None) -> None:
        ev = catch.event
        if variables:
            self.set_vars(sid, variables)
        if ev is None:
            return
        if ev.error_code_variable:
            self.set_var(sid, ev.error_code_variable, code)
        if ev.error_message_variable:
            self.set_var(sid, ev.error_message_variable, message)
        if ev.escalation_code_variable:
            self.set_var(sid, ev.escalation_code_variable, code)

    def _catch_boundary(self, b: Node, holder: Token, kind: str, code: str | None,
                        message: str | None, variables: Mapping[str, Any] | None) -> bool:
        sid = self.outer_scope(holder)
        interrupting = b.interrupting or kind == "error"
        if interrupting:
            self.cancel(holder)
        token = self.new_token(b.index, sid)
        self.queue.pop()
        self._error_vars(b, sid, code, message, variables)
        self.queue.appendleft(token)
        return interrupting

    def _catch_esp(self, start: Node, sid: int, kind: str, code: str | None,
                   message: str | None, variables: Mapping[str, Any] | None,
                   thrower: Token) -> bool:
        interrupting = start.interrupting or kind == "error"
        token = self.trigger_event_subprocess(start, sid, interrupting)
        self._error_vars(start, token.scope, code, message, variables)
        return interrupting

    def trigger_event_subprocess(self, start: Node, sid: int, interrupting: bool) -> Token:
        """Start an event subprocess in scope `sid`; returns the token at its start event."""
        esp = self.graph.nodes[start.scope]  # type: ignore[index]
        if interrupting:
            self.clear_scope(sid)
            for sub in [s for s in self.state.subs.values() if s.scope == sid]:
                self.unsubscribe(sub)
        holder = Token(self.state.new_id(), esp.index, sid, ACTIVE, None, False, "scope")
        self.state.tokens[holder.id] = holder
        self.history("activity_started", esp, holder)
        scope = self.enter_scope(holder, esp, "event")
        return self.new_token(start.index, scope.id)

    # ------------------------------------------------------------------ wakers
    def _wake_conditionals(self) -> bool:
        if not self.vars_changed:
            return False
        self.vars_changed = False
        fired = False
        nodes = self.graph.nodes
        for sub in [s for s in self.state.subs.values() if s.kind == "conditional"]:
            if sub.id not in self.state.subs:
                continue
            cond = self.event_of(sub).condition  # type: ignore[union-attr]
            sid = self._condition_scope(sub)
            if cond is not None and self.condition_holds(cond, sid, nodes[sub.node]):
                from engine.runtime.events import fire_subscription

                fire_subscription(self, sub, {})
                fired = True
        return fired or bool(self.queue)

    def _condition_scope(self, sub: Subscription) -> int:
        """Where a conditional event's condition is evaluated: a boundary event's in its
        activity's own scope (so its input parameters count), others where they wait."""
        if sub.token is not None and self.graph.nodes[sub.node].kind == "boundaryEvent":
            owner = self.state.tokens.get(sub.token)
            if owner is not None and owner.scope in self.state.scopes:
                return owner.scope
        return sub.scope

    def interrupted_on_leave(self, token: Token) -> bool:
        """A synchronous activity (script, expression, none task...) is about to complete:
        its conditional boundary events whose condition holds now (true on entry, or made
        true by the activity's own work) fire first, as they would have while a waiting
        activity waited. True when an interrupting one took over; the token is gone."""
        subs = self.state.subs
        nodes = self.graph.nodes
        for sub in [s for s in subs.values() if s.token == token.id and s.kind == "conditional"
                    and nodes[s.node].kind == "boundaryEvent"]:
            if sub.id not in subs:
                continue
            catch = nodes[sub.node]
            cond = self.event_of(sub).condition  # type: ignore[union-attr]
            if cond is None or not self.condition_holds(cond, token.scope, catch):
                continue
            from engine.runtime.events import fire_subscription

            if catch.interrupting:
                self.history("activity_cancelled", nodes[token.node], token)
                fire_subscription(self, sub, {})
                return True
            fire_subscription(self, sub, {})
        return False

    def _wake_joins(self) -> bool:
        """Joins that wait for what can still arrive (inclusive; complex, whose activation
        condition may also read data) get another look once the moves settle."""
        nodes = self.graph.nodes
        for t in list(self.state.tokens.values()):
            if t.state is ARRIVED and nodes[t.node].kind in WAKE_JOINS:
                behavior = self.behaviors[nodes[t.node].kind]
                if behavior.try_fire(self, t, nodes[t.node]):  # type: ignore[attr-defined]
                    return True
        return False
