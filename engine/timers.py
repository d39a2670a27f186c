"""BPMN timer definitions (timeDate, timeDuration, timeCycle) turned into due times.

Pure: no I/O and no wall clock. Whoever starts a timer passes ``now``; whoever fires a cycle
passes the previous due time. That keeps timers testable with a manual clock and lets the
runtime stay a function of (graph, state, trigger).

All results are aware UTC datetimes. The engine has no notion of a local zone, so there is no
daylight-saving ambiguity: ``P1D`` is always 24 hours and cron fields are read in UTC. Dates
written with an offset are honoured and converted; naive ones are taken as UTC.

Supported, as drawn in Camunda Modeler, bpmn.io and SpiffWorkflow diagrams:

- timeDate: ISO 8601 date-time (``2026-01-01T09:00:00Z``, ``...+02:00``, naive) or a date.
- timeDuration: ISO 8601 duration (``PT10M``, ``P1DT2H``, ``PT0.5S``, ``P1M``); zero or
  negative fires at once.
- timeCycle: ISO 8601 repeating intervals ``R3/PT10M``, ``R/PT1H``, ``R5/<start>/P1D``,
  ``R2/PT1H/<end>``, ``R3/<start>/<end>``; cron: 5-field unix (``*/5 * * * *``), 6-7 field
  Quartz / Camunda 7 with seconds first (``0 0/5 * * * ?``, optional year), and ``@daily``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Literal

import isodate
from croniter import CroniterError, croniter

TimerKind = Literal["date", "duration", "cycle"]
Interval = timedelta | isodate.Duration

_KINDS: dict[str, TimerKind] = {
    "timedate": "date",
    "date": "date",
    "timeduration": "duration",
    "duration": "duration",
    "timecycle": "cycle",
    "cycle": "cycle",
}
_BPMN_NAME: dict[TimerKind, str] = {
    "date": "timeDate",
    "duration": "timeDuration",
    "cycle": "timeCycle",
}
_DURATION_HINT = "an ISO 8601 duration (like PT48H or P2D)"
_DATETIME_HINT = "an ISO 8601 date-time (like 2026-01-31T09:00:00Z) or date (like 2026-01-31)"
_CYCLE_HINT = (
    "an ISO 8601 repeating interval (like R3/PT10M, R/PT1H or R5/2026-01-01T09:00:00Z/P1D) "
    "or a cron expression (like '*/5 * * * *' or '0 0/5 * * * ?')"
)
# A fixed base used only to check that a calendar duration can be added at all.
_PROBE_BASE = datetime(2000, 1, 31, tzinfo=UTC)
_SPACE_SEPARATED_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2}) +(\d)")
_ISO_CYCLE = re.compile(r"^R(\d*)/(.+)$")
_QUARTZ_DAY_NAMES = re.compile(r"^[A-Z]{3}$")


class TimerError(ValueError):
    """A timer definition that cannot be understood; the message names the text and the fix."""


# --------------------------------------------------------------------------- small parsers


def _to_utc(when: datetime) -> datetime:
    if not isinstance(when, datetime):
        raise TypeError(f"expected a datetime, got {type(when).__name__}: {when!r}")
    if when.tzinfo is None or when.utcoffset() is None:
        return when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def _datetime_or_none(text: str) -> datetime | None:
    text = _SPACE_SEPARATED_DATETIME.sub(r"\1T\2", text.strip().upper())
    try:
        if "T" in text:
            return _to_utc(isodate.parse_datetime(text))
        return datetime.combine(isodate.parse_date(text), time(), tzinfo=UTC)
    except (isodate.ISO8601Error, ValueError, TypeError, OverflowError):
        return None


def parse_datetime(text: str) -> datetime:
    """ISO 8601 date-time as aware UTC. Naive means UTC; a date alone means midnight UTC."""
    return _parse_datetime(text, "date-time")


def _parse_datetime(text: str, label: str) -> datetime:
    parsed = _datetime_or_none(text)
    if parsed is None:
        raise TimerError(f"{label} {text!r} is not {_DATETIME_HINT}")
    return parsed


def _is_calendar(interval: Interval) -> bool:
    return isinstance(interval, isodate.Duration) and bool(interval.years or interval.months)


def _shift(base: datetime, interval: Interval, times: int = 1) -> datetime:
    """``base + times * interval``, with months and years added on the calendar.

    Multiplying first (instead of adding ``times`` steps) avoids drift: Jan 31 + 2 x P1M is
    Mar 31, not Mar 28.
    """
    return base + interval * times


def _parse_interval(text: str, label: str) -> Interval:
    cleaned = text.strip().upper()
    if not re.search(r"\d", cleaned):
        raise TimerError(f"{label} {text!r} is not {_DURATION_HINT}")
    try:
        interval = isodate.parse_duration(cleaned)
    except (isodate.ISO8601Error, ValueError, TypeError, OverflowError):
        raise TimerError(f"{label} {text!r} is not {_DURATION_HINT}") from None
    if isinstance(interval, isodate.Duration):
        if Decimal(interval.years) % 1 or Decimal(interval.months) % 1:
            raise TimerError(
                f"{label} {text!r} has fractional months or years, whose length is undefined; "
                "write whole months/years or use days (like P45D)"
            )
        if not (interval.years or interval.months):
            interval = interval.tdelta
        else:
            try:
                _PROBE_BASE + interval
            except (ValueError, OverflowError) as exc:
                raise TimerError(f"{label} {text!r} cannot be added to a date: {exc}") from None
    return interval


def parse_duration(text: str) -> timedelta:
    """ISO 8601 duration of fixed length. Months and years have no fixed length: use
    ``add_duration(base, text)`` for those, which adds them on the calendar."""
    interval = _parse_interval(text, "duration")
    if _is_calendar(interval):
        raise TimerError(
            f"duration {text!r} contains months or years, whose length depends on the start "
            "date; use add_duration(base, text)"
        )
    return interval


def add_duration(base: datetime, text: str) -> datetime:
    """``base`` plus an ISO 8601 duration, months and years on the calendar (Jan 31 + P1M is
    Feb 28 or 29), in UTC."""
    return _add(_to_utc(base), _parse_interval(text, "duration"), text, "duration")


def _add(base: datetime, interval: Interval, text: str, label: str) -> datetime:
    try:
        return _to_utc(base + interval)
    except (OverflowError, ValueError):
        raise TimerError(
            f"{label} {text!r} added to {base.isoformat()} is outside the supported dates"
        ) from None


# --------------------------------------------------------------------------- cron


def _quartz_day_of_week(field: str, text: str) -> str:
    """Quartz / Camunda 7 number days 1 (SUN) to 7 (SAT); croniter, like unix, 0 (SUN) to 6.

    Also rewrites Quartz's "last Friday of the month" ``6L`` into croniter's ``L5``.
    """

    def day(token: str) -> str:
        if not token.isdigit():
            return token  # a name like MON or '*' means the same in both dialects
        number = int(token)
        if not 1 <= number <= 7:
            raise TimerError(
                f"timeCycle {text!r}: day-of-week {token} is out of range; "
                "Quartz-style cron numbers days 1 (SUN) to 7 (SAT), or use names like MON-FRI"
            )
        return str(number - 1)

    def item(part: str) -> str:
        if part == "L":
            return "6"  # Quartz: plain L in day-of-week is the last day of the week, SAT
        if part.endswith("L") and part[:-1].isdigit():
            return "L" + day(part[:-1])
        base, slash, step = part.partition("/")
        if "#" in base:
            weekday, _, nth = base.partition("#")
            base = f"{day(weekday)}#{nth}"
        else:
            base = "-".join(day(bound) for bound in base.split("-"))
        return base + slash + step

    return ",".join(item(part) for part in field.split(","))


def _normalise_cron(text: str) -> tuple[str, bool] | None:
    """Return (croniter expression, seconds_first), or None if ``text`` is not cron-shaped."""
    cleaned = text.strip()
    if cleaned.startswith("@"):
        return cleaned.lower(), False
    fields = cleaned.upper().split()
    if len(fields) == 5:
        return " ".join("*" if f == "?" else f for f in fields), False
    if len(fields) in (6, 7):
        fields = ["*" if f == "?" else f for f in fields]
        fields[5] = _quartz_day_of_week(fields[5], text)
        return " ".join(fields), True
    return None


def _cron_after(expression: str, seconds_first: bool, after: datetime) -> datetime | None:
    """The first cron match strictly after ``after``, or None if the schedule has ended (a year
    field in the past, or no match within croniter's 50-year horizon)."""
    try:
        schedule = croniter(expression, after, second_at_beginning=seconds_first)
        return _to_utc(schedule.get_next(datetime))
    except CroniterError:
        return None


# --------------------------------------------------------------------------- spec


@dataclass(frozen=True)
class TimerSpec:
    """A parsed timer. Build it with ``parse_timer``; the fields after ``repetitions`` hold
    the parsed parts so due times are computed without re-parsing."""

    kind: TimerKind
    text: str
    repetitions: int | None = 1  # None = unbounded (R/... or cron)
    at: datetime | None = None  # timeDate
    interval: Interval | None = None  # timeDuration and ISO cycles
    start: datetime | None = None  # R n/<start>/...: occurrences at start + k * interval
    end: datetime | None = None  # R n/<interval>/<end>: the last occurrence is at end
    cron: str | None = None  # normalised for croniter
    cron_seconds_first: bool = False

    def first_due(self, now: datetime) -> datetime | None:
        """When a timer started at ``now`` first fires; None if it never will (an anchored
        cycle whose occurrences are all in the past). A timeDate in the past is returned
        as-is: it is due at once."""
        now = _to_utc(now)
        if self.kind == "date":
            return self.at
        if self.kind == "duration":
            assert self.interval is not None
            return max(_add(now, self.interval, self.text, "timeDuration"), now)
        if self.cron is not None:
            return _cron_after(self.cron, self.cron_seconds_first, now)
        if self.start is not None or self.end is not None:
            return self._occurrence_from(now, inclusive=True)
        assert self.interval is not None
        return _add(now, self.interval, self.text, "timeCycle")

    def next_due(self, previous_due: datetime, fired: int) -> datetime | None:
        """For cycles, the due time after the ``fired``-th firing (which was due at
        ``previous_due``); None once the repetitions are used up. Date and duration timers
        fire once, so always None.

        Anchored cycles (with a start or end date) stay on their grid: occurrences missed
        while the engine was down are skipped, not fired in a burst (as Camunda does).
        """
        if self.kind != "cycle":
            return None
        if fired < 1:
            raise ValueError(f"fired counts firings so far and must be at least 1, got {fired}")
        if self.repetitions is not None and fired >= self.repetitions:
            return None
        previous_due = _to_utc(previous_due)
        if self.cron is not None:
            return _cron_after(self.cron, self.cron_seconds_first, previous_due)
        if self.start is not None or self.end is not None:
            return self._occurrence_from(previous_due, inclusive=False)
        assert self.interval is not None
        return _add(previous_due, self.interval, self.text, "timeCycle")

    # Occurrences of an anchored cycle are a monotone sequence; find the first one at/after a
    # moment by exponential + binary search, so a PT1S cycle started years ago costs ~60 steps.

    def _occurrence_from(self, moment: datetime, inclusive: bool) -> datetime | None:
        assert self.interval is not None

        def reached(when: datetime | None) -> bool:
            return when is None or (when >= moment if inclusive else when > moment)

        if self.start is not None:
            # occurrence k = start + k * interval, k = 0 .. repetitions-1
            def forward(k: int) -> datetime | None:
                try:
                    return _shift(self.start, self.interval, k)
                except (OverflowError, ValueError):
                    return None  # beyond year 9999: treat as "never"

            k = _first_true(lambda k: reached(forward(k)), self.repetitions)
            return None if k is None else forward(k)

        assert self.end is not None

        # occurrence j steps back from end = end - j * interval, j = 0 .. repetitions-1;
        # the first one not yet reached is the largest j that still reaches ``moment``.
        def backward(j: int) -> datetime | None:
            try:
                return _shift(self.end, -self.interval, j)
            except (OverflowError, ValueError):
                return None  # before year 1: certainly before ``moment``

        def before(j: int) -> bool:
            when = backward(j)
            return when is None or not reached(when)

        j = _first_true(before, self.repetitions)
        if j is None:  # every occurrence is still ahead: the earliest is the first
            assert self.repetitions is not None
            return backward(self.repetitions - 1)
        return None if j == 0 else backward(j - 1)


def _first_true(predicate: Callable[[int], bool], limit: int | None) -> int | None:
    """Smallest k in [0, limit) with predicate(k), for a predicate that is False then True;
    None if there is none. ``limit`` None means unbounded (the predicate must turn True)."""
    last = None if limit is None else limit - 1
    if predicate(0):
        return 0
    low, high = 0, 1  # invariant: predicate(low) is False
    while True:
        if last is not None and high >= last:
            high = last
            if high <= low or not predicate(high):
                return None
            break
        if predicate(high):
            break
        low, high = high, high * 2
    while high - low > 1:  # predicate(low) False, predicate(high) True
        middle = (low + high) // 2
        if predicate(middle):
            high = middle
        else:
            low = middle
    return high


# --------------------------------------------------------------------------- parse_timer


def _strip_literal_quotes(text: str) -> str:
    """SpiffWorkflow diagrams write timers as Python string literals ("PT1H"): accept those."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1].strip()
    return text


def parse_timer(kind: str, text: str) -> TimerSpec:
    """Parse a BPMN timer. ``kind`` is timeDate, timeDuration or timeCycle (or date, duration,
    cycle). Expressions (``${...}``) must be evaluated by the caller first."""
    resolved = _KINDS.get(str(kind).strip().lower())
    if resolved is None:
        raise TimerError(f"timer kind {kind!r} is not one of timeDate, timeDuration, timeCycle")
    label = _BPMN_NAME[resolved]
    if not isinstance(text, str):
        raise TimerError(f"{label} must be text, got {type(text).__name__}: {text!r}")
    if "${" in text or "#{" in text:
        raise TimerError(
            f"{label} {text!r} contains an expression; evaluate it before parsing the timer"
        )
    cleaned = _strip_literal_quotes(text.strip())
    if not cleaned:
        raise TimerError(f"{label} is empty; expected {_hint(resolved)}")
    if resolved == "date":
        return TimerSpec("date", cleaned, at=_parse_datetime(cleaned, label))
    if resolved == "duration":
        return TimerSpec("duration", cleaned, interval=_parse_interval(cleaned, label))
    return _parse_cycle(cleaned)


def _hint(kind: TimerKind) -> str:
    return {"date": _DATETIME_HINT, "duration": _DURATION_HINT, "cycle": _CYCLE_HINT}[kind]


def _parse_cycle(text: str) -> TimerSpec:
    iso = _ISO_CYCLE.match(text.upper())
    if iso is None:
        cron = _normalise_cron(text)
        if cron is None:
            raise TimerError(f"timeCycle {text!r} is not {_CYCLE_HINT}")
        expression, seconds_first = cron
        if not croniter.is_valid(expression, second_at_beginning=seconds_first):
            raise TimerError(f"timeCycle {text!r} is not a valid cron expression")
        return TimerSpec(
            "cycle",
            text,
            repetitions=None,
            cron=expression,
            cron_seconds_first=seconds_first,
        )

    count_text, rest = iso.groups()
    repetitions = int(count_text) if count_text else None
    if repetitions is not None and repetitions < 1:
        raise TimerError(f"timeCycle {text!r}: the repetition count after R must be at least 1")
    parts = rest.split("/")
    start = end = None
    if len(parts) == 1:
        interval = _cycle_interval(parts[0], text)
    elif len(parts) == 2:
        first, second = parts
        if _looks_like_duration(first):  # R n/<duration>/<end>
            interval = _cycle_interval(first, text)
            end = _cycle_date(second, text, "end")
        elif _looks_like_duration(second):  # R n/<start>/<duration>
            start = _cycle_date(first, text, "start")
            interval = _cycle_interval(second, text)
        else:  # R n/<start>/<end>: the interval is the gap between them
            start = _cycle_date(first, text, "start")
            end_of_first = _cycle_date(second, text, "end")
            if end_of_first <= start:
                raise TimerError(f"timeCycle {text!r}: the end {second!r} is not after the start")
            interval = end_of_first - start
    else:
        raise TimerError(f"timeCycle {text!r} is not {_CYCLE_HINT}")
    return TimerSpec(
        "cycle", text, repetitions=repetitions, interval=interval, start=start, end=end
    )


def _looks_like_duration(part: str) -> bool:
    return part.strip().lstrip("-+").startswith("P")


def _cycle_interval(part: str, text: str) -> Interval:
    if not _looks_like_duration(part):
        raise TimerError(f"timeCycle {text!r}: {part!r} is not {_DURATION_HINT}")
    interval = _parse_interval(part, f"timeCycle {text!r}: interval")
    if _shift(_PROBE_BASE, interval) <= _PROBE_BASE:
        raise TimerError(
            f"timeCycle {text!r}: the interval {part!r} must be longer than zero, "
            "or the timer would fire endlessly at once"
        )
    return interval


def _cycle_date(part: str, text: str, role: str) -> datetime:
    parsed = _datetime_or_none(part)
    if parsed is None:
        raise TimerError(f"timeCycle {text!r}: the {role} {part!r} is not {_DATETIME_HINT}")
    return parsed


# --------------------------------------------------------------------------- describe


def _interval_words(interval: Interval) -> list[str]:
    parts: list[tuple[float | int, str]] = []
    if isinstance(interval, isodate.Duration):
        parts += [(int(interval.years), "year"), (int(interval.months), "month")]
        interval = interval.tdelta
    seconds_total = interval.total_seconds()
    sign = "-" if seconds_total < 0 else ""
    whole = abs(interval)
    hours, remainder = divmod(whole.seconds, 3600)
    minutes, seconds = divmod(remainder, 60)
    fractional_seconds = seconds + whole.microseconds / 1_000_000
    parts += [(whole.days, "day"), (hours, "hour"), (minutes, "minute")]
    parts.append((fractional_seconds if whole.microseconds else seconds, "second"))
    words = [f"{sign}{_number(n)} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n]
    return words


def _number(value: float | int) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _moment(when: datetime) -> str:
    pattern = "%Y-%m-%d %H:%M:%S UTC" if when.second or when.microsecond else "%Y-%m-%d %H:%M UTC"
    return when.strftime(pattern)


def _times(repetitions: int | None) -> str:
    if repetitions is None:
        return ""
    return ", once" if repetitions == 1 else f", {repetitions} times"


def describe(spec: TimerSpec) -> str:
    """A short human phrase for the tasklist UI, e.g. "every 10 minutes, 3 times"."""
    if spec.kind == "date":
        assert spec.at is not None
        return f"at {_moment(spec.at)}"
    if spec.kind == "duration":
        assert spec.interval is not None
        words = _interval_words(spec.interval)
        if not words or words[0].startswith("-"):
            return "immediately"
        return "after " + " ".join(words)
    if spec.cron is not None:
        return f"on cron schedule '{spec.text}' (UTC)"
    assert spec.interval is not None
    words = _interval_words(spec.interval)
    every = " ".join(words)
    if len(words) == 1 and every.startswith("1 "):
        every = every[2:].removesuffix("s")  # "every hour", not "every 1 hour"
    phrase = f"every {every}"
    if spec.start is not None:
        phrase += f" from {_moment(spec.start)}"
    if spec.end is not None and spec.start is None:
        phrase += f" until {_moment(spec.end)}"
    return phrase + _times(spec.repetitions)
