"""Camunda 7's typed variables and date format, both ways.

A Camunda client sends `{"amount": {"value": 42, "type": "Integer"}}`; the camunda Python
client often sends `{"amount": {"value": 42}}` with no type, which Camunda infers from the
JSON value (and so do we). Answers carry `{"value", "type", "valueInfo"}` like Camunda's,
so clients that read `type` behave as they do against Camunda.

Dates travel in Camunda's format `yyyy-MM-dd'T'HH:mm:ss.SSSZ` ("2026-01-01T09:30:00.000+0100");
ISO 8601 is accepted too. Bytes travel as base64. Java-serialized objects cannot be read
and are refused with a clear error.

A variable keeps the type its client declared where Python's own types cannot say it: a
Long or Short is stored as `engine.store.codec.Long` / `Short` (ints to everything else),
an Object in JSON format as `ObjectValue` / `ObjectList` with its `objectTypeName`. So a
worker that sends `{"type": "Long", "value": 5000}` reads back a Long, not an Integer,
whichever endpoint it reads from. Double, Date, Bytes, Json (objects and arrays), String
and Boolean already come back as sent; a Json scalar comes back as its inferred type.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from engine.errors import EngineError
from engine.limits import check_datetime
from engine.store.codec import Long, ObjectList, ObjectValue, Short, TypedInt
from tasklist_ui.engine_rest.errors import invalid
from tasklist_ui.strict_json import NestedTooDeep, strict_json

INT_MIN, INT_MAX = -(2 ** 31), 2 ** 31 - 1
LONG_MIN, LONG_MAX = -(2 ** 63), 2 ** 63 - 1
SHORT_MIN, SHORT_MAX = -(2 ** 15), 2 ** 15 - 1
_CAMUNDA_DATE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:?\d{2})?$")
MAX_TYPE_NAME = 255          # a Java class name
TYPES = ("Boolean", "Bytes", "Short", "Integer", "Long", "Double", "Date", "String", "Null",
         "Json", "Object", "Number")


def format_date(value: datetime | None) -> str | None:
    """Camunda's date format, millisecond precision, numeric offset."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}" \
        + value.strftime("%z")


def parse_date(text: Any, where: str) -> datetime:
    """Camunda's format or ISO 8601; a missing offset means UTC. Years are bounded (see
    engine.limits.parse_datetime): a date whose UTC form overflows would fail later."""
    if not isinstance(text, str):
        raise invalid(f"{where}: a date must be a string like 2026-01-01T09:30:00.000+0100, "
                      f"not {type(text).__name__}")
    m = _CAMUNDA_DATE.match(text.strip())
    if m is None:
        raise invalid(f"{where}: {text!r:.80} is not a date like 2026-01-01T09:30:00.000+0100")
    y, mo, d, h, mi, s, frac, zone = m.groups()
    iso = f"{y}-{mo}-{d}T{h}:{mi}:{s}"
    if frac:
        iso += "." + frac.ljust(6, "0")
    if zone and zone != "Z":
        zone = zone if ":" in zone else zone[:3] + ":" + zone[3:]
        iso += zone
    try:
        out = datetime.fromisoformat(iso)
    except ValueError as e:
        raise invalid(f"{where}: {text!r} is not a valid date ({e})") from None
    try:
        return check_datetime(out if out.tzinfo is not None else out.replace(tzinfo=UTC), where)
    except EngineError as e:
        raise invalid(str(e)) from None


# --------------------------------------------------------------------------- reading


def read_variables(body: Any, where: str = "variables") -> dict[str, Any]:
    """A Camunda variables map (`{name: {value, type, valueInfo}}`) to plain values."""
    if body is None:
        return {}
    if not isinstance(body, Mapping):
        raise invalid(f"{where} must be an object of name -> {{\"value\": ..., \"type\": ...}}")
    return {str(name): read_value(typed, f"{where}.{name}") for name, typed in body.items()}


