"""Tasks: the activities that do work or wait for someone to do it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.runtime import effects as fx
from engine.runtime.behaviors.base import Behavior
from engine.runtime.behaviors.events import throw_message_or_signal
from engine.runtime.errors import RuntimeFailure
from engine.runtime.fingerprint import changed, fingerprints
from engine.runtime.state import LOCAL_SCOPES, Scope
from engine.timers import TimerError, add_duration, parse_datetime, parse_timer

# the activity scope's data: fingerprints of the variables handed to the called instance
GIVEN_TO_CHILD = "given"

if TYPE_CHECKING:
    from engine.graph import Node
    from engine.runtime.run import Run
    from engine.runtime.state import Token


class Task(Behavior):
    """`task` and `manualTask`: nothing for the engine to do (Camunda 7 semantics)."""


class ManualTask(Task):
    """`manualTask`: done outside the engine, so nothing to do here (as `task`)."""


class WaitingTask(Behavior):
    """Shared resume for tasks that wait for an outside completion."""

    def resume(self, run: Run, token: Token, node: Node, variables: dict[str, Any],
               local: bool = False) -> None:
        if node.unwritable and variables:
            variables = without(variables, node.unwritable)
        run.set_vars(token.scope, variables, local)
        if node.result_variable and "result" in variables and not local:
            run.set_var(token.scope, node.result_variable, variables["result"])
        run.leave(token)


def without(variables: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """`variables` less the data objects an activity may not write (Node.unwritable)."""
    return {k: v for k, v in variables.items() if k not in names}


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple | set):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def _when(value: Any, now: datetime, what: str, node: Node) -> datetime | None:
    """A due or follow-up date: an ISO date-time, a datetime, or a duration from now."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    text = str(value).strip()
    try:
        if text.startswith(("P", "-P")):
            return add_duration(now, text)
        return parse_datetime(text)
    except (TimerError, ValueError) as e:
        raise RuntimeFailure(f"{node.label}: {what} '{text}' is not a date or duration: {e}",
                             node.id) from e


class UserTask(WaitingTask):
    """Creates a task for people to work and waits until it is completed."""

    def enter(self, run: Run, token: Token, node: Node) -> None:
        spec = node.user_task
        sid = token.scope
        assignee = None
        users: list[str] = []
        groups: list[str] = []
        due = follow_up = None
        priority = 50
        form_key = None
        lane = None
        name = node.name
        escalations: tuple[Any, ...] = ()
        timeouts: list[tuple[str, datetime]] = []
        if spec is not None:
            ev = run.evaluate
            if spec.assignee is not None:
                a = ev(spec.assignee, sid, node)
                assignee = str(a).strip() if a not in (None, "") else None
            if spec.candidate_users is not None:
                users = _names(ev(spec.candidate_users, sid, node))
            if spec.candidate_groups is not None:
                groups = _names(ev(spec.candidate_groups, sid, node))
            if spec.due_date is not None:
                due = _when(ev(spec.due_date, sid, node), run.now, "due date", node)
            if spec.follow_up_date is not None:
                follow_up = _when(ev(spec.follow_up_date, sid, node), run.now, "follow-up date",
                                  node)
            if spec.priority is not None:
                p = ev(spec.priority, sid, node)
                try:
                    priority = int(p) if p not in (None, "") else 50
                except (TypeError, ValueError) as e:
                    raise RuntimeFailure(f"{node.label}: priority '{p}' is not a number",
                                         node.id) from e
            if spec.name is not None:
                name = str(ev(spec.name, sid, node))
            form_key = spec.form_key
            lane = spec.lane
            escalations = spec.escalations
            for listener_id, kind, text in spec.timeout_listeners:
                try:
                    when = parse_timer(kind, text).first_due(run.now)
                except TimerError as e:
                    raise RuntimeFailure(f"{node.label}: timeout listener: {e}", node.id) from e
                if when is not None:
                    timeouts.append((listener_id, when))
            if spec.listeners_create:  # camunda:taskListener event="create"
                run.notify(spec.listeners_create, sid, "create", node.id, node.name)
        run.wait(token, "user")
        run.effects.append(fx.UserTaskCreated(
            token.id, node.id, name, assignee, users, groups, due, follow_up, priority,
            form_key, run.now, lane, escalations, timeouts,
        ))

    def resume(self, run: Run, token: Token, node: Node, variables: dict[str, Any],
               local: bool = False) -> None:
        run.effects.append(fx.UserTaskEnded(token.id, "completed"))
        token.wait = None
        spec = node.user_task
        if spec is not None and spec.listeners_complete:
            # camunda:taskListener event="complete": after the task's variables are set
            run.set_vars(token.scope, variables, local)
            run.notify(spec.listeners_complete, token.scope, "complete", node.id, node.name)
            variables, local = {}, False
        super().resume(run, token, node, variables, local)


