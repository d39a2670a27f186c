"""Baton records as Camunda 7's REST DTOs (field names and shapes clients expect)."""

from __future__ import annotations

from typing import Any

from tasklist_ui.engine_rest.common import self_link
from tasklist_ui.engine_rest.values import format_date


class TenantLookup:
    """The tenant and version tag of definitions by id, read once per answer: tasks, jobs
    and instances name their definition, and the tenant (a deployment's `tenant-id`) and
    the version tag (camunda:versionTag) are the definition's."""

    def __init__(self, eng: Any) -> None:
        self.engine = eng
        self.known: dict[str, Any] = {}

    def record(self, definition_id: str | None) -> Any:
        if definition_id is None:
            return None
        if definition_id not in self.known:
            try:   # a trusted read: the caller was allowed to see what names it
                rec = self.engine.definition_by_id(definition_id)
            except Exception:  # noqa: BLE001 - a vanished definition has nothing to give
                rec = None
            self.known[definition_id] = rec
        return self.known[definition_id]

    def of(self, definition_id: str | None) -> str | None:
        """The tenant of the definition."""
        return getattr(self.record(definition_id), "tenant_id", None)

    def version_tag(self, definition_id: str | None) -> str | None:
        return getattr(self.record(definition_id), "version_tag", None)


def definition(d: Any) -> dict[str, Any]:
    return {
        "id": d.id, "key": d.key, "category": None, "description": None, "name": d.name,
        "version": d.version, "resource": d.resource, "deploymentId": d.deployment_id,
        "diagram": None, "suspended": False, "tenantId": getattr(d, "tenant_id", None),
        "versionTag": getattr(d, "version_tag", None), "historyTimeToLive": None,
        "startableInTasklist": True,
        # not Camunda's: the migration mode it was deployed in (None: Camunda 7's reading)
        "batonCompat": getattr(d, "compat", None),
    }


def instance(v: Any, tenant_id: str | None = None) -> dict[str, Any]:
    return {
        "links": self_link(f"/process-instance/{v.id}"), "id": v.id,
        "definitionId": v.definition_id, "definitionKey": v.key,
        "businessKey": v.business_key, "caseInstanceId": None,
        "ended": v.status != "running", "suspended": False, "tenantId": tenant_id,
    }


def external_task(t: Any, suspended: bool = False, tenant_id: str | None = None,
                  version_tag: str | None = None) -> dict[str, Any]:
    return {
        "activityId": t.activity_id, "activityInstanceId": f"{t.activity_id}:{t.token}",
        "errorMessage": t.error_message, "executionId": f"{t.instance_id}:{t.token}",
        "id": t.id, "lockExpirationTime": format_date(t.lock_expires),
        "createTime": format_date(t.created),
        "processDefinitionId": t.definition_id, "processDefinitionKey": t.definition_key,
        "processDefinitionVersionTag": version_tag, "processInstanceId": t.instance_id,
        "retries": t.retries, "suspended": suspended, "workerId": t.worker_id,
        "topicName": t.topic, "tenantId": tenant_id, "priority": t.priority,
        "businessKey": t.business_key,
    }


def locked_task(t: Any, variables: dict[str, Any], properties: dict[str, str] | None,
                tenant_id: str | None = None, version_tag: str | None = None
                ) -> dict[str, Any]:
    out = external_task(t, tenant_id=tenant_id, version_tag=version_tag)
    out.pop("suspended")
    out["errorDetails"] = t.error_details
    out["variables"] = variables
    if properties is not None:
        out["extensionProperties"] = properties
    return out


def job(j: Any, definition_key: str | None = None,
        tenant_id: str | None = None) -> dict[str, Any]:
    return {
        "id": j.id, "jobDefinitionId": f"{j.definition_id}:{j.activity_id}:{j.kind}",
        "processInstanceId": j.instance_id, "executionId":
            f"{j.instance_id}:{j.token}" if j.instance_id and j.token is not None else None,
        "processDefinitionId": j.definition_id, "processDefinitionKey": definition_key,
        "exceptionMessage": j.last_error,
        "failedActivityId": j.activity_id if j.last_error else None,
        "retries": j.retries, "dueDate": format_date(j.due), "suspended": j.suspended,
        "priority": 0, "tenantId": tenant_id, "createTime": format_date(j.created),
        "batchId": None,
    }


def incident(i: Any, definition_id: str | None = None,
             tenant_id: str | None = None) -> dict[str, Any]:
    return {
        "id": i.id, "processDefinitionId": definition_id, "processInstanceId": i.instance_id,
        "executionId": None, "incidentTimestamp": format_date(i.created),
        "incidentType": i.type, "activityId": i.activity_id,
        "failedActivityId": i.activity_id, "causeIncidentId": i.id,
        "rootCauseIncidentId": i.id, "configuration": i.job_id or i.external_task_id,
        "incidentMessage": i.message, "tenantId": tenant_id, "jobDefinitionId": None,
        "annotation": None,
    }


def task(t: Any, tenant_id: str | None = None) -> dict[str, Any]:
    return {
        "id": t.id, "name": t.name, "assignee": t.assignee, "owner": t.owner,
        "created": format_date(t.created), "lastUpdated": None, "due": format_date(t.due),
        "followUp": format_date(t.follow_up),
        "delegationState": t.delegation.upper() if t.delegation else None,
        "description": None, "executionId": f"{t.instance_id}:{t.token}",
        "parentTaskId": None, "priority": t.priority, "processDefinitionId": t.definition_id,
        "processInstanceId": t.instance_id, "taskDefinitionKey": t.activity_id,
        "caseExecutionId": None, "caseInstanceId": None, "caseDefinitionId": None,
        "suspended": False, "formKey": t.form_key, "camundaFormRef": None,
        "tenantId": tenant_id,
    }
