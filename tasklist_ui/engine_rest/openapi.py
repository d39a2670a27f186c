"""The OpenAPI 3.0 document of Baton's /engine-rest, served at /engine-rest/openapi.json
(no login needed, as /api/openapi.json).

Camunda 7 publishes the OpenAPI document of its whole REST API; this one describes the
subset Baton serves, with Camunda's paths, parameter and field names, so generated clients
and API tools work against Baton where Baton has the endpoint. It is built from the table
`OPERATIONS` (one row per endpoint); tests/engine_rest/test_openapi.py checks that every
route of the blueprint is in it and nothing else is.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify

from engine.bpmn.compat import COMPAT_MODES
from tasklist_ui.engine_rest import bp

_STR = {"type": "string"}
_NSTR = {"type": "string", "nullable": True}
_INT = {"type": "integer", "format": "int32"}
_NINT = {"type": "integer", "format": "int32", "nullable": True}
_LONG = {"type": "integer", "format": "int64"}
_BOOL = {"type": "boolean"}
_DATE = {"type": "string", "nullable": True,
         "description": "Camunda's date format, yyyy-MM-dd'T'HH:mm:ss.SSSZ"}
_OBJ = {"type": "object", "additionalProperties": True}
_COMPAT = {"type": "string", "nullable": True, "enum": [*COMPAT_MODES, None],
           "description": "Baton: the migration mode the process was deployed in "
                          "(baton-compat; null: Camunda 7's reading)"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


def _obj(required: list[str] | None = None, **props: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


_VARS = {"type": "object", "additionalProperties": _ref("VariableValue"),
         "description": "variable name -> typed value"}

_EXT_SORTS = ["id", "createTime", "lockExpirationTime", "processInstanceId",
              "processDefinitionId", "processDefinitionKey", "tenantId", "taskPriority"]

SCHEMAS: dict[str, Any] = {
    "Exception": _obj(["type", "message"], type=_STR, message=_STR),
    "ParseException": {"allOf": [_ref("Exception"), _obj(details={
        "type": "object", "description": "resource name -> its problems",
        "additionalProperties": _obj(errors=_array(_ref("Problem")),
                                     warnings=_array(_ref("Problem")))})]},
    "Problem": _obj(message=_STR, line=_NINT, column=_NINT, mainElementId=_NSTR,
                    elementIds=_array(_STR),
                    batonRule={**_NSTR, "description": "Baton's validation rule "
                                                       "(docs/validation-rules.md)"}),
    "VariableValue": _obj(
        value={"nullable": True, "description": "the value; Json and serialized Object "
                                                "values as JSON text"},
        type={"type": "string", "enum": ["Boolean", "Bytes", "Short", "Integer", "Long",
                                         "Double", "Date", "String", "Null", "Json",
                                         "Object", "Number"],
              "description": "kept as sent: a Long stays a Long"},
        valueInfo=_obj(objectTypeName=_STR, serializationDataFormat=_STR)),
    "Count": _obj(["count"], count=_LONG),
    "Link": _obj(method=_STR, href=_STR, rel=_STR),
    "ProcessDefinition": _obj(
        id=_STR, key=_STR, category=_NSTR, description=_NSTR, name=_NSTR, version=_INT,
        resource=_NSTR, deploymentId=_STR, diagram=_NSTR, suspended=_BOOL, tenantId=_NSTR,
        versionTag=_NSTR, historyTimeToLive=_NINT, startableInTasklist=_BOOL,
        batonCompat=_COMPAT),
    "ProcessDefinitionXml": _obj(id=_STR, bpmn20Xml=_STR),
    "Deployment": _obj(
        id=_STR, name=_NSTR, source=_NSTR, deploymentTime=_DATE, tenantId=_NSTR,
        links=_array(_ref("Link")),
        deployedProcessDefinitions={"type": "object", "nullable": True,
                                    "additionalProperties": _ref("ProcessDefinition")},
        deployedCaseDefinitions={**_OBJ, "nullable": True},
        deployedDecisionDefinitions={**_OBJ, "nullable": True},
        deployedDecisionRequirementsDefinitions={**_OBJ, "nullable": True},
        batonWarnings={**_array(_STR), "description": "Baton: what it runs with a "
                                                      "documented fallback"},
        batonCompat=_COMPAT),
    "ProcessInstance": _obj(
        id=_STR, definitionId=_STR, definitionKey=_STR, businessKey=_NSTR,
        caseInstanceId=_NSTR, ended=_BOOL, suspended=_BOOL, tenantId=_NSTR,
        links=_array(_ref("Link")), variables=_VARS),
    "StartProcessInstance": _obj(businessKey=_STR, variables=_VARS,
                                 withVariablesInReturn=_BOOL),
    "Modification": _obj(["instructions"], annotation=_STR, skipCustomListeners=_BOOL,
                         skipIoMappings=_BOOL, instructions=_array(_obj(
                             ["type"], type={"type": "string", "enum": [
                                 "cancel", "startBeforeActivity", "startAfterActivity",
                                 "startTransition"]},
                             activityId=_STR, activityInstanceId=_STR,
                             transitionInstanceId=_STR, transitionId=_STR,
                             variables=_VARS))),
    "PatchVariables": _obj(modifications=_VARS, deletions=_array(_STR)),
    "CorrelationMessage": _obj(
        ["messageName"], messageName=_STR, businessKey=_STR, processInstanceId=_STR,
        processVariables=_VARS, all=_BOOL, resultEnabled=_BOOL,
        variablesInResultEnabled=_BOOL),
    "MessageCorrelationResult": _obj(
        resultType={"type": "string", "enum": ["Execution", "ProcessDefinition"]},
        processInstance={**_ref("ProcessInstance"), "nullable": True},
        execution={**_OBJ, "nullable": True}, variables=_VARS),
    "FetchTopic": _obj(
        ["topicName", "lockDuration"], topicName=_STR, lockDuration=_LONG,
        variables={**_array(_STR), "nullable": True}, localVariables=_BOOL,
        deserializeValues=_BOOL, includeExtensionProperties=_BOOL, businessKey=_STR,
        processDefinitionId=_STR, processDefinitionIdIn=_array(_STR),
        processDefinitionKey=_STR, processDefinitionKeyIn=_array(_STR),
        tenantIdIn=_array(_STR), withoutTenantId=_BOOL,
        processDefinitionVersionTag={**_STR, "description": "the definition's "
                                                            "camunda:versionTag"},
        processVariables={**_OBJ, "description": "name -> value; a task matches when ANY "
                                                 "of them holds (as Camunda 7)"}),
    "FetchExternalTasks": _obj(
        ["workerId", "topics"], workerId=_STR, maxTasks=_INT, usePriority=_BOOL,
        asyncResponseTimeout=_LONG, topics=_array(_ref("FetchTopic")),
        sorting=_array(_obj(sortBy=_STR, sortOrder=_STR))),
    "ExternalTask": _obj(
        id=_STR, activityId=_STR, activityInstanceId=_STR, errorMessage=_NSTR,
        executionId=_STR, lockExpirationTime=_DATE, createTime=_DATE,
        processDefinitionId=_STR, processDefinitionKey=_STR,
        processDefinitionVersionTag=_NSTR, processInstanceId=_STR, retries=_NINT,
        suspended=_BOOL, workerId=_NSTR, topicName=_STR, tenantId=_NSTR, priority=_LONG,
        businessKey=_NSTR),
    "LockedExternalTask": {"allOf": [_ref("ExternalTask"), _obj(
        errorDetails=_NSTR, variables=_VARS,
        extensionProperties={"type": "object", "additionalProperties": _STR})]},
    "CompleteExternalTask": _obj(["workerId"], workerId=_STR, variables=_VARS,
                                 localVariables=_VARS),
    "ExternalTaskFailure": _obj(["workerId"], workerId=_STR, errorMessage=_STR,
                                errorDetails=_STR, retries=_INT, retryTimeout=_LONG),
    "ExternalTaskBpmnError": _obj(["workerId", "errorCode"], workerId=_STR, errorCode=_STR,
                                  errorMessage=_STR, variables=_VARS),
    "ExtendLock": _obj(["workerId", "newDuration"], workerId=_STR, newDuration=_LONG),
    "LockExternalTask": _obj(["workerId", "lockDuration"], workerId=_STR, lockDuration=_LONG),
    "ExternalTaskQuery": _obj(
        externalTaskId=_STR, externalTaskIdIn=_array(_STR), topicName=_STR, workerId=_STR,
        locked=_BOOL, notLocked=_BOOL, withRetriesLeft=_BOOL, noRetriesLeft=_BOOL,
        lockExpirationAfter=_DATE, lockExpirationBefore=_DATE, activityId=_STR,
        activityIdIn=_array(_STR), executionId=_STR, processInstanceId=_STR,
        processInstanceIdIn=_array(_STR), processDefinitionId=_STR,
        tenantIdIn=_array(_STR), withoutTenantId=_BOOL, active=_BOOL, suspended=_BOOL,
        priorityHigherThanOrEquals=_LONG, priorityLowerThanOrEquals=_LONG,
        businessKey=_STR, sorting=_array(_obj(
            sortBy={"type": "string", "enum": _EXT_SORTS},
            sortOrder={"type": "string", "enum": ["asc", "desc"]}))),
    "HistoricProcessInstance": _obj(
        id=_STR, businessKey=_NSTR, processDefinitionId=_STR, processDefinitionKey=_STR,
        processDefinitionName=_NSTR, processDefinitionVersion=_INT, startTime=_DATE,
        endTime=_DATE, removalTime=_DATE, durationInMillis={**_LONG, "nullable": True},
        startUserId=_NSTR, startActivityId=_NSTR, deleteReason=_NSTR,
        rootProcessInstanceId=_STR, superProcessInstanceId=_NSTR, superCaseInstanceId=_NSTR,
        caseInstanceId=_NSTR, tenantId=_NSTR,
        state={"type": "string", "enum": ["ACTIVE", "COMPLETED", "EXTERNALLY_TERMINATED",
                                          "INTERNALLY_TERMINATED"]}),
    "Form": _obj(key=_NSTR, contextPath=_NSTR, camundaFormRef=_NSTR),
    "Version": _obj(version=_STR, batonVersion=_NSTR),
    "Retries": _obj(["retries"], retries=_INT),
    "Job": _obj(
        id=_STR, jobDefinitionId=_STR, processInstanceId=_NSTR, executionId=_NSTR,
        processDefinitionId=_NSTR, processDefinitionKey=_NSTR, exceptionMessage=_NSTR,
        failedActivityId=_NSTR, retries=_INT, dueDate=_DATE, suspended=_BOOL,
        priority=_LONG, tenantId=_NSTR, createTime=_DATE, batchId=_NSTR),
    "Incident": _obj(
        id=_STR, processDefinitionId=_NSTR, processInstanceId=_NSTR, executionId=_NSTR,
        incidentTimestamp=_DATE, incidentType=_STR, activityId=_NSTR,
        failedActivityId=_NSTR, causeIncidentId=_STR, rootCauseIncidentId=_STR,
        configuration=_NSTR, incidentMessage=_NSTR, tenantId=_NSTR, jobDefinitionId=_NSTR,
        annotation=_NSTR),
    "Task": _obj(
        id=_STR, name=_NSTR, assignee=_NSTR, owner=_NSTR, created=_DATE, lastUpdated=_DATE,
        due=_DATE, followUp=_DATE, delegationState=_NSTR, description=_NSTR,
        executionId=_STR, parentTaskId=_NSTR, priority=_INT, processDefinitionId=_STR,
        processInstanceId=_STR, taskDefinitionKey=_STR, caseExecutionId=_NSTR,
        caseInstanceId=_NSTR, caseDefinitionId=_NSTR, suspended=_BOOL, formKey=_NSTR,
        camundaFormRef=_NSTR, tenantId=_NSTR),
    "UserId": _obj(["userId"], userId=_STR),
    "CompleteTask": _obj(variables=_VARS, withVariablesInReturn=_BOOL),
}

_ERRORS = {
    "400": "Bad request: the body, a parameter or a variable is invalid, or the engine "
           "refused (wrong worker, nothing to correlate)",
    "401": "No or wrong credentials (HTTP Basic or Bearer API token)",
    "403": "Not allowed for this user (engine/policy.py), or a cross-site request",
    "404": "Unknown id, or a task the caller may not see",
    "500": "A lost race (OptimisticLockingException) or an unexpected error",
}


def _q(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


def _p(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": _STR}


def _json(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


_PAGE = [_q("firstResult", _INT, "index of the first result"),
         _q("maxResults", _INT, "results at most (Baton caps at 10,000)"),
         _q("sortBy", _STR, "sort key (with sortOrder)"),
         _q("sortOrder", {"type": "string", "enum": ["asc", "desc"]}, "sort direction")]
_DESERIALIZE = _q("deserializeValues", _BOOL, "Object values as JSON (true, the default) "
                                              "or as JSON text")
_LIST = "comma-separated list"
_DEF_QUERY = [
    _q("key", _STR, "definition key"), _q("keyLike", _STR, "key LIKE (% and _)"),
    _q("keysIn", _STR, _LIST), _q("name", _STR, "name"), _q("nameLike", _STR, "name LIKE"),
    _q("latestVersion", _BOOL, "only the latest version of each key"),
    _q("version", _INT, "version"), _q("deploymentId", _STR, "deployment id"),
    _q("processDefinitionId", _STR, "definition id"),
    _q("processDefinitionIdIn", _STR, _LIST),
    _q("versionTag", _STR, "the process's camunda:versionTag"),
    _q("versionTagLike", _STR, "versionTag LIKE (% and _)"),
    _q("withoutVersionTag", _BOOL, "only definitions without a version tag"),
    _q("resourceName", _STR, "resource name"), _q("resourceNameLike", _STR, "LIKE"),
    _q("tenantIdIn", _STR, f"tenants, {_LIST}"),
    _q("withoutTenantId", _BOOL, "only definitions without tenant"),
    _q("includeProcessDefinitionsWithoutTenantId", _BOOL, "with tenantIdIn: also those "
                                                          "without tenant")]
_INST_QUERY = [
    _q("processDefinitionKey", _STR, "definition key"),
    _q("processDefinitionKeyIn", _STR, _LIST),
    _q("processDefinitionId", _STR, "definition id"), _q("businessKey", _STR, "business key"),
    _q("businessKeyLike", _STR, "LIKE"), _q("processInstanceIds", _STR, _LIST),
    _q("superProcessInstance", _STR, "the calling instance"),
    _q("variables", _STR, "name_op_value,... (eq, neq, gt, gteq, lt, lteq, like)"),
    _q("active", _BOOL, "Baton never suspends: false gives none"),
    _q("tenantIdIn", _STR, f"tenants of the definitions, {_LIST}"),
    _q("withoutTenantId", _BOOL, "only instances of definitions without tenant")]
_DATE_Q = {"type": "string", "description": "yyyy-MM-dd'T'HH:mm:ss.SSSZ"}
_EXT_QUERY = [
    _q("externalTaskId", _STR, "id"), _q("externalTaskIdIn", _STR, f"ids, {_LIST}"),
    _q("topicName", _STR, "topic"), _q("workerId", _STR, "worker that locked it last"),
    _q("locked", _BOOL, "only tasks whose lock has not expired"),
    _q("notLocked", _BOOL, "only tasks without a live lock"),
    _q("withRetriesLeft", _BOOL, "retries > 0 or none"),
    _q("noRetriesLeft", _BOOL, "retries 0"),
    _q("lockExpirationAfter", _DATE_Q, "lock expires after"),
    _q("lockExpirationBefore", _DATE_Q, "lock expires before"),
    _q("activityId", _STR, "activity"), _q("activityIdIn", _STR, f"activities, {_LIST}"),
    _q("executionId", _STR, "execution ('<instance>:<token>')"),
    _q("processInstanceId", _STR, "instance"),
    _q("processInstanceIdIn", _STR, f"instances, {_LIST}"),
    _q("processDefinitionId", _STR, "definition"),
    _q("tenantIdIn", _STR, f"tenants of the definitions, {_LIST}"),
    _q("withoutTenantId", _BOOL, "only tasks of definitions without tenant"),
    _q("active", _BOOL, "Baton never suspends external tasks: all"),
    _q("suspended", _BOOL, "Baton never suspends external tasks: none"),
    _q("priorityHigherThanOrEquals", _LONG, "priority at least"),
    _q("priorityLowerThanOrEquals", _LONG, "priority at most"),
    _q("businessKey", _STR, "business key (Baton)")]
_EXT_PAGE = [_q("firstResult", _INT, "index of the first result"),
             _q("maxResults", _INT, "results at most (Baton caps at 10,000)")]
_HIST_QUERY = [
    _q("processInstanceId", _STR, "instance"), _q("processInstanceIds", _STR, _LIST),
    _q("processDefinitionId", _STR, "definition"),
    _q("processDefinitionKey", _STR, "definition key"),
    _q("processDefinitionKeyIn", _STR, _LIST), _q("processDefinitionKeyNotIn", _STR, _LIST),
    _q("processInstanceBusinessKey", _STR, "business key"),
    _q("processInstanceBusinessKeyLike", _STR, "LIKE"),
    _q("superProcessInstanceId", _STR, "the calling instance"),
    _q("finished", _BOOL, "ended only"), _q("unfinished", _BOOL, "running only"),
    _q("active", _BOOL, "running only"), _q("completed", _BOOL, "completed only"),
    _q("externallyTerminated", _BOOL, "cancelled only"),
    _q("internallyTerminated", _BOOL, "failed only"),
    _q("startedBefore", _DATE_Q, "started at or before"),
    _q("startedAfter", _DATE_Q, "started at or after"),
    _q("finishedBefore", _DATE_Q, "ended at or before"),
    _q("finishedAfter", _DATE_Q, "ended at or after"),
    _q("tenantIdIn", _STR, f"tenants of the definitions, {_LIST}"),
    _q("withoutTenantId", _BOOL, "only instances of definitions without tenant")]
_JOB_QUERY = [
    _q("jobId", _STR, "id"), _q("jobIds", _STR, _LIST),
    _q("processInstanceId", _STR, "instance"), _q("processDefinitionId", _STR, "definition"),
    _q("processDefinitionKey", _STR, "definition key"), _q("activityId", _STR, "activity"),
    _q("failedActivityId", _STR, "activity of the failed job"),
    _q("withRetriesLeft", _BOOL, "retries > 0"), _q("noRetriesLeft", _BOOL, "retries 0"),
    _q("executable", _BOOL, "due now with retries left"),
    _q("timers", _BOOL, "timer jobs only"), _q("messages", _BOOL, "async jobs only"),
    _q("withException", _BOOL, "failed at least once"),
    _q("suspended", _BOOL, "held back by an incident"), _q("active", _BOOL, "not held back"),
    _q("tenantIdIn", _STR, f"tenants of the definitions, {_LIST}"),
    _q("withoutTenantId", _BOOL, "only jobs of definitions without tenant")]
_INC_QUERY = [
    _q("incidentId", _STR, "id"), _q("incidentType", _STR, "failedJob or failedExternalTask"),
    _q("processInstanceId", _STR, "instance"), _q("activityId", _STR, "activity"),
    _q("failedActivityId", _STR, "activity"), _q("processDefinitionId", _STR, "definition"),
    _q("configuration", _STR, "job or external task id")]
_TASK_QUERY = [
    _q("processInstanceId", _STR, "instance"), _q("assignee", _STR, "assignee"),
    _q("candidateUser", _STR, "a candidate user (unassigned tasks unless "
                              "includeAssignedTasks)"),
    _q("candidateGroup", _STR, "a candidate group (unassigned tasks unless "
                               "includeAssignedTasks)"),
    _q("candidateGroups", _STR, f"candidate groups, {_LIST}"),
    _q("includeAssignedTasks", _BOOL, "with a candidate filter: claimed tasks too"),
    _q("unassigned", _BOOL, "unassigned only"), _q("taskDefinitionKey", _STR, "activity id"),
    _q("processDefinitionKey", _STR, "definition key"), _q("nameLike", _STR, "name LIKE"),
    _q("processInstanceBusinessKey", _STR, "business key"), _q("taskId", _STR, "id"),
    _q("firstResult", _INT, "index of the first result"),
    _q("maxResults", _INT, "results at most"),
    _q("sortBy", {"type": "string", "enum": ["created", "dueDate", "priority", "name"]},
       "sort key"), _q("sortOrder", {"type": "string", "enum": ["asc", "desc"]}, "")]

_DEF_ID, _KEY, _TENANT = _p("definition_id"), _p("key"), _p("tenant_id")
_INST_ID, _TASK_ID, _EXT_ID = _p("instance_id"), _p("task_id"), _p("task_id")
_NONE = None

# (method, path, tag, summary, parameters, request body, status, response schema)
OPERATIONS: list[tuple[str, str, str, str, list[Any], Any, str, Any]] = [
    ("get", "/engine-rest/engine", "Engine", "The engines: one, named default", [], _NONE,
     "200", _array(_obj(name=_STR))),
    ("get", "/engine-rest/openapi.json", "Engine", "This document (no login needed)", [],
     _NONE, "200", _OBJ),
    ("get", "/engine-rest/version", "Engine", "The Camunda REST API version Baton's subset "
     "follows, and Baton's own", [], _NONE, "200", _ref("Version")),
    # ------------------------------------------------------------ deployments, definitions
    ("post", "/engine-rest/deployment/create", "Deployment",
     "Deploy BPMN files (all or none); malformed or invalid files answer 400 "
     "ParseException with the problems per file",
     [_q("strict", _BOOL, "Baton: refuse validation warnings too")],
     {"required": True, "content": {"multipart/form-data": {"schema": _obj(
         **{"deployment-name": _STR, "deployment-source": _STR,
            "tenant-id": {**_STR, "description": "1-64 letters, digits, '-', '_', '.'"},
            "baton-compat": {
                "type": "string", "enum": list(COMPAT_MODES),
                "description": "Baton: the migration mode the files are read in "
                               "(spiffworkflow: SpiffWorkflow's multi-instance data rules); "
                               "left out, Camunda 7's reading. Another value is refused "
                               "(400 naming the allowed ones)"},
            "data": {"type": "string", "format": "binary",
                     "description": "any number of file parts"}})}}},
     "200", _ref("Deployment")),
    ("get", "/engine-rest/process-definition", "Process Definition", "Query definitions",
     _DEF_QUERY + _PAGE, _NONE, "200", _array(_ref("ProcessDefinition"))),
    ("get", "/engine-rest/process-definition/count", "Process Definition",
     "Count definitions", _DEF_QUERY, _NONE, "200", _ref("Count")),
    ("get", "/engine-rest/process-definition/{definition_id}", "Process Definition",
     "One definition", [_DEF_ID], _NONE, "200", _ref("ProcessDefinition")),
    ("get", "/engine-rest/process-definition/{definition_id}/xml", "Process Definition",
     "Its BPMN XML", [_DEF_ID], _NONE, "200", _ref("ProcessDefinitionXml")),
    ("post", "/engine-rest/process-definition/{definition_id}/start", "Process Definition",
     "Start an instance of this version", [_DEF_ID],
     _json(_ref("StartProcessInstance"), False), "200", _ref("ProcessInstance")),
    ("get", "/engine-rest/process-definition/key/{key}", "Process Definition",
     "The latest version of a key", [_KEY], _NONE, "200", _ref("ProcessDefinition")),
    ("get", "/engine-rest/process-definition/key/{key}/xml", "Process Definition",
     "The latest version's BPMN XML", [_KEY], _NONE, "200", _ref("ProcessDefinitionXml")),
    ("post", "/engine-rest/process-definition/key/{key}/start", "Process Definition",
     "Start an instance of the latest version", [_KEY],
     _json(_ref("StartProcessInstance"), False), "200", _ref("ProcessInstance")),
    ("get", "/engine-rest/process-definition/key/{key}/tenant-id/{tenant_id}",
     "Process Definition", "The latest version of a key deployed for a tenant",
     [_KEY, _TENANT], _NONE, "200", _ref("ProcessDefinition")),
    ("post", "/engine-rest/process-definition/key/{key}/tenant-id/{tenant_id}/start",
     "Process Definition", "Start the latest version of a key deployed for a tenant",
     [_KEY, _TENANT], _json(_ref("StartProcessInstance"), False), "200",
     _ref("ProcessInstance")),
    # ------------------------------------------------------------ instances, messages
    ("get", "/engine-rest/process-instance", "Process Instance", "Query running instances",
     _INST_QUERY + _PAGE, _NONE, "200", _array(_ref("ProcessInstance"))),
    ("get", "/engine-rest/process-instance/count", "Process Instance", "Count them",
     _INST_QUERY, _NONE, "200", _ref("Count")),
    ("get", "/engine-rest/process-instance/{instance_id}", "Process Instance",
     "One running instance", [_INST_ID], _NONE, "200", _ref("ProcessInstance")),
    ("delete", "/engine-rest/process-instance/{instance_id}", "Process Instance",
     "Cancel it", [_INST_ID], _NONE, "204", _NONE),
    ("get", "/engine-rest/process-instance/{instance_id}/variables", "Process Instance",
     "Its variables, typed", [_INST_ID, _DESERIALIZE], _NONE, "200", _VARS),
    ("post", "/engine-rest/process-instance/{instance_id}/variables", "Process Instance",
     "Set variables (modifications)", [_INST_ID], _json(_ref("PatchVariables")), "204",
     _NONE),
    ("get", "/engine-rest/process-instance/{instance_id}/variables/{name}",
     "Process Instance", "One variable, typed", [_INST_ID, _p("name"), _DESERIALIZE], _NONE,
     "200", _ref("VariableValue")),
    ("put", "/engine-rest/process-instance/{instance_id}/variables/{name}",
     "Process Instance", "Set one variable", [_INST_ID, _p("name")],
     _json(_ref("VariableValue")), "204", _NONE),
    ("get", "/engine-rest/process-instance/{instance_id}/variables/{name}/data",
     "Process Instance", "One variable's raw data (bytes, text or JSON)",
     [_INST_ID, _p("name")], _NONE, "200", _NONE),
    ("post", "/engine-rest/process-instance/{instance_id}/modification", "Process Instance",
     "Cancel activities and start others, in one transaction", [_INST_ID],
     _json(_ref("Modification")), "204", _NONE),
    ("post", "/engine-rest/message", "Message", "Correlate a message (or start an "
     "instance at a message start event)", [], _json(_ref("CorrelationMessage")), "200",
     _array(_ref("MessageCorrelationResult"))),
    # ------------------------------------------------------------ external tasks
    ("post", "/engine-rest/external-task/fetchAndLock", "External Task",
     "Fetch and lock tasks of the topics (long polling with asyncResponseTimeout)", [],
     _json(_ref("FetchExternalTasks")), "200", _array(_ref("LockedExternalTask"))),
    ("get", "/engine-rest/external-task", "External Task", "Query external tasks",
     _EXT_QUERY + _EXT_PAGE + [
         _q("sortBy", {"type": "string", "enum": _EXT_SORTS}, "sort key (with sortOrder)"),
         _q("sortOrder", {"type": "string", "enum": ["asc", "desc"]}, "sort direction")],
     _NONE, "200", _array(_ref("ExternalTask"))),
    ("get", "/engine-rest/external-task/count", "External Task", "Count them", _EXT_QUERY,
     _NONE, "200", _ref("Count")),
    ("post", "/engine-rest/external-task", "External Task", "Query external tasks, the "
     "filters in the body, sorted by several keys", _EXT_PAGE,
     _json(_ref("ExternalTaskQuery"), False), "200", _array(_ref("ExternalTask"))),
    ("post", "/engine-rest/external-task/count", "External Task", "Count them (body)", [],
     _json(_ref("ExternalTaskQuery"), False), "200", _ref("Count")),
    ("post", "/engine-rest/external-task/{task_id}/lock", "External Task",
     "Lock one task for a worker without fetching it", [_EXT_ID],
     _json(_ref("LockExternalTask")), "204", _NONE),
    ("get", "/engine-rest/external-task/{task_id}", "External Task", "One external task",
     [_EXT_ID], _NONE, "200", _ref("ExternalTask")),
    ("get", "/engine-rest/external-task/{task_id}/errorDetails", "External Task",
     "The last failure's details (text)", [_EXT_ID], _NONE, "200", _NONE),
    ("post", "/engine-rest/external-task/{task_id}/complete", "External Task",
     "Complete a locked task", [_EXT_ID], _json(_ref("CompleteExternalTask")), "204",
     _NONE),
    ("post", "/engine-rest/external-task/{task_id}/failure", "External Task",
     "Report a failure (retries 0: an incident)", [_EXT_ID],
     _json(_ref("ExternalTaskFailure")), "204", _NONE),
    ("post", "/engine-rest/external-task/{task_id}/bpmnError", "External Task",
     "Throw a BPMN error", [_EXT_ID], _json(_ref("ExternalTaskBpmnError")), "204", _NONE),
    ("post", "/engine-rest/external-task/{task_id}/extendLock", "External Task",
     "Extend the lock", [_EXT_ID], _json(_ref("ExtendLock")), "204", _NONE),
    ("post", "/engine-rest/external-task/{task_id}/unlock", "External Task",
     "Drop the lock", [_EXT_ID], _NONE, "204", _NONE),
    ("put", "/engine-rest/external-task/{task_id}/retries", "External Task",
     "Set retries (resolves the incident when above 0)", [_EXT_ID], _json(_ref("Retries")),
     "204", _NONE),
    # ------------------------------------------------------------ jobs, incidents
    ("get", "/engine-rest/job", "Job", "Query jobs", _JOB_QUERY + _PAGE, _NONE, "200",
     _array(_ref("Job"))),
    ("get", "/engine-rest/job/count", "Job", "Count them", _JOB_QUERY, _NONE, "200",
     _ref("Count")),
    ("get", "/engine-rest/job/{job_id}", "Job", "One job", [_p("job_id")], _NONE, "200",
     _ref("Job")),
    ("put", "/engine-rest/job/{job_id}/retries", "Job", "Set retries", [_p("job_id")],
     _json(_ref("Retries")), "204", _NONE),
    ("get", "/engine-rest/incident", "Incident", "Query open incidents", _INC_QUERY + _PAGE,
     _NONE, "200", _array(_ref("Incident"))),
    ("get", "/engine-rest/incident/count", "Incident", "Count them", _INC_QUERY, _NONE,
     "200", _ref("Count")),
    ("get", "/engine-rest/incident/{incident_id}", "Incident", "One incident",
     [_p("incident_id")], _NONE, "200", _ref("Incident")),
    # ------------------------------------------------------------ history
    ("get", "/engine-rest/history/process-instance", "Historic Process Instance",
     "Query instances, running and ended", _HIST_QUERY + _PAGE, _NONE, "200",
     _array(_ref("HistoricProcessInstance"))),
    ("get", "/engine-rest/history/process-instance/count", "Historic Process Instance",
     "Count them", _HIST_QUERY, _NONE, "200", _ref("Count")),
    ("get", "/engine-rest/history/process-instance/{instance_id}",
     "Historic Process Instance", "One instance, running or ended", [_INST_ID], _NONE,
     "200", _ref("HistoricProcessInstance")),
    # ------------------------------------------------------------ user tasks
    ("get", "/engine-rest/task", "Task", "Query user tasks the caller may see", _TASK_QUERY,
     _NONE, "200", _array(_ref("Task"))),
    ("get", "/engine-rest/task/count", "Task", "Count them", _TASK_QUERY, _NONE, "200",
     _ref("Count")),
    ("get", "/engine-rest/task/{task_id}", "Task", "One task", [_TASK_ID], _NONE, "200",
     _ref("Task")),
    ("get", "/engine-rest/task/{task_id}/variables", "Task", "The variables it sees, typed",
     [_TASK_ID, _DESERIALIZE], _NONE, "200", _VARS),
    ("get", "/engine-rest/task/{task_id}/form", "Task", "Its form key", [_TASK_ID], _NONE,
     "200", _ref("Form")),
    ("get", "/engine-rest/task/{task_id}/form-variables", "Task",
     "What its form starts with: each form field's value or default, then the other "
     "variables it sees", [_TASK_ID, _q("variableNames", _STR, f"only these, {_LIST}"),
                           _DESERIALIZE], _NONE, "200", _VARS),
    ("post", "/engine-rest/task/{task_id}/claim", "Task", "Claim (for oneself, or assign "
     "as a supervisor)", [_TASK_ID], _json(_ref("UserId")), "204", _NONE),
    ("post", "/engine-rest/task/{task_id}/unclaim", "Task", "Give it back", [_TASK_ID],
     _NONE, "204", _NONE),
    ("post", "/engine-rest/task/{task_id}/complete", "Task", "Complete it", [_TASK_ID],
     _json(_ref("CompleteTask"), False), "204", _NONE),
]


def _operation_id(method: str, path: str) -> str:
    words = path.removeprefix("/engine-rest/").replace("{", "").replace("}", "")
    return method + "_" + "".join(ch if ch.isalnum() else "_" for ch in words)


def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, path, tag, summary, params, body, status, schema in OPERATIONS:
        responses: dict[str, Any] = {status: {"description": "OK" if status != "204"
                                              else "No content"}}
        if schema is not None:
            responses[status]["content"] = {"application/json": {"schema": schema}}
        public = path == "/engine-rest/openapi.json"
        if not public:
            for code, text in _ERRORS.items():
                error = "ParseException" if code == "400" and "deployment" in path \
                    else "Exception"
                responses[code] = {"description": text, "content": {
                    "application/json": {"schema": _ref(error)}}}
        op: dict[str, Any] = {"tags": [tag], "summary": summary,
                              "operationId": _operation_id(method, path),
                              "parameters": params, "responses": responses}
        if body is not None:
            op["requestBody"] = body
        if public:
            op["security"] = []
        paths.setdefault(path, {})[method] = op
    return {
        "openapi": "3.0.2",
        "info": {"title": "Baton engine-rest (Camunda 7 compatible subset)", "version": "1",
                 "description": "The endpoints of Camunda 7's REST API that Baton serves, "
                                "with Camunda's names and shapes. Errors are "
                                "{\"type\", \"message\"}; unsupported query parameters and "
                                "fields are refused with 400 rather than ignored."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic",
                          "description": "a Baton user and password"},
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "an API token, '<user id>.<secret>'"},
            },
        },
        "security": [{"basic": []}, {"bearer": []}],
    }


@bp.get("/openapi.json")
def openapi_document() -> object:
    return jsonify(document())