class ServiceTask(WaitingTask):
    """serviceTask, sendTask, businessRuleTask: call a connector or wait for a worker."""

    def enter(self, run: Run, token: Token, node: Node) -> None:
        if node.kind == "sendTask" and node.message_ref and node.topic is None:
            name = node.message_ref
            payload: dict[str, Any] = {}
            if run.graph.correlations:
                from engine.runtime.correlation import on_throw

                payload = on_throw(run, run.outer_scope(token), name, payload, drawn=False)
            run.effects.append(fx.MessageThrown(name, payload, node.id))
            run.leave(token)
            return
        if node.script is not None and node.topic is None:
            # a camunda:expression that calls execution.setVariable(...): an action
            run.run_script(node.script, token, node)
            run.leave(token)
            return
        if node.expression is not None and node.topic is None:
            value = run.evaluate(node.expression, token.scope, node)
            if node.result_variable:
                run.set_var(token.scope, node.result_variable, value)
            run.leave(token)
            return
        if node.topic is None:
            # nothing to call: a descriptive task (Spiff runs these as no-ops too)
            run.leave(token)
            return
        view = run.view(token.scope)
        variables = dict(view) if not isinstance(view, dict) else dict(view)
        run.wait(token, "external")
        run.effects.append(fx.ServiceTaskStarted(
            token.id, node.id, node.topic, node.task_type, variables, None, node.retry_cycle,
            int(node.ext.get("priority", 0) or 0) if node.ext else 0,
        ))

    def resume(self, run: Run, token: Token, node: Node, variables: dict[str, Any],
               local: bool = False) -> None:
        if token.wait == "external":
            run.effects.append(fx.ServiceTaskEnded(token.id, "completed"))
        token.wait = None
        super().resume(run, token, node, variables, local)


class SendTask(ServiceTask):
    """`sendTask`: sends its message, or is carried out like a service task."""


class BusinessRuleTask(ServiceTask):
    """With a decision reference (camunda:decisionRef, spiffworkflow:calledDecisionId,
    zeebe:calledDecision) and no worker to call, evaluate the DMN decision and go on;
    otherwise (camunda:type="external", a connector, an expression) a service task."""

    def enter(self, run: Run, token: Token, node: Node) -> None:
        ref = node.ext.get("decision_ref") if node.ext else None
        if ref is None or node.topic is not None or node.expression is not None:
            super().enter(run, token, node)
            return
        from engine.dmn.evaluate import DecisionError, map_decision_result, spiff_updates

        decision = run.decisions.get(ref)
        if decision is None:
            raise RuntimeFailure(f"{node.label}: no DMN decision with id '{ref}' is deployed",
                                 node.id)
        view = run.view(token.scope)
        variable = node.result_variable or node.ext.get("decision_result_variable")
        try:
            result = decision.evaluate(view)
            if variable:  # Camunda: the mapped result; without mapping a list of dicts
                updates = {variable: map_decision_result(result,
                                                         node.ext.get("map_decision_result"))}
            else:         # SpiffWorkflow: the outputs merged into the task's data
                updates = spiff_updates(result, view)
        except DecisionError as e:
            raise RuntimeFailure(f"{node.label}: {e}", node.id) from e
        for name, value in updates.items():
            run.set_var(token.scope, name, value)
        run.leave(token)


class ReceiveTask(WaitingTask):
    """Waits for its message."""

    def enter(self, run: Run, token: Token, node: Node) -> None:
        run.wait(token, "receive")
        if node.message_ref:
            run.subscribe(node, token, token.scope, kind="message", name=node.message_ref)


