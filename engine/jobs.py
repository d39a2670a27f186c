"""The job executor: acquire due jobs with a lease, run them, retry with backoff, and open
an incident when retries run out.

Connector calls run outside any transaction (they may take seconds and talk to the
world); their result is committed in a new transaction only while this worker still holds
the job's lease, so a worker that was presumed dead cannot overwrite a successor's work.
Each call carries a stable idempotency key (instance, activity, token) for at-least-once
delivery.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from connectors.errors import BpmnError
from connectors.registry import ConnectorContext
from engine.runtime import triggers as tr
from engine.store.records import IncidentRecord, JobRecord

if TYPE_CHECKING:
    from engine.service import Engine, _Command

log = logging.getLogger("baton.jobs")
LEASE = timedelta(minutes=5)


def idempotency_key(job: JobRecord) -> str:
    return f"{job.instance_id}:{job.activity_id}:{job.token}"


def backoff(job: JobRecord, now: datetime, base: float = 10.0) -> datetime:
    """Next attempt time: the diagram's failedJobRetryTimeCycle interval, or exponential."""
    if job.retry_cycle:
        from engine.timers import TimerError, parse_timer

        try:
            spec = parse_timer("timeCycle", job.retry_cycle)
            due = spec.first_due(now)
            if due is not None:
                return due
        except TimerError:
            pass
    return now + timedelta(seconds=min(3600.0, base * (2 ** max(0, job.attempts - 1))))


class JobExecutor:
    def __init__(self, engine: Engine, owner: str | None = None) -> None:
        self.engine = engine
        self.owner = owner or engine.worker_id

    def acquire(self, limit: int) -> list[JobRecord]:
        now = self.engine.clock()
        with self.engine.store.transaction() as tx:
            return tx.acquire_jobs(now, self.owner, now + LEASE, limit)

    def run_due(self, limit: int = 10_000) -> int:
        ran = 0
        while ran < limit:
            jobs = self.acquire(min(100, limit - ran))
            if not jobs:
                break
            for job in jobs:
                self.execute(job)
                ran += 1
        return ran

    def execute(self, job: JobRecord) -> bool:
        """Run one leased job; True when it succeeded."""
        try:
            if job.kind == "connector":
                return self._connector(job)
            self.engine._execute(lambda c: self._run_in_tx(c, job))
            return True
        except Exception as e:  # noqa: BLE001 - every failure becomes a retry or incident
            self.fail(job, e)
            return False

    def _owns(self, c: _Command, job: JobRecord) -> JobRecord | None:
        cur = c.tx.get_job(job.id)
        if cur is None or cur.lock_owner != self.owner:
            return None
        return cur

    def _run_in_tx(self, c: _Command, job: JobRecord) -> None:
        cur = self._owns(c, job)
        if cur is None:
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

    def _start_timer(self, c: _Command, job: JobRecord) -> None:
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

    def _connector(self, job: JobRecord) -> bool:
        engine = self.engine
        topic = job.payload.get("topic", "")
        reg = engine.connectors.get(topic)
        if reg is None:
            raise_later = f"no connector named '{topic}' is registered"
            self.fail(job, RuntimeError(raise_later))
            return False
        with engine.store.transaction() as tx:
            inst = tx.get_instance(job.instance_id)  # type: ignore[arg-type]
            secrets = getattr(tx, "get_secret", None)
        ctx = ConnectorContext(
            variables=dict(job.payload.get("variables") or {}),
            instance_id=job.instance_id or "", activity_id=job.activity_id or "",
            attempt=job.attempts + 1, idempotency_key=idempotency_key(job), topic=topic,
            business_key=inst.business_key if inst else None,
            secrets=(lambda name: _secret(engine, name)) if secrets else None,
        )
        try:
            from connectors.runner import call_connector

            result = call_connector(reg, ctx)
        except BpmnError as err:
            engine._execute(lambda c: self._finish_connector(
                c, job, tr.Throw(job.token, err.code, err.message, err.variables)))  # type: ignore[arg-type]
            return True
        except Exception as e:  # noqa: BLE001
            self.fail(job, e)
            return False
        out = dict(result or {})
        engine._execute(lambda c: self._finish_connector(
            c, job, tr.Complete(job.token, out)))  # type: ignore[arg-type]
        return True

    def _finish_connector(self, c: _Command, job: JobRecord, trigger: Any) -> None:
        if self._owns(c, job) is None:
            log.warning("job %s: lease lost before its result was committed; dropped", job.id)
            return
        c.tx.delete_job(job.id)
        c.trigger(job.instance_id, trigger, stale_ok=True)  # type: ignore[arg-type]

    def fail(self, job: JobRecord, error: BaseException) -> None:
        engine = self.engine
        stack = "".join(traceback.format_exception(error))
        message = f"{type(error).__name__}: {error}"

        def cmd(c: _Command) -> None:
            cur = self._owns(c, job)
            if cur is None:
                return
            cur.attempts += 1
            cur.retries -= 1
            cur.last_error = message
            cur.lock_owner = None
            cur.lock_expires = None
            if cur.retries <= 0:
                cur.suspended = True
                c.tx.add_incident(IncidentRecord(
                    uuid.uuid4().hex, "failedJob", cur.instance_id, cur.activity_id, message,
                    c.now, job_id=cur.id, stack=stack))
            else:
                cur.due = backoff(cur, c.now)
            c.tx.update_job(cur)

        engine._execute(cmd)


def _secret(engine: Engine, name: str) -> str | None:
    with engine.store.transaction() as tx:
        return tx.get_secret(name)


def retry_incident(engine: Engine, incident_id: str, retries: int = 1) -> None:
    from engine.service import NotFound

    def cmd(c: _Command) -> None:
        inc = c.tx.get_incident(incident_id)
        if inc is None or inc.resolved is not None:
            raise NotFound(f"open incident '{incident_id}' not found")
        inc.resolved = c.now
        c.tx.update_incident(inc)
        if inc.job_id:
            job = c.tx.get_job(inc.job_id)
            if job is not None:
                job.retries = max(1, retries)
                job.suspended = False
                job.due = c.now
                c.tx.update_job(job)
        if inc.external_task_id:
            ext = c.tx.get_external(inc.external_task_id)
            if ext is not None:
                ext.retries = max(1, retries)
                ext.due = None
                c.tx.update_external(ext)

    engine._execute(cmd)
