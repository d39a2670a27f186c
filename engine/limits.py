"""The one place where values from outside are checked: variables and the numbers and dates
the doors read.

Every door (web form, /api, /engine-rest, CLI, Python API) hands values to the engine, and a
value the stores cannot keep, or a number that overflows somewhere downstream (SQL's 64-bit
integers, `datetime + timedelta`, a lock of 10^16 ms), would otherwise fail deep inside a
command: a 500, or worse a row half written. Checking here, before any command runs, turns
each into an `EngineError` (400) naming the field and the path inside it
("variables.order.items[3]: ...") — the same answer on every door.

Nothing here recurses: a value nested 100,000 levels deep is walked with an explicit stack
and refused at `MAX_DEPTH`, never with a RecursionError.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from engine.errors import EngineError

# The key the store codec (engine/store/codec.py) marks tagged values with. Spelled here
# rather than imported so that this module depends on nothing but engine.errors: the
# stores call check_instance_size, and an import back into engine.store would be a circle.
CODEC_TAG = "__baton__"

# ------------------------------------------------------------------------- configuration


def _env_bytes(name: str, default: int, low: int, high: int) -> int:
    """An integer setting from the environment; a malformed one stops the start-up with a
    message rather than silently falling back to the default."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise RuntimeError(f"{name}={raw!r} is not a whole number of bytes") from None
    if not low <= value <= high:
        raise RuntimeError(f"{name} must be from {low} to {high} bytes, not {value}")
    return value


MAX_INSTANCE_BYTES = _env_bytes("BATON_MAX_INSTANCE_BYTES", 1 << 20, 1 << 10, 1 << 28)
"""Largest encoded instance state (tokens, scopes, variables). One row is read and written
per step, so a large row slows every step of its instance; PostgreSQL's JSONB also stops at
255 MiB, hence the upper bound of the setting."""

# ------------------------------------------------------------------------- variables

MAX_DEPTH = 32                 # containers inside containers, counting the variable's own
MAX_ENTRIES = 10_000           # entries in one dict, list or set
MAX_NAME_LEN = 128             # characters in a variable name
INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1   # what SQL, Java clients and JSONB agree on

# ------------------------------------------------------------------------- stored text

MAX_KEY_LEN = 255
"""Characters in a text value the stores keep in an indexed column: business keys,
assignees, candidate users and groups, message and signal names, external task topics and
worker ids. MariaDB needs a length for every indexed text column and keeps these in
VARCHAR(255) (engine/store/schema.py, `S`), as Camunda 7 does; SQLite, PostgreSQL and the
memory store would keep longer ones. Checking here gives the same answer on every store:
without it a 256-character business key would start an instance on three of them and be a
database error (an HTTP 500) on the fourth."""


