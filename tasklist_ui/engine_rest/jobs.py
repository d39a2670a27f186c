"""Jobs (timers, async continuations, connector calls) and incidents."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from engine.limits import MAX_RETRIES
from tasklist_ui.engine_rest import bp
from tasklist_ui.engine_rest.auth import user_id
from tasklist_ui.engine_rest.common import (
    arg,
    arg_bool,
    arg_list,
    body,
    check_args,
    count,
    engine,
    field_int,
    no_content,
    page,
)
from tasklist_ui.engine_rest.dto import TenantLookup, incident, job
from tasklist_ui.engine_rest.errors import invalid, not_found


def _key_of(definition_id: str | None) -> str | None:
    # definition ids are "<key>:<version>:<deployment>"
    return definition_id.rsplit(":", 2)[0] if definition_id and definition_id.count(":") >= 2 \
        else None


def _jobs() -> list[Any]:
    check_args(("jobId", "jobIds", "processInstanceId", "processDefinitionId",
                "processDefinitionKey", "activityId", "failedActivityId", "withRetriesLeft",
                "noRetriesLeft", "executable", "timers", "messages", "withException",
                "active", "suspended", "tenantIdIn"))
    filters = {k: v for k, v in (("id", arg("jobId")), ("instance_id", arg("processInstanceId")),
                                 ("definition_id", arg("processDefinitionId")),
                                 ("activity_id", arg("activityId"))) if v is not None}
    rows = engine().jobs(**filters, user=user_id())
    eng_now = engine().clock()
    tests = {
        "jobIds": lambda j, v: j.id in v.split(","),
        "processDefinitionKey": lambda j, v: _key_of(j.definition_id) == v,
        "failedActivityId": lambda j, v: j.last_error is not None and j.activity_id == v,
    }
    for param, test in tests.items():
        value = arg(param)
        if value is not None:
            rows = [j for j in rows if test(j, value)]
    flags = {
        "withRetriesLeft": lambda j: j.retries > 0,
        "noRetriesLeft": lambda j: j.retries <= 0,
        "executable": lambda j: j.retries > 0 and not j.suspended and j.due <= eng_now,
        "timers": lambda j: j.kind in ("timer", "start-timer", "timeout", "escalation"),
        "messages": lambda j: j.kind in ("async", "connector"),
        "withException": lambda j: j.last_error is not None,
        "active": lambda j: not j.suspended,
        "suspended": lambda j: j.suspended,
    }
    for param, flag in flags.items():
        if arg_bool(param):
            rows = [j for j in rows if flag(j)]
    ids = arg_list("jobIds")
    if ids is not None:
        rows = [j for j in rows if j.id in ids]
    tenants = arg_list("tenantIdIn")
    if tenants is not None and arg_bool("withoutTenantId"):
        raise invalid("tenantIdIn and withoutTenantId exclude each other")
    if tenants is not None or arg_bool("withoutTenantId"):
        # a job's tenant is its definition's (a deployment's tenant-id)
        lookup = TenantLookup(engine())
        wanted = set(tenants) if tenants is not None else {None}
        rows = [j for j in rows if lookup.of(j.definition_id) in wanted]
    return rows


_JOB_SORT = {"jobId": lambda j: j.id, "jobDueDate": lambda j: j.due,
             "jobRetries": lambda j: j.retries, "processInstanceId": lambda j: j.instance_id,
             "processDefinitionId": lambda j: j.definition_id,
             "processDefinitionKey": lambda j: _key_of(j.definition_id),
             "jobPriority": lambda j: 0}


@bp.get("/job")
def jobs() -> Any:
    lookup = TenantLookup(engine())
    return jsonify([job(j, _key_of(j.definition_id), lookup.of(j.definition_id))
                    for j in page(_jobs(), _JOB_SORT)])


@bp.get("/job/count")
def jobs_count() -> Any:
    return jsonify(count(_jobs()))


@bp.get("/job/<job_id>")
def get_job(job_id: str) -> Any:
    got = engine().jobs(id=job_id, user=user_id())
    if not got:
        raise not_found(f"Job with id {job_id} does not exist")
    return jsonify(job(got[0], _key_of(got[0].definition_id),
                       TenantLookup(engine()).of(got[0].definition_id)))


@bp.put("/job/<job_id>/retries")
def put_job_retries(job_id: str) -> Response:
    engine().authorize(user_id(), "job", "manage")
    retries = field_int(body(required=True), "retries", required=True, minimum=0,
                        maximum=MAX_RETRIES)
    if not engine().jobs(id=job_id, user=user_id()):
        raise not_found(f"Job with id {job_id} does not exist")
    engine().set_job_retries(job_id, retries or 0, user=user_id())
    return no_content()


# =========================================================================== incidents


def _incidents() -> list[Any]:
    check_args(("incidentId", "incidentType", "processInstanceId", "activityId",
                "failedActivityId", "configuration", "processDefinitionId"))
    filters = {k: v for k, v in (("id", arg("incidentId")), ("type", arg("incidentType")),
                                 ("instance_id", arg("processInstanceId")),
                                 ("activity_id", arg("activityId") or arg("failedActivityId")))
               if v is not None}
    rows = engine().incidents(**filters, user=user_id())
    conf = arg("configuration")
    if conf is not None:
        rows = [i for i in rows if conf in (i.job_id, i.external_task_id)]
    return rows


def _definition_of(i: Any) -> str | None:
    if i.instance_id is None:
        return None
    try:
        return engine().instance(i.instance_id, user=user_id()).definition_id
    except Exception:  # noqa: BLE001 - the instance may be gone; the incident still shows
        return None


_INC_SORT = {"incidentId": lambda i: i.id, "incidentTimestamp": lambda i: i.created,
             "incidentType": lambda i: i.type, "activityId": lambda i: i.activity_id,
             "processInstanceId": lambda i: i.instance_id}


def _incident(i: Any, lookup: TenantLookup) -> dict[str, Any]:
    definition_id = _definition_of(i)
    return incident(i, definition_id, lookup.of(definition_id))


@bp.get("/incident")
def incidents() -> Any:
    rows = page(_incidents(), _INC_SORT)
    lookup = TenantLookup(engine())
    return jsonify([_incident(i, lookup) for i in rows])


@bp.get("/incident/count")
def incidents_count() -> Any:
    return jsonify(count(_incidents()))


@bp.get("/incident/<incident_id>")
def get_incident(incident_id: str) -> Any:
    got = engine().incidents(id=incident_id, user=user_id())
    if not got:
        raise not_found(f"Incident with id {incident_id} does not exist")
    return jsonify(_incident(got[0], TenantLookup(engine())))
