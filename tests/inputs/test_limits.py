"""engine.limits: the checks every door relies on, one refusal per rule, each naming where."""

from __future__ import annotations

import math
import sys
from collections import OrderedDict
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from engine import limits
from engine.errors import EngineError
from engine.limits import (
    MAX_DEPTH,
    MAX_ENTRIES,
    check_datetime,
    check_instance_size,
    check_variables,
    parse_bool,
    parse_datetime,
    parse_float,
    parse_int,
)


def nested(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


# ----------------------------------------------------------------------------- accepted


@pytest.mark.parametrize("variables", [
    None, {}, {"a": 1, "b": "x", "c": True, "d": None, "e": 1.5},
    {"amount": 2 ** 63 - 1, "low": -(2 ** 63)},
    {"order": {"items": [{"sku": "A", "qty": 2}], "total": Decimal("3.50")}},
    {"when": datetime(2026, 1, 1, tzinfo=UTC), "day": date(2026, 1, 1),
     "wait": timedelta(hours=2), "blob": b"\x00\x01", "tags": {"a", "b", 3}},
    {"ordered": OrderedDict(a=1), "pair": (1, 2), "text": "größe ✓ 𝄞"},
    {"deep": nested(MAX_DEPTH)},
    {"wide": list(range(MAX_ENTRIES))},
    {"x" * limits.MAX_NAME_LEN: 1, "größe": 2},
])
def test_storable_variables_pass(variables: Any) -> None:
    check_variables(variables)


# ----------------------------------------------------------------------------- refused


@pytest.mark.parametrize("variables, fragment", [
    ([("a", 1)], "must be a mapping"),
    ({"_hidden": 1}, "'_hidden' is not allowed"),
    ({"1st": 1}, "'1st' is not allowed"),
    ({"a-b": 1}, "'a-b' is not allowed"),
    ({"": 1}, "'' is not allowed"),
    ({5: 1}, "5 is not allowed"),
    ({"x" * (limits.MAX_NAME_LEN + 1): 1}, "is not allowed"),
    ({"n": 2 ** 63}, "variables.n: the integer is outside the signed 64-bit range"),
    ({"n": -(2 ** 63) - 1}, "variables.n: the integer is outside"),
    ({"f": math.nan}, "variables.f: nan is not a finite number"),
    ({"f": math.inf}, "variables.f: inf is not a finite number"),
    ({"s": "a\x00b"}, "variables.s: the string holds a NUL character"),
    ({"s": "a\ud800b"}, "variables.s: the string holds a lone surrogate"),
    ({"o": object()}, "variables.o: a value of type object cannot be stored"),
    ({"order": {"items": [1, 2, 3, 2 ** 70]}}, "variables.order.items[3]: the integer"),
    ({"order": {"items": [{"x": math.nan}]}}, "variables.order.items[0].x: nan"),
    ({"d": {"a b": [None, "\x00"]}}, "variables.d['a b'][1]: the string holds a NUL"),
    ({"d": {1: "one"}}, "variables.d: key 1 is not a string"),
    ({"d": {"ok\x00": 1}}, "variables.d: key 'ok\\x00' cannot be stored"),
    ({"d": {"__baton__": "datetime", "v": "2026-01-01"}}, "key '__baton__' cannot be stored"),
    ({"s": {(1, 2)}}, "variables.s: a set may hold only plain values (not tuple)"),
    ({"s": {frozenset({1})}}, "a set may hold only plain values (not frozenset)"),
    ({"s": {1.5, math.nan}}, "nan is not a finite number"),
    ({"d": Decimal("NaN")}, "variables.d: the decimal NaN is not a finite number"),
    ({"deep": nested(MAX_DEPTH + 1)}, f"nested deeper than {MAX_DEPTH} levels"),
    ({"wide": list(range(MAX_ENTRIES + 1))}, f"more than {MAX_ENTRIES}"),
    ({"wide": {f"k{i}": i for i in range(MAX_ENTRIES + 1)}}, f"more than {MAX_ENTRIES}"),
    ({f"v{i}": i for i in range(MAX_ENTRIES + 1)}, f"more than {MAX_ENTRIES}"),
    ({"big": "x" * (limits.MAX_INSTANCE_BYTES + 1)}, "variables are too large"),
])
def test_unstorable_variables_are_refused_naming_where(variables: Any, fragment: str) -> None:
    with pytest.raises(EngineError) as err:
        check_variables(variables)
    assert fragment in str(err.value)
    assert err.value.status == 400


def test_where_names_the_door_field() -> None:
    with pytest.raises(EngineError, match=r"^localVariables\.x: nan"):
        check_variables({"x": math.nan}, where="localVariables")


def test_ten_thousand_levels_deep_is_refused_without_recursion_error() -> None:
    deep: Any = "leaf"
    for _ in range(10_000):
        deep = {"down": [deep]}
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)   # the walk must not recurse at all
    try:
        with pytest.raises(EngineError, match="nested deeper than"):
            check_variables({"deep": deep})
    finally:
        sys.setrecursionlimit(limit)