def check_text(value: Any, what: str, max_len: int = MAX_KEY_LEN) -> str | None:
    """`value` if it is None or text that every store keeps in an indexed column: at most
    `max_len` characters, no NUL (PostgreSQL's text cannot hold U+0000) and no lone
    surrogate (not UTF-8). Anything else is an EngineError naming `what` ("business key",
    "userTask 'review': the assignee") and showing the start of the value."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise EngineError(f"{what} must be text, not {type(value).__name__}")
    if len(value) > max_len:
        raise EngineError(too_long(what, value, max_len))
    if "\x00" in value or not (value.isascii() or _is_utf8(value)):
        raise EngineError(_bad_text(what, value))
    return value


def too_long(what: str, value: str, max_len: int = MAX_KEY_LEN) -> str:
    """The sentence refusing an over-long value (the BPMN rule stored-text-length reports
    it too, so a diagram and a request are refused in the same words)."""
    return (f"{what} is {len(value):,} characters long; Baton keeps at most {max_len} "
            f"({_shown(value)})")


# ------------------------------------------------------------------------- door parameters

MAX_OFFSET = 2 ** 31 - 1       # firstResult / paging offset: Camunda's Java int
MAX_PAGE = 10_000              # rows one list request returns at most
MAX_PAGE_NUMBER = 1_000_000    # page numbers: x 200 rows a page stays below MAX_OFFSET
MAX_LOCK_MS = 366 * 24 * 3600 * 1000   # a lock (or retry timeout) of at most one year
MIN_RETRIES, MAX_RETRIES = 0, 10_000
TASK_PRIORITY_MIN, TASK_PRIORITY_MAX = 0, 100    # user task priority, as the tasklist shows
PRIORITY_MIN, PRIORITY_MAX = -(2 ** 31), 2 ** 31 - 1   # job / external task priority
MIN_YEAR, MAX_YEAR = 1900, 9000
MAX_NUMBER_TEXT = 40           # characters of a number or date given as text

_LEAVES = (datetime, date, time, timedelta, Decimal, bytes, bytearray)


def check_variables(variables: Mapping[str, Any] | None, *, where: str = "variables") -> None:
    """Refuse variables that cannot be stored the same way on every store, or that would
    hurt the engine later, with an EngineError naming the variable and the path inside it.

    Refused: a non-mapping; names that are not identifiers, start with "_" or are longer
    than MAX_NAME_LEN; containers nested deeper than MAX_DEPTH or holding more than
    MAX_ENTRIES entries; integers outside signed 64 bits (SQL, JSONB and Java clients
    cannot hold them); NaN and infinities (not JSON); strings with NUL (PostgreSQL text and
    JSONB cannot hold U+0000) or lone surrogates (not UTF-8); dict keys that are not
    strings or that spell the codec's tag (they would be read back as something else);
    sets holding containers (unhashable when read back); types no store encodes; more than
    MAX_INSTANCE_BYTES of encoded data in all (estimated from below: the exact size of the
    whole instance is checked where it is encoded, by check_instance_size).

    The common case - a flat mapping of short strings, numbers, booleans and None - is
    one loop with no function call per value: every command calls this."""
    if variables is None:
        return
    if not isinstance(variables, Mapping):
        raise EngineError(f"{where} must be a mapping of names to values, "
                          f"not {type(variables).__name__}")
    if not variables:
        return
    if len(variables) > MAX_ENTRIES:
        raise EngineError(f"{where}: {len(variables)} variables, more than {MAX_ENTRIES}")
    size = 2                           # a lower bound of the encoded size, in bytes
    nested: list[tuple[str, Any]] | None = None
    for name, value in variables.items():
        if type(name) is not str or not name.isidentifier() or name[0] == "_" \
                or len(name) > MAX_NAME_LEN:
            raise EngineError(f"{where}: variable name {name!r:.80} is not allowed: use at "
                              f"most {MAX_NAME_LEN} letters, digits and underscores, not "
                              "starting with a digit or an underscore")
        kind = type(value)
        if kind is str:
            if "\x00" in value or not (value.isascii() or _is_utf8(value)):
                raise EngineError(_bad_text(f"{where}.{name}", value))
            size += len(value) + len(name) + 6
        elif kind is int:
            if not INT64_MIN <= value <= INT64_MAX:
                raise EngineError(_bad_int(f"{where}.{name}"))
            size += len(name) + 4
        elif kind is float:
            if not math.isfinite(value):
                raise EngineError(_bad_float(f"{where}.{name}", value))
            size += len(name) + 4
        elif kind is bool or value is None:
            size += len(name) + 4
        else:
            if nested is None:
                nested = []
            nested.append((name, value))
            size += len(name) + 4
    if nested is not None:
        size = _check_nested(nested, where, size)
    if size > MAX_INSTANCE_BYTES:
        raise EngineError(_too_large(where, size))


def check_instance_size(encoded_size: int, instance_id: str) -> None:
    """Refuse to store an instance whose encoded state exceeds MAX_INSTANCE_BYTES: variables
    that grow step by step (a list appended to in a loop) are stopped at the step that
    would pass the limit, and that step's command rolls back."""
    if encoded_size > MAX_INSTANCE_BYTES:
        raise EngineError(
            f"instance '{instance_id}' would hold {encoded_size} bytes of state, more than "
            f"the limit of {MAX_INSTANCE_BYTES} (BATON_MAX_INSTANCE_BYTES); keep large data "
            "outside the process and store a reference to it")


# ------------------------------------------------------------------------- the walk


class _Path:
    """Where a nested value sits, built only when an error names it."""

    __slots__ = ("parent", "key")

    def __init__(self, parent: _Path | str, key: Any) -> None:
        self.parent = parent
        self.key = key

    def __str__(self) -> str:
        parts: list[str] = []
        node: _Path | str = self
        while isinstance(node, _Path):
            key = node.key
            if isinstance(key, int):
                parts.append(f"[{key}]")
            elif isinstance(key, str) and key.isidentifier():
                parts.append(f".{key}")
            else:
                parts.append(f"[{key!r:.40}]")
            node = node.parent
        return node + "".join(reversed(parts))


