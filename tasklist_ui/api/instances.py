"""Instances, their history, incidents, messages and signals."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from engine.limits import MAX_PAGE_NUMBER
from tasklist_ui.api import bp
from tasklist_ui.api.auth import caller, engine
from tasklist_ui.api.bodies import (
    arg_bool,
    arg_int,
    arg_text,
    flag,
    json_body,
    mapping,
    text,
    whole,
)
from tasklist_ui.api.errors import bad_request
from tasklist_ui.api.serialize import (
    comment_json,
    history_json,
    incident_json,
    instance_json,
    task_json,
)

STATUSES = ("running", "completed", "terminated", "failed")


@bp.get("/me")
def me() -> Any:
    from tasklist_ui.api.serialize import user_json

    who = caller()
    return jsonify({**user_json(who.record), "supervisor": who.is_supervisor,
                    "authenticatedBy": who.via})


@bp.get("/instances")
def list_instances() -> Any:
    """?key= &status= &businessKey= &page= &pageSize= (analysts, supervisors, admins)."""
    status = arg_text("status")
    if status is not None and status not in STATUSES:
        raise bad_request(f"status must be one of {', '.join(STATUSES)}")
    page = arg_int("page", 1, 1, MAX_PAGE_NUMBER)
    size = arg_int("pageSize", 25, 1, 200)
    filters = {"key": arg_text("key"), "status": status,
               "business_key": arg_text("businessKey")}
    eng = engine()
    rows = eng.instances(newest_first=True, limit=size, offset=(page - 1) * size, **filters, user=caller().id)
    return jsonify({"items": [instance_json(v) for v in rows],
                    "total": eng.count_instances(**filters, user=caller().id), "page": page, "pageSize": size})


@bp.get("/instances/<instance_id>")
def get_instance(instance_id: str) -> Any:
    """State, variables, open tasks, open incidents and comments of one instance."""
    eng = engine()
    out = instance_json(eng.instance(instance_id, user=caller().id), full=True)
    now = eng.clock()
    out["tasks"] = [task_json(t, now) for t in eng.tasks(instance_id=instance_id, user=caller().id)]
    out["incidents"] = [incident_json(i) for i in eng.incidents(instance_id=instance_id, user=caller().id)]
    out["comments"] = [comment_json(c) for c in eng.comments(instance_id=instance_id, user=caller().id)]
    return jsonify(out)


@bp.get("/instances/<instance_id>/history")
def instance_history(instance_id: str) -> Any:
    eng = engine()
    eng.instance(instance_id, user=caller().id)                          # 404 for an unknown id
    return jsonify([history_json(h) for h in eng.history(instance_id, user=caller().id)])


@bp.post("/instances/<instance_id>/cancel")
def cancel_instance(instance_id: str) -> Any:
    """Body (optional): {"reason": "..."}. Admins only."""
    engine().authorize(caller().id, "instance", "cancel")    # refused before the body is read
    reason = text(json_body(required=False), "reason", max_len=500) or "cancelled"
    eng = engine()
    eng.cancel(instance_id, reason, user=caller().id)
    return jsonify(instance_json(eng.instance(instance_id, user=caller().id)))


MODIFY_KINDS = ("cancel", "start_before", "start_after")


@bp.post("/instances/<instance_id>/modify")
def modify_instance(instance_id: str) -> Any:
    """Move tokens of a running instance, in one transaction. Admins only. Body:
    {"instructions": [{"type": "cancel"|"start_before"|"start_after", "activityId": ".."}],
    "variables": {..}, "reason": ".."}."""
    engine().authorize(caller().id, "instance", "modify")
    body = json_body()
    raw = body.get("instructions")
    if not isinstance(raw, list) or not raw:
        raise bad_request("field 'instructions' must be a non-empty array")
    if len(raw) > 100:
        raise bad_request("field 'instructions' may have at most 100 entries")
    instructions = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise bad_request(f"instructions[{i}] must be an object")
        kind = text(item, "type", required=True)
        if kind not in MODIFY_KINDS:
            raise bad_request(f"instructions[{i}].type must be one of {', '.join(MODIFY_KINDS)}")
        activity = text(item, "activityId", required=True)
        instructions.append((kind, activity))
    eng = engine()
    eng.apply_modification(instance_id, instructions, variables=mapping(body, "variables"),
                           reason=text(body, "reason", max_len=500), user=caller().id)
    return jsonify(instance_json(eng.instance(instance_id, user=caller().id)))


@bp.get("/instances/<instance_id>/adhoc")
def adhoc_activities(instance_id: str) -> Any:
    """The activities of the instance's running ad-hoc subprocesses that can be started:
    [{"adhocId", "activityId", "name", "startable"}]."""
    return jsonify(engine().adhoc_activities(instance_id, user=caller().id))


@bp.post("/instances/<instance_id>/adhoc/<activity_id>")
def start_adhoc_activity(instance_id: str, activity_id: str) -> Any:
    """Start an activity of a running ad-hoc subprocess. Body (optional): {"variables"}.
    Staff and analysts."""
    engine().authorize(caller().id, "instance", "start")    # refused before the body is read
    variables = mapping(json_body(required=False), "variables")
    engine().start_adhoc_activity(instance_id, activity_id, variables, user=caller().id)
    return jsonify({"instanceId": instance_id, "activityId": activity_id, "started": True})


@bp.post("/instances/<instance_id>/adhoc/<adhoc_id>/complete")
def complete_adhoc(instance_id: str, adhoc_id: str) -> Any:
    """Complete a running ad-hoc subprocess in which nothing runs any more."""
    engine().complete_adhoc(instance_id, adhoc_id, user=caller().id)
    return jsonify({"instanceId": instance_id, "adhocId": adhoc_id, "completed": True})


@bp.get("/incidents")
def list_incidents() -> Any:
    """Open incidents (?all=true: resolved ones too; ?instanceId= for one instance)."""
    filters = {}
    iid = arg_text("instanceId")
    if iid:
        filters["instance_id"] = iid
    rows = engine().incidents(open_only=not arg_bool("all"), **filters, user=caller().id)
    return jsonify([incident_json(i) for i in rows])


@bp.post("/incidents/<incident_id>/retry")
def retry_incident(incident_id: str) -> Any:
    """Body (optional): {"retries": n (1-10)}. Admins only."""
    engine().authorize(caller().id, "incident", "resolve")   # refused before the body is read
    retries = whole(json_body(required=False), "retries")
    if retries is not None and not 1 <= retries <= 10:
        raise bad_request("field 'retries' must be from 1 to 10")
    engine().retry_incident(incident_id, retries or 1, user=caller().id)
    return jsonify({"retried": True, "incidentId": incident_id})


@bp.post("/messages")
def correlate_message() -> Any:
    """Body: {"name", "businessKey"?, "instanceId"?, "variables"?, "all"?}: deliver a
    message to the instance(s) waiting for it, or start one at a message start event."""
    engine().authorize(caller().id, "message", "correlate")
    body = json_body()
    name = text(body, "name", required=True, max_len=255)
    ids = engine().correlate_message(
        name, business_key=text(body, "businessKey", max_len=255),
        variables=mapping(body, "variables"), instance_id=text(body, "instanceId", max_len=64),
        all=flag(body, "all"), user=caller().id)
    return jsonify({"instances": ids})


@bp.post("/signals")
def broadcast_signal() -> Any:
    """Body: {"name", "variables"?}: every instance waiting for the signal receives it."""
    engine().authorize(caller().id, "signal", "broadcast")
    body = json_body()
    name = text(body, "name", required=True, max_len=255)
    ids = engine().broadcast_signal(name, mapping(body, "variables"), user=caller().id)
    return jsonify({"instances": ids})
