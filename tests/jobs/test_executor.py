"""The job executor on every store: leases (exclusive per instance, taken over when they
expire), results dropped when the lease was lost, failedJobRetryTimeCycle retries with
backoff, incidents and their retry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from connectors.registry import ConnectorContext, ConnectorPolicy, Registry
from engine.jobs import LEASE, JobExecutor, idempotency_key
from engine.service import Engine
from engine.testing import ManualClock
from tests.runtime.conftest import bpmn, flows

TWO_ASYNC = bpmn('<startEvent id="s"/><parallelGateway id="fork"/>'
                 '<scriptTask id="a" camunda:asyncBefore="true"><script>x = 1</script></scriptTask>'
                 '<scriptTask id="b" camunda:asyncBefore="true"><script>y = 2</script></scriptTask>'
                 '<userTask id="ua"/><userTask id="ub"/>'
                 + flows("s>fork", "fork>a", "fork>b", "a>ua", "b>ub"), pid="two")
CALL = bpmn('<startEvent id="s"/><serviceTask id="call" camunda:type="external" '
            'camunda:topic="svc"/><userTask id="t"/>' + flows("s>call", "call>t"), pid="calling")


def completions(engine: Engine, iid: str, activity: str) -> int:
    return sum(1 for h in engine.history(iid)
               if h.type == "activity_completed" and h.activity_id == activity)


def test_jobs_of_one_instance_are_leased_one_at_a_time(engine: Engine) -> None:
    engine.deploy(TWO_ASYNC.encode())
    iid = engine.start("two")
    assert len(engine.jobs(instance_id=iid)) == 2
    a, b = JobExecutor(engine, "A"), JobExecutor(engine, "B")
    (first,) = a.acquire(10)
    assert first.lock_owner == "A"
    assert b.acquire(10) == []                       # the instance is busy with A's job
    assert a.execute(first)
    (second,) = b.acquire(10)
    assert second.id != first.id and b.execute(second)
    assert sorted(t.activity_id for t in engine.tasks(instance_id=iid)) == ["ua", "ub"]


def test_an_expired_lease_is_taken_over_and_the_old_owner_does_nothing(
        engine: Engine, clock: ManualClock) -> None:
    engine.deploy(TWO_ASYNC.encode())
    iid = engine.start("two")
    a, b = JobExecutor(engine, "A"), JobExecutor(engine, "B")
    (job,) = a.acquire(1)
    clock.advance(LEASE - timedelta(seconds=1))
    assert b.acquire(1) == []                        # still A's
    clock.advance(timedelta(seconds=2))
    (taken,) = b.acquire(1)
    assert taken.id == job.id and taken.lock_owner == "B"
    assert a.execute(job)                            # A wakes up late: skipped
    assert completions(engine, iid, job.activity_id) == 0
    assert b.execute(taken)
    assert completions(engine, iid, job.activity_id) == 1
    assert engine.jobs(id=job.id) == []


def test_a_connector_result_is_dropped_when_the_lease_was_lost(
        engine: Engine, reg: Registry, clock: ManualClock) -> None:
    calls: list[str] = []
    a = JobExecutor(engine, "A")
    b = JobExecutor(engine, "B")
    state: dict[str, Any] = {}

    def svc(ctx: ConnectorContext) -> dict[str, str]:
        calls.append(ctx.idempotency_key)
        if len(calls) == 1:      # A's call is slow: meanwhile its lease expires, B takes over
            clock.advance(LEASE + timedelta(seconds=1))
            (state["taken"],) = b.acquire(1)
        return {"by": f"call{len(calls)}"}

    reg.register("svc", svc, ConnectorPolicy(timeout=None))
    engine.deploy(CALL.encode())
    iid = engine.start("calling")
    (job,) = a.acquire(1)
    assert a.execute(job)
    assert completions(engine, iid, "call") == 0     # A's result was not committed
    assert b.execute(state["taken"])
    assert completions(engine, iid, "call") == 1
    assert engine.variables(iid)["by"] == "call2"
    assert calls == [idempotency_key(job)] * 2       # at-least-once, one key


def test_failed_job_retry_time_cycle_spaces_retries_then_opens_an_incident(
        engine: Engine, clock: ManualClock) -> None:
    engine.deploy(bpmn(
        '<startEvent id="s"/><scriptTask id="sc" camunda:asyncBefore="true">'
        '<extensionElements><camunda:failedJobRetryTimeCycle>R2/PT5M'
        '</camunda:failedJobRetryTimeCycle></extensionElements>'
        '<script>x = 1 / zero</script></scriptTask><userTask id="t"/>' + flows("s>sc", "sc>t"),
        pid="retry").encode())
    iid = engine.start("retry", {"zero": 0})
    assert engine.run_due_jobs() == 1
    (job,) = engine.jobs(instance_id=iid)
    assert (job.retries, job.attempts) == (2, 1)
    assert job.due == clock() + timedelta(minutes=5) and job.lock_owner is None
    assert "division by zero" in (job.last_error or "")
    clock.advance(timedelta(minutes=4))
    assert engine.run_due_jobs() == 0
    clock.advance(timedelta(minutes=1))
    assert engine.run_due_jobs() == 1
    clock.advance(timedelta(minutes=5))
    assert engine.run_due_jobs() == 1
    (incident,) = engine.incidents()
    (job,) = engine.jobs(instance_id=iid)
    assert (job.retries, job.attempts, job.suspended) == (0, 3, True)
    assert incident.job_id == job.id and "division by zero" in (incident.stack or "")
    clock.advance(timedelta(days=1))
    assert engine.run_due_jobs() == 0                # parked until someone acts
    engine.set_variables(iid, {"zero": 1})
    engine.retry_incident(incident.id)
    assert engine.run_due_jobs() == 1
    assert engine.instance(iid).waiting == ["t"] and engine.incidents() == []


def test_released_jobs_are_available_at_once(engine: Engine) -> None:
    engine.deploy(TWO_ASYNC.encode())
    engine.start("two")
    a, b = JobExecutor(engine, "A"), JobExecutor(engine, "B")
    jobs = a.acquire(5)
    assert len(jobs) == 1 and b.acquire(5) == []
    a.release(jobs)
    (again,) = b.acquire(5)
    assert again.id == jobs[0].id


@pytest.mark.parametrize("store_kind", ["memory", "sqlite"], indirect=True)
def test_a_timer_start_event_starts_instances_on_its_cycle(engine: Engine,
                                                           clock: ManualClock) -> None:
    engine.deploy(bpmn('<startEvent id="s"><timerEventDefinition><timeCycle>R2/PT1H'
                       '</timeCycle></timerEventDefinition></startEvent><userTask id="t"/>'
                       + flows("s>t"), pid="cron").encode())
    assert engine.instances() == []
    for _ in range(4):
        clock.advance(timedelta(hours=1))
        engine.run_due_jobs()
    assert len(engine.instances(key="cron")) == 2 and engine.jobs() == []
