"""The job worker `baton serve` runs next to the web app: timers fire, connectors run and
async steps continue without a separate `baton worker` process.

It is the engine's own `Worker` (engine/worker.py) polling about once a second, run in a
background thread. Jobs are leased in the store, so `baton worker` processes started later
against the same database share the work safely.
"""

from __future__ import annotations

import logging
import threading

from engine import Engine
from engine.worker import Worker

log = logging.getLogger("baton.worker")


class JobWorkerThread(threading.Thread):
    def __init__(self, engine: Engine, interval: float = 1.0) -> None:
        super().__init__(name="baton-job-worker", daemon=True)
        self.worker = Worker(engine, 1, poll=interval)

    def run(self) -> None:
        try:
            self.worker.run()
        except Exception:  # noqa: BLE001 - logged; the web app keeps serving
            log.exception("the in-process job worker stopped")

    def stop(self, timeout: float | None = 10.0) -> None:
        self.worker.stop()
        if self.is_alive():
            self.join(timeout)
