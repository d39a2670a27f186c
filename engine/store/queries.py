"""Query filters shared by the stores, so the in-memory store answers exactly like SQL.

Task filters (all optional): instance_id, activity_id, assignee, candidate_user (a user who
may claim: named in candidate_users), candidate_groups (any of a list), unassigned (True),
definition_key, name_like (case-insensitive substring), overdue_at (a datetime: due before
it), due_before, priority_min, business_key, involving (user, groups): assigned to the user
or claimable by them.
"""

from __future__ import annotations

from typing import Any

from engine.store.records import ExternalTaskRecord, InstanceRecord, TaskRecord


def match_task(r: TaskRecord, f: dict[str, Any]) -> bool:
    for k, v in f.items():
        if v is None:
            continue
        if k in ("instance_id", "activity_id", "assignee", "definition_key", "business_key",
                 "id"):
            if getattr(r, k) != v:
                return False
        elif k == "unassigned":
            if v and r.assignee is not None:
                return False
        elif k == "candidate_user":
            if v not in r.candidate_users:
                return False
        elif k == "candidate_groups":
            if not set(v) & set(r.candidate_groups):
                return False
        elif k == "name_like":
            if v.lower() not in (r.name or r.activity_id).lower():
                return False
        elif k == "overdue_at":
            if r.due is None or r.due >= v:
                return False
        elif k == "due_before":
            if r.due is None or r.due >= v:
                return False
        elif k == "priority_min":
            if r.priority < v:
                return False
        elif k == "claimable_by":
            user, groups = v
            if r.assignee is not None:
                return False
            if user not in r.candidate_users and not set(groups) & set(r.candidate_groups):
                return False
        elif k == "involving":
            user, groups = v
            if r.assignee != user and not (
                r.assignee is None
                and (user in r.candidate_users or set(groups) & set(r.candidate_groups))
            ):
                return False
        else:
            raise ValueError(f"unknown task filter '{k}'")
    return True


def sort_tasks(rows: list[TaskRecord], sort: str) -> list[TaskRecord]:
    desc = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in ("created", "due", "priority", "name"):
        raise ValueError(f"cannot sort tasks by '{key}'")

    def k(r: TaskRecord) -> Any:
        v = getattr(r, key)
        if key == "name":
            v = v or r.activity_id
        return (v is None, v, r.id) if not desc else (v is not None, v, r.id)

    return sorted(rows, key=k, reverse=desc)


def match_instance(r: InstanceRecord, f: dict[str, Any]) -> bool:
    for k, v in f.items():
        if v is None:
            continue
        if k in ("status", "key", "business_key", "parent_id", "definition_id", "id"):
            if getattr(r, k) != v:
                return False
        elif k == "version":
            if r.version != v:
                return False
        else:
            raise ValueError(f"unknown instance filter '{k}'")
    return True


def match_external(r: ExternalTaskRecord, f: dict[str, Any]) -> bool:
    for k, v in f.items():
        if v is None:
            continue
        if k == "locked":
            if bool(r.worker_id) != bool(v):
                return False
        elif getattr(r, k) != v:
            return False
    return True
