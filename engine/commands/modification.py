"""Process instance modification: move, cancel and start tokens, reset, restart.

Why: operators repair running instances - redo a step, skip a stuck one, move a token that
took a wrong path - without deploying anything (Camunda 7's
`createProcessInstanceModification(id)...execute()` and instance restart, SpiffWorkflow's
"reset token to task"). Each is one command, so either every instruction applies or none
does. What an instruction means is defined in the pure runtime
(`engine/runtime/modification.py`); the instance's history records an `instance_modified`
event with the instructions, the reason and the user."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from engine.commands.context import CommandContext
from engine.commands.executor import BaseCommand
from engine.errors import Conflict, EngineError, NotFound
from engine.limits import check_variables
from engine.runtime import triggers as tr
from engine.runtime.modification import INSTRUCTIONS, tokens_after
from engine.store.records import HistoryRecord

Instruction = tuple[str, Any] | tuple[str, Any, Mapping[str, Any]]


@dataclass(slots=True)
class Modify(BaseCommand):
    permission: ClassVar[tuple[str, str] | None] = ("instance", "modify")
    instance_id: str
    steps: list[Instruction]
    variables: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    user: str | None = None

    def execute(self, c: CommandContext) -> None:
        c.outside_variables = bool(self.variables) or any(len(s) == 3 for s in self.steps)
        c.trigger(self.instance_id, tr.Modify(list(self.steps), self.variables, self.reason,
                                              self.user))


@dataclass(slots=True)
class ResetTo(BaseCommand):
    """Put the token back before an activity: every token that went on from there is
    cancelled, then the activity starts again."""

    permission: ClassVar[tuple[str, str] | None] = ("instance", "modify")
    instance_id: str
    activity_id: str
    variables: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    user: str | None = None

    def execute(self, c: CommandContext) -> None:
        _rec, state, graph = c.load(self.instance_id)
        index = graph.index.get(self.activity_id)
        if index is None:
            raise EngineError(f"process '{graph.key}' has no activity '{self.activity_id}'")
        steps: list[Instruction] = [("cancel_token", t)
                                    for t in tokens_after(graph, state, index)]
        steps.append(("start_before", self.activity_id))
        Modify(self.instance_id, steps, self.variables,
               self.reason or f"reset to '{self.activity_id}'", self.user).execute(c)


@dataclass(slots=True)
class Restart(BaseCommand):
    """Run an ended instance again as a new instance of the same version, started before
    the given activities, with the variables the old one ended with."""

    permission: ClassVar[tuple[str, str] | None] = ("instance", "modify")
    instance_id: str
    activities: list[str]
    variables: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    user: str | None = None

    def execute(self, c: CommandContext) -> str:
        old = c.tx.get_instance(self.instance_id, lock=True)
        if old is None:
            raise NotFound(f"process instance '{self.instance_id}' not found")
        if old.status == "running":
            raise Conflict(f"instance '{self.instance_id}' is still running; modify it "
                           "instead of restarting it")
        if old.parent_id is not None:
            raise EngineError(f"instance '{self.instance_id}' was called by instance "
                              f"'{old.parent_id}'; restart that one")
        defrec = c.tx.get_definition(old.definition_id)
        if defrec is None:
            raise NotFound(f"process definition '{old.definition_id}' not found")
        c.outside_variables = bool(self.variables)
        new = c.start_instance(defrec, {**old.variables, **self.variables}, old.business_key,
                               None, None, None, tuple(self.activities))
        detail = {"reason": self.reason}
        c.tx.add_history([
            HistoryRecord(new.id, "instance_modified", old.key, c.now, user=self.user,
                          detail={**detail, "restarted_from": old.id,
                                  "instructions": [["start_before", a]
                                                   for a in self.activities]}),
            HistoryRecord(old.id, "instance_restarted", old.key, c.now, user=self.user,
                          detail={**detail, "new_instance_id": new.id})])
        return new.id


# ---------------------------------------------------------------------------- checking
def activity_names(values: Iterable[str], what: str) -> list[str]:
    if isinstance(values, str):
        values = [values]
    out = []
    for v in values:
        if not isinstance(v, str) or not v.strip():
            raise EngineError(f"{what}: expected activity ids, got {v!r}")
        out.append(v)
    return out


def token_ids(values: Iterable[int]) -> list[int]:
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | str) or not str(v).isdigit() \
                or len(str(v)) > 18:
            raise EngineError(f"cancel_tokens: expected token ids, got {v!r}")
        out.append(int(v))
    return out


def checked_instructions(instructions: Sequence[Instruction]) -> list[Instruction]:
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
            check_variables(step[2], where=f"instruction {i} variables")
        out.append(tuple(step))  # type: ignore[arg-type]
    if not out:
        raise EngineError("a modification needs at least one instruction")
    return out
