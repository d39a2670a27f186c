"""Long polling of `POST /engine-rest/external-task/fetchAndLock`, observed from outside.

Why: the first long-poll tests started the instance right after starting the request's
thread, so the task usually existed before the request first looked; with long polling
switched off they still passed. Here the request is seen waiting first (its first attempt
came back empty and it has not answered), then the task is created, and the answer must
come after that and promptly: with a poll interval of 30 s, only the engine's wake-up can
answer within a second or two. A task created by another engine (another process sharing
the database, whose events this server never hears) is found by the interval poll. A poll
that finds nothing waits its whole timeout and answers an empty list.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from engine import Engine
from tests.engine_rest.conftest import Api, create_app
from tests.engine_rest.diagrams import PAYMENT

LOCK = 60_000
SLOW_INTERVAL = 30.0          # seconds between polls: far longer than any answer we accept
PROMPT = 3.0                  # seconds from the task's creation to the answer, at most


class Attempts:
    """Counts the fetch attempts a request makes (the engine call the endpoint polls with)
    and signals the first one, so a test knows the request is under way."""

    def __init__(self, engine: Engine) -> None:
        self.times: list[float] = []
        self.first = threading.Event()
        inner: Callable[..., Any] = engine.fetch_and_lock_with_variables

        def counted(*args: Any, **kw: Any) -> Any:
            got = inner(*args, **kw)
            self.times.append(time.monotonic())
            self.first.set()
            return got

        engine.fetch_and_lock_with_variables = counted  # type: ignore[method-assign]


class Poll(threading.Thread):
    """One fetchAndLock request on its own thread; `answered_at` is when its reply came."""

    def __init__(self, api: Api, timeout_ms: int, topic: str = "payment") -> None:
        super().__init__(daemon=True)
        self.api = api
        self.body = {"workerId": "poller", "maxTasks": 1, "asyncResponseTimeout": timeout_ms,
                     "topics": [{"topicName": topic, "lockDuration": LOCK}]}
        self.reply: tuple[int, Any] | None = None
        self.answered_at = 0.0

    def run(self) -> None:
        self.reply = self.api.post("/external-task/fetchAndLock", self.body)
        self.answered_at = time.monotonic()


def waiting_poll(engine: Engine, interval: float, timeout_ms: int = 20_000) -> tuple[Poll,
                                                                                     Attempts]:
    """A request that has looked once, found nothing, and is still waiting."""
    app = create_app(engine)
    app.config["BATON_REST_POLL_INTERVAL"] = interval
    attempts = Attempts(engine)
    poll = Poll(Api(app), timeout_ms)
    poll.start()
    assert attempts.first.wait(10), "the request never tried to fetch"
    time.sleep(0.3)
    assert poll.is_alive(), f"the request answered without waiting: {poll.reply}"
    return poll, attempts


def test_a_waiting_poll_answers_as_soon_as_the_task_is_created(engine: Engine) -> None:
    engine.deploy(PAYMENT)
    poll, attempts = waiting_poll(engine, SLOW_INTERVAL)
    assert len(attempts.times) == 1       # the interval is long: it sleeps on the wake-up
    created = time.monotonic()
    iid = engine.start("payment", {"price": 2, "quantity": 2})
    poll.join(PROMPT + 5)
    assert not poll.is_alive(), "the request did not answer when the task appeared"
    assert poll.reply is not None
    status, tasks = poll.reply
    assert status == 200 and [t["processInstanceId"] for t in tasks] == [iid]
    assert poll.answered_at >= created
    assert poll.answered_at - created < PROMPT, (
        f"answered {poll.answered_at - created:.1f} s after the task appeared")


def test_a_task_created_by_another_engine_is_found_by_the_interval_poll(
        engine: Engine) -> None:
    """Another process on the same database creates the task: this server hears no event,
    so its next poll (every 0.05 s here) must find it."""
    engine.deploy(PAYMENT)
    other = Engine(store=engine.store)
    poll, attempts = waiting_poll(engine, 0.05)
    created = time.monotonic()
    iid = other.start("payment", {"price": 2, "quantity": 2})
    poll.join(PROMPT + 5)
    assert poll.reply is not None, "the request never found the task"
    status, tasks = poll.reply
    assert status == 200 and [t["processInstanceId"] for t in tasks] == [iid]
    assert created <= poll.answered_at < created + PROMPT
    assert len(attempts.times) > 2        # it kept looking while it waited


def test_a_poll_that_finds_nothing_waits_its_timeout_and_answers_empty(
        engine: Engine) -> None:
    app = create_app(engine)
    attempts = Attempts(engine)
    began = time.monotonic()
    status, tasks = Api(app).post("/external-task/fetchAndLock", {
        "workerId": "w", "maxTasks": 1, "asyncResponseTimeout": 600,
        "topics": [{"topicName": "nothing-here", "lockDuration": LOCK}]})
    waited = time.monotonic() - began
    assert (status, tasks) == (200, [])
    assert 0.6 <= waited < 0.6 + PROMPT, f"waited {waited:.2f} s for a 600 ms timeout"
    assert len(attempts.times) > 2        # polled every 0.05 s meanwhile


@pytest.mark.parametrize("timeout", [None, 0])
def test_without_a_timeout_the_answer_is_immediate(engine: Engine, timeout: int | None) -> None:
    """No asyncResponseTimeout (or 0) is a plain fetch: one attempt, no waiting."""
    app = create_app(engine)
    app.config["BATON_REST_POLL_INTERVAL"] = SLOW_INTERVAL
    attempts = Attempts(engine)
    body: dict[str, Any] = {"workerId": "w", "maxTasks": 1,
                            "topics": [{"topicName": "payment", "lockDuration": LOCK}]}
    if timeout is not None:
        body["asyncResponseTimeout"] = timeout
    began = time.monotonic()
    assert Api(app).post("/external-task/fetchAndLock", body) == (200, [])
    assert time.monotonic() - began < PROMPT
    assert len(attempts.times) == 1
