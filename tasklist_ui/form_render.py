"""Turn form fields (camunda:formData) into what a template needs to draw HTML inputs, and
resolve a task's formKey to a Jinja2 template of this project.

Parsing and validating what the browser posts is the engine's job (`engine.forms`); this
module only decides how a field looks: which input, which value is shown, which error sits
next to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from jinja2 import Environment, TemplateNotFound

from engine.graph import FormField

TEXTAREA_FROM = 200          # a string field allowing longer text gets a textarea
_FORM_KEY_PREFIXES = ("embedded:app:", "embedded:deployment:", "embedded:", "app:")
_TEMPLATE_NAME = re.compile(r"^forms/[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*\.html$")


@dataclass(slots=True)
class FieldView:
    id: str
    label: str
    type: str
    widget: str                      # text | textarea | number | checkbox | date | select
    value: str                       # what the input shows
    checked: bool = False
    required: bool = False
    readonly: bool = False
    error: str | None = None
    attrs: dict[str, str] = field(default_factory=dict)     # min, max, maxlength, step...
    options: list[tuple[str, str]] = field(default_factory=list)
    hint: str | None = None


def field_views(fields: Iterable[FormField], values: Mapping[str, Any],
                posted: Mapping[str, str] | None = None,
                errors: Mapping[str, str] | None = None) -> list[FieldView]:
    """One view per field. After a failed submit `posted` holds what the user typed, so a
    rejected value is shown again (next to its error) instead of being lost."""
    out = []
    errors = errors or {}
    for f in fields:
        if posted is not None and not f.readonly:
            raw: Any = posted.get(f.id, "")
            shown = raw
        else:
            raw = values.get(f.id)
            shown = _as_text(raw)
        view = FieldView(id=f.id, label=f.label or f.id, type=f.type, widget="text",
                         value=shown, required=f.required, readonly=f.readonly,
                         error=errors.get(f.id))
        c = f.constraints
        if f.type == "boolean":
            view.widget = "checkbox"
            view.checked = (str(raw).lower() in ("true", "on", "yes", "1")
                            if posted is not None else bool(raw))
            view.value = "true"
        elif f.type in ("long", "integer", "double"):
            view.widget = "number"
            view.attrs["step"] = "1" if f.type != "double" else "any"
            view.attrs["inputmode"] = "numeric" if f.type != "double" else "decimal"
            for name in ("min", "max"):
                if c.get(name) is not None:
                    view.attrs[name] = str(c[name])
        elif f.type == "date":
            view.widget = "date"
            for name in ("min", "max"):
                if c.get(name) is not None:
                    view.attrs[name] = str(c[name])
        elif f.type == "enum":
            view.widget = "select"
            view.options = list(f.enum_values)
        else:
            maxlength = c.get("maxlength")
            if isinstance(maxlength, int) and maxlength > TEXTAREA_FROM:
                view.widget = "textarea"
            if maxlength is not None:
                view.attrs["maxlength"] = str(maxlength)
            if c.get("minlength") is not None:
                view.attrs["minlength"] = str(c["minlength"])
        view.hint = _hint(f)
        out.append(view)
    return out


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _hint(f: FormField) -> str | None:
    """The constraints in words, shown under the input before anyone gets them wrong."""
    c = f.constraints
    parts = []
    if c.get("min") is not None and c.get("max") is not None:
        parts.append(f"from {c['min']} to {c['max']}")
    elif c.get("min") is not None:
        parts.append(f"at least {c['min']}")
    elif c.get("max") is not None:
        parts.append(f"at most {c['max']}")
    if c.get("maxlength") is not None:
        parts.append(f"up to {c['maxlength']} characters")
    if c.get("minlength") is not None:
        parts.append(f"at least {c['minlength']} characters")
    if f.type == "date":
        parts.append("a date (YYYY-MM-DD)")
    return ", ".join(parts) or None


def form_template_name(form_key: str | None) -> str | None:
    """The template a formKey names, if it names one under templates/forms/.

    Camunda Modeler writes keys like `embedded:app:forms/claim.html` or `app:forms/claim.html`;
    the prefix is dropped and the rest must be a plain path under forms/ ending in .html, so
    an uploaded diagram cannot make the app render an arbitrary template."""
    if not form_key:
        return None
    key = form_key.strip()
    for prefix in _FORM_KEY_PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix):]
            break
    key = key.lstrip("/")
    if not key.startswith("forms/"):
        key = "forms/" + key
    if ".." in key or not _TEMPLATE_NAME.match(key):
        return None
    return key


def resolve_form_template(env: Environment, form_key: str | None) -> str | None:
    """The formKey's template name if the template exists, else None (the page falls back
    to the generic field list)."""
    name = form_template_name(form_key)
    if name is None:
        return None
    return name if _exists(env, name) else None


def _exists(env: Environment, name: str) -> bool:
    try:
        env.get_template(name)
    except TemplateNotFound:
        return False
    return True