def _check_nested(items: list[tuple[str, Any]], where: str, size: int) -> int:
    """Walk the non-plain variables with an explicit stack; return the size estimate.

    The estimate only grows, and by at least one byte per value visited, so the walk stops
    after MAX_INSTANCE_BYTES values even when one list is shared a million times over.
    Plain entries (str, int, float, bool, None) are checked inline, without a call or a
    path object: a path is made only for a container pushed or a value refused."""
    limit = MAX_INSTANCE_BYTES
    stack: list[tuple[Any, int, _Path]] = []
    for name, value in items:
        size = _leaf_or_push(value, _Path(where, name), 1, stack, size)
        while stack:
            container, depth, path = stack.pop()
            if size > limit:
                raise EngineError(_too_large(where, size))
            if len(container) > MAX_ENTRIES:
                raise EngineError(f"{path}: {len(container)} entries, more than {MAX_ENTRIES}")
            if isinstance(container, dict):
                size += _check_keys(container, path)
                entries: Any = container.items()
            elif isinstance(container, set | frozenset):
                for item in container:
                    if isinstance(item, tuple | frozenset):
                        raise EngineError(f"{path}: a set may hold only plain values "
                                          f"(not {type(item).__name__})")
                entries = (("<set item>", item) for item in container)
            else:
                entries = enumerate(container)
            for key, item in entries:
                kind = type(item)
                if kind is str:
                    if "\x00" in item or not (item.isascii() or _is_utf8(item)):
                        raise EngineError(_bad_text(str(_Path(path, key)), item))
                    size += len(item) + 3
                elif kind is int:
                    if not INT64_MIN <= item <= INT64_MAX:
                        raise EngineError(_bad_int(str(_Path(path, key))))
                    size += 2
                elif kind is float:
                    if not math.isfinite(item):
                        raise EngineError(_bad_float(str(_Path(path, key)), item))
                    size += 2
                elif kind is bool or item is None:
                    size += 5
                else:
                    size = _leaf_or_push(item, _Path(path, key), depth + 1, stack, size + 1)
    if size > limit:
        raise EngineError(_too_large(where, size))
    return size


def _check_keys(container: dict[Any, Any], path: _Path) -> int:
    """Dict keys must be text the stores keep, and must not spell the codec's tag (the
    dict would be read back as a date, bytes or a set - or fail to be read at all).
    Returns their share of the encoded size."""
    size = 0
    for key in container:
        if type(key) is not str:
            raise EngineError(f"{path}: key {key!r:.40} is not a string; "
                              "dictionary keys must be strings")
        if key == CODEC_TAG or "\x00" in key or not (key.isascii() or _is_utf8(key)):
            raise EngineError(f"{path}: key {key!r:.40} cannot be stored")
        size += len(key) + 3
    return size


def _leaf_or_push(value: Any, path: _Path, depth: int,
                  stack: list[tuple[Any, int, _Path]], size: int) -> int:
    """Check a scalar and return the size with it added; push a container for later."""
    kind = type(value)
    if kind is str or isinstance(value, str):
        if "\x00" in value or not (value.isascii() or _is_utf8(value)):
            raise EngineError(_bad_text(str(path), value))
        return size + len(value) + 2
    if kind is bool or value is None:
        return size + 4
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise EngineError(_bad_int(str(path)))
        return size + 1
    if isinstance(value, float):
        if not math.isfinite(value):
            raise EngineError(_bad_float(str(path), value))
        return size + 1
    if isinstance(value, dict | list | tuple | set | frozenset):
        if depth > MAX_DEPTH:
            raise EngineError(f"{path}: nested deeper than {MAX_DEPTH} levels")
        stack.append((value, depth, path))
        return size + 2
    if isinstance(value, _LEAVES):
        if isinstance(value, Decimal) and not value.is_finite():
            raise EngineError(f"{path}: the decimal {value} is not a finite number")
        if isinstance(value, bytes | bytearray):
            return size + len(value) * 4 // 3 + 26
        return size + 30
    raise EngineError(f"{path}: a value of type {type(value).__name__} cannot be stored; use "
                      "strings, numbers, booleans, None, lists, dicts, dates, datetimes or "
                      "decimals")


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _bad_text(path: str, value: str) -> str:
    what = "a NUL character (U+0000)" if "\x00" in value else \
        "a lone surrogate (U+D800-U+DFFF), which is not text"
    return f"{path}: the string holds {what} and cannot be stored"


def _bad_int(path: str) -> str:
    return f"{path}: the integer is outside the signed 64-bit range ({INT64_MIN} to {INT64_MAX})"


def _bad_float(path: str, value: float) -> str:
    return f"{path}: {value} is not a finite number and cannot be stored"


def _too_large(where: str, size: int) -> str:
    return (f"{where} are too large: at least {size} bytes encoded, more than the limit of "
            f"{MAX_INSTANCE_BYTES} (BATON_MAX_INSTANCE_BYTES)")