class ScriptTask(Behavior):
    """Runs its script (or JUEL/FEEL expression) in the sandbox, then moves on."""

    def enter(self, run: Run, token: Token, node: Node) -> None:
        if node.script is not None:
            run.run_script(node.script, token, node)
        elif node.expression is not None:  # a JUEL/FEEL "script": one expression
            value = run.evaluate(node.expression, token.scope, node)
            if node.result_variable:
                run.set_var(token.scope, node.result_variable, value)
        run.leave(token)


class CallActivity(WaitingTask):
    """Starts the called process and waits for it to end.

    Without camunda:in/out mappings the child gets a copy of every variable the activity
    sees (as SpiffWorkflow and Zeebe do) and hands back only what it changed: variables it
    created or gave another value, and deletions of those it was given. A variable the
    caller changed meanwhile (a parallel branch, a non-interrupting event) keeps the
    caller's value unless the child changed it too: copying everything back would silently
    undo the caller's update. The fingerprints of what was handed over wait in the
    activity's own scope until the child ends. With mappings, Camunda 7's rules apply
    exactly: `camunda:out variables="all"` copies every variable of the child back.
    """

    def enter(self, run: Run, token: Token, node: Node) -> None:
        key = node.called_element
        if node.called_element_expr is not None:
            key = str(run.evaluate(node.called_element_expr, token.scope, node))
        if not key:
            raise RuntimeFailure(f"{node.label}: no calledElement", node.id)
        view = run.view(token.scope)
        variables: dict[str, Any] = {}
        if not node.call_in and not node.call_out:
            variables = dict(view)           # Spiff and Zeebe: the child sees a copy of all
            own_scope(run, token, node).data = {GIVEN_TO_CHILD: fingerprints(variables)}
        for p in node.call_in:
            if p.all_variables:
                variables.update(view)
            else:
                variables[p.name] = run.param_value(p, view, node)
        bkey = None
        if node.business_key_expr is not None:
            b = run.evaluate(node.business_key_expr, token.scope, node)
            bkey = None if b is None else str(b)
        run.wait(token, "call")
        run.effects.append(fx.CallStarted(token.id, node.id, key, variables, bkey))

    def child_ended(self, run: Run, token: Token, node: Node, variables: dict[str, Any],
                    deleted: tuple[str, ...] = ()) -> None:
        """The called instance completed with `variables`, having deleted `deleted` of
        those it was given. Passing all variables (no mappings, SpiffWorkflow/Zeebe style)
        makes the child work on the caller's data, so its deletions apply here too (as
        SpiffWorkflow, which replaces the caller's data with the child's)."""
        if deleted and not node.call_in and not node.call_out:
            run.delete_vars(token.scope, deleted)
        self.resume(run, token, node, variables)

    def resume(self, run: Run, token: Token, node: Node, variables: dict[str, Any],
               local: bool = False) -> None:
        token.wait = None
        if not node.call_in and not node.call_out:
            run.set_vars(token.scope, _changed_by_child(run, token, variables))
        else:
            from collections import ChainMap

            child = ChainMap(variables, {})
            for p in node.call_out:
                if p.all_variables:
                    run.set_vars(token.scope, variables)
                else:
                    run.set_var(token.scope, p.name, run.param_value(p, child, node))
        run.leave(token)


def own_scope(run: Run, token: Token, node: Node) -> Scope:
    """The activity's own scope (its input parameters or ioSpecification), opened empty when
    it has none: bookkeeping kept there ends with the activity, however it ends."""
    scope = run.state.scopes[token.scope]
    if scope.kind in LOCAL_SCOPES and scope.token == token.id:
        return scope
    sid = run.state.new_id()
    scope = Scope(sid, "local", node.index, token.scope, token.id)
    run.state.scopes[sid] = scope
    token.scope = sid
    return scope


def _changed_by_child(run: Run, token: Token, variables: dict[str, Any]) -> dict[str, Any]:
    data = run.state.scopes[token.scope].data
    given = data.get(GIVEN_TO_CHILD) if data else None
    if given is None:  # a call started before Baton kept fingerprints: all of them
        return variables
    return changed(given, variables)


__all__ = [
    "Task", "ManualTask", "UserTask", "ServiceTask", "SendTask", "BusinessRuleTask",
    "ReceiveTask", "ScriptTask", "CallActivity", "throw_message_or_signal",
]