def test_a_cycle_is_refused_not_looped_over() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(EngineError, match="nested deeper than"):
        check_variables({"loop": loop})


def test_shared_sublists_cannot_blow_up_the_walk() -> None:
    """10^4 references to one list of 10^4 items: 10^8 values if walked naively; the size
    bound stops the walk after about MAX_INSTANCE_BYTES of them."""
    inner = [0] * MAX_ENTRIES
    with pytest.raises(EngineError, match="too large"):
        check_variables({"outer": [inner] * MAX_ENTRIES})


def test_size_limit_follows_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_INSTANCE_BYTES", 2048)
    check_variables({"s": "x" * 1000})
    with pytest.raises(EngineError, match="more than the limit of 2048"):
        check_variables({"s": "x" * 3000})
    with pytest.raises(EngineError, match="more than the limit of 2048"):
        check_variables({"l": ["x" * 100] * 30})


def test_the_codec_tag_is_the_codec_s() -> None:
    from engine.store.codec import TAG

    assert limits.CODEC_TAG == TAG


def test_instance_size() -> None:
    check_instance_size(limits.MAX_INSTANCE_BYTES, "i1")
    with pytest.raises(EngineError, match=r"'i1' would hold .*\(BATON_MAX_INSTANCE_BYTES\)"):
        check_instance_size(limits.MAX_INSTANCE_BYTES + 1, "i1")


def test_instance_size_setting_is_read_from_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    env = limits._env_bytes   # noqa: SLF001 - the reader of the setting, tried directly
    monkeypatch.setenv("BATON_MAX_INSTANCE_BYTES", "65536")
    assert env("BATON_MAX_INSTANCE_BYTES", 1, 1024, 1 << 28) == 65536
    monkeypatch.setenv("BATON_MAX_INSTANCE_BYTES", "lots")
    with pytest.raises(RuntimeError, match="not a whole number"):
        env("BATON_MAX_INSTANCE_BYTES", 1, 1024, 1 << 28)
    monkeypatch.setenv("BATON_MAX_INSTANCE_BYTES", "10")
    with pytest.raises(RuntimeError, match="must be from 1024"):
        env("BATON_MAX_INSTANCE_BYTES", 1, 1024, 1 << 28)


def test_the_default_is_one_mebibyte_unless_configured() -> None:
    import os

    if not os.environ.get("BATON_MAX_INSTANCE_BYTES"):
        assert limits.MAX_INSTANCE_BYTES == 1 << 20


# ----------------------------------------------------------------------------- numbers


@pytest.mark.parametrize("value, expected", [
    (5, 5), (5.0, 5), ("42", 42), (" -3 ", -3), (0, 0), (100, 100),
])
def test_parse_int_accepts(value: Any, expected: int) -> None:
    assert parse_int(value, "n", -10, 100) == expected


@pytest.mark.parametrize("value, fragment", [
    (True, "whole number, not True"), (5.5, "whole number, not 5.5"),
    (math.nan, "whole number"), (math.inf, "whole number"), (1e16, "from -10 to 100"),
    ("abc", "not 'abc'"), ("9" * 5000, "whole number"), (None, "not None"),
    ([1], "not a list"), (101, "from -10 to 100"), (2 ** 63, "not a number out of range"),
    ("10" * 30, "whole number"),
])
def test_parse_int_refuses_naming_the_field(value: Any, fragment: str) -> None:
    with pytest.raises(EngineError) as err:
        parse_int(value, "maxResults", -10, 100)
    assert "'maxResults'" in str(err.value) and fragment in str(err.value)
    assert len(str(err.value)) < 200       # never echoes a huge input


def test_parse_float() -> None:
    assert parse_float(2.5, "x", 0, 10) == 2.5
    assert parse_float("7", "x", 0, 10) == 7.0
    assert parse_float(10, "x", 0, 10) == 10.0
    for bad in (math.nan, math.inf, "inf", "nan", "1e999", 10 ** 400, 11, -1, True, "x",
                None, "1" * 100):
        with pytest.raises(EngineError, match="'x' must be a number"):
            parse_float(bad, "x", 0, 10)


