"""Task timeouts and escalation policies fired by the job executor.

Two kinds of job, created with the task (see `engine.tasks.create_task`):
- "timeout": a `camunda:taskListener event="timeout"`; it records a `task_timeout` history
  event and marks the task (escalated count + note). A timeCycle listener fires again on its
  cycle while the task stays open.
- "escalation": a `baton:escalation` policy. `after` counts from the task's creation;
  `when="unclaimed"` acts only if nobody has claimed the task by then, `when="overdue"` only
  once its due date has passed (if the task is not overdue yet, the check is moved to the due
  date, and `set_due` moves it again). Actions: add candidate groups, reassign to a user (who
  may be away: then to their deputy) or to a group, raise the priority.

Every escalation is a `task_escalated` history event and shows on the task (`escalated`,
`note`). Jobs for a task that is gone (completed, cancelled) do nothing.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from engine.store.records import HistoryRecord, JobRecord, TaskRecord

if TYPE_CHECKING:
    from engine.commands.context import CommandContext
    from engine.graph import EscalationPolicy


def fire_task_job(c: CommandContext, job: JobRecord) -> None:
    task = c.tx.get_task(job.payload.get("task_id", ""))
    if task is None:
        return
    # Loading the instance takes its optimistic lock, so a task completed at the same time
    # makes one of the two commands retry instead of both writing.
    _rec, _state, graph = c.load(task.instance_id)
    node = graph.node(task.activity_id)
    spec = node.user_task
    if job.kind == "timeout":
        _timeout(c, job, task, spec.timeout_listeners if spec else ())
        return
    if spec is None:
        return
    i = int(job.payload.get("policy", 0))
    if i >= len(spec.escalations):
        return
    pol = spec.escalations[i]
    if pol.when == "unclaimed" and task.assignee is not None:
        return
    if pol.when == "overdue" and (task.due is None or task.due > c.now):
        if task.due is not None:
            _schedule(c, task, "escalation", task.due, {"policy": i})
        return
    escalate(c, task, pol, i)


def escalate(c: CommandContext, task: TaskRecord, pol: EscalationPolicy, index: int) -> list[str]:
    """Apply one policy's actions to the task; record and return what changed."""
    from engine.tasks import route_to_deputy

    changes = []
    if pol.add_groups:
        added = [g for g in pol.add_groups if g not in task.candidate_groups]
        task.candidate_groups = [*task.candidate_groups, *added]
        if added:
            changes.append("added groups " + ", ".join(added))
    if pol.reassign_group:
        task.assignee = None
        task.candidate_groups = [pol.reassign_group]
        task.candidate_users = []
        changes.append(f"rerouted to group {pol.reassign_group}")
    if pol.reassign_user:
        to, deputy_note = route_to_deputy(c, pol.reassign_user)
        task.assignee = to
        task.claimed = c.now
        changes.append(f"reassigned to {to}" + (f" ({deputy_note})" if deputy_note else ""))
    if pol.priority is not None and pol.priority > task.priority:
        task.priority = pol.priority
        changes.append(f"priority raised to {pol.priority}")
    task.escalated += 1
    task.note = "escalated: " + ("; ".join(changes) if changes else "nothing left to change")
    c.tx.update_task(task)
    c.tx.add_history([HistoryRecord(task.instance_id, "task_escalated", task.activity_id, c.now,
                                    "userTask", task.name, None,
                                    {"task_id": task.id, "policy": index, "when": pol.when,
                                     "after": pol.after, "changes": changes})])
    c.notifications.append(("task_escalated", task))
    return changes


def _timeout(c: CommandContext, job: JobRecord, task: TaskRecord,
             listeners: tuple[tuple[str, str, str], ...]) -> None:
    listener = job.payload.get("listener")
    fired = int(job.payload.get("fired", 0)) + 1
    c.tx.add_history([HistoryRecord(task.instance_id, "task_timeout", task.activity_id,
                                    c.now, "userTask", task.name, None,
                                    {"task_id": task.id, "listener": listener,
                                     "fired": fired})])
    task.escalated += 1
    task.note = f"timed out (listener {listener})" if listener else "timed out"
    c.tx.update_task(task)
    c.notifications.append(("task_timeout", task))
    for listener_id, kind, text in listeners:
        if listener_id != listener or kind != "timeCycle":
            continue
        from engine.timers import TimerError, parse_timer

        try:
            nxt = parse_timer(kind, text).next_due(job.due, fired)
        except TimerError:
            return
        if nxt is not None:
            _schedule(c, task, "timeout", nxt, {"listener": listener, "fired": fired})


def _schedule(c: CommandContext, task: TaskRecord, kind: str, due: object,
              payload: dict[str, object]) -> None:
    c.tx.add_job(JobRecord(uuid.uuid4().hex, kind, task.instance_id, due,  # type: ignore[arg-type]
                           token=task.token, activity_id=task.activity_id,
                           definition_id=task.definition_id, created=c.now,
                           payload={"task_id": task.id, **payload}))


def rearm_overdue(c: CommandContext, task: TaskRecord) -> None:
    """After a due date changed: move pending "overdue" escalation checks to the new due
    date (and re-create one whose check already passed while the task had no due date)."""
    graph = c.graph(task.definition_id)
    spec = graph.node(task.activity_id).user_task
    if spec is None:
        return
    from engine.timers import TimerError, add_duration

    pending = {int(j.payload.get("policy", -1)): j
               for j in c.tx.find_jobs(instance_id=task.instance_id, token=task.token,
                                       kind="escalation")}
    done = {int(h.detail.get("policy", -1)) for h in c.tx.history(task.instance_id)
            if h.type == "task_escalated" and h.detail and h.detail.get("task_id") == task.id}
    for i, pol in enumerate(spec.escalations):
        if pol.when != "overdue" or i in done:
            continue
        job = pending.get(i)
        if task.due is None:
            continue
        try:
            earliest = add_duration(task.created, pol.after)
        except TimerError:
            continue
        due = max(earliest, task.due)
        if job is not None:
            if job.lock_owner is None:
                job.due = due
                c.tx.update_job(job)
        else:
            _schedule(c, task, "escalation", due, {"policy": i})
