"""Reading untrusted request bodies and query strings, with errors that name the problem
and where it is ("field 'priority' must be a whole number")."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import request

from engine.errors import EngineError
from engine.limits import INT64_MAX, INT64_MIN, parse_datetime, parse_int
from tasklist_ui.api.errors import bad_request
from tasklist_ui.strict_json import strict_json

MAX_JSON_BYTES = 1024 * 1024


def json_body(*, required: bool = True) -> dict[str, Any]:
    """The request's JSON object ({} for an empty body when not required)."""
    data = request.get_data(cache=True)
    if not data.strip():
        if required:
            raise bad_request("this request needs a JSON object as its body")
        return {}
    if len(data) > MAX_JSON_BYTES:
        raise bad_request(f"the JSON body is larger than {MAX_JSON_BYTES} bytes")
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise bad_request("send the body as JSON with 'Content-Type: application/json' "
                          f"(got '{mimetype or 'no content type'}')")
    try:
        body = strict_json(data)
    except UnicodeDecodeError:
        raise bad_request("the JSON body is not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise bad_request(f"the body is not valid JSON: {e.msg} at line {e.lineno} "
                          f"column {e.colno}") from None
    except RecursionError:
        raise bad_request("the JSON body is nested too deeply") from None
    except ValueError as e:     # NaN, 1e999, a number of 5000 digits, a lone surrogate
        raise bad_request(f"the JSON body cannot be used: {e}") from None
    if not isinstance(body, dict):
        raise bad_request(f"the JSON body must be an object, not {_kind(body)}")
    return body


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def text(body: Mapping[str, Any], name: str, *, required: bool = False,
         max_len: int = 200) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise bad_request(f"field '{name}' is required")
        return None
    if not isinstance(value, str):
        raise bad_request(f"field '{name}' must be a string, not {_kind(value)}")
    if required and not value.strip():
        raise bad_request(f"field '{name}' must not be empty")
    if len(value) > max_len:
        raise bad_request(f"field '{name}' may have at most {max_len} characters")
    return value


def whole(body: Mapping[str, Any], name: str, low: int = INT64_MIN,
          high: int = INT64_MAX) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"field '{name}' must be a whole number, not {_kind(value)}")
    if not low <= value <= high:
        raise bad_request(f"field '{name}' must be a whole number from {low} to {high}")
    return value


def flag(body: Mapping[str, Any], name: str, default: bool = False) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise bad_request(f"field '{name}' must be true or false, not {_kind(value)}")
    return value


def mapping(body: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request(f"field '{name}' must be an object, not {_kind(value)}")
    return value


def when(value: Any, name: str) -> datetime | None:
    """An ISO 8601 date-time (a date alone means its midnight; no zone means UTC), in the
    years engine.limits allows (a year-9999 date with an offset overflows in UTC)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise bad_request(f"'{name}' must be an ISO 8601 date-time such as "
                          "2026-01-31T17:00:00Z")
    try:
        return parse_datetime(value, name)
    except EngineError as e:
        raise bad_request(str(e)) from None


def arg_int(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = parse_int(raw, name, INT64_MIN, INT64_MAX)
    except EngineError:
        raise bad_request(f"query parameter '{name}' must be a whole number, "
                          f"not {raw[:40]!r}") from None
    if not low <= value <= high:
        raise bad_request(f"query parameter '{name}' must be from {low} to {high}")
    return value


def arg_bool(name: str) -> bool:
    raw = (request.args.get(name) or "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise bad_request(f"query parameter '{name}' must be true or false, not {raw!r}")


def arg_text(name: str, max_len: int = 200) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if len(raw) > max_len:
        raise bad_request(f"query parameter '{name}' may have at most {max_len} characters")
    return raw
