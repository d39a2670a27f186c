"""Engine records as JSON objects (camelCase keys, ISO 8601 UTC times)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from engine.store.records import (
    CommentRecord,
    DefinitionRecord,
    HistoryRecord,
    IncidentRecord,
    TaskRecord,
    UserRecord,
)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def jsonable(value: Any, depth: int = 0) -> Any:
    """A variable value as JSON: dates as ISO text, sets as lists, anything else unknown
    as its text, so one odd value never breaks a whole response."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if depth > 50:
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v, depth + 1) for v in value]
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value)


def task_json(t: TaskRecord, now: datetime) -> dict[str, Any]:
    return {
        "id": t.id, "name": t.name or t.activity_id, "activityId": t.activity_id,
        "instanceId": t.instance_id, "processKey": t.definition_key,
        "processName": t.process_name, "definitionId": t.definition_id,
        "businessKey": t.business_key, "assignee": t.assignee, "owner": t.owner,
        "delegation": t.delegation, "candidateUsers": list(t.candidate_users),
        "candidateGroups": list(t.candidate_groups), "created": iso(t.created),
        "claimed": iso(t.claimed), "due": iso(t.due), "followUp": iso(t.follow_up),
        "overdue": t.due is not None and t.due < now, "priority": t.priority,
        "formKey": t.form_key, "escalated": t.escalated, "note": t.note, "lane": t.lane,
    }


def comment_json(c: CommentRecord) -> dict[str, Any]:
    return {"id": c.id, "taskId": c.task_id, "instanceId": c.instance_id, "author": c.author,
            "text": c.text, "time": iso(c.time)}


def definition_json(d: DefinitionRecord) -> dict[str, Any]:
    return {"id": d.id, "key": d.key, "version": d.version, "name": d.name,
            "deploymentId": d.deployment_id, "resource": d.resource,
            "deployedAt": iso(d.deployed_at), "executable": d.executable, "compat": d.compat}


def deployed_json(p: Any) -> dict[str, Any]:
    """An `engine.service.ProcessDefinition` from `Engine.deploy`."""
    return {"id": p.id, "key": p.key, "version": p.version, "name": p.name,
            "deploymentId": p.deployment_id, "resource": p.resource, "new": p.new,
            "compat": p.compat}


def instance_json(v: Any, *, full: bool = False) -> dict[str, Any]:
    """An `engine.service.InstanceView`; `full` adds variables and tokens."""
    out = {"id": v.id, "key": v.key, "version": v.version, "definitionId": v.definition_id,
           "status": v.status, "businessKey": v.business_key, "parentId": v.parent_id,
           "waitingAt": list(v.waiting), "started": iso(v.started), "ended": iso(v.ended)}
    if full:
        out["variables"] = jsonable(v.variables)
        out["tokens"] = jsonable(v.tokens)
    return out


def history_json(h: HistoryRecord) -> dict[str, Any]:
    return {"seq": h.seq, "type": h.type, "activityId": h.activity_id, "time": iso(h.time),
            "kind": h.kind, "name": h.name, "user": h.user, "detail": jsonable(h.detail)}


def incident_json(i: IncidentRecord) -> dict[str, Any]:
    return {"id": i.id, "type": i.type, "instanceId": i.instance_id,
            "activityId": i.activity_id, "message": i.message, "created": iso(i.created),
            "jobId": i.job_id, "externalTaskId": i.external_task_id,
            "resolved": iso(i.resolved)}


def user_json(u: UserRecord) -> dict[str, Any]:
    return {"id": u.id, "name": u.name, "roles": list(u.roles), "groups": list(u.groups),
            "deputy": u.deputy, "awayFrom": iso(u.away_from), "awayUntil": iso(u.away_until)}
