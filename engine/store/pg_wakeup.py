"""Waking idle job workers when a job they can run is committed, instead of at their next
poll.

Why: an idle `Worker` thread sleeps about `poll` seconds (0.5 s by default) between
acquisitions, so an asynchronous step, a connector call or a timer due now that a command
commits waited on average poll/2 before any worker noticed it: latency every async
boundary of every instance pays, and which a shorter poll only trades for more queries.

Two pieces, both behind `Store.job_waiter()` (engine/store/protocol.py, `JobWaiter`):

- `Wakeup`: the in-process fan-out. Waiting threads sleep on one `threading.Condition`
  with a generation counter; `wake()` releases all of them. A thread takes a `ticket()`
  before it looks for jobs and waits `since` that ticket, so a wake that lands between
  "found nothing" and "start waiting" is not lost. On SQLite and MariaDB the SQL store
  wakes it after a commit in this process that added a job due now (`baton serve`'s worker
  thread then runs the async steps its own web requests create at once); jobs committed
  by other processes are found by polling, as before. The memory store's is woken only by
  `Worker.stop()`.
- `PgWakeup`: PostgreSQL, across processes and machines. A command whose transaction adds
  (or frees) a job that is due now appends `NOTIFY_SQL` to the batch that carries its
  COMMIT (`SqlTx._batch`): no extra round trip, and PostgreSQL delivers a notification only
  when its transaction commits, never for one rolled back. Each worker process holds ONE
  dedicated autocommit connection per store that LISTENs and fans every notification out
  through `Wakeup`. When that connection drops it reconnects (backing off while the server
  is away) and wakes everyone once, since notifications may have been missed meanwhile.

Polling stays the fallback for everything a notification does not cover: a lost
notification, a listener that is reconnecting, a timer that comes due later, a job freed
by an expired lease.

The channel: one Baton database lives in one PostgreSQL database and schema (the URL may
set `search_path`), and LISTEN/NOTIFY are already scoped to a database, so the channel
names the schema: `baton_jobs_` and 16 hex digits of the SHA-256 of `current_schema()`.
The server computes it on both sides (`CHANNEL_EXPR`), so the notifying transaction needs
no state and no query of its own, and any schema name gives a valid identifier well under
PostgreSQL's 63-byte limit (a name too long would fail the COMMIT's batch).

LISTEN needs a session of its own: behind PgBouncer in transaction mode point the workers'
URL at the server (or a session-mode pool), or they simply poll.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.store.records import JobRecord

log = logging.getLogger("baton.worker")

# the channel, computed by the server from the session's schema (see the module docstring)
CHANNEL_EXPR = ("'baton_jobs_' || left(encode(sha256(convert_to("
                "coalesce(current_schema(), ''), 'UTF8')), 'hex'), 16)")
# appended before the COMMIT of a transaction that added a job due now (SqlTx._batch)
NOTIFY_SQL = f"SELECT pg_notify({CHANNEL_EXPR}, '')"

# Set in a thread that drains jobs (Worker._loop): the jobs its commands create are not
# announced. It acquires again itself right after, and what a job creates is mostly its own
# instance's next step, which no other worker may take meanwhile (one job per instance at
# a time). PostgreSQL serializes the commits of notifying transactions database-wide: two
# `baton worker` processes announcing every step ran 1.2-1.5x one, against 1.9-2.0x quiet.
DRAINING = threading.local()


def draining() -> bool:
    """True in a thread that is draining jobs (see DRAINING)."""
    return getattr(DRAINING, "on", False)


# a store sends at most one NOTIFY per ANNOUNCE_GAP seconds (SqlStore.may_announce), and a
# listener wakes its workers again RECHECK_AFTER each notification, so a job committed in
# the gap after an announced one is looked for all the same
ANNOUNCE_GAP = 0.02
RECHECK_AFTER = 0.06
# a job counts as "due now" for the wake-up when due within this much: covers the clocks
# of the committing process and the workers' machines differing a little (a job due
# later is found by polling, like a timer)
WAKE_MARGIN = timedelta(milliseconds=200)


def wakes_workers(rec: JobRecord) -> bool:
    """True when a worker could acquire `rec` right away (`rules.JOB_ACQUIRABLE`, give or
    take WAKE_MARGIN): committing it is worth waking the idle workers for."""
    if rec.suspended or rec.retries <= 0 or rec.lock_owner is not None:
        return False
    due = rec.due if rec.due.tzinfo is not None else rec.due.replace(tzinfo=UTC)
    return due <= datetime.now(UTC) + WAKE_MARGIN


TICK = 1.0              # seconds the listener waits for notifications before looking up
HEALTH_EVERY = 30.0     # an idle listener checks its connection this often (SELECT 1)
RETRY_FIRST = 0.5       # seconds before reconnecting, doubling up to RETRY_MAX
RETRY_MAX = 30.0


class Wakeup:
    """In-process wake-ups for idle worker threads (see the module docstring)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._generation = 0

    def ticket(self) -> int:
        """Take before looking for jobs; `wait(..., since=ticket)` then returns at once if
        a wake came in between."""
        return self._generation

    def wait(self, timeout: float, since: int | None = None) -> bool:
        """Sleep up to `timeout` seconds; True when woken (a job may be due), False when
        the time ran out."""
        with self._cond:
            start = self._generation if since is None else since
            return self._cond.wait_for(lambda: self._generation != start, timeout)

    def wake(self) -> None:
        """Wake every thread waiting now (and any that waits with an older ticket)."""
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def close(self) -> None:
        """Nothing to release in-process."""


