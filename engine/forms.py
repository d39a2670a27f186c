"""Task forms: which fields a user task asks for, their initial values, and server-side
validation of what a browser or an API client posts.

Fields come from `camunda:formData` (compiled into `UserTaskSpec.form_fields`) or a plain
list of `FormField`s. Posted values are untrusted text (or JSON values): each is parsed to
its type on the server, checked against its constraints, and either returned typed or
reported with a message meant for the person who typed it ("must be a whole number").
Fields the form does not define, and read-only fields, are ignored: a client cannot set
other process variables through a form.

Types: string, long (also "integer"), double, boolean, date (ISO "YYYY-MM-DD", stored as
that string so every store and expression sees the same value), enum (one of the listed
value ids). Any other type is treated as text. Constraints: required, readonly, minlength,
maxlength, min, max (numbers; for dates an ISO date), pattern (a regular expression the whole
value must match; see `check_pattern` for the guard against catastrophic backtracking).

A boolean that is absent counts as false, because an unchecked HTML checkbox is not posted.
"""

from __future__ import annotations

import math
import re
import re._parser as sre_parse  # the stdlib's own regex parser, used to bound backtracking
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from engine.errors import EngineError
from engine.graph import FormField

if TYPE_CHECKING:
    from engine.store.records import TaskRecord

MAX_TEXT = 10_000            # longest text any field accepts
MAX_PATTERN = 256            # longest pattern a diagram may give
MAX_PATTERN_INPUT = 256      # longest value checked against a pattern
MAX_BACKTRACK = 2.0e7        # worst-case backtracking estimate a pattern may have (~256^3)
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
_TRUE = frozenset({"true", "on", "yes", "1"})
_FALSE = frozenset({"false", "off", "no", "0", ""})
_INTEGER = re.compile(r"^[+-]?\d{1,19}$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?$")


class FormInvalid(EngineError):
    """Posted form values that do not pass validation: `errors` maps each field id to a
    message for the person who filled it in (HTTP 400)."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(summary(self.errors))


@dataclass(slots=True)
class TaskForm:
    """What a task page shows: the fields, their initial values, and the formKey."""

    fields: list[FormField]
    values: dict[str, Any]
    form_key: str | None


def summary(errors: Mapping[str, str]) -> str:
    return "the form has errors: " + "; ".join(f"{k}: {v}" for k, v in errors.items())


# --------------------------------------------------------------------------- fields


def plain_fields(spec: Iterable[Mapping[str, Any] | FormField]) -> list[FormField]:
    """A plain field list (dicts with id, label, type, required, readonly, constraints,
    values, default) as FormFields; FormFields pass through."""
    out = []
    for item in spec:
        if isinstance(item, FormField):
            out.append(item)
            continue
        values = item.get("values") or ()
        enum_values = tuple((v, v) if isinstance(v, str) else (str(v[0]), str(v[1]))
                            for v in values)
        out.append(FormField(
            id=str(item["id"]), label=item.get("label"), type=item.get("type", "string"),
            default=item.get("default"), required=bool(item.get("required", False)),
            readonly=bool(item.get("readonly", False)),
            constraints=dict(item.get("constraints") or {}), enum_values=enum_values))
    return out


def form_fields(engine: Any, task: TaskRecord) -> list[FormField]:
    """The fields a task's form asks for, in diagram order (empty when it has none)."""
    graph = engine.graph(task.definition_id)
    try:
        node = graph.node(task.activity_id)
    except (KeyError, IndexError):
        return []
    spec = node.user_task
    return list(spec.form_fields) if spec is not None else []


def form_key(task: TaskRecord) -> str | None:
    """The task's formKey (a template the web app may render instead of the field list)."""
    return task.form_key