@pytest.mark.parametrize("value, expected", [
    (True, True), (False, False), ("true", True), ("FALSE", False), ("1", True),
    ("0", False), (" yes ", True), ("off", False),
])
def test_parse_bool(value: Any, expected: bool) -> None:
    assert parse_bool(value, "flag") is expected


@pytest.mark.parametrize("value", ["maybe", 1, None, "", 2.0])
def test_parse_bool_refuses(value: Any) -> None:
    with pytest.raises(EngineError, match="'flag' must be true or false"):
        parse_bool(value, "flag")


def test_door_constants_are_bounded_consistently() -> None:
    assert limits.MAX_PAGE_NUMBER * 200 <= limits.MAX_OFFSET <= limits.INT64_MAX
    assert limits.MAX_PAGE <= limits.MAX_OFFSET
    # the longest lock, added to the latest date, still fits a datetime
    assert datetime(limits.MAX_YEAR, 12, 31, tzinfo=UTC) + timedelta(
        milliseconds=limits.MAX_LOCK_MS) < datetime.max.replace(tzinfo=UTC)
    assert (limits.MIN_RETRIES, limits.MAX_RETRIES) == (0, 10_000)
    assert limits.TASK_PRIORITY_MIN <= limits.TASK_PRIORITY_MAX
    assert limits.PRIORITY_MIN < 0 < limits.PRIORITY_MAX


# ----------------------------------------------------------------------------- dates


@pytest.mark.parametrize("text, expected", [
    ("2026-01-31T17:00:00Z", datetime(2026, 1, 31, 17, tzinfo=UTC)),
    ("2026-01-31T17:00:00+01:00", datetime(2026, 1, 31, 16, tzinfo=UTC)),
    ("2026-01-31T17:00:00", datetime(2026, 1, 31, 17, tzinfo=UTC)),
    ("2026-01-31", datetime(2026, 1, 31, tzinfo=UTC)),
    (" 9000-12-31T23:59:59Z ", datetime(9000, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ("1900-01-01T00:00:00Z", datetime(1900, 1, 1, tzinfo=UTC)),
])
def test_parse_datetime_accepts(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text, "due")
    assert parsed == expected and parsed.tzinfo is not None


@pytest.mark.parametrize("value, fragment", [
    ("9999-12-31T23:00:00-05:00", "years 1900 to 9000"),   # overflows when made UTC
    ("9999-12-31T23:00:00+00:00", "years 1900 to 9000"),   # overflows when a day is added
    ("0001-01-01T00:30:00+01:00", "years 1900 to 9000"),
    ("1899-12-31T23:59:59Z", "years 1900 to 9000"),
    ("9001-01-01", "years 1900 to 9000"),
    ("tomorrow", "ISO 8601 date-time"), ("2026-02-30", "ISO 8601 date-time"),
    ("2026-01-01T00:00:00+25:00", "ISO 8601"), (20260101, "ISO 8601"), (None, "ISO 8601"),
    ("2026-01-01" * 20, "ISO 8601"),
])
def test_parse_datetime_refuses_naming_the_field(value: Any, fragment: str) -> None:
    with pytest.raises(EngineError) as err:
        parse_datetime(value, "due")
    assert "'due'" in str(err.value) and fragment in str(err.value)


def test_accepted_dates_survive_utc_and_the_longest_lock() -> None:
    latest = parse_datetime("9000-12-31T09:59:59-14:00", "due")
    assert latest.astimezone(UTC) + timedelta(milliseconds=limits.MAX_LOCK_MS) > latest
    earliest = parse_datetime("1900-01-01T14:00:00+14:00", "due")
    assert earliest.astimezone(UTC) - timedelta(days=3650) < earliest
    with pytest.raises(EngineError):     # its UTC form is in 9001
        parse_datetime("9000-12-31T10:00:00-14:00", "due")


def test_check_datetime_takes_aware_datetimes() -> None:
    plus14 = timezone(timedelta(hours=14))
    assert check_datetime(datetime(2026, 1, 1, tzinfo=plus14), "d").year == 2026
    with pytest.raises(EngineError):
        check_datetime(datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))), "d")
    assert parse_datetime(datetime(2026, 5, 1), "d") == datetime(2026, 5, 1, tzinfo=UTC)