def read_value(typed: Any, where: str) -> Any:
    if not isinstance(typed, Mapping):
        raise invalid(f"{where} must be an object like {{\"value\": 42, \"type\": \"Integer\"}}")
    value = typed.get("value")
    kind = typed.get("type")
    if kind is None or kind == "":
        return value                              # inferred: the JSON value is the value
    if not isinstance(kind, str):
        raise invalid(f"{where}: type must be a string")
    k = kind[0].upper() + kind[1:]                # Camunda accepts "integer" too
    if value is None and k not in ("Json", "Object"):
        return None
    if k == "Null":
        return None
    if k == "String":
        if not isinstance(value, str):
            raise invalid(f"{where}: {value!r} is not a String")
        return value
    if k == "Boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise invalid(f"{where}: {value!r} is not a Boolean")
    if k in ("Integer", "Long", "Short"):
        lo, hi = {"Integer": (INT_MIN, INT_MAX), "Long": (LONG_MIN, LONG_MAX),
                  "Short": (SHORT_MIN, SHORT_MAX)}[k]
        n = _integer(value, where, k)
        if not lo <= n <= hi:
            raise invalid(f"{where}: {value!r} is out of range for {k}")
        # an Integer is what an int reads back as anyway; Long and Short keep their type
        return Long(n) if k == "Long" else Short(n) if k == "Short" else n
    if k in ("Double", "Number"):
        if isinstance(value, bool):
            raise invalid(f"{where}: {value!r} is not a {k}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise invalid(f"{where}: {value!r} is not a {k}") from None
        if not math.isfinite(number):
            raise invalid(f"{where}: {value!r} is not a finite {k}")
        return number
    if k == "Date":
        return parse_date(value, where)
    if k == "Bytes":
        if not isinstance(value, str):
            raise invalid(f"{where}: Bytes must be a base64 string")
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise invalid(f"{where}: Bytes value is not valid base64") from None
    if k in ("Json", "Object"):
        info = typed.get("valueInfo") or {}
        fmt = info.get("serializationDataFormat") if isinstance(info, Mapping) else None
        if k == "Object" and fmt not in (None, "application/json"):
            raise invalid(f"{where}: Object variables in format {fmt!r} cannot be read; "
                          "send JSON (type Json, or Object with serializationDataFormat "
                          "application/json)")
        if isinstance(value, str):
            try:
                value = strict_json(value)
            except (NestedTooDeep, RecursionError) as e:
                raise invalid(f"{where}: {k} value is nested too deeply ({e})") from None
            except ValueError as e:
                raise invalid(f"{where}: {k} value is not valid JSON ({e})") from None
        if k == "Object":
            type_name = info.get("objectTypeName") if isinstance(info, Mapping) else None
            if type_name is not None and not isinstance(type_name, str):
                raise invalid(f"{where}: valueInfo.objectTypeName must be a string")
            if type_name is not None and len(type_name) > MAX_TYPE_NAME:
                raise invalid(f"{where}: valueInfo.objectTypeName is longer than "
                              f"{MAX_TYPE_NAME} characters")
            if isinstance(value, dict):
                return ObjectValue(type_name, value)
            if isinstance(value, list):
                return ObjectList(type_name, value)
        return value
    if k == "File":
        raise invalid(f"{where}: File variables are not supported by Baton")
    raise invalid(f"{where}: unknown variable type {kind!r} (known: {', '.join(TYPES)})")


def _integer(value: Any, where: str, kind: str) -> int:
    if isinstance(value, bool):
        raise invalid(f"{where}: {value!r} is not an {kind}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d{1,30}", value.strip()):
        return int(value)
    raise invalid(f"{where}: {value!r} is not an {kind}")


# --------------------------------------------------------------------------- writing


def typed(value: Any, deserialize: bool = True) -> dict[str, Any]:
    """A plain value as Camunda's `{"value", "type", "valueInfo"}`; `deserialize` as
    Camunda's `deserializeValues` (Object values as JSON, else as JSON text)."""
    if value is None:
        return {"value": None, "type": "Null", "valueInfo": {}}
    if isinstance(value, bool):
        return {"value": value, "type": "Boolean", "valueInfo": {}}
    if isinstance(value, TypedInt):
        return {"value": int(value), "type": value.type_name, "valueInfo": {}}
    if isinstance(value, ObjectValue | ObjectList):
        info = {"serializationDataFormat": "application/json"}
        if value.type_name is not None:
            info["objectTypeName"] = value.type_name
        # deserialized (Camunda's default for variable reads) the value is JSON itself;
        # serialized (fetchAndLock's default) it is the JSON text
        shown = (json.loads(json.dumps(value, default=_json_default)) if deserialize
                 else json.dumps(value, default=_json_default, separators=(",", ":")))
        return {"value": shown, "type": "Object", "valueInfo": info}
    if isinstance(value, int):
        kind = "Integer" if INT_MIN <= value <= INT_MAX else "Long"
        return {"value": value, "type": kind, "valueInfo": {}}
    if isinstance(value, float | Decimal):
        return {"value": float(value), "type": "Double", "valueInfo": {}}
    if isinstance(value, str):
        return {"value": value, "type": "String", "valueInfo": {}}
    if isinstance(value, datetime):
        return {"value": format_date(value), "type": "Date", "valueInfo": {}}
    if isinstance(value, date):
        return {"value": format_date(datetime(value.year, value.month, value.day, tzinfo=UTC)),
                "type": "Date", "valueInfo": {}}
    if isinstance(value, bytes | bytearray):
        return {"value": base64.b64encode(bytes(value)).decode("ascii"), "type": "Bytes",
                "valueInfo": {}}
    # lists and dicts: Camunda's Json type carries the JSON text as the value
    return {"value": json.dumps(value, default=_json_default, separators=(",", ":")),
            "type": "Json", "valueInfo": {}}


def typed_map(values: Mapping[str, Any], names: Any = None,
              deserialize: bool = True) -> dict[str, Any]:
    """Variables as a typed map, keeping only `names` when given."""
    wanted = None if names is None else set(names)
    return {k: typed(v, deserialize) for k, v in values.items()
            if wanted is None or k in wanted}


def _json_default(o: Any) -> Any:
    if isinstance(o, datetime):
        return format_date(o)
    if isinstance(o, date):
        return o.isoformat()
    if isinstance(o, Decimal):
        return float(o)
    if isinstance(o, bytes | bytearray):
        return base64.b64encode(bytes(o)).decode("ascii")
    if isinstance(o, set | frozenset):
        return sorted(o, key=repr)
    return str(o)


def raw_bytes(value: Any) -> tuple[bytes, str]:
    """The body of `GET .../variables/{name}/data`: the bytes of a Bytes variable, else the
    value's text (JSON for structures)."""
    if isinstance(value, bytes | bytearray):
        return bytes(value), "application/octet-stream"
    if isinstance(value, str):
        return value.encode("utf-8"), "text/plain; charset=utf-8"
    return json.dumps(value, default=_json_default).encode("utf-8"), "application/json"
