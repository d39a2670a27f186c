"""Clocks: the one real wall-clock reader, and a manual clock for tests and simulations.

The runtime never reads the time itself; services take a ``clock`` callable instead. Passing
``utc_now`` runs the engine for real; passing a ``ManualClock`` lets a test (or a what-if
simulation) move time forward by hand, so timer behaviour is checked without sleeping.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)


def _to_utc(when: datetime) -> datetime:
    """Naive datetimes are taken as UTC (the engine's only zone); aware ones are converted."""
    if not isinstance(when, datetime):
        raise TypeError(f"expected a datetime, got {type(when).__name__}: {when!r}")
    if when.tzinfo is None or when.utcoffset() is None:
        return when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def utc_now() -> datetime:
    """The real clock (aware UTC); the only place in engine/ that reads the wall clock."""
    return datetime.now(UTC)


class ManualClock:
    """A clock for tests and simulations: a callable returning an aware UTC datetime.

    Time stands still until the test calls ``advance`` or ``set``, so "two days later" is a
    method call rather than a sleep, and every run sees exactly the same timestamps.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = _to_utc(start) if start is not None else DEFAULT_START

    def __call__(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move time by ``delta`` (negative moves back, to simulate clock skew); return new now."""
        if not isinstance(delta, timedelta):
            raise TypeError(f"advance() takes a timedelta, got {type(delta).__name__}: {delta!r}")
        self._now = self._now + delta
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (naive means UTC)."""
        self._now = _to_utc(when)

    def __repr__(self) -> str:
        return f"ManualClock({self._now.isoformat()})"
