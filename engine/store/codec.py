"""JSON for stored values (variables, instance state, job payloads) that keeps dates.

Process variables hold datetimes and dates (a due date from a form, a timer's anchor), and
plain JSON would hand them back as strings, so a condition like `due < now` would compare a
string with a datetime after a restart. Values JSON cannot express are written in a tagged
form, ``{"__baton__": "datetime", "v": "2026-01-01T09:00:00+00:00"}``, and turned back into
the same Python type when read.

Decoding is the hot path (every command loads an instance), so the object hook that looks
for tags runs only when the text contains a tag at all.
"""

from __future__ import annotations

import base64
import json
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


def loads(text: str | None) -> Any:
    if text is None:
        return None
    if _TAG_MARK in text:
        return json.loads(text, object_hook=_untag)
    return json.loads(text)
