"""Who may do what: one table, consulted by every command.

Why a table: Baton has several doors (web pages, `/api`, `/engine-rest`, the CLI, the Python
API). When each door decided permissions itself they disagreed (an analyst could delete an
instance through one door and not through another). Now a door only names the acting user;
the command asks `authorize` inside its transaction, after it has locked and re-read what it
acts on, so every door gives the same answer at the same moment.

A row is (resource, action) -> the roles and relations that allow it:
- a role is one of `engine.identity.ROLES` ("admin" holds every role);
- a relation ties the user to the one task acted on: "assignee", "owner" (who delegated
  it), "candidate" (named in candidateUsers or member of a candidate group), and
  "candidate-unassigned" (a candidate while nobody holds the task);
- "supervisor" is a role-like status: role supervisor or admin, or membership of group
  "supervisors" (`engine.identity.is_supervisor`).

The acting user `None` is the trusted caller (the embedding Python program, a job, a worker
of this process): it may do everything. SECURITY.md prints this table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.errors import Forbidden
from engine.identity import has_role, is_supervisor
from engine.store.records import TaskRecord, UserRecord

# ---------------------------------------------------------------------------------- table
# (resource, action): who may. Keep it sorted by resource; SECURITY.md is generated from it
# (see `matrix_markdown`) and a test drives every cell through every door.
POLICY: Mapping[tuple[str, str], frozenset[str]] = {
    ("definition", "deploy"): frozenset({"analyst"}),
    ("definition", "read"): frozenset({"staff", "analyst", "supervisor"}),
    ("decision", "evaluate"): frozenset({"analyst"}),
    ("external_task", "work"): frozenset({"analyst"}),      # fetch, lock, complete, fail
    ("external_task", "read"): frozenset({"analyst", "supervisor"}),
    ("external_task", "retries"): frozenset({"admin"}),
    ("identity", "manage"): frozenset({"admin"}),
    ("incident", "read"): frozenset({"analyst", "supervisor"}),
    ("incident", "resolve"): frozenset({"admin"}),
    ("instance", "cancel"): frozenset({"admin"}),
    ("instance", "modify"): frozenset({"admin"}),            # modification, restart, signal
    ("instance", "read"): frozenset({"analyst", "supervisor"}),
    ("instance", "start"): frozenset({"staff", "analyst"}),
    ("instance", "variables"): frozenset({"admin"}),         # set variables from outside
    ("job", "manage"): frozenset({"admin"}),
    ("job", "read"): frozenset({"analyst", "supervisor"}),
    ("message", "correlate"): frozenset({"analyst"}),
    ("signal", "broadcast"): frozenset({"analyst"}),
    ("task", "claim"): frozenset({"candidate", "supervisor"}),
    ("task", "comment"): frozenset({"assignee", "owner", "candidate", "supervisor"}),
    ("task", "complete"): frozenset({"assignee", "candidate-unassigned"}),
    ("task", "list-all"): frozenset({"supervisor"}),
    ("task", "manage"): frozenset({"assignee", "owner", "supervisor"}),  # unclaim, delegate,
    # reassign, priority, dates
    ("task", "read"): frozenset({"assignee", "owner", "candidate", "supervisor"}),
    ("task", "resolve"): frozenset({"assignee", "supervisor"}),
}

RELATIONS = frozenset({"assignee", "owner", "candidate", "candidate-unassigned"})


@dataclass(frozen=True, slots=True)
class Actor:
    """The user a command acts for, resolved once per command (their record, read in the
    command's transaction). `record` is None for an id the directory does not know: such
    a user holds no role and no group, and may act only on tasks that name them."""

    id: str
    record: UserRecord | None

    @property
    def groups(self) -> list[str]:
        return list(self.record.groups) if self.record is not None else []


def relations(actor: Actor, task: TaskRecord) -> set[str]:
    """How the actor stands to the task."""
    out: set[str] = set()
    if task.assignee == actor.id:
        out.add("assignee")
    if task.owner is not None and task.owner == actor.id:
        out.add("owner")
    if actor.id in task.candidate_users or set(actor.groups) & set(task.candidate_groups):
        out.add("candidate")
        if task.assignee is None:
            out.add("candidate-unassigned")
    return out


def allows(actor: Actor | None, resource: str, action: str,
           task: TaskRecord | None = None) -> bool:
    """True if the table lets `actor` do `action` on `resource` (`task`: the task acted on,
    for relation rows). `None` is the trusted caller."""
    if actor is None:
        return True
    who = POLICY.get((resource, action))
    if who is None:
        raise KeyError(f"no policy row for ({resource!r}, {action!r})")
    rec = actor.record
    if "supervisor" in who and is_supervisor(rec):
        return True
    roles = who - RELATIONS - {"supervisor"}
    if roles and has_role(rec, *roles):
        return True
    return task is not None and bool(who & relations(actor, task))


def authorize(actor: Actor | None, resource: str, action: str,
              task: TaskRecord | None = None, what: str | None = None) -> None:
    """Raise Forbidden naming the user, the action and who may, unless `allows`."""
    if allows(actor, resource, action, task):
        return
    assert actor is not None
    target = what or (f"task '{task.id}'" if task is not None else resource)
    raise Forbidden(f"user '{actor.id}' may not {action.replace('-', ' ')} {target}: "
                    f"{_who_may(resource, action, task)}")


def _who_may(resource: str, action: str, task: TaskRecord | None) -> str:
    who = POLICY[(resource, action)]
    parts = []
    roles = sorted(who - RELATIONS - {"supervisor"})
    if roles:
        parts.append("the role " + " or ".join(roles) + " (admin holds every role)")
    if "supervisor" in who:
        parts.append("a supervisor")
    rel = [r for r in ("assignee", "owner", "candidate", "candidate-unassigned") if r in who]
    if rel:
        parts.append("its " + ", ".join(r.replace("-unassigned", " while unassigned")
                                         for r in rel))
    text = "only " + " or ".join(parts) + " may"
    if task is not None and "assignee" in who and task.assignee is not None:
        text += f" (it is assigned to '{task.assignee}')"
    elif task is not None and ("candidate" in who or "candidate-unassigned" in who):
        text += f" (it is for {audience(task)})"
    return text


def audience(task: TaskRecord) -> str:
    """Whom a task is offered to, in words."""
    parts = []
    if task.candidate_groups:
        parts.append("groups " + ", ".join(task.candidate_groups))
    if task.candidate_users:
        parts.append("users " + ", ".join(task.candidate_users))
    return " and ".join(parts) if parts else "no candidates (ask a supervisor)"


def matrix_markdown() -> str:
    """The table as Markdown, for SECURITY.md."""
    lines = ["| resource | action | who may |", "|---|---|---|"]
    for (resource, action), who in sorted(POLICY.items()):
        lines.append(f"| {resource} | {action} | {', '.join(sorted(who))} |")
    return "\n".join(lines)


def describe(actor: Any) -> str:
    return "the trusted caller" if actor is None else f"user '{actor.id}'"
