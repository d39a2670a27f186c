"""Process instance modification on the Engine facade: move, cancel and start tokens.

Why: operators repair running instances - redo a step, skip a stuck one, move a token that
took a wrong path - without deploying anything. These are Camunda 7's
`runtimeService.createProcessInstanceModification(id)...execute()` and instance restart,
and SpiffWorkflow's "reset token to task". `Engine` inherits these methods; each is one
command (one transaction, retried on a concurrent change like every command), so either
every instruction applies or none does. What an instruction means is defined in the pure
runtime, `engine/runtime/modification.py`; the history of the instance records an
`instance_modified` event with the instructions, the reason and the user, then the
cancelled and started activities as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from engine.runtime import triggers as tr
from engine.runtime.modification import INSTRUCTIONS, tokens_after
from engine.store.records import HistoryRecord

if TYPE_CHECKING:
    from engine.service import _Command

Instruction = tuple[str, Any] | tuple[str, Any, Mapping[str, Any]]


class ModificationMixin:
    """`modify`, `move_token`, `reset_to`, `restart` (see the module docstring)."""

    _execute: Callable[..., Any]     # provided by Engine

    def modify(self, instance_id: str, *, cancel: Iterable[str] = (),
               start_before: Iterable[str] = (), start_after: Iterable[str] = (),
               cancel_tokens: Iterable[int] = (),
               variables: Mapping[str, Any] | None = None, reason: str | None = None,
               user: str | None = None) -> None:
        """Cancel every active instance of the `cancel` activities (and the single tokens
        `cancel_tokens`, ids as in `instance(id).tokens`), then start a token before each
        `start_before` activity and after each `start_after` activity (on its one outgoing
        flow). `variables` are set on the process first. A subprocess left without a token
        is cancelled too; an instance left without any ends as terminated.

        Raises EngineError naming an unknown activity or an instruction that cannot apply,
        NotFound for an unknown instance, Conflict for one that has ended."""
        instructions: list[Instruction] = [("cancel_token", t) for t in _ids(cancel_tokens)]
        instructions += [("cancel", a) for a in _names(cancel, "cancel")]
        instructions += [("start_before", a) for a in _names(start_before, "start_before")]
        instructions += [("start_after", a) for a in _names(start_after, "start_after")]
        self.apply_modification(instance_id, instructions, variables=variables, reason=reason,
                                user=user)

    def apply_modification(self, instance_id: str, instructions: Sequence[Instruction], *,
                           variables: Mapping[str, Any] | None = None,
                           reason: str | None = None, user: str | None = None) -> None:
        """Apply instructions in the given order (Camunda's REST body keeps an order):
        ("cancel", activity_id), ("cancel_token", token_id), ("start_before", activity_id),
        ("start_after", activity_id), ("start_transition", flow_id); a start instruction
        may carry a third element, variables set in the scope its token starts in."""
        steps = _checked(instructions)
        vars_ = _variables(variables)
        self._execute(lambda c: _modify(c, instance_id, steps, vars_, reason, user))

    def move_token(self, instance_id: str, from_activity: str, to_activity: str, *,
                   variables: Mapping[str, Any] | None = None, reason: str | None = None,
                   user: str | None = None) -> None:
        """Cancel what is active at `from_activity` and start before `to_activity` (in the
        same subprocess instance when both lie in it)."""
        self.modify(instance_id, cancel=[from_activity], start_before=[to_activity],
                    variables=variables, reason=reason, user=user)

    def reset_to(self, instance_id: str, activity_id: str, *,
                 variables: Mapping[str, Any] | None = None, reason: str | None = None,
                 user: str | None = None) -> None:
        """Put the token back before `activity_id`, like SpiffWorkflow's reset to a task:
        every token that went on from there (along flows and boundary events, and out of
        the subprocesses around it) is cancelled, then the activity starts again.
        Parallel branches that did not pass through it keep their place."""
        vars_ = _variables(variables)
        name = _names([activity_id], "reset_to")[0]

        def cmd(c: _Command) -> None:
            from engine.errors import EngineError

            _rec, state, graph = c.load(instance_id)
            index = graph.index.get(name)
            if index is None:
                raise EngineError(f"process '{graph.key}' has no activity '{name}'")
            steps: list[Instruction] = [("cancel_token", t)
                                        for t in tokens_after(graph, state, index)]
            steps.append(("start_before", name))
            _modify(c, instance_id, steps, vars_, reason or f"reset to '{name}'", user)

        self._execute(cmd)

    def restart(self, instance_id: str, start_before: Iterable[str], *,
                variables: Mapping[str, Any] | None = None, reason: str | None = None,
                user: str | None = None) -> str:
        """Run an ended (completed or cancelled) instance again as a new instance of the
        same process version, started before the given activities, with the variables the
        old one ended with (updated by `variables`); returns the new instance's id
        (Camunda 7's restartProcessInstances). Called instances are restarted through
        their caller, not on their own."""
        activities = _names(start_before, "start_before")
        if not activities:
            from engine.errors import EngineError

            raise EngineError("restart needs at least one activity to start before")
        vars_ = _variables(variables)

        def cmd(c: _Command) -> str:
            from engine.errors import Conflict, EngineError, NotFound

            old = c.tx.get_instance(instance_id)
            if old is None:
                raise NotFound(f"process instance '{instance_id}' not found")
            if old.status == "running":
                raise Conflict(f"instance '{instance_id}' is still running; modify it "
                               "instead of restarting it")
            if old.parent_id is not None:
                raise EngineError(f"instance '{instance_id}' was called by instance "
                                  f"'{old.parent_id}'; restart that one")
            defrec = c.tx.get_definition(old.definition_id)
            if defrec is None:
                raise NotFound(f"process definition '{old.definition_id}' not found")
            new = c.start_instance(defrec, {**old.variables, **vars_}, old.business_key,
                                   None, None, None, tuple(activities))
            detail = {"reason": reason}
            c.tx.add_history([
                HistoryRecord(new.id, "instance_modified", old.key, c.now, user=user,
                              detail={**detail, "restarted_from": old.id,
                                      "instructions": [["start_before", a]
                                                       for a in activities]}),
                HistoryRecord(old.id, "instance_restarted", old.key, c.now, user=user,
                              detail={**detail, "new_instance_id": new.id})])
            return new.id

        return self._execute(cmd)


# ---------------------------------------------------------------------------- helpers
def _modify(c: _Command, instance_id: str, steps: list[Instruction],
            variables: dict[str, Any], reason: str | None, user: str | None) -> None:
    c.user = user
    c.trigger(instance_id, tr.Modify(list(steps), variables, reason, user))


def _names(values: Iterable[str], what: str) -> list[str]:
    from engine.errors import EngineError

    if isinstance(values, str):
        values = [values]
    out = []
    for v in values:
        if not isinstance(v, str) or not v.strip():
            raise EngineError(f"{what}: expected activity ids, got {v!r}")
        out.append(v)
    return out


def _ids(values: Iterable[int]) -> list[int]:
    from engine.errors import EngineError

    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | str) or not str(v).isdigit():
            raise EngineError(f"cancel_tokens: expected token ids, got {v!r}")
        out.append(int(v))
    return out


def _checked(instructions: Sequence[Instruction]) -> list[Instruction]:
    from engine.errors import EngineError
    from engine.service import _check_variables

    if isinstance(instructions, str | bytes) or not isinstance(instructions, Sequence):
        raise EngineError("instructions must be a list of (kind, target) pairs")
    out: list[Instruction] = []
    for i, step in enumerate(instructions):
        if not isinstance(step, list | tuple) or len(step) not in (2, 3):
            raise EngineError(f"instruction {i}: expected (kind, target[, variables]), "
                              f"got {step!r}")
        if step[0] not in INSTRUCTIONS:
            raise EngineError(f"instruction {i}: unknown kind {step[0]!r} (use one of "
                              f"{', '.join(INSTRUCTIONS)})")
        if len(step) == 3:
            _check_variables(step[2])
        out.append(tuple(step))  # type: ignore[arg-type]
    if not out:
        raise EngineError("a modification needs at least one instruction")
    return out


def _variables(variables: Mapping[str, Any] | None) -> dict[str, Any]:
    from engine.service import _check_variables

    _check_variables(variables)
    return dict(variables or {})
