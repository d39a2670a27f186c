"""What is stuck: open incidents with their error, and (admins only) a retry button."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required

from engine import EngineError
from tasklist_ui.app import get_engine
from tasklist_ui.views.common import user_id

bp = Blueprint("incidents", __name__, url_prefix="/incidents")


@bp.get("")
@login_required
def incident_list() -> Any:
    show_all = request.args.get("all") == "1"
    incidents = get_engine().incidents(open_only=not show_all, user=user_id())
    incidents.sort(key=lambda i: i.created, reverse=True)
    return render_template("incidents/list.html", incidents=incidents, show_all=show_all)


@bp.post("/<incident_id>/retry")
@login_required
def retry(incident_id: str) -> Any:
    get_engine().authorize(user_id(), "incident", "resolve")  # a refusal is a 403, not a flash
    try:
        get_engine().retry_incident(incident_id, user=user_id())
    except EngineError as e:
        flash(str(e), "error")
    else:
        flash("Retrying: the job runs again on the next worker pass.", "success")
    target = request.form.get("back") or ""
    if target.startswith("/instances/") and "//" not in target and "\\" not in target \
            and target.isprintable():       # a CR/LF would break the Location header
        return redirect(target, code=303)
    return redirect(url_for("incidents.incident_list"), code=303)
