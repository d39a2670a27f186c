"""`baton worker`: a process that runs jobs (timers, async continuations, connector calls,
task timeouts and escalations) from a shared store.

Start as many as you like, on as many machines, against one PostgreSQL database: each job is
leased to one worker thread at a time, and a crashed worker's leases expire and are taken
over. SIGTERM or SIGINT stops a worker gracefully: each thread finishes the job it is
running, gives back the jobs it leased but has not started, and exits.

An idle thread sleeps on the store's job waiter (`Store.job_waiter()`, see
engine/store/pg_wakeup.py) rather than a plain timer: on PostgreSQL a command that commits
a job due now wakes every waiting worker at once, in any process on any machine, through
LISTEN/NOTIFY; on SQLite and MariaDB this process's own commits do. Polling every `poll`
seconds stays the fallback for whatever no notification covers (timers that come due
later, expired leases, a listener that is reconnecting). `wakeup=False` (`baton worker
--no-wakeup`) polls only.

Connector handlers must be registered in the worker process: installed packages declare
them as `baton.connectors` entry points, and `BATON_CONNECTOR_MODULES=mod1,mod2` names
modules to import (their `@connector` decorators register them).
"""

from __future__ import annotations

import logging
import random
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from engine.jobs import LEASE, JobExecutor
from engine.store.pg_wakeup import DRAINING, Wakeup

if TYPE_CHECKING:
    from engine.service import Engine
    from engine.store.protocol import JobWaiter

log = logging.getLogger("baton.worker")


@dataclass
class WorkerStats:
    ran: int = 0
    failed: int = 0
    errors: int = 0             # passes that failed outright (database down, ...)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, ok: bool) -> None:
        with self.lock:
            self.ran += 1
            if not ok:
                self.failed += 1


class Worker:
    """`concurrency` threads, each leasing up to `batch` jobs at a time and sleeping about
    `poll` seconds when nothing is due, or until the store's job waiter says a job was
    committed (`wakeup`, the default)."""

    def __init__(self, engine: Engine, concurrency: int = 1, *, poll: float = 0.5,
                 lease: timedelta = LEASE, batch: int = 10, wakeup: bool = True) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if poll <= 0 or batch < 1 or lease.total_seconds() <= 0:
            raise ValueError("poll and lease must be positive and batch at least 1")
        self.engine = engine
        self.concurrency = concurrency
        self.poll = poll
        self.lease = lease
        self.batch = batch
        self.stopping = threading.Event()
        self.stats = WorkerStats()
        # shared with every worker of this store; without wakeup a private one that only
        # stop() wakes, so both ways sleep the same way
        self.waiter: JobWaiter = engine.store.job_waiter() if wakeup else Wakeup()

    def stop(self) -> None:
        """Ask every thread to stop after its current job (idle ones wake at once)."""
        self.stopping.set()
        self.waiter.wake()

    def run(self, until_idle: bool = False) -> WorkerStats:
        """Run until `stop()` (or, with `until_idle`, until no job is due for any thread)."""
        threads = [threading.Thread(target=self._loop, args=(i, until_idle),
                                    name=f"baton-worker-{i}", daemon=True)
                   for i in range(self.concurrency)]
        for t in threads:
            t.start()
        try:
            while any(t.is_alive() for t in threads):
                for t in threads:
                    t.join(0.2)
        except KeyboardInterrupt:
            self.stop()
            for t in threads:
                t.join()
        return self.stats

    def _loop(self, index: int, until_idle: bool) -> None:
        executor = JobExecutor(self.engine, f"{self.engine.worker_id}#{index}", self.lease)
        failures = 0
        waiter = self.waiter
        while not self.stopping.is_set():
            ticket = waiter.ticket()    # a wake from now on ends the wait below at once
            try:
                jobs = executor.acquire(self.batch)
                failures = 0
            except Exception:  # noqa: BLE001 - a database hiccup must not kill the worker
                failures += 1
                self.stats.errors += 1
                log.exception("acquiring jobs failed (%d in a row)", failures)
                self.stopping.wait(min(30.0, self.poll * 2 ** min(failures, 6)))
                continue
            if not jobs:
                if until_idle:
                    return      # the others run until they find nothing either
                # jitter: workers started together should not poll in lockstep
                waiter.wait(self.poll * random.uniform(0.5, 1.5), since=ticket)
                continue
            for n, job in enumerate(jobs):
                if self.stopping.is_set():
                    self._give_back(executor, jobs[n:])
                    return
                DRAINING.on = True      # what this job creates, this loop finds itself
                try:
                    self.stats.add(executor.execute(job))
                except Exception:  # noqa: BLE001
                    self.stats.errors += 1
                    log.exception("job %s could not be run or recorded; its lease will "
                                  "expire and another worker retries it", job.id)
                finally:
                    DRAINING.on = False

    def _give_back(self, executor: JobExecutor, jobs: list[Any]) -> None:
        try:
            executor.release(jobs)
        except Exception:  # noqa: BLE001
            log.exception("could not release %d leased job(s); they free up when their "
                          "leases expire", len(jobs))


def install_signal_handlers(worker: Worker) -> None:
    """SIGTERM/SIGINT: stop gracefully (a second signal does not force anything: the threads
    finish the job at hand, which is bounded by the connector timeouts)."""

    def handler(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping after the current jobs", signal.Signals(signum).name)
        worker.stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def serve(engine: Engine, concurrency: int = 1, *, poll: float = 0.5,
          lease: timedelta = LEASE, batch: int = 10, until_idle: bool = False,
          wakeup: bool = True) -> WorkerStats:
    """Run a worker in this (main) thread until SIGTERM/SIGINT; what `baton worker` does."""
    worker = Worker(engine, concurrency, poll=poll, lease=lease, batch=batch,
                    wakeup=wakeup and not until_idle)
    install_signal_handlers(worker)
    started = time.monotonic()
    log.info("worker %s: %d thread(s), lease %ss, polling every %.2fs%s", engine.worker_id,
             concurrency, lease.total_seconds(), poll,
             " (woken at once for new jobs)" if wakeup and not until_idle else "")
    stats = worker.run(until_idle=until_idle)
    log.info("worker %s stopped after %.1fs: %d job(s) run, %d failed", engine.worker_id,
             time.monotonic() - started, stats.ran, stats.failed)
    return stats
