"""User tasks: query, claim, unclaim, complete.

Analysts and admins (and requests when authentication is off) see every task; other users
see the tasks they may work on. Claim and complete go through the engine's task rules, as
the authenticated user.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from engine import NotFound
from tasklist_ui.engine_rest import bp
from tasklist_ui.engine_rest.auth import user_id
from tasklist_ui.engine_rest.common import (
    arg,
    arg_bool,
    arg_int,
    arg_list,
    arg_max_results,
    body,
    check_args,
    count,
    engine,
    field_str,
    no_content,
)
from tasklist_ui.engine_rest.dto import TenantLookup, task
from tasklist_ui.engine_rest.errors import RestError, not_found
from tasklist_ui.engine_rest.values import read_variables, typed_map

_SORTS = {"created": "created", "dueDate": "due", "priority": "priority", "name": "name"}


def _filters() -> dict[str, Any]:
    check_args(("processInstanceId", "assignee", "candidateUser", "candidateGroup",
                "candidateGroups", "includeAssignedTasks", "unassigned", "taskDefinitionKey",
                "processDefinitionKey", "nameLike", "processInstanceBusinessKey", "taskId"))
    filters: dict[str, Any] = {}
    for param, key in (("processInstanceId", "instance_id"), ("assignee", "assignee"),
                       ("candidateUser", "candidate_user"), ("taskDefinitionKey", "activity_id"),
                       ("processDefinitionKey", "definition_key"),
                       ("processInstanceBusinessKey", "business_key"), ("taskId", "id")):
        if arg(param) is not None:
            filters[key] = arg(param)
    groups = [g for g in (arg("candidateGroup"), *(arg_list("candidateGroups") or [])) if g]
    if groups:
        filters["candidate_groups"] = list(dict.fromkeys(groups))
    # Camunda: a candidate filter lists the tasks still waiting to be claimed, unless
    # includeAssignedTasks=true adds those a candidate has already claimed
    candidates = bool(groups) or arg("candidateUser") is not None
    if arg_bool("unassigned") or (candidates and not arg_bool("includeAssignedTasks")):
        filters["unassigned"] = True
    if arg("nameLike") is not None:
        filters["name_like"] = (arg("nameLike") or "").strip("%")
    return filters


@bp.get("/task")
def tasks() -> Any:
    sort = "created"
    by, order = arg("sortBy"), arg("sortOrder")
    if by is not None:
        if by not in _SORTS or order not in ("asc", "desc"):
            raise RestError(400, "InvalidRequestException",
                            f"Cannot sort tasks by '{by}' '{order}' (sortBy: "
                            f"{', '.join(_SORTS)}; sortOrder: asc or desc)")
        sort = ("-" if order == "desc" else "") + _SORTS[by]
    rows = engine().tasks(sort=sort, limit=arg_max_results(),
                          offset=arg_int("firstResult") or 0, user=user_id(), **_filters())
    lookup = TenantLookup(engine())
    return jsonify([task(t, lookup.of(t.definition_id)) for t in rows])


@bp.get("/task/count")
def tasks_count() -> Any:
    return jsonify(count(engine().tasks(user=user_id(), **_filters())))


def _visible(task_id: str) -> Any:
    """The task, if the caller may see it; Camunda answers a task one may not see as
    missing (404), so a refusal here is one too."""
    from engine import Forbidden

    try:
        return engine().task(task_id, user=user_id())
    except (NotFound, Forbidden):
        raise not_found(f"No matching task with id {task_id}") from None


@bp.get("/task/<task_id>")
def get_task(task_id: str) -> Any:
    t = _visible(task_id)
    return jsonify(task(t, TenantLookup(engine()).of(t.definition_id)))


def _hidden_as_missing(task_id: str, read: Any) -> Any:
    """What `read` answers; a task one may not see is missing (404), as in Camunda."""
    from engine import Forbidden

    try:
        return read()
    except (NotFound, Forbidden):
        raise not_found(f"No matching task with id {task_id}") from None


@bp.get("/task/<task_id>/variables")
def task_variables(task_id: str) -> Any:
    values = _hidden_as_missing(task_id, lambda: engine().task_variables(task_id,
                                                                          user=user_id()))
    return jsonify(typed_map(values, deserialize=arg_bool("deserializeValues") is not False))


@bp.get("/task/<task_id>/form")
def task_form_key(task_id: str) -> Any:
    """The task's form reference (Camunda's FormDto): its formKey; Baton serves no
    embedded forms from a context path."""
    t = _visible(task_id)
    return jsonify({"key": t.form_key, "contextPath": None, "camundaFormRef": None})


@bp.get("/task/<task_id>/form-variables")
def task_form_variables(task_id: str) -> Any:
    """What a form for the task starts with (Camunda's GetTaskFormVariablesCmd): each form
    field's value (the variable of that name, else the field's default), then every other
    variable the task sees; `variableNames` keeps only those named."""
    check_args(("variableNames",))
    eng = engine()
    form = _hidden_as_missing(task_id, lambda: eng.task_form(task_id, user=user_id()))
    values = dict(_hidden_as_missing(task_id, lambda: eng.task_variables(task_id,
                                                                          user=user_id())))
    values.update({f.id: form.values.get(f.id) for f in form.fields})
    names = arg_list("variableNames")
    if names is not None:
        values = {k: v for k, v in values.items() if k in set(names)}
    return jsonify(typed_map(values, deserialize=arg_bool("deserializeValues") is not False))


@bp.post("/task/<task_id>/claim")
def claim_task(task_id: str) -> Response:
    data = body(required=True)
    who = field_str(data, "userId", required=True, max_len=64)
    me = user_id()
    from engine import Conflict

    try:
        if me is not None and who != me:
            # claiming for someone else is assigning: the policy's "manage" row decides
            engine().reassign(task_id, to_user=who, by=me)
        else:
            engine().claim(task_id, who)
    except Conflict as e:
        raise RestError(409, "TaskAlreadyClaimedException", str(e)) from None
    return no_content()


@bp.post("/task/<task_id>/unclaim")
def unclaim_task(task_id: str) -> Response:
    eng = engine()
    me = user_id()
    if me is None:                      # authentication off: act as the assignee
        t = eng.task(task_id)
        if t.assignee is None:
            return no_content()
        me = t.assignee
    eng.unclaim(task_id, me, idempotent=True)    # Camunda: 204 for an unassigned task
    return no_content()


@bp.post("/task/<task_id>/complete")
def complete_user_task(task_id: str) -> Any:
    data = body()
    variables = read_variables(data.get("variables"))
    eng = engine()
    t = eng.task(task_id, user=user_id())
    eng.complete_task(task_id, variables, user=user_id())
    if data.get("withVariablesInReturn"):
        return jsonify(typed_map(eng.variables(t.instance_id)))
    return no_content()
