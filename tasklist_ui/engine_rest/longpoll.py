"""Long polling for `fetchAndLock`: wait for work instead of answering "nothing" at once.

A request that finds no task waits up to `asyncResponseTimeout`, trying again whenever the
engine in this process reports a new external task (an engine listener wakes a condition
variable), and otherwise every `BATON_REST_POLL_INTERVAL` seconds (default 0.5) - tasks
also become fetchable when a lock expires, a retry timeout ends, or another process (a
`baton worker`, a second server) creates them, none of which this process hears about.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
NEW_TASK_EVENTS = frozenset({"external_task_created", "external_task_unlocked"})

_waiters: weakref.WeakKeyDictionary[Any, Waiter] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


class Waiter:
    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.seq = 0

    def on_event(self, event: str, payload: Any = None) -> None:
        if event in NEW_TASK_EVENTS:
            with self.cond:
                self.seq += 1
                self.cond.notify_all()

    def wait(self, seen: int, timeout: float) -> None:
        with self.cond:
            if self.seq == seen:
                self.cond.wait(timeout)


def waiter_for(engine: Any) -> Waiter:
    """The engine's waiter, created and subscribed to its listeners on first use."""
    with _lock:
        w = _waiters.get(engine)
        if w is None:
            w = _waiters[engine] = Waiter()
            engine.listeners.append(w.on_event)
        return w


def poll(engine: Any, attempt: Callable[[], list[T]], timeout: float,
         interval: float) -> list[T]:
    """Call `attempt` until it returns something or `timeout` seconds pass."""
    w = waiter_for(engine)
    deadline = time.monotonic() + max(0.0, timeout)
    while True:
        seen = w.seq
        got = attempt()
        remaining = deadline - time.monotonic()
        if got or remaining <= 0:
            return got
        w.wait(seen, min(interval, remaining))
