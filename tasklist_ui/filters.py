"""Jinja2 filters and globals shared by every page: dates in the engine's clock, values."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from flask import Flask, request, url_for
from flask_login import current_user

from engine.bpmn.compat import SPIFFWORKFLOW

MAX_VALUE_CHARS = 300
# how pages name the migration modes a process can be deployed in (engine.bpmn.compat);
# None is the default, Camunda 7's reading of the diagram
COMPAT_LABELS: dict[str | None, str] = {None: "Camunda 7",
                                        SPIFFWORKFLOW: "SpiffWorkflow migration"}


def init_app(app: Flask) -> None:
    app.add_template_filter(format_dt, "dt")
    app.add_template_filter(short_dt, "short_dt")
    app.add_template_filter(relative, "relative")
    app.add_template_filter(format_value, "value")
    app.add_template_filter(humanize, "humanize")
    app.add_template_filter(semantics, "semantics")
    app.add_template_global(url_with, "url_with")

    @app.context_processor
    def globals_() -> dict[str, Any]:
        from tasklist_ui.app import get_engine

        return {"now": get_engine().clock(), "current_user": current_user, "allowed": allowed}


def semantics(compat: str | None) -> str:
    """The execution semantics a definition was deployed with, as the pages name it (a
    mode this version does not know is shown as stored)."""
    return COMPAT_LABELS.get(compat, str(compat))


def format_dt(value: datetime | date | None, empty: str = "") -> str:
    """A short, unambiguous UTC timestamp; the engine keeps every time in UTC."""
    if value is None:
        return empty
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") + (" UTC" if value.tzinfo else "")
    return value.isoformat()


def short_dt(value: datetime | None) -> str:
    """'Jan 05 14:30' for timelines, where the year is rarely in doubt (UTC)."""
    return value.strftime("%b %d %H:%M") if value is not None else ""


def relative(value: datetime | None, now: datetime | None = None) -> str:
    """'in 3 h' / '2 d ago': how far a due date is, at a glance."""
    if value is None:
        return ""
    if now is None:
        from tasklist_ui.app import get_engine

        now = get_engine().clock()
    if value.tzinfo is None and now.tzinfo is not None:
        now = now.replace(tzinfo=None)
    delta = value - now
    past = delta < timedelta(0)
    seconds = abs(delta.total_seconds())
    if seconds < 60:
        text = "now"
        return text
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            amount = int(seconds // size)
            text = f"{amount} {unit}"
            break
    return f"{text} ago" if past else f"in {text}"


def format_value(value: Any) -> str:
    """A process variable as text, shortened so a huge value cannot flood the page."""
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, str):
        text = value
    elif isinstance(value, datetime | date):
        text = value.isoformat()
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            text = repr(value)
    if len(text) > MAX_VALUE_CHARS:
        text = text[:MAX_VALUE_CHARS - 1] + "…"
    return text


def humanize(name: str | None) -> str:
    """History event types as words: 'task_claimed' -> 'task claimed'."""
    return (name or "").replace("_", " ")


def url_with(**changes: Any) -> str:
    """The current page's URL with some query arguments changed (None removes one)."""
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(request.endpoint or "tasks.task_list", **(request.view_args or {}), **args)


def allowed(resource: str, action: str) -> bool:
    """For templates: whether the policy lets the logged-in user do `action` on `resource`
    at all (which links and buttons to show; the engine still decides when it is used)."""
    from engine.policy import Actor, allows

    if not getattr(current_user, "is_authenticated", False):
        return False
    return allows(Actor(current_user.id, current_user.record), resource, action)
