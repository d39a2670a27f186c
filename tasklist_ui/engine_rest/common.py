"""Helpers the route modules share: the engine, the request body, query parameters, paging."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from flask import Response, current_app, request

from engine.errors import EngineError
from engine.limits import INT64_MAX, INT64_MIN, MAX_OFFSET, MAX_PAGE, parse_int
from tasklist_ui.engine_rest.errors import invalid
from tasklist_ui.engine_rest.values import parse_date
from tasklist_ui.strict_json import NestedTooDeep, strict_json

T = TypeVar("T")
MAX_RESULTS = MAX_PAGE
_SPACE_ZONE = re.compile(r" (\d{2}:?\d{2})$")


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


def page(rows: Sequence[T], sort_keys: dict[str, Callable[[T], Any]] | None = None,
         sorting: list[tuple[str, str]] | None = None) -> list[T]:
    """Sort by `sortBy`/`sortOrder` (or by `sorting`, the pairs of a POST query's body) and
    cut `firstResult`/`maxResults`, as Camunda does."""
    sort_by, order = arg("sortBy"), arg("sortOrder")
    out = list(rows)
    if sorting is None:
        if (sort_by is None) != (order is None):
            raise invalid("Only a single sorting parameter specified. sortBy and sortOrder "
                          "required")
        sorting = [] if sort_by is None else [(sort_by, order or "")]
        where = "query parameter"
    else:
        where = "sorting"
    keys = sort_keys or {}
    for by, direction in sorting:
        if by not in keys:
            raise invalid(f"Cannot set {where} 'sortBy' to value '{by[:80]}' "
                          f"(supported: {', '.join(sorted(keys)) or 'none'})")
        if direction not in ("asc", "desc"):
            raise invalid(f"Cannot set {where} 'sortOrder' to value '{direction[:80]}' "
                          "(asc or desc)")
    # stable sorts, least significant key first: the first pair decides, the next break ties
    for by, direction in reversed(sorting):
        key = keys[by]
        out.sort(key=lambda r, key=key: _none_last(key(r)), reverse=direction == "desc")
    first = arg_int("firstResult") or 0
    limit = arg_max_results()
    end = None if limit is None else first + limit
    return out[first:end]


def body_sorting(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The `sorting` list of a POST query body: `[{"sortBy": ..., "sortOrder": ...}]`."""
    raw = data.get("sorting")
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > 20:
        raise invalid("'sorting' must be a list of at most 20 {sortBy, sortOrder} objects")
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("sortBy"), str) \
                or not isinstance(item.get("sortOrder", "asc"), str):
            raise invalid(f"sorting[{i}] must be an object with sortBy and sortOrder strings")
        out.append((item["sortBy"], item.get("sortOrder", "asc")))
    return out


def like(pattern: str, value: str | None) -> bool:
    """Camunda's SQL LIKE: % any run, _ one character (case-sensitive)."""
    if value is None:
        return False
    glob = pattern.replace("[", "[[]").replace("*", "[*]").replace("?", "[?]")
    return fnmatch.fnmatchcase(value, glob.replace("%", "*").replace("_", "?"))


def _none_last(v: Any) -> tuple[bool, Any]:
    return (v is None, v if v is not None else 0)


def count(rows: Sequence[Any]) -> dict[str, int]:
    return {"count": len(rows)}


def self_link(path: str) -> list[dict[str, str]]:
    return [{"method": "GET", "href": request.host_url.rstrip("/") + "/engine-rest" + path,
             "rel": "self"}]


class QuerySource:
    """The filters of a Camunda query, read from the URL (GET) or from a JSON body (the
    POST form of a query, e.g. `POST /external-task`): Camunda gives both the same names,
    with lists comma-separated in a URL and arrays in a body, booleans as "true"/"false"
    or JSON booleans. A name the endpoint does not implement is refused in both forms, for
    the reason `check_args` gives."""

    def __init__(self, allowed: Iterable[str], data: dict[str, Any] | None = None) -> None:
        self.data = data
        if data is None:
            check_args(allowed)
            return
        known = set(allowed) | {"sorting", "withoutTenantId"}
        for name in data:
            if name not in known:
                raise invalid(f"'{name[:80]}' is not a filter Baton's engine-rest API "
                              f"supports here (supported: {', '.join(sorted(known))})")

    def text(self, name: str) -> str | None:
        if self.data is None:
            return arg(name)
        value = field_str(self.data, name, max_len=10_000)
        return value if value != "" else None

    def names(self, name: str) -> list[str] | None:
        """A list of ids or names (`...In` filters)."""
        if self.data is None:
            return arg_list(name)
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or len(value) > MAX_PAGE \
                or not all(isinstance(v, str) and len(v) <= 10_000 for v in value):
            raise invalid(f"'{name}' must be a list of at most {MAX_PAGE} strings")
        return value

    def flag(self, name: str) -> bool | None:
        if self.data is None:
            return arg_bool(name)
        value = self.data.get(name)
        if value is not None and not isinstance(value, bool):
            raise invalid(f"'{name}' must be true or false, not {type(value).__name__}")
        return value

    def integer(self, name: str) -> int | None:
        """A 64-bit integer (priorities are Java longs in Camunda)."""
        if self.data is not None:
            return field_int(self.data, name)
        value = arg(name)
        if value is None:
            return None
        try:
            return parse_int(value, name, INT64_MIN, INT64_MAX)
        except EngineError as e:
            raise invalid(f"Cannot set query parameter '{name}' to value '{value[:40]}': "
                          f"{e}") from None

    def date(self, name: str) -> datetime | None:
        """A date in Camunda's format. In a URL an unescaped '+' of the zone offset arrives
        as a space; it is read as the '+' the client meant."""
        value = self.data.get(name) if self.data is not None else arg(name)
        if value is None:
            return None
        if isinstance(value, str) and self.data is None:
            value = _SPACE_ZONE.sub(r"+\1", value)
        return parse_date(value, f"'{name}'")