# ------------------------------------------------------------------------- door parsing


def parse_int(value: Any, name: str, lo: int, hi: int) -> int:
    """A whole number from JSON (an integer, or a float with no fraction such as 5.0) or a
    query string ("42"), within lo..hi. Text longer than MAX_NUMBER_TEXT characters is
    refused before `int()` sees it (Python parses long digit strings in quadratic time)."""
    if isinstance(value, bool):
        raise EngineError(f"'{name}' must be a whole number, not {value!r}")
    if isinstance(value, float):
        if not value.is_integer():
            raise EngineError(f"'{name}' must be a whole number, not {value!r}")
        number = int(value)
    elif isinstance(value, int):
        number = value
    elif isinstance(value, str) and len(value) <= MAX_NUMBER_TEXT:
        try:
            number = int(value.strip())
        except ValueError:
            raise EngineError(f"'{name}' must be a whole number, not {value!r}") from None
    else:
        raise EngineError(f"'{name}' must be a whole number, not {_shown(value)}")
    if not lo <= number <= hi:
        raise EngineError(f"'{name}' must be a whole number from {lo} to {hi}, "
                          f"not {_shown(value)}")
    return number


def parse_float(value: Any, name: str, lo: float, hi: float) -> float:
    """A finite number from JSON or text, within lo..hi."""
    if isinstance(value, bool) or not isinstance(value, int | float | str) or (
            isinstance(value, str) and len(value) > MAX_NUMBER_TEXT):
        raise EngineError(f"'{name}' must be a number, not {_shown(value)}")
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise EngineError(f"'{name}' must be a number, not {_shown(value)}") from None
    if not math.isfinite(number) or not lo <= number <= hi:
        raise EngineError(f"'{name}' must be a number from {lo:g} to {hi:g}, "
                          f"not {_shown(value)}")
    return number


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def parse_bool(value: Any, name: str) -> bool:
    """true/false from JSON, or from text (true/false, 1/0, yes/no, on/off; any case)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise EngineError(f"'{name}' must be true or false, not {_shown(value)}")


def parse_datetime(value: Any, name: str) -> datetime:
    """An ISO 8601 date-time ("2026-01-31T17:00:00+01:00", "...Z"; a date alone means its
    midnight; no offset means UTC) as an aware datetime, in years MIN_YEAR..MAX_YEAR.

    Why the bounds: Python's datetime ends at 9999-12-31, and the engine converts every
    date to UTC and adds durations to it (reminders, escalations, locks of up to a year,
    timer cycles). "9999-12-31T23:00:00-05:00" parses, yet its UTC form is past the end,
    and `due + P1D` overflows the day before: both would raise OverflowError inside a
    command. Ending at 9000 leaves ten centuries of room for any such sum. Starting at 1900
    keeps four-digit years (Camunda's date format and strftime need them), leaves room
    below for "due - P30D", and no due date, follow-up or deadline is older."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and len(value) <= MAX_NUMBER_TEXT + 24:
        try:
            parsed = datetime.fromisoformat(value.strip())
        except (ValueError, OverflowError):
            raise EngineError(f"'{name}' must be an ISO 8601 date-time such as "
                              f"2026-01-31T17:00:00Z, not {value!r}") from None
    else:
        raise EngineError(f"'{name}' must be an ISO 8601 date-time such as "
                          f"2026-01-31T17:00:00Z, not {_shown(value)}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return check_datetime(parsed, name)


def check_datetime(value: datetime, name: str) -> datetime:
    """`value` (aware) if it and its UTC form lie in years MIN_YEAR..MAX_YEAR (see
    parse_datetime for why)."""
    try:
        utc_year = value.astimezone(UTC).year
    except (OverflowError, ValueError):
        utc_year = 0
    if not (MIN_YEAR <= value.year <= MAX_YEAR and MIN_YEAR <= utc_year <= MAX_YEAR):
        raise EngineError(f"'{name}' must lie in the years {MIN_YEAR} to {MAX_YEAR}, "
                          f"not {value.isoformat()}")
    return value


def _shown(value: Any) -> str:
    """A value for an error message, cut short: the message echoes untrusted input."""
    if isinstance(value, str):
        return repr(value[:MAX_NUMBER_TEXT] + ("..." if len(value) > MAX_NUMBER_TEXT else ""))
    if isinstance(value, int) and not isinstance(value, bool) and \
            not INT64_MIN <= value <= INT64_MAX:
        return "a number out of range"
    if isinstance(value, int | float | bool) or value is None:
        return repr(value)
    return f"a {type(value).__name__}"
