"""Helpers the page modules share: the current user's id, the process picker, diagrams."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_login import current_user
from markupsafe import Markup

from engine import Engine, NotFound
from engine.errors import EngineError
from engine.limits import INT64_MAX, INT64_MIN, MAX_YEAR, MIN_YEAR
from engine.limits import parse_int as parse_bounded_int
from tasklist_ui.app import get_engine
from tasklist_ui.diagram_state import instance_diagram_state
from tasklist_ui.svg import DiagramState, render_svg

PROCESS_CHOICES_TTL = 30.0       # seconds; deployments are rare, the task list is not


@dataclass(frozen=True, slots=True)
class ProcessChoice:
    key: str
    name: str


def user_id() -> str:
    return str(current_user.id)


def process_choices() -> list[ProcessChoice]:
    """Deployed process keys and names for filter menus, cached briefly: listing the
    definitions reads every version's XML, which the task list must not pay per request."""
    cache = current_app.extensions.setdefault("baton_process_choices", {})
    now = time.monotonic()
    if cache.get("until", 0.0) > now:
        return cache["items"]
    latest: dict[str, str] = {}
    for rec in get_engine().definitions():
        latest[rec.key] = rec.name or rec.key
    items = [ProcessChoice(k, n) for k, n in sorted(latest.items(), key=lambda kv: kv[1].lower())]
    cache.update(items=items, until=now + PROCESS_CHOICES_TTL)
    return items


def forget_process_choices() -> None:
    current_app.extensions.pop("baton_process_choices", None)


def definition_svg(engine: Engine, definition_id: str, state: DiagramState | None = None,
                   title: str | None = None) -> Markup:
    """The drawing of a deployed definition (empty markup if it cannot be compiled)."""
    try:
        compiled = engine.compiled(definition_id)
    except NotFound:
        return Markup("")
    return render_svg(compiled.diagram, state, graphs=compiled.processes.values(), title=title)


def instance_svg(engine: Engine, definition_id: str, tokens: Iterable[dict[str, Any]],
                 history: Iterable[Any], highlight: Iterable[str] = (),
                 title: str | None = None) -> Markup:
    try:
        graph = engine.graph(definition_id)
    except NotFound:
        graph = None
    state = instance_diagram_state(graph, tokens, history, highlight)
    return definition_svg(engine, definition_id, state, title)


def parse_day(text: str | None) -> datetime | None:
    """A YYYY-MM-DD "due by" filter value as midnight UTC after that day, so the day itself
    is included; None for empty, malformed or out-of-range input (9999-12-31 has no day
    after it: the years are those engine.limits allows)."""
    if not text or len(text) > 40:
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)


def parse_int(text: str | None, low: int | None = None, high: int | None = None) -> int | None:
    """A whole number from a query string within low..high (64-bit when not given); None
    for empty, malformed or out-of-range input, which a filter then ignores."""
    if text is None or not text.strip():
        return None
    try:
        return parse_bounded_int(text, "number", INT64_MIN if low is None else low,
                                 INT64_MAX if high is None else high)
    except EngineError:
        return None

