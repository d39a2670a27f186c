"""The job executor: acquire due jobs with a lease, run them, retry with backoff, and open
an incident when retries run out.

A job is leased (`lock_owner` until `lock_expires`) in one short transaction; any number of
executors, in one process or many, can poll the same store (PostgreSQL hands each job to one
of them with `FOR UPDATE SKIP LOCKED`). A lease that expires — its worker crashed or hangs —
makes the job available again, so nothing is lost; every command that acts on a job first
checks that its executor still owns it, and the instance's optimistic lock makes sure a
trigger is applied once even if two executors race.

Connector calls run outside any transaction (they may take seconds and talk to the
world); their result is committed in a new transaction only while this executor still owns
the job's lease, so a worker that was presumed dead cannot overwrite a successor's work.
Each call carries an idempotency key that is the same on every retry of one job and differs
for the next call of the task (a loop), so services can deduplicate: delivery is
at-least-once.

Failures: the diagram's `failedJobRetryTimeCycle` (e.g. `R5/PT5M`: five more attempts, five
minutes apart) or, for connectors, the connector policy's backoff, else an exponential
backoff from ten seconds. When retries run out the job is suspended and an incident (with
the error and stack) is opened; `retry_incident` resumes it. A connector whose circuit
breaker is open postpones the job without burning a retry.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from connectors.errors import BpmnError, CircuitOpen
from connectors.registry import ConnectorContext
from engine.limits import check_variables
from engine.runtime import triggers as tr
from engine.store.records import IncidentRecord, JobRecord

if TYPE_CHECKING:
    from connectors.registry import Registration
    from engine.commands.context import CommandContext
    from engine.engine import Engine

log = logging.getLogger("baton.jobs")
LEASE = timedelta(minutes=5)
DEFAULT_BACKOFF = 10.0        # seconds before the first retry of a non-connector job
MAX_BACKOFF = 3600.0


def idempotency_key(job: JobRecord) -> str:
    """Stable for all attempts of one job; a loop that calls the task again makes a new job
    (a new key), so a deduplicating service does not swallow the second call."""
    return f"{job.instance_id}:{job.activity_id}:{job.id}"


def _cycle(text: str | None) -> Any:
    if not text:
        return None
    from engine.timers import TimerError, parse_timer

    try:
        return parse_timer("timeCycle", text)
    except TimerError:
        log.warning("failedJobRetryTimeCycle %r is not a time cycle; using the default", text)
        return None


def backoff(job: JobRecord, now: datetime, reg: Registration | None = None) -> datetime:
    """When to try a failed job again (`job.attempts` counts the failures so far): the
    diagram's failedJobRetryTimeCycle, else the connector policy's delay, else exponential."""
    spec = _cycle(job.retry_cycle)
    if spec is not None:
        due = spec.first_due(now)
        if due is not None:
            return due
    if reg is not None:
        return now + timedelta(seconds=reg.policy.delay(job.attempts))
    seconds = min(MAX_BACKOFF, DEFAULT_BACKOFF * (2 ** max(0, job.attempts - 1)))
    return now + timedelta(seconds=seconds)


def retries_left_after_failure(job: JobRecord) -> int:
    """`R<n>/...` gives a job n retries after its first failure (Camunda's reading);
    otherwise each failure uses one of `job.retries` (which counts all attempts)."""
    spec = _cycle(job.retry_cycle)
    if spec is not None and job.attempts == 0 and spec.repetitions is not None:
        return spec.repetitions
    return job.retries - 1


class JobExecutor:
    """Runs jobs for one owner (a worker thread, or the facade's `run_due_jobs`)."""

    def __init__(self, engine: Engine, owner: str | None = None,
                 lease: timedelta = LEASE) -> None:
        self.engine = engine
        self.owner = owner or engine.worker_id
        self.lease = lease

    # ---------------------------------------------------------------- acquiring
    def acquire(self, limit: int) -> list[JobRecord]:
        """Lease up to `limit` due jobs (one per instance)."""
        now = self.engine.clock()
        with self.engine.store.transaction() as tx:
            return tx.acquire_jobs(now, self.owner, now + self.lease, limit)

    def release(self, jobs: list[JobRecord]) -> None:
        """Give back leased jobs this executor will not run (a worker shutting down)."""
        def cmd(c: CommandContext) -> None:
            for job in jobs:
                cur = self._owns(c, job)
                if cur is not None:
                    cur.lock_owner = None
                    cur.lock_expires = None
                    c.tx.update_job(cur)

        if jobs:
            self.engine.run(cmd)

    def run_due(self, limit: int = 10_000, batch: int = 100) -> int:
        """Run due jobs (and the due jobs they create) until none is left or `limit` ran."""
        ran = 0
        while ran < limit:
            jobs = self.acquire(min(batch, limit - ran))
            if not jobs:
                break
            for job in jobs:
                self.execute(job)
                ran += 1
        return ran

    # ---------------------------------------------------------------- running
    def execute(self, job: JobRecord) -> bool:
        """Run one leased job; True when it succeeded."""
        try:
            if job.kind == "connector":
                return self._connector(job)
            self.engine.run(lambda c: self._run_in_tx(c, job))
            return True
        except Exception as e:  # noqa: BLE001 - every failure becomes a retry or an incident
            self.fail(job, e)
            return False

    def _owns(self, c: CommandContext, job: JobRecord) -> JobRecord | None:
        """The job as stored now, if this executor still holds its lease."""
        cur = c.tx.lock_job(job.id)
        if cur is None or cur.lock_owner != self.owner:
            return None
        return cur

    def _run_in_tx(self, c: CommandContext, job: JobRecord) -> None:
        cur = self._owns(c, job)
        if cur is None:
            log.info("job %s (%s): lease lost or job gone; skipped", job.id, job.kind)
            return
        c.tx.delete_job(job.id)
        kind = job.kind
        if kind == "timer":
            c.trigger(job.instance_id, tr.Fire(job.sub, {}), stale_ok=True)  # type: ignore[arg-type]
        elif kind == "async":
            c.trigger(job.instance_id, tr.Continue(job.token), stale_ok=True)  # type: ignore[arg-type]
        elif kind == "start-timer":
            self._start_timer(c, job)
        elif kind in ("timeout", "escalation"):
            from engine.escalation import fire_task_job

            fire_task_job(c, job)
        else:
            raise ValueError(f"unknown job kind '{kind}'")

    def _start_timer(self, c: CommandContext, job: JobRecord) -> None:
        defrec = c.tx.get_definition(job.definition_id)
        if defrec is None:
            return
        latest = c.tx.latest_definition(defrec.key)
        if latest is None or latest.id != defrec.id:
            return  # a newer version replaced this start timer
        c.start_instance(defrec, {}, None, None, None, job.activity_id)
        from engine.timers import TimerError, parse_timer

        kind = job.payload.get("timer_kind") or "timeDate"
        if kind == "timeCycle":
            try:
                spec = parse_timer(kind, job.payload["text"])
            except TimerError:
                return
            fired = int(job.payload.get("fired", 0)) + 1
            nxt = spec.next_due(job.due, fired)
            if nxt is not None:
                c.tx.add_job(JobRecord(uuid.uuid4().hex, "start-timer", None, nxt,
                                       activity_id=job.activity_id,
                                       definition_id=job.definition_id, created=c.now,
                                       payload={**job.payload, "fired": fired}))

    # ---------------------------------------------------------------- connectors
    def _connector(self, job: JobRecord) -> bool:
        engine = self.engine
        topic = job.payload.get("topic", "")
        reg = engine.connectors.get(topic)
        if reg is None:
            self.fail(job, LookupError(f"no connector named '{topic}' is registered in this "
                                       "worker (see BATON_CONNECTOR_MODULES)"))
            return False
        with engine.store.transaction() as tx:
            inst = tx.get_instance(job.instance_id) if job.instance_id else None
        ctx = ConnectorContext(
            variables=dict(job.payload.get("variables") or {}),
            instance_id=job.instance_id or "", activity_id=job.activity_id or "",
            attempt=job.attempts + 1, idempotency_key=idempotency_key(job), topic=topic,
            business_key=inst.business_key if inst else None,
            secrets=lambda name: _secret(engine, name),
        )
        from connectors.runner import call_connector

        try:
            result = call_connector(reg, ctx)    # outside any transaction
            # what a handler returns becomes variables: held to what a caller may set,
            # so a NaN or a UUID fails this attempt naming it, on every store alike
            check_variables(result, where=f"connector '{topic}' result")
        except BpmnError as err:
            trigger: Any = tr.Throw(job.token, err.code, err.message,  # type: ignore[arg-type]
                                    err.variables)
        except CircuitOpen as err:
            self.postpone(job, err.retry_after, str(err))
            return False
        except Exception as e:  # noqa: BLE001
            self.fail(job, e, reg)
            return False
        else:
            trigger = tr.Complete(job.token, dict(result or {}))  # type: ignore[arg-type]
        engine.run(lambda c: self._finish_connector(c, job, trigger))
        return True

    def _finish_connector(self, c: CommandContext, job: JobRecord, trigger: Any) -> None:
        if self._owns(c, job) is None:
            log.warning("job %s: lease lost before its result was committed; dropped (the "
                        "new owner calls again with the same idempotency key)", job.id)
            return
        c.tx.delete_job(job.id)
        c.trigger(job.instance_id, trigger, stale_ok=True)  # type: ignore[arg-type]

    # ---------------------------------------------------------------- failures
    def postpone(self, job: JobRecord, seconds: float, reason: str) -> None:
        """Try again later without counting an attempt (e.g. an open circuit breaker)."""
        def cmd(c: CommandContext) -> None:
            cur = self._owns(c, job)
            if cur is None:
                return
            cur.lock_owner = None
            cur.lock_expires = None
            cur.due = c.now + timedelta(seconds=max(seconds, 0.001))
            cur.last_error = reason
            c.tx.update_job(cur)

        self.engine.run(cmd)

    def fail(self, job: JobRecord, error: BaseException,
             reg: Registration | None = None) -> None:
        """Record a failed attempt: back off and release the lease, or at zero retries
        suspend the job and open an incident with the error and its stack."""
        engine = self.engine
        stack = "".join(traceback.format_exception(error))
        message = f"{type(error).__name__}: {error}"
        log.warning("job %s (%s at %s) failed: %s", job.id, job.kind, job.activity_id, message)

        def cmd(c: CommandContext) -> None:
            cur = self._owns(c, job)
            if cur is None:
                return
            cur.retries = retries_left_after_failure(cur)
            cur.attempts += 1
            cur.last_error = message
            cur.lock_owner = None
            cur.lock_expires = None
            if cur.retries <= 0:
                cur.retries = 0
                cur.suspended = True
                c.tx.add_incident(IncidentRecord(
                    uuid.uuid4().hex, "failedJob", cur.instance_id, cur.activity_id, message,
                    c.now, job_id=cur.id, stack=stack))
            else:
                cur.due = backoff(cur, c.now, reg)
            c.tx.update_job(cur)

        engine.run(cmd)


def _secret(engine: Engine, name: str) -> str | None:
    with engine.store.transaction() as tx:
        return tx.get_secret(name)
