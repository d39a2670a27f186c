"""JSON for stored values (variables, instance state, job payloads) that keeps dates.

Process variables hold datetimes and dates (a due date from a form, a timer's anchor), and
plain JSON would hand them back as strings, so a condition like `due < now` would compare a
string with a datetime after a restart. Values JSON cannot express are written in a tagged
form, ``{"__baton__": "datetime", "v": "2026-01-01T09:00:00+00:00"}``, and turned back into
the same Python type when read.

Decoding is the hot path (every command loads an instance), so the object hook that looks
for tags runs only when the text contains a tag at all.

Typed values (`Long`, `Short`, `ObjectValue`, `ObjectList`) keep the type a Camunda client
declared (`{"type": "Long", "value": 5000}`), which Python's int, dict and list cannot say.
They are subclasses, so every door, expression and connector sees a plain number, dict or
list; only /engine-rest reads the type back. The JSON encoder writes subclasses as their base
type, so `dumps` tags them itself - at the top level of a mapping (a variables map), and only
once a typed value has been made in this process: no cost for engines that never see one.
A typed value inside a container, or one that an expression computes a new value from, is
an ordinary value again (as in Camunda, where `amount + 1` is whatever the script returns).

Both directions go through orjson first, which encodes a claim's history 15 times and
decodes a state about 3 times faster than the standard library (JSON was the largest
client-side cost of a persisted command after the round trip). What orjson would do
differently falls back to the standard library, so stored text and values read back are
as before:
- a value orjson refuses (an integer beyond 64 bits, a non-string key, a subclass of str,
  int, dict or list, a lone surrogate, nesting past 254 levels, a type no tag covers) is
  encoded by the standard library, which keeps it or raises UnstorableValue as it did;
- text holding a tag is decoded by the standard library (orjson has no object hook), and so
  is text with a run of 19 digits (orjson reads an integer beyond 64 bits as a float) or
  that orjson refuses (an escaped lone surrogate, an out-of-range float);
- orjson writes NaN and infinities as null, and UUIDs and enums as their values, where the
  standard library refuses them: no value reaches the codec holding one, because every way
  in refuses them first with an error naming the variable (engine.limits.check_variables at
  the command boundary, for connector results too, and expr.work.check_output for what
  scripts and expressions produce); tests/store/test_codec.py holds the two paths equal.

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

import orjson

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


# ------------------------------------------------------------------ typed values
_typed_made = False      # whether a typed value exists in this process: dumps looks for them


def _made() -> None:
    global _typed_made
    _typed_made = True


class TypedInt(int):
    """An integer with the Java type a client declared (`type_name`); a plain int otherwise."""

    __slots__ = ()
    type_name = "Integer"

    def __new__(cls, value: Any = 0) -> TypedInt:
        _made()
        return super().__new__(cls, value)

    def __deepcopy__(self, memo: Any) -> TypedInt:
        return self                        # immutable

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (int(self),))


class Long(TypedInt):
    """An integer a client declared a Java long (Camunda's "Long")."""

    __slots__ = ()
    type_name = "Long"


class Short(TypedInt):
    """An integer a client declared a Java short (Camunda's "Short")."""

    __slots__ = ()
    type_name = "Short"


class ObjectValue(dict):  # type: ignore[type-arg]
    """A JSON object a client sent as Camunda's "Object" type, with its Java class name
    (`objectTypeName`), so that a Java client reading it back deserializes the same class."""

    __slots__ = ("type_name",)

    def __init__(self, type_name: str | None, *args: Any, **kwargs: Any) -> None:
        _made()
        super().__init__(*args, **kwargs)
        self.type_name = type_name

    def __deepcopy__(self, memo: Any) -> ObjectValue:
        import copy

        return ObjectValue(self.type_name, {k: copy.deepcopy(v, memo) for k, v in self.items()})

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.type_name, dict(self)))


class ObjectList(list):  # type: ignore[type-arg]
    """A JSON array sent as Camunda's "Object" type (a java.util.List), with its class name."""

    __slots__ = ("type_name",)

    def __init__(self, type_name: str | None, *args: Any) -> None:
        _made()
        super().__init__(*args)
        self.type_name = type_name

    def __deepcopy__(self, memo: Any) -> ObjectList:
        import copy

        return ObjectList(self.type_name, [copy.deepcopy(v, memo) for v in self])

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.type_name, list(self)))


_TYPED_TAGS: dict[type, str] = {Long: "long", Short: "short", ObjectValue: "object",
                                ObjectList: "objectlist"}


def _tag_typed(o: Any) -> dict[str, Any]:
    kind = _TYPED_TAGS[type(o)]
    if kind in ("long", "short"):
        return {TAG: kind, "v": int(o)}
    return {TAG: kind, "v": [o.type_name, dict(o) if kind == "object" else list(o)]}


def _typed_top(value: Any) -> Any:
    """A mapping with its typed values tagged (the same mapping when it holds none)."""
    if type(value) is not dict or not any(type(v) in _TYPED_TAGS for v in value.values()):
        return value
    return {k: _tag_typed(v) if type(v) in _TYPED_TAGS else v for k, v in value.items()}


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
    if kind == "long":
        return Long(v)
    if kind == "short":
        return Short(v)
    if kind == "object" and isinstance(v, list) and len(v) == 2 and isinstance(v[1], dict):
        return ObjectValue(v[0], v[1])
    if kind == "objectlist" and isinstance(v, list) and len(v) == 2 \
            and isinstance(v[1], list):
        return ObjectList(v[0], v[1])
    return d


# dates, times and dataclasses go to `_tagged` (and are tagged or refused there), not
# written by orjson in its own format; subclasses of str, int, dict and list too, which
# `_tagged` refuses, so that the standard library writes them as their base type
_FAST_OPTIONS = (orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
                 | orjson.OPT_PASSTHROUGH_SUBCLASS)
_fast_dumps = orjson.dumps
_fast_loads = orjson.loads
_FastEncodeError = orjson.JSONEncodeError
_FastDecodeError = orjson.JSONDecodeError
# an integer orjson may read as a float (beyond 64 bits), or digits inside a string
_LONG_DIGITS = re.compile(r"\d{19}")


def dumps(value: Any) -> str:
    """Compact JSON with tagged dates; raises UnstorableValue naming the odd type."""
    if _typed_made:
        value = _typed_top(value)
    try:
        return _fast_dumps(value, _tagged, _FAST_OPTIONS).decode()
    except _FastEncodeError:
        return plain_dumps(value)


def plain_dumps(value: Any) -> str:
    """`dumps` by the standard library alone: the reference orjson's path is held to, and
    what writes every value orjson refuses."""
    if _typed_made:
        value = _typed_top(value)
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
    if _TAG_MARK not in text and _LONG_DIGITS.search(text) is None:
        try:
            value = _fast_loads(text)
        except _FastDecodeError:
            return plain_loads(text)
        if text.count("[") + text.count("{") > MAX_READ_DEPTH and too_deep(text):
            return plain_loads(text)
        return value
    return plain_loads(text)


def plain_loads(text: str) -> Any:
    """`loads` by the standard library alone (tags, long integers, what orjson refuses)."""
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
