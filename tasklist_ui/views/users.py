"""A user's own settings (out of office: a deputy for a period) and the admin's user list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required

from engine import EngineError
from engine.limits import parse_datetime
from tasklist_ui.app import get_engine
from tasklist_ui.views.common import user_id

bp = Blueprint("users", __name__)


@bp.route("/me", methods=["GET", "POST"])
@login_required
def settings() -> Any:
    engine = get_engine()
    me = engine.user(user_id())
    if request.method == "POST":
        deputy = (request.form.get("deputy") or "").strip() or None
        try:
            start = _parse_local(request.form.get("away_from"))
            end = _parse_local(request.form.get("away_until"))
            engine.set_deputy(me.id, deputy, start, end)
        except (EngineError, ValueError) as e:
            flash(str(e), "error")
        else:
            flash("Your deputy is set." if deputy else "You are back: no deputy.", "success")
        return redirect(url_for("users.settings"), code=303)
    others = [u for u in engine.users() if u.id != me.id]
    return render_template("users/settings.html", me=me, others=others)


def _parse_local(text: str | None) -> datetime | None:
    """A datetime-local input ("2026-01-05T09:00") read as UTC, the engine's only zone, in
    the years engine.limits allows (an EngineError, flashed, otherwise)."""
    if not text or not text.strip():
        return None
    return parse_datetime(text, "date and time (YYYY-MM-DD HH:MM)")


@bp.get("/admin/users")
@login_required
def user_list() -> Any:
    engine = get_engine()
    engine.authorize(user_id(), "identity", "manage")
    return render_template("users/list.html", users=engine.users(), groups=engine.groups())
