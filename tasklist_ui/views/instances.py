"""Instance pages (for whoever the policy lets read instances: analysts, supervisors,
admins): state, variables, history timeline, the diagram with active tokens and the path
taken, open tasks, incidents, comments. The engine decides who may; a refusal is a 403."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from engine import EngineError, NotFound
from engine.limits import MAX_PAGE_NUMBER
from tasklist_ui.app import get_engine
from tasklist_ui.views.common import instance_svg, parse_int, process_choices, user_id

bp = Blueprint("instances", __name__, url_prefix="/instances")

STATUSES = ("running", "completed", "terminated", "failed")
PAGE_SIZE = 50


@bp.get("")
@login_required
def instance_list() -> Any:
    engine = get_engine()
    status = request.args.get("status", "running")
    if status not in STATUSES and status != "any":
        status = "running"
    process = request.args.get("process") or None
    business_key = (request.args.get("business_key") or "").strip() or None
    page = parse_int(request.args.get("page"), low=1, high=MAX_PAGE_NUMBER) or 1
    filters = {"status": None if status == "any" else status, "key": process,
               "business_key": business_key}
    total = engine.count_instances(**filters, user=user_id())
    items = engine.instances(newest_first=True, limit=PAGE_SIZE,
                             offset=(page - 1) * PAGE_SIZE, **filters, user=user_id())
    pages = max(1, -(-total // PAGE_SIZE))
    return render_template("instances/list.html", items=items, total=total, page=page,
                           pages=pages, status=status, statuses=STATUSES, process=process,
                           business_key=business_key or "", processes=process_choices())


@bp.get("/<instance_id>")
@login_required
def instance_page(instance_id: str) -> Any:
    engine = get_engine()
    try:
        instance = engine.instance(instance_id, user=user_id())
    except NotFound:
        abort(404, description=f"No process instance '{instance_id}'.")
    history = engine.history(instance_id, user=user_id())
    svg = instance_svg(engine, instance.definition_id, instance.tokens, history,
                       title=f"Diagram of instance {instance_id}")
    tasks = engine.tasks(instance_id=instance_id)
    incidents = engine.incidents(open_only=False, instance_id=instance_id, user=user_id())
    comments = engine.comments(instance_id=instance_id, user=user_id())
    try:
        definition = engine.definition_by_id(instance.definition_id)
    except NotFound:
        definition = None
    children = engine.instances(parent_id=instance_id, user=user_id())
    adhoc = engine.adhoc_activities(instance_id, user=user_id())
    return render_template("instances/detail.html", instance=instance, history=history,
                           svg=svg, tasks=tasks, incidents=incidents, comments=comments,
                           definition=definition, children=children, adhoc=adhoc)


@bp.post("/<instance_id>/cancel")
@login_required
def cancel(instance_id: str) -> Any:
    get_engine().authorize(user_id(), "instance", "cancel")   # a refusal is a 403, not a flash
    try:
        get_engine().cancel(instance_id, reason="cancelled in the tasklist", user=user_id())
    except EngineError as e:
        flash(str(e), "error")
    else:
        flash("The instance was cancelled.", "success")
    return redirect(url_for("instances.instance_page", instance_id=instance_id), code=303)


@bp.post("/<instance_id>/adhoc/<activity_id>")
@login_required
def start_adhoc(instance_id: str, activity_id: str) -> Any:
    """Start an activity of a running ad-hoc subprocess (the engine decides who may)."""
    get_engine().authorize(user_id(), "instance", "start")    # a refusal is a 403
    try:
        get_engine().start_adhoc_activity(instance_id, activity_id, user=user_id())
    except EngineError as e:
        flash(str(e), "error")
    else:
        flash(f"'{activity_id}' was started.", "success")
    return redirect(url_for("instances.instance_page", instance_id=instance_id), code=303)


@bp.post("/<instance_id>/adhoc/<adhoc_id>/complete")
@login_required
def complete_adhoc(instance_id: str, adhoc_id: str) -> Any:
    """Complete a running ad-hoc subprocess in which nothing runs any more."""
    get_engine().authorize(user_id(), "instance", "start")
    try:
        get_engine().complete_adhoc(instance_id, adhoc_id, user=user_id())
    except EngineError as e:
        flash(str(e), "error")
    else:
        flash(f"'{adhoc_id}' was completed.", "success")
    return redirect(url_for("instances.instance_page", instance_id=instance_id), code=303)
