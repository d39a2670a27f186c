"""The OpenAPI 3.1 document for /api, served at /api/openapi.json (no login needed).

Built from the table `OPERATIONS` below rather than written as one large JSON file, so
each endpoint is described in one place; a test checks that every route of the blueprint
is in the document and nothing else is."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from engine.bpmn.compat import COMPAT_MODES
from tasklist_ui.api import bp

_STR = {"type": "string"}
_INT = {"type": "integer"}
_BOOL = {"type": "boolean"}
_TIME = {"type": ["string", "null"], "format": "date-time"}
_NSTR = {"type": ["string", "null"]}
_OBJ = {"type": "object", "additionalProperties": True}
_COMPAT = {"type": ["string", "null"], "enum": [*COMPAT_MODES, None],
           "description": "the migration mode the process was deployed in (null: Camunda 7 "
                          "semantics)"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


def _page(item: str, **extra: Any) -> dict[str, Any]:
    return {"type": "object", "required": ["items", "total", "page", "pageSize"],
            "properties": {"items": _array(_ref(item)), "total": _INT, "page": _INT,
                           "pageSize": _INT, **extra}}


def _obj(required: list[str] | None = None, **props: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


SCHEMAS: dict[str, Any] = {
    "Error": _obj(["error"], error=_obj(
        ["type", "message"], type=_STR, message=_STR,
        fields={"type": "object", "additionalProperties": _STR,
                "description": "form_invalid: field id -> message"},
        problems=_array(_ref("Problem")))),
    "Problem": _obj(elementId=_NSTR, element=_NSTR, line={"type": ["integer", "null"]},
                    file=_NSTR, message=_STR,
                    rule={**_NSTR, "description": "the validation rule broken "
                                                  "(docs/validation-rules.md)"},
                    severity={"type": "string", "enum": ["error", "warning"],
                              "description": "warning: refused in strict mode only"}),
    "Task": _obj(
        id=_STR, name=_STR, activityId=_STR, instanceId=_STR, processKey=_STR,
        processName=_NSTR, definitionId=_STR, businessKey=_NSTR, assignee=_NSTR, owner=_NSTR,
        delegation=_NSTR, candidateUsers=_array(_STR), candidateGroups=_array(_STR),
        created=_TIME, claimed=_TIME, due=_TIME, followUp=_TIME, overdue=_BOOL,
        priority=_INT, formKey=_NSTR, escalated=_INT, note=_NSTR, lane=_NSTR),
    "FormField": _obj(
        id=_STR, label=_STR,
        type={"type": "string", "enum": ["string", "long", "double", "boolean", "date",
                                         "enum"]},
        required=_BOOL, readonly=_BOOL, constraints=_OBJ,
        values=_array(_obj(id=_STR, label=_STR)), value={}),
    "Form": _obj(formKey=_NSTR, fields=_array(_ref("FormField"))),
    "TaskDetail": {"allOf": [_ref("Task"), _obj(
        form=_ref("Form"), variables=_OBJ, comments=_array(_ref("Comment")),
        actions=_obj(claim=_BOOL, unclaim=_BOOL, complete=_BOOL, delegate=_BOOL,
                     comment=_BOOL))]},
    "Comment": _obj(id=_STR, taskId=_NSTR, instanceId=_STR, author=_STR, text=_STR,
                    time=_TIME),
    "Definition": _obj(id=_STR, key=_STR, version=_INT, name=_NSTR, deploymentId=_STR,
                       resource=_NSTR, deployedAt=_TIME, executable=_BOOL, compat=_COMPAT),
    "Deployed": _obj(id=_STR, key=_STR, version=_INT, name=_NSTR, deploymentId=_STR,
                     resource=_NSTR, new={**_BOOL, "description":
                                          "false when an unchanged file was redeployed"},
                     compat=_COMPAT),
    "Instance": _obj(id=_STR, key=_STR, version=_INT, definitionId=_STR,
                     status={"type": "string",
                             "enum": ["running", "completed", "terminated", "failed"]},
                     businessKey=_NSTR, parentId=_NSTR, waitingAt=_array(_STR),
                     started=_TIME, ended=_TIME),
    "InstanceDetail": {"allOf": [_ref("Instance"), _obj(
        variables=_OBJ, tokens=_array(_OBJ), tasks=_array(_ref("Task")),
        incidents=_array(_ref("Incident")), comments=_array(_ref("Comment")))]},
    "HistoryEvent": _obj(seq=_INT, type=_STR, activityId=_NSTR, time=_TIME, kind=_NSTR,
                         name=_NSTR, user=_NSTR, detail={"type": ["object", "null"]}),
    "Incident": _obj(id=_STR, type=_STR, instanceId=_NSTR, activityId=_NSTR, message=_STR,
                     created=_TIME, jobId=_NSTR, externalTaskId=_NSTR, resolved=_TIME),
    "User": _obj(id=_STR, name=_STR, roles=_array(_STR), groups=_array(_STR), deputy=_NSTR,
                 awayFrom=_TIME, awayUntil=_TIME, supervisor=_BOOL, authenticatedBy=_STR),
    "Correlated": _obj(instances=_array(_STR)),
    "Completed": _obj(completed=_BOOL, taskId=_STR, instanceId=_STR, variables=_OBJ),
}

_ERRORS = {
    "400": "Bad input (body, query, form values or diagram)",
    "401": "Not logged in and no valid bearer token",
    "403": "Not allowed for this user (role, candidate, assignee), or a session request "
           "without X-Requested-With",
    "404": "Unknown id",
    "409": "The task or instance changed meanwhile (e.g. already claimed)",
}


def _q(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


def _body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


_PAGING = [_q("page", _INT, "page number from 1"),
           _q("pageSize", _INT, "items per page, 1-200 (default 25)")]
_VARS = _OBJ
_TASK_ID = {"name": "task_id", "in": "path", "required": True, "schema": _STR}
_INST_ID = {"name": "instance_id", "in": "path", "required": True, "schema": _STR}

# (method, path, summary, who, parameters, request body, status, response schema)
OPERATIONS: list[tuple[str, str, str, str, list[Any], Any, str, Any]] = [
    ("get", "/api/me", "The calling user", "any user", [], None, "200", _ref("User")),
    ("get", "/api/tasks", "Task list with filters, sorting and pages", "any user", [
        _q("view", {"type": "string", "enum": ["involved", "mine", "claimable", "all"]},
           "involved (default): mine + claimable; all: supervisors only"),
        _q("process", _STR, "process definition key"),
        _q("name", _STR, "task name contains (case-insensitive)"),
        _q("overdue", _BOOL, "only tasks past their due date"),
        _q("dueBefore", {"type": "string", "format": "date-time"}, "due before this time"),
        _q("priorityMin", _INT, "priority at least"),
        _q("businessKey", _STR, "the instance's business key"),
        _q("sort", {"type": "string", "enum": ["created", "-created", "due", "-due",
                                               "priority", "-priority", "name", "-name"]},
           "sort key; '-' for descending"),
        *_PAGING], None, "200", _page("Task", totalCapped=_BOOL, hasMore=_BOOL)),
    ("get", "/api/tasks/{task_id}", "Task detail: form, variables, comments, actions",
     "involved users and supervisors", [_TASK_ID], None, "200", _ref("TaskDetail")),
    ("patch", "/api/tasks/{task_id}", "Change priority, due or follow-up date",
     "assignee or supervisor", [_TASK_ID],
     _body(_obj(priority={"type": "integer", "minimum": 0, "maximum": 100},
                due=_TIME, followUp=_TIME)), "200", _ref("Task")),
    ("get", "/api/tasks/{task_id}/form", "The task's form fields with initial values",
     "involved users and supervisors", [_TASK_ID], None, "200", _ref("Form")),
    ("post", "/api/tasks/{task_id}/claim", "Claim an unassigned task",
     "a candidate or supervisor", [_TASK_ID], None, "200", _ref("Task")),
    ("post", "/api/tasks/{task_id}/unclaim", "Give a task back to its candidates",
     "assignee or supervisor", [_TASK_ID], None, "200", _ref("Task")),
    ("post", "/api/tasks/{task_id}/delegate", "Delegate to another user (the assignee "
     "stays owner)", "assignee or supervisor", [_TASK_ID],
     _body(_obj(["user"], user=_STR)), "200", _ref("Task")),
    ("post", "/api/tasks/{task_id}/resolve", "Give a delegated task back to its owner",
     "the delegate or a supervisor", [_TASK_ID], None, "200", _ref("Task")),
    ("post", "/api/tasks/{task_id}/assign", "Reassign to a user and/or a group",
     "assignee or supervisor", [_TASK_ID], _body(_obj(user=_STR, group=_STR)), "200",
     _ref("Task")),
    ("post", "/api/tasks/{task_id}/complete", "Complete a task. A task with form fields "
     "validates the values (400 form_invalid with per-field messages)",
     "the assignee (or a candidate while unassigned)", [_TASK_ID],
     _body(_obj(form=_OBJ, variables=_VARS), required=False), "200", _ref("Completed")),
    ("get", "/api/tasks/{task_id}/comments", "Comments on a task",
     "involved users and supervisors", [_TASK_ID], None, "200", _array(_ref("Comment"))),
    ("post", "/api/tasks/{task_id}/comments", "Comment on a task",
     "involved users and supervisors", [_TASK_ID],
     _body(_obj(["text"], text={"type": "string", "maxLength": 4000})), "201",
     _ref("Comment")),
    ("post", "/api/deployments", "Deploy BPMN files (all or none)", "analyst",
     [_q("name", _STR, "deployment name"),
      _q("strict", _BOOL, "refuse the deployment on validation warnings too"),
      _q("compat", {"type": "string", "enum": list(COMPAT_MODES)},
         "migration mode: read the diagrams as the engine they were written for does")],
     {"required": True, "content": {
         "multipart/form-data": {"schema": _obj(name=_STR, compat=_STR,
                                                file={"type": "string", "format": "binary"})},
         "application/xml": {"schema": {"type": "string"}}}},
     "201", _obj(definitions=_array(_ref("Deployed")),
                 warnings={**_array(_STR), "description":
                           "what Baton runs with a documented fallback, one sentence each "
                           "naming file, element, line and rule"})),
    ("get", "/api/definitions", "Deployed process definitions (all versions)", "any user",
     [_q("key", _STR, "one process key")], None, "200", _array(_ref("Definition"))),
    ("get", "/api/definitions/{definition_id}", "One process definition", "any user",
     [{"name": "definition_id", "in": "path", "required": True, "schema": _STR}], None,
     "200", _ref("Definition")),
    ("get", "/api/definitions/{definition_id}/xml", "The deployed BPMN XML", "any user",
     [{"name": "definition_id", "in": "path", "required": True, "schema": _STR}], None,
     "200", None),
    ("post", "/api/processes/{key}/start", "Start an instance of the latest (or a given) "
     "version", "analyst", [{"name": "key", "in": "path", "required": True, "schema": _STR}],
     _body(_obj(variables=_VARS, businessKey=_STR, version=_INT), required=False), "201",
     _ref("InstanceDetail")),
    ("get", "/api/instances", "Process instances, newest first",
     "analyst, supervisor or admin", [
         _q("key", _STR, "process key"),
         _q("status", {"type": "string",
                       "enum": ["running", "completed", "terminated", "failed"]}, "status"),
         _q("businessKey", _STR, "business key"), *_PAGING], None, "200",
     _page("Instance")),
    ("get", "/api/instances/{instance_id}", "Instance state, variables, tasks, incidents",
     "analyst, supervisor or admin", [_INST_ID], None, "200", _ref("InstanceDetail")),
    ("get", "/api/instances/{instance_id}/history", "The instance's history, in order",
     "analyst, supervisor or admin", [_INST_ID], None, "200",
     _array(_ref("HistoryEvent"))),
    ("post", "/api/instances/{instance_id}/cancel", "Cancel a running instance", "admin",
     [_INST_ID], _body(_obj(reason=_STR), required=False), "200", _ref("Instance")),
    ("post", "/api/instances/{instance_id}/modify",
     "Move tokens: cancel activities, start before/after others (one transaction)", "admin",
     [_INST_ID], _body(_obj(["instructions"], instructions={"type": "array", "items": _obj(
         ["type", "activityId"], type={"type": "string", "enum": ["cancel", "start_before",
                                                                 "start_after"]},
         activityId=_STR)}, variables=_VARS, reason=_STR)), "200", _ref("Instance")),
    ("get", "/api/instances/{instance_id}/adhoc", "Activities of running ad-hoc "
     "subprocesses that can be started", "analyst, supervisor or admin", [_INST_ID], None,
     "200", _array(_obj(adhocId=_STR, activityId=_STR, name=_NSTR, startable=_BOOL))),
    ("post", "/api/instances/{instance_id}/adhoc/{activity_id}", "Start an activity of a "
     "running ad-hoc subprocess", "staff or analyst",
     [_INST_ID, {"name": "activity_id", "in": "path", "required": True, "schema": _STR}],
     _body(_obj(variables=_VARS), required=False), "200",
     _obj(instanceId=_STR, activityId=_STR, started=_BOOL)),
    ("post", "/api/instances/{instance_id}/adhoc/{adhoc_id}/complete", "Complete a running "
     "ad-hoc subprocess in which nothing runs any more", "staff or analyst",
     [_INST_ID, {"name": "adhoc_id", "in": "path", "required": True, "schema": _STR}],
     None, "200", _obj(instanceId=_STR, adhocId=_STR, completed=_BOOL)),
    ("get", "/api/incidents", "Open incidents", "analyst, supervisor or admin",
     [_q("all", _BOOL, "include resolved incidents"),
      _q("instanceId", _STR, "one instance")], None, "200", _array(_ref("Incident"))),
    ("post", "/api/incidents/{incident_id}/retry", "Retry the failed job or external task",
     "admin", [{"name": "incident_id", "in": "path", "required": True, "schema": _STR}],
     _body(_obj(retries={"type": "integer", "minimum": 1, "maximum": 10}), required=False),
     "200", _obj(retried=_BOOL, incidentId=_STR)),
    ("post", "/api/messages", "Correlate a message (or start at a message start event)",
     "analyst", [], _body(_obj(["name"], name=_STR, businessKey=_STR, instanceId=_STR,
                              variables=_VARS, all=_BOOL)), "200", _ref("Correlated")),
    ("post", "/api/signals", "Broadcast a signal", "analyst", [],
     _body(_obj(["name"], name=_STR, variables=_VARS)), "200", _ref("Correlated")),
    ("get", "/api/openapi.json", "This document", "anyone", [], None, "200", _OBJ),
]


def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, path, summary, who, params, body, status, schema in OPERATIONS:
        responses: dict[str, Any] = {status: {"description": "OK"}}
        if schema is not None:
            responses[status]["content"] = {"application/json": {"schema": schema}}
        elif path.endswith("/xml"):
            responses[status]["content"] = {"application/xml": {"schema": _STR}}
        if path != "/api/openapi.json":
            for code, text in _ERRORS.items():
                responses[code] = {"description": text, "content": {
                    "application/json": {"schema": _ref("Error")}}}
        op: dict[str, Any] = {"summary": summary, "description": f"Who: {who}.",
                              "operationId": f"{method}_{path}".replace("/", "_")
                              .replace("{", "").replace("}", "").replace(".", "_"),
                              "parameters": params, "responses": responses}
        if body is not None:
            op["requestBody"] = body
        if path == "/api/openapi.json":
            op["security"] = []
        paths.setdefault(path, {})[method] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Baton API", "version": "1",
                 "description": "Human tasks, deployments, instances and incidents of the "
                                "Baton BPMN engine. Errors are JSON: "
                                "{\"error\": {\"type\", \"message\"}}. Session-authenticated "
                                "POST/PATCH requests must send an X-Requested-With header."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "a token from `Engine.new_api_token`, "
                                          "'<user id>.<secret>'"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
    }


@bp.get("/openapi.json")
def openapi_document() -> object:
    return jsonify(document())
