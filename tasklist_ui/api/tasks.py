"""Task endpoints: the tasklist query, task detail (form, variables, comments) and the
operations on a task. The engine decides who may do what (see `engine.tasks`)."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from engine.forms import field_json
from engine.limits import MAX_PAGE_NUMBER, TASK_PRIORITY_MAX, TASK_PRIORITY_MIN
from tasklist_ui.api import bp
from tasklist_ui.api.auth import caller, engine
from tasklist_ui.api.bodies import (
    arg_bool,
    arg_int,
    arg_text,
    json_body,
    mapping,
    text,
    when,
    whole,
)
from tasklist_ui.api.errors import bad_request
from tasklist_ui.api.serialize import comment_json, jsonable, task_json

PAGE_SIZE = 25
MAX_PAGE_SIZE = 200


def _task(t: Any) -> dict[str, Any]:
    return task_json(t, engine().clock())


@bp.get("/tasks")
def list_tasks() -> Any:
    """?view=involved|mine|claimable|all &process= &name= &overdue= &dueBefore=
    &priorityMin= &businessKey= &sort= &page= &pageSize=

    `total` is exact up to 1,000 tasks (or the end of the page asked for); beyond, it is
    that number with `totalCapped: true`. `hasMore` says whether a next page exists."""
    priority = arg_text("priorityMin")
    page = engine().task_list(
        caller().id, arg_text("view") or "involved",
        process=arg_text("process"),
        name_like=arg_text("name"),
        overdue=arg_bool("overdue"),
        due_before=when(arg_text("dueBefore", 40), "dueBefore"),
        priority_min=arg_int("priorityMin", 0, -1_000_000, 1_000_000) if priority else None,
        business_key=arg_text("businessKey"),
        sort=arg_text("sort") or "created",
        page=arg_int("page", 1, 1, MAX_PAGE_NUMBER),
        page_size=arg_int("pageSize", PAGE_SIZE, 1, MAX_PAGE_SIZE),
    )
    return jsonify({"items": [_task(t) for t in page.items], "total": page.total,
                    "totalCapped": page.capped, "hasMore": page.has_next,
                    "page": page.page, "pageSize": page.page_size})


@bp.get("/tasks/<task_id>")
def task_detail(task_id: str) -> Any:
    """The task with its form (fields and initial values), the instance's variables, its
    comments, and what the caller may do with it."""
    eng, who = engine(), caller()
    task = eng.task(task_id, user=who.id)
    form = eng.task_form(task_id, user=who.id)
    out = _task(task)
    out["form"] = {"formKey": form.form_key,
                   "fields": [field_json(f, form.values.get(f.id)) for f in form.fields]}
    out["variables"] = jsonable(eng.task_variables(task_id, user=who.id))
    out["comments"] = [comment_json(c) for c in eng.comments(task_id=task_id, user=who.id)]
    actions = eng.task_actions(task_id, who.id)
    out["actions"] = {k: actions[k] for k in ("claim", "unclaim", "complete", "delegate",
                                              "comment")}
    return jsonify(out)


@bp.get("/tasks/<task_id>/form")
def task_form(task_id: str) -> Any:
    form = engine().task_form(task_id, user=caller().id)
    return jsonify({"formKey": form.form_key,
                    "fields": [field_json(f, form.values.get(f.id)) for f in form.fields]})


@bp.post("/tasks/<task_id>/claim")
def claim(task_id: str) -> Any:
    return jsonify(_task(engine().claim(task_id, caller().id)))


@bp.post("/tasks/<task_id>/unclaim")
def unclaim(task_id: str) -> Any:
    return jsonify(_task(engine().unclaim(task_id, caller().id)))


@bp.post("/tasks/<task_id>/delegate")
def delegate(task_id: str) -> Any:
    """Body: {"user": "<user id>"}."""
    to_user = text(json_body(), "user", required=True, max_len=64)
    return jsonify(_task(engine().delegate(task_id, to_user, by=caller().id)))


@bp.post("/tasks/<task_id>/resolve")
def resolve(task_id: str) -> Any:
    return jsonify(_task(engine().resolve(task_id, caller().id)))


@bp.post("/tasks/<task_id>/assign")
def assign(task_id: str) -> Any:
    """Body: {"user": "<user id>"} and/or {"group": "<group id>"} (reassign)."""
    body = json_body()
    to_user = text(body, "user", max_len=64)
    to_group = text(body, "group", max_len=64)
    if not to_user and not to_group:
        raise bad_request("give 'user' or 'group' (or both) to assign the task to")
    return jsonify(_task(engine().reassign(task_id, to_user, to_group, by=caller().id)))


@bp.patch("/tasks/<task_id>")
def update(task_id: str) -> Any:
    """Body: any of {"priority": 0-100, "due": ISO date-time or null, "followUp": ...}."""
    body = json_body()
    unknown = sorted(set(body) - {"priority", "due", "followUp"})
    if unknown:
        raise bad_request(f"cannot change {', '.join(unknown)}: only priority, due and "
                          "followUp")
    if not body:
        raise bad_request("nothing to change: give priority, due or followUp")
    eng, by = engine(), caller().id
    # every field is read and bounded before the first change: nothing is half-applied
    priority = whole(body, "priority", TASK_PRIORITY_MIN, TASK_PRIORITY_MAX)
    due = when(body.get("due"), "due")
    follow_up = when(body.get("followUp"), "followUp")
    changes = {name: value for name, key, value in (("priority", "priority", priority),
                                                    ("due", "due", due),
                                                    ("follow_up", "followUp", follow_up))
               if key in body}
    return jsonify(_task(eng.update_task(task_id, changes, by=by)))


@bp.post("/tasks/<task_id>/complete")
def complete(task_id: str) -> Any:
    """Body: {"form": {field: value}} (posted form values: parsed, unknown fields ignored)
    or {"variables": {...}} (typed values: a task with a form takes only its fields, each
    checked against the field's type and constraints, on every door alike)."""
    body = json_body(required=False)
    form = mapping(body, "form")
    variables = mapping(body, "variables")
    if form is not None and variables is not None:
        raise bad_request("give either 'form' or 'variables', not both")
    eng, who = engine(), caller()
    task = eng.task(task_id, user=who.id)
    if form is not None:          # posted like an HTML form: parsed, unknown fields ignored
        stored = eng.submit_form(task_id, who.id, form)
    else:                         # typed variables: the complete command checks the form
        stored = eng.complete_task(task_id, variables or {}, user=who.id)
    return jsonify({"completed": True, "taskId": task.id, "instanceId": task.instance_id,
                    "variables": jsonable(stored)})


@bp.get("/tasks/<task_id>/comments")
def list_comments(task_id: str) -> Any:
    return jsonify([comment_json(c)
                    for c in engine().comments(task_id=task_id, user=caller().id)])


@bp.post("/tasks/<task_id>/comments")
def add_comment(task_id: str) -> Any:
    """Body: {"text": "..."} (1-4000 characters)."""
    body_text = text(json_body(), "text", required=True, max_len=100_000)
    rec = engine().comment(task_id, caller().id, body_text)
    return jsonify(comment_json(rec)), 201
