"""Task timeouts and escalation policies fired by the job executor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.store.records import HistoryRecord, JobRecord

if TYPE_CHECKING:
    from engine.service import _Command


def fire_task_job(c: _Command, job: JobRecord) -> None:
    task = c.tx.get_task(job.payload.get("task_id", ""))
    if task is None:
        return
    rec, state, graph = c.load(task.instance_id)
    if job.kind == "timeout":
        c.tx.add_history([HistoryRecord(task.instance_id, "task_timeout", task.activity_id,
                                        c.now, "userTask", task.name, None,
                                        {"task_id": task.id,
                                         "listener": job.payload.get("listener")})])
        task.escalated += 1
        task.note = "timed out"
        c.tx.update_task(task)
        return
    node = graph.node(task.activity_id)
    spec = node.user_task
    if spec is None:
        return
    i = int(job.payload.get("policy", 0))
    if i >= len(spec.escalations):
        return
    pol = spec.escalations[i]
    if pol.when == "unclaimed" and task.assignee is not None:
        return
    if pol.when == "overdue" and (task.due is None or task.due > c.now):
        return
    changes = []
    if pol.add_groups:
        task.candidate_groups = sorted(set(task.candidate_groups) | set(pol.add_groups))
        changes.append("added groups " + ", ".join(pol.add_groups))
    if pol.reassign_user:
        task.assignee = pol.reassign_user
        changes.append(f"reassigned to {pol.reassign_user}")
    if pol.reassign_group:
        task.assignee = None
        task.candidate_groups = [pol.reassign_group]
        task.candidate_users = []
        changes.append(f"rerouted to group {pol.reassign_group}")
    if pol.priority is not None:
        task.priority = max(task.priority, pol.priority)
        changes.append(f"priority raised to {pol.priority}")
    task.escalated += 1
    task.note = "escalated: " + "; ".join(changes)
    c.tx.update_task(task)
    c.tx.add_history([HistoryRecord(task.instance_id, "task_escalated", task.activity_id, c.now,
                                    "userTask", task.name, None,
                                    {"task_id": task.id, "changes": changes})])
