"""The task list and the task page: claim, unclaim, delegate, comment, complete.

Every operation goes through the engine, which checks who may do it; a refusal comes back
as an EngineError whose status (403, 404, 409) the page keeps.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine import Conflict, EngineError, Forbidden, NotFound
from engine.forms import FormInvalid
from engine.limits import MAX_PAGE_NUMBER
from engine.store.records import TaskRecord
from tasklist_ui.app import get_engine
from tasklist_ui.form_render import field_views, resolve_form_template
from tasklist_ui.views.common import (
    instance_svg,
    parse_day,
    parse_int,
    process_choices,
    user_id,
)

bp = Blueprint("tasks", __name__, url_prefix="/tasks")

VIEWS = (("mine", "My tasks"), ("claimable", "My groups"), ("all", "All open"))
SORTS = (
    ("created", "Oldest first"), ("-created", "Newest first"), ("due", "Due soonest"),
    ("-priority", "Highest priority"), ("name", "Name"),
)
HISTORY_SHOWN = 30


@bp.get("")
@login_required
def task_list() -> Any:
    engine = get_engine()
    args = request.args
    view = args.get("view", "mine")
    if view not in dict(VIEWS) or (view == "all" and not current_user.is_supervisor):
        view = "mine"
    sort = args.get("sort", "created")
    if sort not in dict(SORTS) and sort not in ("-due", "priority", "-name"):
        sort = "created"
    page_no = parse_int(args.get("page"), low=1, high=MAX_PAGE_NUMBER) or 1
    filters = {
        "process": args.get("process") or None,
        "name_like": (args.get("name") or "").strip()[:100] or None,
        "overdue": args.get("overdue") == "1",
        "due_before": parse_day(args.get("due_by")),
        "priority_min": parse_int(args.get("priority"), low=0, high=100),
    }
    page = engine.task_list(user_id(), view, sort=sort, page=page_no,
                            page_size=current_app.config["TASKS_PER_PAGE"], **filters)
    return render_template(
        "tasks/list.html", page=page, pages=page.pages, view=view, views=_views(), sort=sort,
        sorts=SORTS, processes=process_choices(), args=args, now=engine.clock(),
        filtered=any(v for v in filters.values()),
    )


def _views() -> list[tuple[str, str]]:
    return [(k, label) for k, label in VIEWS
            if k != "all" or current_user.is_supervisor]


@bp.get("/<task_id>")
@login_required
def task_page(task_id: str) -> Any:
    return _render_task(_visible_task(task_id))


def _visible_task(task_id: str) -> TaskRecord:
    engine = get_engine()
    try:
        return engine.task(task_id, user=user_id())
    except NotFound:
        abort(404, description="This task is no longer open: it was completed, cancelled "
                               "or moved on by a timer.")


def _render_task(task: TaskRecord, posted: dict[str, str] | None = None,
                 errors: dict[str, str] | None = None, status: int = 200) -> Any:
    engine = get_engine()
    me = user_id()
    form = engine.task_form(task.id, user=me)
    fields = field_views(form.fields, form.values, posted, errors)
    template = resolve_form_template(current_app.jinja_env, form.form_key)
    # what the task's token sees, and this task's comments: the policy lets whoever may
    # see the task see these; the instance's whole history only to instance readers
    variables = engine.task_variables(task.id, user=me)
    comments = engine.comments(task_id=task.id, user=me)
    # the diagram marks where the instance stands and the path it took: element ids only,
    # no data, so it is drawn for everyone who may see the task
    tokens = engine.instance(task.instance_id).tokens
    path = engine.history(task.instance_id)
    try:        # the listed history: the instance's for its readers, else this task's own
        history = engine.history(task.instance_id, user=me)
    except Forbidden:
        history = [h for h in path if (h.detail or {}).get("task_id") == task.id
                   or (h.activity_id == task.activity_id and h.kind == "userTask")]
    process_name = task.process_name or task.definition_key
    svg = instance_svg(engine, task.definition_id, tokens, path,
                       highlight=[task.activity_id], title=f"Diagram of {process_name}")
    actions = engine.task_actions(task.id, me)
    may = {
        "claim": actions["claim"],
        "unclaim": actions["unclaim"],
        "delegate": actions["delegate"],
        "resolve": task.delegation == "pending" and task.assignee == me,
        "complete": actions["complete"] and task.assignee == me,
        "comment": actions["comment"],
    }
    form_values = {k: v for k, v in form.values.items()}
    return render_template(
        "tasks/detail.html", task=task, fields=fields,
        # form templates read `instance.variables`: what the task's token sees
        instance=SimpleNamespace(id=task.instance_id, business_key=task.business_key,
                                 variables=variables),
        form_template=template, form_values=form_values, errors=errors or {},
        history=list(reversed(history))[:HISTORY_SHOWN], history_total=len(history),
        comments=comments, svg=svg, may=may, users=_colleagues(me),
        overdue=task.due is not None and task.due < engine.clock(),
        variables=_key_variables(variables, {f.id for f in form.fields}),
    ), status


def _key_variables(variables: dict[str, Any], form_ids: set[str]) -> list[tuple[str, Any]]:
    """Variables worth seeing next to the form: all of them, form fields last (they are
    in the form anyway), capped so a huge instance does not bury the page."""
    items = sorted(variables.items(), key=lambda kv: (kv[0] in form_ids, kv[0].lower()))
    return items[:40]


def _colleagues(me: str) -> list[str]:
    return [u.id for u in get_engine().users() if u.id != me]


def _back(task_id: str) -> Any:
    return redirect(url_for("tasks.task_page", task_id=task_id), code=303)


def _act(task_id: str, action: Any, done: str) -> Any:
    """Run one task operation; a refusal is shown on the task page (403 stays 403)."""
    try:
        action()
    except NotFound:
        flash("That task is no longer open.", "error")
        return redirect(url_for("tasks.task_list"), code=303)
    except Forbidden:
        raise
    except (Conflict, EngineError) as e:
        flash(str(e), "error")
        return _back(task_id)
    flash(done, "success")
    return _back(task_id)


@bp.post("/<task_id>/claim")
@login_required
def claim(task_id: str) -> Any:
    return _act(task_id, lambda: get_engine().claim(task_id, user_id()),
                "You claimed the task.")


@bp.post("/<task_id>/unclaim")
@login_required
def unclaim(task_id: str) -> Any:
    return _act(task_id, lambda: get_engine().unclaim(task_id, user_id()),
                "The task is back with its groups.")


@bp.post("/<task_id>/delegate")
@login_required
def delegate(task_id: str) -> Any:
    to = (request.form.get("to") or "").strip()
    if not to:
        flash("Name the colleague to hand the task to.", "error")
        return _back(task_id)
    return _act(task_id, lambda: get_engine().delegate(task_id, to, user_id()),
                f"The task is now with {to}.")


@bp.post("/<task_id>/resolve")
@login_required
def resolve(task_id: str) -> Any:
    return _act(task_id, lambda: get_engine().resolve(task_id, user_id()),
                "The task went back to its owner.")


@bp.post("/<task_id>/comment")
@login_required
def comment(task_id: str) -> Any:
    text = request.form.get("text") or ""
    return _act(task_id, lambda: get_engine().comment(task_id, user_id(), text),
                "Comment added.")


@bp.post("/<task_id>/complete")
@login_required
def complete(task_id: str) -> Any:
    engine = get_engine()
    posted = {k: v for k, v in request.form.items() if k != "csrf_token"}
    try:
        engine.submit_form(task_id, user_id(), posted)
    except FormInvalid as e:
        task = _visible_task(task_id)
        flash("Please correct the marked fields.", "error")
        return _render_task(task, posted, e.errors, status=422)
    except NotFound:
        flash("That task is no longer open.", "error")
        return redirect(url_for("tasks.task_list"), code=303)
    except Forbidden:
        raise
    except EngineError as e:
        flash(str(e), "error")
        return _back(task_id)
    flash("Task completed.", "success")
    return redirect(url_for("tasks.task_list"), code=303)