def psycopg_has_timed_notifies() -> bool:
    """`Connection.notifies(timeout=, stop_after=)` arrived in psycopg 3.2; with an older
    psycopg the workers poll (the listener would need a busy loop)."""
    import psycopg

    major, minor = (int(p) for p in psycopg.__version__.split(".")[:2])
    return (major, minor) >= (3, 2)


class PgWakeup(Wakeup):
    """One LISTENing connection (its own thread) whose notifications wake this process's
    idle workers. `conninfo`: keyword arguments for `psycopg.connect` (the store's own, so
    it reaches the same database and schema)."""

    def __init__(self, conninfo: dict[str, Any], *, tick: float = TICK,
                 health_every: float = HEALTH_EVERY,
                 recheck_after: float = RECHECK_AFTER) -> None:
        super().__init__()
        self.conninfo = dict(conninfo)
        self.tick = tick
        self.recheck_after = recheck_after
        self.health_every = health_every
        self.channel: str | None = None
        self.backend_pid: int | None = None     # the listening session (diagnostics, tests)
        self.connects = 0                       # sessions opened so far (1 + reconnections)
        self.listening = threading.Event()      # set while a session is LISTENing
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name="baton-job-listener",
                                        daemon=True)
        self._thread.start()

    def close(self, wait: float = 0.0) -> None:
        """Stop listening: the thread closes its connection within `tick` seconds (join it
        for up to `wait` seconds). Waiting threads are woken once."""
        self._closing.set()
        self.wake()
        if wait > 0:
            self._thread.join(wait)

    # ---------------------------------------------------------------- the listener thread
    def _run(self) -> None:
        delay = RETRY_FIRST
        while not self._closing.is_set():
            before = self.connects
            try:
                self._session()
            except Exception as e:  # noqa: BLE001 - any failure: the workers poll meanwhile
                if self._closing.is_set():
                    break
                if self.connects > before:      # it was up: retry quickly, say so once
                    delay = RETRY_FIRST
                level = logging.WARNING if delay == RETRY_FIRST else logging.DEBUG
                log.log(level, "job notifications: %s; workers poll until the listener "
                               "reconnects (retrying in %.1fs)", _first_line(e), delay)
                self._closing.wait(delay)
                delay = min(RETRY_MAX, delay * 2)

    def _session(self) -> None:
        """Connect, LISTEN, wake everyone (notifications may have been missed while not
        listening), then hand every notification on until the connection fails or
        `close()` is called."""
        import psycopg

        # TCP keepalives and a connect timeout unless the URL says otherwise: a listener
        # must notice a dead peer without a query of its own to fail
        kw = {"connect_timeout": 10, "keepalives": 1, "keepalives_idle": 30,
              "keepalives_interval": 10, "keepalives_count": 3, **self.conninfo}
        conn = psycopg.connect(autocommit=True, **kw)
        try:
            row = conn.execute(f"SELECT {CHANNEL_EXPR}").fetchone()
            assert row is not None
            channel = str(row[0])
            # the name is 'baton_jobs_' and hex digits: a plain identifier
            conn.execute(f'LISTEN "{channel}"')
            self.channel = channel
            self.backend_pid = conn.info.backend_pid
            self.connects += 1
            if self.connects > 1:
                log.info("job notifications: listening again on %s", channel)
            self.listening.set()
            self.wake()
            checked = time.monotonic()
            while not self._closing.is_set():
                got = False
                for _ in conn.notifies(timeout=self.tick, stop_after=1):
                    got = True
                if got:
                    self.wake()
                    # once more when the jobs committed unannounced in the gap after
                    # this one are committed too (ANNOUNCE_GAP); a notification
                    # meanwhile ends the wait early and is handled the same way
                    for _ in conn.notifies(timeout=self.recheck_after, stop_after=1):
                        pass
                    self.wake()
                    checked = time.monotonic()
                elif time.monotonic() - checked >= self.health_every:
                    # a silently dead connection (a machine gone, a NAT dropping idle
                    # flows) never becomes readable: ask, so it fails and is replaced
                    conn.execute("SELECT 1")
                    checked = time.monotonic()
        finally:
            self.listening.clear()
            conn.close()


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


__all__ = ["ANNOUNCE_GAP", "CHANNEL_EXPR", "DRAINING", "RECHECK_AFTER", "NOTIFY_SQL", "PgWakeup", "Wakeup", "draining",
           "psycopg_has_timed_notifies", "wakes_workers"]