def initial_values(fields: Iterable[FormField], variables: Mapping[str, Any]) -> dict[str, Any]:
    """What each field shows first: the process variable of that name if set, else its
    default (a `${...}` default is evaluated against the variables; if that fails, none)."""
    out: dict[str, Any] = {}
    for f in fields:
        if f.id in variables and variables[f.id] is not None:
            out[f.id] = variables[f.id]
        elif f.default_expr is not None:
            try:
                out[f.id] = f.default_expr.evaluate(variables)
            except Exception:  # noqa: BLE001 - a bad default must not break the page
                out[f.id] = None
        else:
            out[f.id] = f.default
    return out


def field_json(f: FormField, value: Any = None) -> dict[str, Any]:
    """A field as JSON for the REST API and templates."""
    return {
        "id": f.id, "label": f.label or f.id, "type": f.type, "required": f.required,
        "readonly": f.readonly, "constraints": dict(f.constraints),
        "values": [{"id": i, "label": n} for i, n in f.enum_values],
        "value": value.isoformat() if isinstance(value, date | datetime) else value,
    }


# --------------------------------------------------------------------------- validation


def validate_form(fields: Iterable[FormField], raw: Mapping[str, Any],
                  initial: Mapping[str, Any] | None = None,
                  ) -> tuple[dict[str, Any], dict[str, str]]:
    """Parse and check posted values: (typed values to store, field id -> error message).

    Values are strings from an HTML form or JSON values from the API; unknown and
    read-only fields are left out of the result. A field that is not posted at all takes
    its value from `initial` (see `initial_values`: what the form would have shown) or
    else its default - except booleans, where absent means false."""
    if not isinstance(raw, Mapping):
        return {}, {"": "the form must be a mapping of field ids to values"}
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        if f.readonly:
            continue
        present = f.id in raw
        value = raw.get(f.id)
        if not present and f.type != "boolean":
            value = initial.get(f.id) if initial and f.id in initial else f.default
        try:
            parsed = _parse(f, value)
        except _Bad as e:
            errors[f.id] = str(e)
            continue
        if parsed is None:
            if f.required:
                errors[f.id] = "is required"
                continue
        else:
            problem = _constraints(f, parsed)
            if problem:
                errors[f.id] = problem
                continue
        values[f.id] = parsed
    return values, errors


