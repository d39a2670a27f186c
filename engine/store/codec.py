"""JSON for stored values (variables, instance state, job payloads) that keeps dates.

Process variables hold datetimes and dates (a due date from a form, a timer's anchor), and
plain JSON would hand them back as strings, so a condition like `due < now` would compare a
string with a datetime after a restart. Values JSON cannot express are written in a tagged
form, ``{"__baton__": "datetime", "v": "2026-01-01T09:00:00+00:00"}``, and turned back into
the same Python type when read.

Decoding is the hot path (every command loads an instance), so the object hook that looks
for tags runs only when the text contains a tag at all.

Reading never fails on depth. Before values were checked at the command boundary, a
variable nested hundreds of levels deep could be stored; `json.loads` raises RecursionError
on such text (and the engine's own copies of a value do, a few hundred levels sooner), so
that instance could no longer be opened, listed or even cancelled. Containers nested
deeper than `MAX_READ_DEPTH` are therefore read as a placeholder,
``{"__unreadable__": "nested deeper than 64 levels", "json": "<their original text>"}``:
the row reads, the reason shows, and writing it back keeps the original text.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

TAG = "__baton__"
_TAG_MARK = f'"{TAG}"'

_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                            default=lambda o: _tagged(o))


class UnstorableValue(TypeError):
    """A variable (or other stored value) of a type the store cannot keep."""


def _tagged(o: Any) -> dict[str, Any]:
    # datetime before date: a datetime is a date too
    if isinstance(o, datetime):
        return {TAG: "datetime", "v": o.isoformat()}
    if isinstance(o, date):
        return {TAG: "date", "v": o.isoformat()}
    if isinstance(o, time):
        return {TAG: "time", "v": o.isoformat()}
    if isinstance(o, timedelta):
        return {TAG: "timedelta", "v": [o.days, o.seconds, o.microseconds]}
    if isinstance(o, Decimal):
        return {TAG: "decimal", "v": str(o)}
    if isinstance(o, bytes | bytearray):
        return {TAG: "bytes", "v": base64.b64encode(bytes(o)).decode("ascii")}
    if isinstance(o, set | frozenset):
        return {TAG: "set", "v": sorted(o, key=repr)}
    raise UnstorableValue(
        f"a value of type {type(o).__name__} cannot be stored ({o!r:.80}); use strings, "
        "numbers, booleans, None, lists, dicts, dates, datetimes or decimals")


def _untag(d: dict[str, Any]) -> Any:
    kind = d.get(TAG)
    if kind is None or len(d) != 2:
        return d
    v = d["v"]
    if isinstance(v, dict):     # no tag holds a dict: this one was cut (too deep to read)
        return d
    if kind == "datetime":
        return datetime.fromisoformat(v)
    if kind == "date":
        return date.fromisoformat(v)
    if kind == "time":
        return time.fromisoformat(v)
    if kind == "timedelta":
        return timedelta(days=v[0], seconds=v[1], microseconds=v[2])
    if kind == "decimal":
        return Decimal(v)
    if kind == "bytes":
        return base64.b64decode(v)
    if kind == "set":
        return set(v)
    return d


def dumps(value: Any) -> str:
    """Compact JSON with tagged dates; raises UnstorableValue naming the odd type."""
    try:
        return _encoder.encode(value)
    except ValueError as e:  # NaN / infinity
        raise UnstorableValue(f"cannot store {e}") from e
    except RecursionError as e:
        raise UnstorableValue("cannot store a value nested this deeply") from e


def loads(text: str | None) -> Any:
    """The stored value; containers deeper than MAX_READ_DEPTH come back as placeholders
    (`is_unreadable`), so this never raises RecursionError."""
    if text is None:
        return None
    hook = _untag if _TAG_MARK in text else None
    try:
        value = json.loads(text, object_hook=hook)
    except RecursionError:
        return json.loads(cut_deep(text), object_hook=hook)
    # a value can only be too deep if the text opens that many containers (cheap to count)
    if text.count("[") + text.count("{") > MAX_READ_DEPTH and too_deep(text):
        return json.loads(cut_deep(text), object_hook=hook)
    return value


# ------------------------------------------------------------------ values too deep to read
MAX_READ_DEPTH = 64
"""How deep a stored document may nest containers when read (the document itself is depth
1). A container at this depth that holds containers is read as a placeholder, which itself
holds none: so the placeholder reads back as it is. About twice the command boundary's
limit on variables (engine.limits.MAX_DEPTH) plus the few levels of the state around them,
so nothing the engine accepts today is ever cut; shallow enough for recursive code
downstream (copies, templates) to walk."""

UNREADABLE = "__unreadable__"

# a JSON string (brackets inside it are text, not structure)
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
# ... or one bracket
_SCAN = re.compile(_STRING.pattern + r"|[\[\]{}]")
# what JSON has outside strings but brackets
_NOT_BRACKETS = str.maketrans("", "", "0123456789,:.-+ \n\r\tabcdefghijklmnopqrstuvwxyz"
                               "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_PAIR = re.compile(r"\[\]|\{\}")


def unreadable(original: str) -> dict[str, str]:
    """The placeholder for a container too deep to read; `original` is its JSON text."""
    return {UNREADABLE: f"nested deeper than {MAX_READ_DEPTH} levels", "json": original}


def is_unreadable(value: Any) -> bool:
    return isinstance(value, dict) and UNREADABLE in value and len(value) == 2


def cut_deep(text: str, limit: int = MAX_READ_DEPTH) -> str:
    """`text` with every container at depth `limit` that holds containers replaced by the
    placeholder keeping its text. Scans the text without recursion (one regex walk): it
    must work on exactly the documents the JSON decoder cannot take."""
    out: list[str] = []
    depth = 0
    last = 0            # end of the text already copied to `out`
    start = 0           # where the container at depth `limit` began
    deeper = False      # ... and whether it holds a container
    for m in _SCAN.finditer(text):
        ch = m.group()
        if ch[0] == '"':
            continue
        if ch in "[{":
            depth += 1
            if depth == limit:
                start, deeper = m.start(), False
            elif depth > limit:
                deeper = True
        else:
            if depth == limit and deeper:
                out.append(text[last:start])
                out.append(dumps(unreadable(text[start:m.end()])))
                last = m.end()
            depth -= 1
    out.append(text[last:])
    return "".join(out)


def too_deep(text: str, limit: int = MAX_READ_DEPTH) -> bool:
    """Whether valid JSON `text` nests containers deeper than `limit`. Works on the text
    in C-speed passes (cheaper than walking the decoded value in Python): strings removed,
    then only brackets kept, then one level of innermost pairs peeled per pass."""
    brackets = _STRING.sub("", text).translate(_NOT_BRACKETS)
    for _ in range(limit):
        if not brackets:
            return False
        brackets = _PAIR.sub("", brackets)
    return bool(brackets)
