"""Commands on user tasks: claim, unclaim, delegate, resolve, reassign, update, comment,
complete (with or without a form).

Every one of them re-reads its task after the task's instance is locked
(`CommandContext.locked_task`): two people completing or claiming the same task at the same
moment are serialised by that lock, and the second sees the task gone or changed. Who may
act is the policy table's answer (engine.policy, via engine.tasks' checks); the diagram's
separation of duties (engine.separation) is checked at claim and completion; a task with a
form is completed only with values its form accepts, whichever door they came through.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from engine.commands.context import CommandContext
from engine.commands.executor import BaseCommand
from engine.commands.identity import require_user
from engine.errors import Conflict, EngineError, NotFound
from engine.forms import FormInvalid, form_fields, initial_values, validate_form
from engine.runtime import triggers as tr
from engine.store.records import CommentRecord, HistoryRecord, TaskRecord
from engine.tasks import (
    check_may_claim,
    check_may_comment,
    check_may_complete,
    check_may_manage,
    check_may_resolve,
    check_may_see,
)

MAX_COMMENT = 4000


def record(c: CommandContext, task: TaskRecord, kind: str, user: str | None,
           **detail: Any) -> None:
    """A task change is a history event on its instance, and news for listeners."""
    c.tx.add_history([HistoryRecord(task.instance_id, kind, task.activity_id, c.now,
                                    "userTask", task.name, user,
                                    {"task_id": task.id, **detail})])
    c.notifications.append((kind, task))


def acting(c: CommandContext, user: Any) -> str:
    """Task operations name who does them (history says who)."""
    if not isinstance(user, str) or not user or c.actor is None:
        raise EngineError("a task operation needs the id of the user doing it")
    return user


def check_separation_of_duties(c: CommandContext, task: TaskRecord, action: str) -> None:
    """The diagram may say this task must not be done by whoever did another one."""
    if c.actor is None:
        return
    from engine.separation import check_separation, separate_from

    others = separate_from(c.graph(task.definition_id), task.activity_id)
    if others:
        check_separation(task, c.actor.id, others, c.tx.history(task.instance_id), action)


@dataclass(slots=True)
class Claim(BaseCommand):
    task_id: str
    user: str

    def execute(self, c: CommandContext) -> TaskRecord:
        user = acting(c, self.user)
        task = c.locked_task(self.task_id)
        check_may_claim(task, c.actor)
        if task.assignee == user:
            return task
        check_separation_of_duties(c, task, "claim")
        task.assignee = user
        task.claimed = c.now
        c.tx.update_task(task)
        record(c, task, "task_claimed", user)
        return task


@dataclass(slots=True)
class Unclaim(BaseCommand):
    task_id: str
    user: str
    # Camunda answers 204 for unclaiming a task nobody holds; Baton's own doors say 409
    idempotent: bool = False

    def execute(self, c: CommandContext) -> TaskRecord:
        user = acting(c, self.user)
        task = c.locked_task(self.task_id)
        if task.assignee is None:
            check_may_see(task, c.actor)
            if self.idempotent:
                return task
            raise Conflict(f"task '{task.id}' is not claimed by anyone")
        check_may_manage(task, c.actor, "unclaim")
        previous = task.assignee
        task.assignee = None
        task.claimed = None
        task.delegation = None
        c.tx.update_task(task)
        record(c, task, "task_unclaimed", user, previous=previous)
        return task


@dataclass(slots=True)
class Delegate(BaseCommand):
    task_id: str
    to_user: str
    user: str

    def execute(self, c: CommandContext) -> TaskRecord:
        by = acting(c, self.user)
        task = c.locked_task(self.task_id)
        check_may_manage(task, c.actor, "delegate")
        require_user(c, self.to_user)
        if self.to_user == task.assignee:
            raise EngineError(f"task '{task.id}' is already assigned to '{self.to_user}'")
        task.owner = task.owner or task.assignee or by
        task.assignee = self.to_user
        task.delegation = "pending"
        task.claimed = c.now
        c.tx.update_task(task)
        record(c, task, "task_delegated", by, to=self.to_user, owner=task.owner)
        return task


@dataclass(slots=True)
class Resolve(BaseCommand):
    task_id: str
    user: str

    def execute(self, c: CommandContext) -> TaskRecord:
        user = acting(c, self.user)
        task = c.locked_task(self.task_id)
        if task.delegation != "pending" or task.owner is None:
            raise Conflict(f"task '{task.id}' is not delegated")
        check_may_resolve(task, c.actor)
        previous = task.assignee
        task.assignee = task.owner
        task.delegation = "resolved"
        c.tx.update_task(task)
        record(c, task, "task_assigned", user, to=task.assignee, previous=previous,
               reason="resolved")
        return task


@dataclass(slots=True)
class Reassign(BaseCommand):
    task_id: str
    to_user: str | None
    to_group: str | None
    user: str

    def execute(self, c: CommandContext) -> TaskRecord:
        by = acting(c, self.user)
        if not self.to_user and not self.to_group:
            raise EngineError("reassign needs a user or a group to route the task to")
        task = c.locked_task(self.task_id)
        check_may_manage(task, c.actor, "reassign")
        if self.to_user:
            require_user(c, self.to_user)
        if self.to_group and self.to_group not in c.tx.groups():
            raise NotFound(f"group '{self.to_group}' not found")
        previous = task.assignee
        if self.to_group:
            task.candidate_groups = [self.to_group]
            task.candidate_users = []
        task.assignee = self.to_user or None
        task.claimed = c.now if self.to_user else None
        task.owner = None
        task.delegation = None
        c.tx.update_task(task)
        record(c, task, "task_assigned", by, to=self.to_user, group=self.to_group,
               previous=previous)
        return task


UPDATABLE = ("priority", "due", "follow_up")


@dataclass(slots=True)
class UpdateTask(BaseCommand):
    """Change priority, due and follow-up dates together: all of them or none."""

    task_id: str
    changes: Mapping[str, Any]
    user: str

    def execute(self, c: CommandContext) -> TaskRecord:
        from engine.escalation import rearm_overdue

        by = acting(c, self.user)
        for name, value in self.changes.items():
            check_task_field(name, value)
        task = c.locked_task(self.task_id)
        names = " and ".join(sorted(self.changes)).replace("_", "-")
        check_may_manage(task, c.actor, f"change the {names} of")
        for name, value in self.changes.items():
            old = getattr(task, name)
            setattr(task, name, value)
            record(c, task, "task_updated", by, field=name, old=plain(old), new=plain(value))
        c.tx.update_task(task)
        if "due" in self.changes:
            rearm_overdue(c, task)
        return task


def check_task_field(name: str, value: Any) -> None:
    if name not in UPDATABLE:
        raise EngineError(f"a task has no changeable field '{name}' (use "
                          f"{', '.join(UPDATABLE)})")
    if name == "priority":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            raise EngineError(f"priority must be a whole number from 0 to 100, not {value!r}")
        return
    what = "due date" if name == "due" else "follow-up date"
    if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
        raise EngineError(f"the {what} must be a date-time with a time zone")
    if value is not None and not 1900 <= value.year <= 9000:
        raise EngineError(f"the {what} must lie between the years 1900 and 9000")


def plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


@dataclass(slots=True)
class Comment(BaseCommand):
    task_id: str
    text: str
    user: str

    def execute(self, c: CommandContext) -> CommentRecord:
        user = acting(c, self.user)
        text = checked_comment(self.text)
        task = c.locked_task(self.task_id)
        check_may_comment(task, c.actor)
        rec = CommentRecord(uuid.uuid4().hex, task.instance_id, task.id, user, text, c.now)
        c.tx.add_comment(rec)
        record(c, task, "task_commented", user, comment_id=rec.id,
               text=text if len(text) <= 200 else text[:199] + "…")
        return rec


def checked_comment(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise EngineError("a comment needs some text")
    text = text.strip()
    if len(text) > MAX_COMMENT:
        raise EngineError(f"a comment may have at most {MAX_COMMENT} characters "
                          f"(this one has {len(text)})")
    if "\x00" in text:
        raise EngineError("a comment may not contain NUL characters")
    return text


@dataclass(slots=True)
class CompleteTask(BaseCommand):
    """Complete a user task with variables (the API's and Camunda's complete).

    A task with a form accepts only values its form does: each given field is parsed and
    checked against the field's type and constraints, required fields must have a value
    (given now or already set), and an acting user may not set variables the form does not
    ask for. The trusted caller (no user) may add other variables, as Camunda's Java API
    does."""

    task_id: str
    variables: Mapping[str, Any] = field(default_factory=dict)
    user: str | None = None

    def execute(self, c: CommandContext) -> dict[str, Any]:
        task = c.locked_task(self.task_id)
        check_may_complete(task, c.actor)
        check_separation_of_duties(c, task, "complete")
        values = dict(self.variables)
        fields = form_fields(c, task)
        if fields:
            values = checked_against_form(c, task, fields, values)
        if values:
            c.outside_variables = True
        c.trigger(task.instance_id, tr.Complete(task.token, values))
        return values


def checked_against_form(c: CommandContext, task: TaskRecord, fields: list[Any],
                         given: dict[str, Any]) -> dict[str, Any]:
    known = {f.id for f in fields}
    extra: dict[str, str] = {}
    if c.actor is not None:
        extra = {k: f"is not a field of the form of task '{task.id}'"
                 for k in sorted(given) if k not in known}
    _rec, state, _graph = c.load(task.instance_id)
    initial = initial_values(fields, state.variables)
    raw = {f.id: given[f.id] if f.id in given else initial.get(f.id) for f in fields
           if f.id in given or initial.get(f.id) is not None or f.required}
    parsed, errors = validate_form([f for f in fields if f.id in raw], raw, None)
    errors = {**errors, **extra}
    for f in fields:
        if f.readonly and f.id in given and c.actor is not None:
            errors[f.id] = "is read-only"
    if errors:
        raise FormInvalid(errors)
    out = {k: v for k, v in given.items() if k not in known}
    # typed as the form types them; an empty text stays what was sent (a form reads it as
    # "no value", a caller of the API may mean the empty string)
    out.update({k: given[k] if parsed[k] is None else v for k, v in parsed.items()
                if k in given})
    return out


@dataclass(slots=True)
class SubmitForm(BaseCommand):
    """Complete a task with its form as posted (strings from an HTML form or JSON values):
    every field is validated (FormInvalid lists each problem) and stored typed; fields the
    form does not define are ignored; fields not posted keep what the form would show."""

    task_id: str
    raw_form: Mapping[str, Any]
    user: str

    def execute(self, c: CommandContext) -> dict[str, Any]:
        from engine.forms import parse_or_raise

        acting(c, self.user)
        task = c.locked_task(self.task_id)
        check_may_complete(task, c.actor)
        check_separation_of_duties(c, task, "complete")
        fields = form_fields(c, task)
        _rec, state, _graph = c.load(task.instance_id)
        values = parse_or_raise(fields, self.raw_form, initial_values(fields, state.variables))
        c.outside_variables = True
        c.trigger(task.instance_id, tr.Complete(task.token, dict(values)))
        return values


# ------------------------------------------------------------------------------- reading
@dataclass(slots=True)
class ReadTask(BaseCommand):
    """A task, if the actor may see it."""

    writes: ClassVar[bool] = False
    task_id: str
    user: str | None = None

    def execute(self, c: CommandContext) -> TaskRecord:
        task = c.tx.get_task(self.task_id) if isinstance(self.task_id, str) else None
        if task is None:
            raise NotFound(f"task '{self.task_id}' not found (completed or cancelled?)")
        check_may_see(task, c.actor)
        return task


@dataclass(slots=True)
class TaskComments(BaseCommand):
    """Comments of a task (or of an instance's tasks): only for those who may see the task
    (or, for an instance, read instances)."""

    writes: ClassVar[bool] = False
    task_id: str | None = None
    instance_id: str | None = None
    user: str | None = None

    def execute(self, c: CommandContext) -> list[CommentRecord]:
        if self.task_id is not None:
            task = c.tx.get_task(self.task_id)
            if task is not None:
                check_may_see(task, c.actor)
            elif c.actor is not None:
                # an ended task: its comments stay with the instance, for instance readers
                c.authorize("instance", "read", what=f"the comments of task '{self.task_id}'")
        elif c.actor is not None:
            c.authorize("instance", "read", what="the comments of an instance")
        return c.tx.comments(task_id=self.task_id, instance_id=self.instance_id)


@dataclass(slots=True)
class TaskVariables(BaseCommand):
    """The variables a task's token sees, for those who may see the task."""

    writes: ClassVar[bool] = False
    task_id: str
    user: str | None = None
    local_only: bool = False

    def execute(self, c: CommandContext) -> dict[str, Any]:
        from engine.commands.instances import token_variables

        task = ReadTask(self.task_id).execute(c)
        return token_variables(c.tx, task.instance_id, task.token, self.local_only)
