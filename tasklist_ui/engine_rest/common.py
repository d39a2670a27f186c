"""Helpers the route modules share: the engine, the request body, query parameters, paging."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from flask import Response, current_app, request

from engine.errors import EngineError
from engine.limits import INT64_MAX, INT64_MIN, MAX_OFFSET, MAX_PAGE, parse_int
from tasklist_ui.engine_rest.errors import invalid
from tasklist_ui.strict_json import NestedTooDeep, strict_json

T = TypeVar("T")
MAX_RESULTS = MAX_PAGE


def engine() -> Any:
    """The Engine the app was built with (`app.extensions["baton"].engine`)."""
    holder = current_app.extensions.get("baton")
    if holder is None or getattr(holder, "engine", None) is None:
        raise RuntimeError("the engine-rest blueprint needs app.extensions['baton'] with an "
                           "'engine' attribute")
    return holder.engine


def body(required: bool = False) -> dict[str, Any]:
    """The JSON object body; {} when there is none (unless required)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise invalid("the request needs a JSON body")
        return {}
    try:
        data = strict_json(raw)
    except (NestedTooDeep, RecursionError) as e:
        raise invalid(f"the request body is nested too deeply ({e})") from None
    except ValueError as e:     # invalid JSON, NaN, 1e999, a lone surrogate, not UTF-8
        raise invalid(f"the request body is not valid JSON: {e}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise invalid("the request body must be a JSON object")
    return data


def no_content() -> Response:
    return Response(status=204)


def field_str(data: dict[str, Any], name: str, required: bool = False,
              max_len: int = 10_000) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise invalid(f"'{name}' is required")
        return None
    if not isinstance(value, str):
        raise invalid(f"'{name}' must be a string, not {type(value).__name__}")
    if required and not value:
        raise invalid(f"'{name}' must not be empty")
    if len(value) > max_len:
        raise invalid(f"'{name}' is longer than {max_len} characters")
    return value


def field_int(data: dict[str, Any], name: str, default: int | None = None,
              minimum: int | None = None, maximum: int | None = None,
              required: bool = False) -> int | None:
    value = data.get(name)
    if value is None:
        if required:
            raise invalid(f"'{name}' is required")
        return default
    if isinstance(value, str) or not isinstance(value, int | float):
        raise invalid(f"'{name}' must be an integer, not {type(value).__name__}")
    try:   # bounded to 64 bits: what Camunda's Java long and the SQL columns hold
        value = parse_int(value, name, INT64_MIN, INT64_MAX)
    except EngineError as e:
        raise invalid(str(e)) from None
    if minimum is not None and value < minimum:
        raise invalid(f"'{name}' must be at least {minimum}, not {value}")
    if maximum is not None and value > maximum:
        raise invalid(f"'{name}' cannot be set to a value greater than {maximum}")
    return value


def arg(name: str) -> str | None:
    value = request.args.get(name)
    return value if value not in (None, "") else None


def arg_bool(name: str) -> bool | None:
    value = arg(name)
    if value is None:
        return None
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise invalid(f"Cannot set query parameter '{name}' to value '{value}': not true or false")


def arg_int(name: str, minimum: int = 0, maximum: int = MAX_OFFSET) -> int | None:
    """An integer query parameter; by default 0..2^31-1, Camunda's Java int, so that
    `firstResult=10**30` is a 400 as on Camunda rather than an overflow in SQL."""
    value = arg(name)
    if value is None:
        return None
    try:
        return parse_int(value, name, minimum, maximum)
    except EngineError as e:
        raise invalid(f"Cannot set query parameter '{name}' to value '{value[:40]}': {e}") \
            from None


def arg_max_results() -> int | None:
    """`maxResults`, capped at MAX_RESULTS rows (clients send 2^31-1 to mean "all")."""
    limit = arg_int("maxResults")
    return None if limit is None else min(limit, MAX_RESULTS)


def arg_list(name: str) -> list[str] | None:
    value = arg(name)
    return None if value is None else [v for v in value.split(",") if v]


def check_args(allowed: Iterable[str]) -> None:
    """Refuse query parameters the endpoint does not implement rather than ignore them:
    a filter silently ignored returns wrong results."""
    known = set(allowed) | {"firstResult", "maxResults", "sortBy", "sortOrder",
                            "deserializeValues", "withoutTenantId", "includeExtensionProperties"}
    for name in request.args:
        if name not in known:
            raise invalid(f"query parameter '{name}' is not supported by Baton's engine-rest "
                          f"API here (supported: {', '.join(sorted(known))})")


def page(rows: Sequence[T], sort_keys: dict[str, Callable[[T], Any]] | None = None) -> list[T]:
    """Sort by `sortBy`/`sortOrder` and cut `firstResult`/`maxResults`, as Camunda does."""
    sort_by, order = arg("sortBy"), arg("sortOrder")
    out = list(rows)
    if (sort_by is None) != (order is None):
        raise invalid("Only a single sorting parameter specified. sortBy and sortOrder "
                      "required")
    if sort_by is not None:
        keys = sort_keys or {}
        if sort_by not in keys:
            raise invalid(f"Cannot set query parameter 'sortBy' to value '{sort_by}' "
                          f"(supported: {', '.join(sorted(keys)) or 'none'})")
        if order not in ("asc", "desc"):
            raise invalid(f"Cannot set query parameter 'sortOrder' to value '{order}'")
        key = keys[sort_by]
        out.sort(key=lambda r: _none_last(key(r)), reverse=order == "desc")
    first = arg_int("firstResult") or 0
    limit = arg_max_results()
    end = None if limit is None else first + limit
    return out[first:end]


def _none_last(v: Any) -> tuple[bool, Any]:
    return (v is None, v if v is not None else 0)


def count(rows: Sequence[Any]) -> dict[str, int]:
    return {"count": len(rows)}


def self_link(path: str) -> list[dict[str, str]]:
    return [{"method": "GET", "href": request.host_url.rstrip("/") + "/engine-rest" + path,
             "rel": "self"}]
