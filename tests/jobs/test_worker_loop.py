"""The worker's own loop, run in this process: polling while idle, stopping, giving back
leased jobs it will not run, and surviving a failing database or job.

Why here and not only with real `baton worker` processes (test_worker.py): coverage does
not follow subprocesses, and the error paths (acquire failing, a job that cannot be
recorded, a release that fails) are hard to provoke from outside. Each case drives
`Worker.run` on a memory store with timers that are due at once.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from engine.jobs import JobExecutor
from engine.service import Engine
from engine.worker import Worker, install_signal_handlers
from tests.runtime.conftest import bpmn, flows

TICK = bpmn(
    '<startEvent id="s"/><intermediateCatchEvent id="wait"><timerEventDefinition>'
    '<timeDuration>PT0S</timeDuration></timerEventDefinition></intermediateCatchEvent>'
    '<userTask id="after"/><endEvent id="e"/>' + flows("s>wait", "wait>after", "after>e"),
    pid="tick")


@pytest.fixture
def engine() -> Engine:
    e = Engine()
    e.deploy(TICK.encode())
    return e


def started(engine: Engine, n: int) -> list[str]:
    return [engine.start("tick") for _ in range(n)]


def fired(engine: Engine, ids: list[str]) -> int:
    return sum(engine.instance(i).waiting == ["after"] for i in ids)


def in_thread(worker: Worker, until_idle: bool = False) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(worker.run(until_idle)), daemon=True)
    thread.start()
    return thread, out


def wait_until(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.parametrize(("kw", "message"), [
    ({"concurrency": 0}, "concurrency must be at least 1"),
    ({"poll": 0}, "poll and lease must be positive"),
    ({"batch": 0}, "batch at least 1"),
    ({"lease": timedelta(0)}, "poll and lease must be positive"),
])
def test_bad_settings_are_refused(engine: Engine, kw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Worker(engine, **kw)


def test_a_running_worker_picks_up_jobs_created_later_and_stops_on_request(
        engine: Engine) -> None:
    """Not until_idle: the threads poll while idle, run jobs that become due, and return
    once stop() is called."""
    worker = Worker(engine, concurrency=2, poll=0.02)
    thread, out = in_thread(worker)
    time.sleep(0.1)                                  # idle polls first
    ids = started(engine, 3)
    wait_until(lambda: fired(engine, ids) == 3)
    worker.stop()
    thread.join(10)
    assert not thread.is_alive() and out[0].ran == 3 and out[0].failed == 0


def test_stopping_gives_back_the_leased_jobs_not_yet_run(engine: Engine,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A stop between two jobs of a batch: the job at hand finishes, the rest of the
    batch is released at once (not left leased until the lease expires)."""
    ids = started(engine, 4)
    worker = Worker(engine, concurrency=1, poll=0.02, batch=4)
    real = JobExecutor.execute
    released: list[int] = []
    real_release = JobExecutor.release

    def execute_then_stop(self: JobExecutor, job: Any) -> bool:
        ok = real(self, job)
        worker.stop()
        return ok

    def counting_release(self: JobExecutor, jobs: list[Any]) -> None:
        released.append(len(jobs))
        real_release(self, jobs)

    monkeypatch.setattr(JobExecutor, "execute", execute_then_stop)
    monkeypatch.setattr(JobExecutor, "release", counting_release)
    stats = worker.run()
    assert stats.ran == 1 and released == [3]
    assert fired(engine, ids) == 1
    assert all(j.lock_owner is None for j in engine.jobs()), "a job is still leased"
    monkeypatch.undo()
    assert Worker(engine, poll=0.02).run(until_idle=True).ran == 3


def test_a_failing_release_is_logged_and_the_leases_expire(engine: Engine,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture
                                                            ) -> None:
    started(engine, 2)
    worker = Worker(engine, concurrency=1, poll=0.02, batch=2)
    real = JobExecutor.execute

    def execute_then_stop(self: JobExecutor, job: Any) -> bool:
        ok = real(self, job)
        worker.stop()
        return ok

    def broken_release(self: JobExecutor, jobs: list[Any]) -> None:
        raise ConnectionError("database went away")

    monkeypatch.setattr(JobExecutor, "execute", execute_then_stop)
    monkeypatch.setattr(JobExecutor, "release", broken_release)
    with caplog.at_level(logging.ERROR, logger="baton.worker"):
        assert worker.run().ran == 1
    assert "could not release 1 leased job(s)" in caplog.text


def test_acquire_failures_are_retried_with_backoff(engine: Engine,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    """A database hiccup while leasing does not kill the thread: it waits and tries again
    (the failure is counted and logged), then runs the jobs."""
    ids = started(engine, 2)
    real = JobExecutor.acquire
    calls = {"n": 0}

    def flaky(self: JobExecutor, limit: int) -> list[Any]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("database went away")
        return real(self, limit)

    monkeypatch.setattr(JobExecutor, "acquire", flaky)
    with caplog.at_level(logging.ERROR, logger="baton.worker"):
        stats = Worker(engine, poll=0.01).run(until_idle=True)
    assert stats.errors == 1 and stats.ran == 2 and fired(engine, ids) == 2
    assert "acquiring jobs failed (1 in a row)" in caplog.text


def test_a_job_that_cannot_be_recorded_is_counted_and_left_to_its_lease(
        engine: Engine, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    started(engine, 1)

    def broken(self: JobExecutor, job: Any) -> bool:
        raise RuntimeError("store refused the write")

    monkeypatch.setattr(JobExecutor, "execute", broken)
    with caplog.at_level(logging.ERROR, logger="baton.worker"):
        stats = Worker(engine, poll=0.01).run(until_idle=True)
    assert stats.errors == 1 and stats.ran == 0
    assert "could not be run or recorded" in caplog.text


@pytest.fixture
def restore_signals() -> Iterator[None]:
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)


def test_sigterm_asks_the_worker_to_stop(engine: Engine, restore_signals: None) -> None:
    """The handler `baton worker` installs only asks for a stop; the threads then end."""
    worker = Worker(engine, concurrency=2, poll=0.02)
    install_signal_handlers(worker)
    thread, out = in_thread(worker)
    time.sleep(0.05)
    os.kill(os.getpid(), signal.SIGTERM)
    wait_until(worker.stopping.is_set)
    thread.join(10)
    assert not thread.is_alive() and out[0].ran == 0
