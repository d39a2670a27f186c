"""A circuit breaker per connector: stop hammering a service that keeps failing.

States, as in Nygard's *Release It!* (and resilience4j, Polly):

- closed: calls go through; failures are counted in a sliding time window.
- open: after `failures` failures within `window` seconds, every call fails fast with
  `CircuitOpen` for `cooldown` seconds. Tasks wait for their retry instead of sending more
  load to a service that is down.
- half-open: when the cooldown ends, ONE trial call is let through (others still fail
  fast). Success closes the breaker; failure opens it for another cooldown.

The breaker lives in the worker process (one per registered connector), like resilience4j:
two `baton worker` processes each trip on their own after N failures. That is enough to
shed load without a shared store round trip on every call.

`clock` is injectable (seconds, monotonic) so tests move time by hand.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from connectors.errors import CircuitOpen

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half-open"


class CircuitBreaker:
    def __init__(self, name: str, failures: int, window: float, cooldown: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if failures < 1:
            raise ValueError("a circuit breaker needs failures >= 1")
        if window <= 0 or cooldown <= 0:
            raise ValueError("a circuit breaker needs a positive window and cooldown")
        self.name = name
        self.failures = failures
        self.window = float(window)
        self.cooldown = float(cooldown)
        self.clock = clock
        self._lock = threading.Lock()
        self._recent: deque[float] = deque()
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> str:
        with self._lock:
            return self._state(self.clock())

    def _state(self, now: float) -> str:
        if self._opened_at is None:
            return CLOSED
        if now - self._opened_at < self.cooldown:
            return OPEN
        return HALF_OPEN

    def before_call(self) -> None:
        """Raise `CircuitOpen` unless a call may go through now."""
        with self._lock:
            now = self.clock()
            state = self._state(now)
            if state == CLOSED:
                return
            if state == HALF_OPEN and not self._trial_running:
                self._trial_running = True
                return
            assert self._opened_at is not None
            remaining = self.cooldown - (now - self._opened_at)
            # during a half-open trial the others wait a short while, not a full cooldown
            raise CircuitOpen(self.name, remaining if remaining > 0 else min(self.cooldown, 1.0))

    def record_success(self) -> None:
        with self._lock:
            self._recent.clear()
            self._opened_at = None
            self._trial_running = False

    def record_failure(self) -> None:
        with self._lock:
            now = self.clock()
            if self._trial_running or self._state(now) != CLOSED:
                self._opened_at = now            # the trial failed: another cooldown
                self._trial_running = False
                return
            self._recent.append(now)
            while self._recent and now - self._recent[0] > self.window:
                self._recent.popleft()
            if len(self._recent) >= self.failures:
                self._opened_at = now
                self._recent.clear()

    def reset(self) -> None:
        self.record_success()
