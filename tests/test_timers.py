"""Timer definitions: parsing, due-time arithmetic, error messages, and the manual clock."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from engine.testing import DEFAULT_START, ManualClock, utc_now
from engine.timers import (
    TimerError,
    TimerSpec,
    add_duration,
    describe,
    parse_datetime,
    parse_duration,
    parse_timer,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)  # a Thursday
PLUS_TWO = timezone(timedelta(hours=2))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def firings(spec: TimerSpec, now: datetime, limit: int = 10) -> list[datetime]:
    """Drive a timer the way the engine does: first_due, then next_due after each firing."""
    due = spec.first_due(now)
    seen: list[datetime] = []
    while due is not None and len(seen) < limit:
        seen.append(due)
        due = spec.next_due(due, len(seen))
    return seen


def assert_utc(when: datetime) -> None:
    assert when.tzinfo is not None and when.utcoffset() == timedelta(0)


# --------------------------------------------------------------------------- parse_datetime


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-31T09:00:00Z", utc(2026, 1, 31, 9)),
        ("2026-01-31T09:00:00+02:00", utc(2026, 1, 31, 7)),
        ("2026-01-31T09:00:00-05:30", utc(2026, 1, 31, 14, 30)),
        ("2026-01-31T01:00:00+02:00", utc(2026, 1, 30, 23)),  # offset crosses midnight
        ("2026-01-31T09:00:00", utc(2026, 1, 31, 9)),  # naive -> UTC
        ("2026-01-31T09:00", utc(2026, 1, 31, 9)),
        ("2026-01-31", utc(2026, 1, 31)),  # date only -> midnight UTC
        ("2026-01-31T09:00:00.250Z", datetime(2026, 1, 31, 9, 0, 0, 250000, tzinfo=UTC)),
        ("20260131T090000Z", utc(2026, 1, 31, 9)),  # basic format
        ("2026-01-31 09:00:00", utc(2026, 1, 31, 9)),  # space instead of T
        ("  2026-01-31t09:00:00z ", utc(2026, 1, 31, 9)),
    ],
)
def test_parse_datetime(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text)
    assert parsed == expected
    assert_utc(parsed)


@pytest.mark.parametrize("text", ["2026-13-01T00:00:00", "tomorrow", "", "2026-01-01T25:00Z"])
def test_parse_datetime_rejects_with_the_text_and_the_expected_form(text: str) -> None:
    with pytest.raises(TimerError) as caught:
        parse_datetime(text)
    assert repr(text) in str(caught.value)
    assert "ISO 8601 date-time" in str(caught.value)


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT10M", timedelta(minutes=10)),
        ("P2D", timedelta(days=2)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("PT0.5S", timedelta(milliseconds=500)),
        ("PT1H30M", timedelta(minutes=90)),
        ("P1W", timedelta(days=7)),
        ("PT0S", timedelta(0)),
        ("-PT5M", timedelta(minutes=-5)),
        ("pt10m", timedelta(minutes=10)),
        ("P1,5D", timedelta(hours=36)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["P1M", "P1Y", "P1Y2M3D"])
def test_parse_duration_refuses_calendar_units_and_points_to_add_duration(text: str) -> None:
    with pytest.raises(TimerError, match="add_duration"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["P1X", "PT", "P", "10 minutes", "1H", "PT-5M", ""])
def test_parse_duration_rejects_non_iso(text: str) -> None:
    with pytest.raises(TimerError) as caught:
        parse_duration(text)
    assert str(caught.value) == (
        f"duration {text!r} is not an ISO 8601 duration (like PT48H or P2D)"
    )


@pytest.mark.parametrize(
    ("base", "text", "expected"),
    [
        (utc(2026, 1, 31), "P1M", utc(2026, 2, 28)),  # clamped to the month's end
        (utc(2024, 1, 31), "P1M", utc(2024, 2, 29)),  # leap year
        (utc(2026, 3, 31), "P1M", utc(2026, 4, 30)),
        (utc(2024, 2, 29), "P1Y", utc(2025, 2, 28)),
        (utc(2026, 1, 31, 10), "P1M1DT2H", utc(2026, 3, 1, 12)),
        (utc(2026, 12, 15), "P1M", utc(2027, 1, 15)),  # year rollover
        (utc(2026, 1, 1), "PT48H", utc(2026, 1, 3)),
        (datetime(2026, 1, 31), "P1M", utc(2026, 2, 28)),  # naive base -> UTC
        (datetime(2026, 1, 31, 1, tzinfo=PLUS_TWO), "PT1H", utc(2026, 1, 31, 0)),
        # months are added to the UTC date: 01:00+02:00 on Jan 31 is still Jan 30 in UTC
        (datetime(2026, 1, 31, 1, tzinfo=PLUS_TWO), "P1M", utc(2026, 2, 28, 23)),
    ],
)
def test_add_duration_uses_the_calendar(base: datetime, text: str, expected: datetime) -> None:
    result = add_duration(base, text)
    assert result == expected
    assert_utc(result)


def test_durations_are_plain_utc_hours_across_european_dst_change() -> None:
    # 2026-03-29 is when Europe moves its clocks; the engine works in UTC, so a day is 24h.
    assert add_duration(utc(2026, 3, 28, 12), "P1D") == utc(2026, 3, 29, 12)
    assert add_duration(utc(2026, 3, 28, 12), "P1D") - utc(2026, 3, 28, 12) == timedelta(hours=24)


@pytest.mark.parametrize("text", ["P1.5M", "P0.5Y"])
def test_fractional_months_are_refused(text: str) -> None:
    with pytest.raises(TimerError, match="fractional months or years"):
        add_duration(NOW, text)


def test_add_duration_beyond_the_calendar_is_a_timer_error() -> None:
    with pytest.raises(TimerError, match="outside the supported dates"):
        add_duration(utc(9999, 12, 1), "P1M")


# --------------------------------------------------------------------------- parse_timer


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("timeDate", "date"),
        ("date", "date"),
        ("timeDuration", "duration"),
        ("duration", "duration"),
        ("timeCycle", "cycle"),
        ("cycle", "cycle"),
    ],
)
def test_parse_timer_kind_names(kind: str, expected: str) -> None:
    text = {"date": "2026-02-01", "duration": "PT1H", "cycle": "R/PT1H"}[expected]
    assert parse_timer(kind, text).kind == expected


def test_unknown_kind_is_named() -> None:
    with pytest.raises(TimerError, match="'timeLater' is not one of timeDate"):
        parse_timer("timeLater", "PT1H")


@pytest.mark.parametrize("text", ["${dueIn}", "PT${hours}H", "#{later}"])
def test_expressions_must_be_evaluated_first(text: str) -> None:
    with pytest.raises(TimerError, match="evaluate it before parsing"):
        parse_timer("timeDuration", text)


@pytest.mark.parametrize("kind", ["timeDate", "timeDuration", "timeCycle"])
def test_empty_text_names_the_kind(kind: str) -> None:
    with pytest.raises(TimerError, match=f"^{kind} is empty; expected"):
        parse_timer(kind, "   ")


def test_bad_duration_message_names_text_and_form() -> None:
    with pytest.raises(TimerError) as caught:
        parse_timer("timeDuration", "P1X")
    assert str(caught.value) == (
        "timeDuration 'P1X' is not an ISO 8601 duration (like PT48H or P2D)"
    )


def test_bad_date_message_names_text_and_form() -> None:
    with pytest.raises(TimerError, match=r"^timeDate 'next monday' is not an ISO 8601 date-time"):
        parse_timer("timeDate", "next monday")


def test_timer_error_is_a_value_error() -> None:
    assert issubclass(TimerError, ValueError)


@pytest.mark.parametrize("text", ['"PT1H"', "'PT1H'", "  'PT1H'  "])
def test_python_string_literals_from_spiff_diagrams_are_accepted(text: str) -> None:
    spec = parse_timer("timeDuration", text)
    assert spec.text == "PT1H"
    assert spec.first_due(NOW) == utc(2026, 1, 1, 1)


def test_specs_are_frozen_and_compare_by_value() -> None:
    spec = parse_timer("timeCycle", "R3/PT10M")
    assert spec == parse_timer("cycle", " R3/PT10M ")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.repetitions = 5  # type: ignore[misc]


# --------------------------------------------------------------------------- timeDate


def test_date_timer_fires_once_at_its_date_converted_to_utc() -> None:
    spec = parse_timer("timeDate", "2026-02-01T10:00:00+02:00")
    assert spec.repetitions == 1
    assert spec.first_due(NOW) == utc(2026, 2, 1, 8)
    assert spec.next_due(utc(2026, 2, 1, 8), 1) is None


def test_date_in_the_past_is_due_at_once() -> None:
    spec = parse_timer("timeDate", "2025-06-01T00:00:00Z")
    due = spec.first_due(NOW)
    assert due == utc(2025, 6, 1)
    assert due is not None and due <= NOW


# --------------------------------------------------------------------------- timeDuration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT10M", utc(2026, 1, 1, 0, 10)),
        ("P2D", utc(2026, 1, 3)),
        ("P1DT2H", utc(2026, 1, 2, 2)),
        ("PT0.5S", datetime(2026, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)),
        ("P1M", utc(2026, 2, 1)),
        ("P1Y", utc(2027, 1, 1)),
        ("PT0S", NOW),  # zero fires at once
        ("-PT5M", NOW),  # negative fires at once, never in the past
        ("-P1M", NOW),
    ],
)
def test_duration_timer_first_due(text: str, expected: datetime) -> None:
    spec = parse_timer("timeDuration", text)
    assert spec.repetitions == 1
    due = spec.first_due(NOW)
    assert due == expected
    assert due is not None
    assert_utc(due)
    assert spec.next_due(due, 1) is None


def test_duration_month_from_the_31st_lands_on_the_months_end() -> None:
    spec = parse_timer("timeDuration", "P1M")
    assert spec.first_due(utc(2026, 1, 31, 9)) == utc(2026, 2, 28, 9)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 1, 1, 12), utc(2026, 1, 1, 13)),  # naive now -> UTC
        (datetime(2026, 1, 1, 12, tzinfo=PLUS_TWO), utc(2026, 1, 1, 11)),
    ],
)
def test_duration_timer_normalises_now_to_utc(now: datetime, expected: datetime) -> None:
    due = parse_timer("timeDuration", "PT1H").first_due(now)
    assert due == expected
    assert due is not None
    assert_utc(due)


# --------------------------------------------------------------------------- ISO cycles


def test_bounded_cycle_fires_its_repetitions_then_stops() -> None:
    spec = parse_timer("timeCycle", "R3/PT10M")
    assert spec.repetitions == 3
    assert firings(spec, NOW) == [
        utc(2026, 1, 1, 0, 10),
        utc(2026, 1, 1, 0, 20),
        utc(2026, 1, 1, 0, 30),
    ]
    assert spec.next_due(utc(2026, 1, 1, 0, 30), 3) is None
    assert spec.next_due(utc(2026, 1, 1, 0, 30), 4) is None


def test_unbounded_cycle_never_runs_out() -> None:
    spec = parse_timer("timeCycle", "R/PT1H")
    assert spec.repetitions is None
    assert spec.first_due(NOW) == utc(2026, 1, 1, 1)
    assert spec.next_due(utc(2026, 3, 1), 10_000) == utc(2026, 3, 1, 1)


def test_cycle_next_due_rejects_a_firing_count_below_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        parse_timer("timeCycle", "R3/PT10M").next_due(NOW, 0)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # started before the anchor: all five, starting at the anchor
        (utc(2025, 12, 31), [utc(2026, 1, d, 9) for d in range(1, 6)]),
        # started exactly on an occurrence: that occurrence counts
        (utc(2026, 1, 1, 9), [utc(2026, 1, d, 9) for d in range(1, 6)]),
        # started mid-way: missed occurrences are skipped, the grid is kept
        (utc(2026, 1, 3, 10), [utc(2026, 1, 4, 9), utc(2026, 1, 5, 9)]),
        # started after the last occurrence: never fires
        (utc(2026, 1, 5, 9, 0, 1), []),
    ],
)
def test_cycle_with_start_keeps_its_grid(now: datetime, expected: list[datetime]) -> None:
    spec = parse_timer("timeCycle", "R5/2026-01-01T09:00:00Z/P1D")
    assert spec.repetitions == 5
    assert firings(spec, now) == expected


def test_cycle_with_start_does_not_drift_over_short_months() -> None:
    spec = parse_timer("timeCycle", "R4/2026-01-31T00:00:00Z/P1M")
    assert firings(spec, NOW) == [
        utc(2026, 1, 31),
        utc(2026, 2, 28),
        utc(2026, 3, 31),
        utc(2026, 4, 30),
    ]


def test_unbounded_cycle_with_start_long_ago_finds_the_next_tick() -> None:
    spec = parse_timer("timeCycle", "R/2020-01-01T00:00:00Z/PT1S")
    now = datetime(2026, 1, 1, 12, 0, 0, 300000, tzinfo=UTC)
    assert spec.first_due(now) == utc(2026, 1, 1, 12, 0, 1)
    assert spec.next_due(utc(2026, 1, 1, 12, 0, 1), 1) == utc(2026, 1, 1, 12, 0, 2)


def test_unbounded_hourly_cycle_from_a_start_date() -> None:
    spec = parse_timer("timeCycle", "R/2026-01-01T00:00:00Z/PT1H")
    assert spec.repetitions is None
    assert firings(spec, utc(2026, 1, 1, 5, 30), limit=3) == [
        utc(2026, 1, 1, 6),
        utc(2026, 1, 1, 7),
        utc(2026, 1, 1, 8),
    ]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (NOW, [utc(2026, 1, 1, 4), utc(2026, 1, 1, 5)]),  # the last firing is at the end
        (utc(2026, 1, 1, 4, 30), [utc(2026, 1, 1, 5)]),
        (utc(2026, 1, 1, 5, 1), []),
    ],
)
def test_cycle_with_duration_and_end_counts_back_from_the_end(
    now: datetime, expected: list[datetime]
) -> None:
    spec = parse_timer("timeCycle", "R2/PT1H/2026-01-01T05:00:00Z")
    assert firings(spec, now) == expected


def test_unbounded_cycle_until_an_end_stops_at_the_end() -> None:
    spec = parse_timer("timeCycle", "R/PT1H/2026-01-01T03:00:00Z")
    assert firings(spec, utc(2026, 1, 1, 0, 30)) == [
        utc(2026, 1, 1, 1),
        utc(2026, 1, 1, 2),
        utc(2026, 1, 1, 3),
    ]


def test_cycle_with_start_and_end_repeats_the_gap() -> None:
    spec = parse_timer("timeCycle", "R3/2026-01-01T00:00:00Z/2026-01-01T00:30:00Z")
    assert firings(spec, NOW) == [utc(2026, 1, 1), utc(2026, 1, 1, 0, 30), utc(2026, 1, 1, 1)]


def test_cycle_start_with_offset_is_converted() -> None:
    spec = parse_timer("timeCycle", "R2/2026-01-01T09:00:00+02:00/PT12H")
    assert firings(spec, NOW) == [utc(2026, 1, 1, 7), utc(2026, 1, 1, 19)]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("PT10M", "is not an ISO 8601 repeating interval"),
        ("R0/PT1H", "at least 1"),
        ("R3/PT0S", "longer than zero"),
        ("R3/-PT1H", "longer than zero"),
        ("R3/PT1X", "'PT1X' is not an ISO 8601 duration"),
        ("R3/2026-01-01T00:00:00Z", "is not an ISO 8601 duration"),
        ("R3/someday/P1D", "the start 'SOMEDAY' is not an ISO 8601 date-time"),
        ("R3/PT1H/someday", "the end 'SOMEDAY' is not an ISO 8601 date-time"),
        ("R3/2026-01-02T00:00Z/2026-01-01T00:00Z", "is not after the start"),
        ("R3/PT1H/2026-01-01/P1D", "is not an ISO 8601 repeating interval"),
        ("every day", "or a cron expression"),
        ("61 * * * *", "not a valid cron expression"),
        ("0 0 12 ? * 0", "day-of-week 0 is out of range"),
        ("0 0 12 ? * 8", "day-of-week 8 is out of range"),
    ],
)
def test_bad_cycles_are_explained(text: str, fragment: str) -> None:
    with pytest.raises(TimerError) as caught:
        parse_timer("timeCycle", text)
    message = str(caught.value)
    assert message.startswith(f"timeCycle {text!r}")
    assert fragment in message


# --------------------------------------------------------------------------- cron


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # unix, 5 fields
        ("*/5 * * * *", [utc(2026, 1, 1, 0, 5), utc(2026, 1, 1, 0, 10), utc(2026, 1, 1, 0, 15)]),
        ("0 9 * * 1-5", [utc(2026, 1, 1, 9), utc(2026, 1, 2, 9), utc(2026, 1, 5, 9)]),
        # Quartz / Camunda 7, seconds first
        ("0 0/5 * * * ?", [utc(2026, 1, 1, 0, 5), utc(2026, 1, 1, 0, 10), utc(2026, 1, 1, 0, 15)]),
        (
            "*/10 * * * * ?",
            [utc(2026, 1, 1, 0, 0, 10), utc(2026, 1, 1, 0, 0, 20), utc(2026, 1, 1, 0, 0, 30)],
        ),
        (
            "30 0/5 * * * ?",
            [utc(2026, 1, 1, 0, 0, 30), utc(2026, 1, 1, 0, 5, 30), utc(2026, 1, 1, 0, 10, 30)],
        ),
        # Quartz numbers days 1=SUN..7=SAT: 2-6 is Monday to Friday
        ("0 0 12 ? * 2-6", [utc(2026, 1, 1, 12), utc(2026, 1, 2, 12), utc(2026, 1, 5, 12)]),
        ("0 0 12 ? * MON-FRI", [utc(2026, 1, 1, 12), utc(2026, 1, 2, 12), utc(2026, 1, 5, 12)]),
        ("0 0 12 ? * 1", [utc(2026, 1, 4, 12), utc(2026, 1, 11, 12), utc(2026, 1, 18, 12)]),
        ("0 0 12 ? * 6L", [utc(2026, 1, 30, 12), utc(2026, 2, 27, 12), utc(2026, 3, 27, 12)]),
        ("0 0 12 ? * 6#3", [utc(2026, 1, 16, 12), utc(2026, 2, 20, 12), utc(2026, 3, 20, 12)]),
        ("0 0 12 L * ?", [utc(2026, 1, 31, 12), utc(2026, 2, 28, 12), utc(2026, 3, 31, 12)]),
        ("0 0 12 1 1 ? 2027/2", [utc(2027, 1, 1, 12), utc(2029, 1, 1, 12), utc(2031, 1, 1, 12)]),
        ("@daily", [utc(2026, 1, 2), utc(2026, 1, 3), utc(2026, 1, 4)]),
    ],
)
def test_cron_schedules(text: str, expected: list[datetime]) -> None:
    spec = parse_timer("timeCycle", text)
    assert spec.repetitions is None
    assert firings(spec, NOW, limit=3) == expected


def test_cron_first_due_is_strictly_after_now() -> None:
    spec = parse_timer("timeCycle", "0 0 * * *")
    assert spec.first_due(utc(2026, 1, 1)) == utc(2026, 1, 2)
    assert spec.first_due(datetime(2026, 1, 1, 23, 59, 59, 999999, tzinfo=UTC)) == utc(2026, 1, 2)


def test_cron_is_read_in_utc_across_dst_changes() -> None:
    spec = parse_timer("timeCycle", "0 0 9 * * ?")
    assert firings(spec, utc(2026, 3, 28), limit=3) == [
        utc(2026, 3, 28, 9),
        utc(2026, 3, 29, 9),
        utc(2026, 3, 30, 9),
    ]


def test_cron_with_a_year_field_runs_out() -> None:
    spec = parse_timer("timeCycle", "0 0 0 1 1 ? 2026")
    assert spec.first_due(utc(2025, 6, 1)) == utc(2026, 1, 1)
    assert spec.next_due(utc(2026, 1, 1), 1) is None
    assert spec.first_due(utc(2026, 6, 1)) is None


def test_cron_results_are_utc_even_for_offset_now() -> None:
    due = parse_timer("timeCycle", "0 * * * *").first_due(
        datetime(2026, 1, 1, 10, 30, tzinfo=PLUS_TWO)
    )
    assert due == utc(2026, 1, 1, 9)
    assert due is not None
    assert_utc(due)


# --------------------------------------------------------------------------- describe


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("timeDate", "2026-02-01T10:00:00+02:00", "at 2026-02-01 08:00 UTC"),
        ("timeDate", "2026-02-01T10:00:30Z", "at 2026-02-01 10:00:30 UTC"),
        ("timeDuration", "PT10M", "after 10 minutes"),
        ("timeDuration", "PT1H", "after 1 hour"),
        ("timeDuration", "P1DT2H", "after 1 day 2 hours"),
        ("timeDuration", "P1M", "after 1 month"),
        ("timeDuration", "PT0.5S", "after 0.5 seconds"),
        ("timeDuration", "PT0S", "immediately"),
        ("timeDuration", "-PT5M", "immediately"),
        ("timeCycle", "R3/PT10M", "every 10 minutes, 3 times"),
        ("timeCycle", "R1/PT10M", "every 10 minutes, once"),
        ("timeCycle", "R/PT1H", "every hour"),
        (
            "timeCycle",
            "R5/2026-01-01T09:00:00Z/P1D",
            "every day from 2026-01-01 09:00 UTC, 5 times",
        ),
        (
            "timeCycle",
            "R2/PT1H/2026-01-01T00:00:00Z",
            "every hour until 2026-01-01 00:00 UTC, 2 times",
        ),
        ("timeCycle", "0 0/5 * * * ?", "on cron schedule '0 0/5 * * * ?' (UTC)"),
    ],
)
def test_describe(kind: str, text: str, expected: str) -> None:
    assert describe(parse_timer(kind, text)) == expected


# --------------------------------------------------------------------------- clocks


def test_manual_clock_defaults_to_new_year_2026_utc() -> None:
    clock = ManualClock()
    assert clock() == DEFAULT_START == utc(2026, 1, 1)
    assert_utc(clock())


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (datetime(2026, 5, 1, 8), utc(2026, 5, 1, 8)),  # naive -> UTC
        (datetime(2026, 5, 1, 8, tzinfo=PLUS_TWO), utc(2026, 5, 1, 6)),
    ],
)
def test_manual_clock_start_is_utc(start: datetime, expected: datetime) -> None:
    clock = ManualClock(start)
    assert clock() == expected
    assert_utc(clock())


def test_manual_clock_stands_still_until_moved() -> None:
    clock = ManualClock()
    assert clock() == clock()
    assert clock.advance(timedelta(hours=48)) == utc(2026, 1, 3)
    assert clock() == utc(2026, 1, 3)
    assert clock.advance(timedelta(minutes=-30)) == utc(2026, 1, 2, 23, 30)
    clock.set(datetime(2027, 1, 1, 12))
    assert clock() == utc(2027, 1, 1, 12)
    assert_utc(clock())


def test_manual_clock_rejects_non_timedelta_steps() -> None:
    with pytest.raises(TypeError, match="timedelta"):
        ManualClock().advance(60)  # type: ignore[arg-type]


def test_manual_clock_drives_a_cycle() -> None:
    clock = ManualClock()
    spec = parse_timer("timeCycle", "R2/PT30M")
    due = spec.first_due(clock())
    assert due is not None
    clock.advance(timedelta(minutes=30))
    assert due <= clock()
    assert spec.next_due(due, 1) == clock() + timedelta(minutes=30)


def test_utc_now_is_aware_utc_and_current() -> None:
    before = datetime.now(UTC)
    now = utc_now()
    after = datetime.now(UTC)
    assert_utc(now)
    assert before <= now <= after
