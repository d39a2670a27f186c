"""The human task service: who may do what with a user task, and how tasks are created.

Permission rules (Camunda's, made explicit):
- claim: a candidate (named in candidateUsers, or member of a candidate group) or a
  supervisor, and only while the task is unassigned;
- complete: the assignee (or, while it is unassigned, any candidate directly);
- unclaim, delegate, reassign, change priority or dates: the assignee, the owner who
  delegated it, or a supervisor;
- comment and read: anyone involved (assignee, owner, candidate) or a supervisor.
A supervisor is a user with role "supervisor" or "admin", or in group "supervisors"
(see `engine.identity.is_supervisor`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.identity import is_supervisor
from engine.ids import new_id
from engine.store.records import HistoryRecord, JobRecord, TaskRecord, UserRecord

if TYPE_CHECKING:
    from engine.graph import ProcessGraph
    from engine.runtime.effects import UserTaskCreated
    from engine.service import _Command
    from engine.store.records import InstanceRecord

MAX_DEPUTY_HOPS = 5


def is_candidate(task: TaskRecord, user: str, groups: list[str]) -> bool:
    return user in task.candidate_users or bool(set(groups) & set(task.candidate_groups))


def check_may_complete(task: TaskRecord, user: str, groups: list[str]) -> None:
    from engine.errors import Forbidden

    if task.assignee is not None:
        if task.assignee != user:
            raise Forbidden(f"task '{task.id}' is assigned to '{task.assignee}', not to '{user}'")
        return
    if not is_candidate(task, user, groups):
        raise Forbidden(f"user '{user}' is not a candidate for task '{task.id}'")


def _groups(u: UserRecord | None) -> list[str]:
    return list(u.groups) if u is not None else []


def may_see(task: TaskRecord, user: str, u: UserRecord | None) -> bool:
    """Involved in the task (assignee, owner, candidate) or a supervisor."""
    return (task.assignee == user or task.owner == user
            or is_candidate(task, user, _groups(u)) or is_supervisor(u))


def check_may_see(task: TaskRecord, user: str, u: UserRecord | None) -> None:
    from engine.errors import Forbidden

    if not may_see(task, user, u):
        raise Forbidden(f"user '{user}' is not involved in task '{task.id}'")


def check_may_claim(task: TaskRecord, user: str, u: UserRecord | None) -> None:
    from engine.errors import Conflict, Forbidden

    if task.assignee == user:
        return
    if task.assignee is not None:
        raise Conflict(f"task '{task.id}' is already claimed by '{task.assignee}'")
    if not (is_candidate(task, user, _groups(u)) or is_supervisor(u)):
        raise Forbidden(f"user '{user}' is not a candidate for task '{task.id}': it is for "
                        + _audience(task))


def check_may_manage(task: TaskRecord, user: str, u: UserRecord | None, action: str) -> None:
    """Unclaim, delegate, reassign, set priority/dates: assignee, owner or supervisor."""
    from engine.errors import Forbidden

    if task.assignee == user or (task.owner is not None and task.owner == user):
        return
    if is_supervisor(u):
        return
    holder = f"assigned to '{task.assignee}'" if task.assignee else "not assigned to you"
    raise Forbidden(f"user '{user}' may not {action} task '{task.id}': it is {holder} "
                    "(only its assignee or a supervisor may)")


def _audience(task: TaskRecord) -> str:
    parts = []
    if task.candidate_groups:
        parts.append("groups " + ", ".join(task.candidate_groups))
    if task.candidate_users:
        parts.append("users " + ", ".join(task.candidate_users))
    return " and ".join(parts) if parts else "no candidates (ask a supervisor)"


def route_to_deputy(c: _Command, assignee: str) -> tuple[str, str | None]:
    """The user who should get a task meant for `assignee` now, and the note saying why.

    Follows a chain of deputies who are away themselves (at most MAX_DEPUTY_HOPS; a loop
    leaves the task with the last user before the loop)."""
    get_user = getattr(c.tx, "get_user", None)
    if get_user is None:
        return assignee, None
    current, seen = assignee, {assignee}
    chain = []
    for _ in range(MAX_DEPUTY_HOPS):
        u = get_user(current)
        if u is None or not u.deputy or not _away(u, c.now) or u.deputy in seen:
            break
        chain.append(f"{u.deputy} as deputy of {current}")
        current = u.deputy
        seen.add(current)
    if current == assignee:
        return assignee, None
    return current, "assigned to " + ", ".join(chain) + " (out of office)"


def _slug(text: str) -> str:
    return "-".join(text.lower().replace("_", " ").replace("-", " ").split())


def lane_group(c: _Command, lane: str) -> str:
    """The group a lane stands for: a group whose id or display name is the lane's name,
    compared ignoring case and spaces/dashes/underscores ("Claims Adjusters" finds group
    "claims-adjusters"); the lane's name itself when no group matches."""
    groups_of = getattr(c.tx, "groups", None)
    known: dict[str, str] = groups_of() if groups_of else {}
    if lane in known:
        return lane
    wanted = _slug(lane)
    for group_id, name in known.items():
        if _slug(group_id) == wanted or _slug(name or "") == wanted:
            return group_id
    return lane


def create_task(c: _Command, rec: InstanceRecord, graph: ProcessGraph, e: UserTaskCreated,
                hist: list[HistoryRecord]) -> TaskRecord:
    """Store a new user task, routing it to a deputy when its assignee is away."""
    assignee = e.assignee
    note = None
    groups = list(e.candidate_groups)
    if not groups and e.lane and not e.candidate_users and assignee is None:
        groups = [lane_group(c, e.lane)]
    if assignee is not None:
        assignee, note = route_to_deputy(c, assignee)
    task = TaskRecord(
        new_id(), rec.id, e.token, e.activity_id, e.name, rec.key, rec.definition_id,
        assignee, list(e.candidate_users), groups, e.due, e.follow_up, e.priority, e.form_key,
        e.created, rec.business_key, graph.name, note=note, lane=e.lane,
        owner=e.assignee if note else None,
    )
    c.tx.add_task(task)
    if note:
        hist.append(HistoryRecord(rec.id, "task_delegated", e.activity_id, c.now, "userTask",
                                  e.name, None, {"task_id": task.id, "to": assignee,
                                                 "from": e.assignee, "reason": "out_of_office",
                                                 "note": note}))
    for listener_id, when in e.timeouts:
        c.tx.add_job(JobRecord(new_id(), "timeout", rec.id, when, token=e.token,
                               activity_id=e.activity_id, definition_id=rec.definition_id,
                               created=c.now,
                               payload={"task_id": task.id, "listener": listener_id}))
    for i, pol in enumerate(e.escalations):
        from engine.timers import TimerError, add_duration

        try:
            when = add_duration(c.now, pol.after)
        except TimerError:
            continue
        c.tx.add_job(JobRecord(new_id(), "escalation", rec.id, when, token=e.token,
                               activity_id=e.activity_id, definition_id=rec.definition_id,
                               created=c.now, payload={"task_id": task.id, "policy": i}))
    c.notifications.append(("task_created", task))
    return task


def _away(u: Any, now: datetime) -> bool:
    if u.away_from is None and u.away_until is None:
        return False
    if u.away_from is not None and now < u.away_from:
        return False
    return not (u.away_until is not None and now >= u.away_until)