def parse_or_raise(fields: Iterable[FormField], raw: Mapping[str, Any],
                   initial: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The typed values, or FormInvalid with every field's problem."""
    values, errors = validate_form(fields, raw, initial)
    if errors:
        raise FormInvalid(errors)
    return values


class _Bad(ValueError):
    pass


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _parse(f: FormField, value: Any) -> Any:
    """One posted value as its type, None when empty; `_Bad` with the user's message."""
    kind = f.type
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if value is None:
            return False
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise _Bad("must be true or false")
    if isinstance(value, list | tuple | dict):
        raise _Bad("must be a single value")
    if _blank(value):
        return None
    if kind in ("long", "integer"):
        return _parse_long(value)
    if kind == "double":
        return _parse_double(value)
    if kind == "date":
        return _parse_date(value)
    if kind == "enum":
        text = value if isinstance(value, str) else None
        ids = [i for i, _ in f.enum_values]
        if text is None or text not in ids:
            raise _Bad("must be one of: " + ", ".join(ids) if ids else "has no values to choose")
        return text
    if not isinstance(value, str):
        raise _Bad("must be text")
    if len(value) > MAX_TEXT:
        raise _Bad(f"must be at most {MAX_TEXT} characters")
    return value


def _parse_long(value: Any) -> int:
    if isinstance(value, bool):
        raise _Bad("must be a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _INTEGER.match(value.strip()):
        number = int(value.strip())
    else:
        raise _Bad("must be a whole number")
    if not LONG_MIN <= number <= LONG_MAX:
        raise _Bad("is too large")
    return number


def _parse_double(value: Any) -> float:
    if isinstance(value, bool):
        raise _Bad("must be a number")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and len(value) <= 64 and _NUMBER.match(value.strip()):
        number = float(value.strip())
    else:
        raise _Bad("must be a number")
    if not math.isfinite(number):
        raise _Bad("must be a finite number")
    return number


def _parse_date(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if len(text) > 40:
        raise _Bad("must be a date like 2026-01-31")
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        return datetime.fromisoformat(text).date().isoformat()
    except ValueError:
        raise _Bad("must be a date like 2026-01-31") from None


def _constraints(f: FormField, value: Any) -> str | None:
    c = f.constraints
    if isinstance(value, str) and f.type not in ("date", "enum"):
        if "minlength" in c and len(value) < _num(c["minlength"]):
            return f"must be at least {c['minlength']} characters"
        if "maxlength" in c and len(value) > _num(c["maxlength"]):
            return f"must be at most {c['maxlength']} characters"
        if c.get("pattern") not in (None, ""):
            return _pattern_problem(str(c["pattern"]), value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "min" in c and _is_number(c["min"]) and value < c["min"]:
            return f"must be at least {c['min']}"
        if "max" in c and _is_number(c["max"]) and value > c["max"]:
            return f"must be at most {c['max']}"
    if f.type == "date":
        low, high = c.get("min"), c.get("max")
        if isinstance(low, str) and value < low:
            return f"must be on or after {low}"
        if isinstance(high, str) and value > high:
            return f"must be on or before {high}"
    return None


def _num(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.inf


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


# --------------------------------------------------------------------------- patterns


def _pattern_problem(pattern: str, value: str) -> str | None:
    refused = check_pattern(pattern)
    if refused:
        return f"cannot be checked: the diagram's pattern is refused ({refused})"
    if len(value) > MAX_PATTERN_INPUT:
        return f"must be at most {MAX_PATTERN_INPUT} characters"
    if _compiled(pattern).fullmatch(value) is None:
        return "does not have the expected format"
    return None


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


@lru_cache(maxsize=256)
def check_pattern(pattern: str) -> str | None:
    """Why a form pattern is refused, or None when it is safe to run.

    Python's `re` backtracks, so a pattern like `(a+)+b` can take longer than the universe
    on 30 characters. Before running a pattern we estimate its worst-case number of
    backtracking paths on an input of MAX_PATTERN_INPUT characters (a variable repeat
    multiplies by its range, an alternation adds its branches, a repeated variable part
    raises them to a power) and refuse it above MAX_BACKTRACK; backreferences are refused
    outright. Ordinary patterns (codes, e-mail addresses, phone numbers) stay far below."""
    if len(pattern) > MAX_PATTERN:
        return f"longer than {MAX_PATTERN} characters"
    try:
        parsed = sre_parse.parse(pattern)
    except re.error as e:
        return f"not a valid regular expression: {e}"
    try:
        cost = _cost(parsed)
    except _Refused as e:
        return str(e)
    if cost > MAX_BACKTRACK:
        return "it may backtrack catastrophically (nested or too many open-ended repeats)"
    return None


class _Refused(ValueError):
    pass


_CAP = 1e30


def _cost(items: Any) -> float:
    total = 1.0
    for op, arg in items:
        total = min(_CAP, total * _item_cost(op, arg))
    return total


def _item_cost(op: Any, arg: Any) -> float:
    name = str(op)
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, high, body = arg
        high = min(int(high), MAX_PATTERN_INPUT)
        inner = _cost(body)
        spread = max(1, high - low + 1) if name != "POSSESSIVE_REPEAT" else 1
        power = 1.0
        if inner > 1:
            times = max(high, 1)
            power = _CAP if times * math.log(inner) >= math.log(_CAP) else inner ** times
        return min(_CAP, spread * power)
    if name == "SUBPATTERN":
        return _cost(arg[-1])
    if name == "ATOMIC_GROUP":
        return 1.0
    if name == "BRANCH":
        return min(_CAP, sum(_cost(alt) for alt in arg[1]))
    if name in ("ASSERT", "ASSERT_NOT"):
        return _cost(arg[1])
    if name in ("GROUPREF", "GROUPREF_EXISTS"):
        raise _Refused("backreferences are not allowed")
    return 1.0
