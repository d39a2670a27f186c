"""The human task service: who may do what with a user task, and how tasks are created.

Permission rules (Camunda's, made explicit): a task is claimed only by a candidate (named
user or member of a candidate group) and only while unassigned; the assignee completes it
(or, while it is unassigned, any candidate may complete it directly).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from engine.store.records import HistoryRecord, JobRecord, TaskRecord

if TYPE_CHECKING:
    from engine.graph import ProcessGraph
    from engine.runtime.effects import UserTaskCreated
    from engine.service import _Command
    from engine.store.records import InstanceRecord


def is_candidate(task: TaskRecord, user: str, groups: list[str]) -> bool:
    return user in task.candidate_users or bool(set(groups) & set(task.candidate_groups))


def check_may_complete(task: TaskRecord, user: str, groups: list[str]) -> None:
    from engine.service import Forbidden

    if task.assignee is not None:
        if task.assignee != user:
            raise Forbidden(f"task '{task.id}' is assigned to '{task.assignee}', not to '{user}'")
        return
    if not is_candidate(task, user, groups):
        raise Forbidden(f"user '{user}' is not a candidate for task '{task.id}'")


def create_task(c: _Command, rec: InstanceRecord, graph: ProcessGraph, e: UserTaskCreated,
                hist: list[HistoryRecord]) -> TaskRecord:
    """Store a new user task, routing it to a deputy when its assignee is away."""
    assignee = e.assignee
    note = None
    groups = list(e.candidate_groups)
    if not groups and e.lane and not e.candidate_users and assignee is None:
        groups = [e.lane]
    if assignee is not None:
        get_user = getattr(c.tx, "get_user", None)
        u = get_user(assignee) if get_user else None
        if u is not None and u.deputy and _away(u, c.now):
            note = f"assigned to {u.deputy} as deputy of {assignee} (out of office)"
            assignee = u.deputy
    task = TaskRecord(
        uuid.uuid4().hex, rec.id, e.token, e.activity_id, e.name, rec.key, rec.definition_id,
        assignee, list(e.candidate_users), groups, e.due, e.follow_up, e.priority, e.form_key,
        e.created, rec.business_key, graph.name, note=note, lane=e.lane,
    )
    c.tx.add_task(task)
    if note:
        hist.append(HistoryRecord(rec.id, "task_delegated", e.activity_id, c.now, "userTask",
                                  e.name, None, {"task_id": task.id, "note": note}))
    for listener_id, when in e.timeouts:
        c.tx.add_job(JobRecord(uuid.uuid4().hex, "timeout", rec.id, when, token=e.token,
                               activity_id=e.activity_id, definition_id=rec.definition_id,
                               created=c.now,
                               payload={"task_id": task.id, "listener": listener_id}))
    for i, pol in enumerate(e.escalations):
        from engine.timers import TimerError, add_duration

        try:
            when = add_duration(c.now, pol.after)
        except TimerError:
            continue
        c.tx.add_job(JobRecord(uuid.uuid4().hex, "escalation", rec.id, when, token=e.token,
                               activity_id=e.activity_id, definition_id=rec.definition_id,
                               created=c.now, payload={"task_id": task.id, "policy": i}))
    c.notifications.append(("task_created", task))
    return task


def _away(u: Any, now: Any) -> bool:
    if u.away_from is None and u.away_until is None:
        return False
    if u.away_from is not None and now < u.away_from:
        return False
    return not (u.away_until is not None and now >= u.away_until)
