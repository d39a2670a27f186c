"""Connectors inside the engine: mapping, retries with the policy's backoff, incidents,
BpmnError routing to an error boundary, idempotency keys, and the circuit breaker.

These run the real engine (`Engine.run_due_jobs` -> `engine/jobs.py` -> `call_connector`)
on a manual clock, so "ten seconds later" is a method call."""

from __future__ import annotations

from connectors import BpmnError, ConnectorPolicy, Registry
from connectors.registry import ConnectorContext
from engine import Engine
from tests.connectors.conftest import later
from tests.connectors.diagrams import LOOP, plain, scored


def test_a_registered_connector_runs_in_the_engine_with_mapped_variables(
        engine: Engine, reg: Registry) -> None:
    seen: list[ConnectorContext] = []

    def score(ctx: ConnectorContext) -> dict[str, int]:
        seen.append(ctx)
        return {"score": ctx.variables["amount"] + 1}

    reg.register("score", score, ConnectorPolicy(timeout=None))
    engine.deploy(scored())
    iid = engine.start("scored", {"order": 5}, business_key="B-1")
    assert engine.external_tasks() == []             # not left for an external worker
    assert engine.run_due_jobs() == 1
    (ctx,) = seen
    assert ctx.variables["amount"] == 10             # the input parameter, evaluated
    assert (ctx.instance_id, ctx.activity_id, ctx.topic) == (iid, "call", "score")
    assert ctx.attempt == 1 and ctx.business_key == "B-1"
    view = engine.instance(iid)
    assert view.waiting == ["done"]
    assert view.variables["riskScore"] == 11         # the output parameter


def test_without_a_registered_connector_the_task_waits_for_an_external_worker(
        engine: Engine) -> None:
    engine.deploy(scored(topic="nobody-home"))
    iid = engine.start("scored", {"order": 1})
    (task,) = engine.external_tasks()
    assert task.topic == "nobody-home" and task.instance_id == iid
    assert engine.jobs(instance_id=iid) == []


def test_delegate_expression_and_baton_attribute_name_connectors(
        engine: Engine, reg: Registry) -> None:
    reg.register("fraudScore", lambda c: {"via": "delegate"}, ConnectorPolicy(timeout=None))
    reg.register("lookup", lambda c: {"via": "baton"}, ConnectorPolicy(timeout=None))
    engine.deploy(plain("d", 'camunda:delegateExpression="${fraudScore}"'))
    engine.deploy(plain("b", 'baton:connector="lookup"'))
    d, b = engine.start("d"), engine.start("b")
    engine.run_due_jobs()
    assert engine.variables(d)["via"] == "delegate"
    assert engine.variables(b)["via"] == "baton"


def test_the_python_connector_calls_a_registered_function(engine: Engine, reg: Registry) -> None:
    reg.discover(entry_points=False, modules=False)
    reg.register_function("add", lambda a, b: a + b)
    io = """<camunda:inputOutput>
      <camunda:inputParameter name="function">add</camunda:inputParameter>
      <camunda:inputParameter name="arguments">${args}</camunda:inputParameter>
      <camunda:inputParameter name="resultVariable">sum</camunda:inputParameter>
    </camunda:inputOutput>"""
    engine.deploy(plain("py", 'camunda:type="external" camunda:topic="python"', io))
    iid = engine.start("py", {"args": {"a": 40, "b": 2}})
    engine.run_due_jobs()
    assert engine.instance(iid).waiting == ["after"]
    assert engine.variables(iid)["sum"] == 42


def test_a_bpmn_error_is_caught_by_the_error_boundary_and_not_retried(
        engine: Engine, reg: Registry) -> None:
    calls = []

    def score(ctx: ConnectorContext) -> None:
        calls.append(ctx.attempt)
        raise BpmnError("REJECTED", "order looks fraudulent", {"reason": "velocity"})

    reg.register("score", score, ConnectorPolicy(timeout=None))
    engine.deploy(scored())
    iid = engine.start("scored", {"order": 5})
    engine.run_due_jobs()
    view = engine.instance(iid)
    assert view.waiting == ["rejected"]
    assert view.variables["reason"] == "velocity"
    assert calls == [1]
    assert engine.jobs(instance_id=iid) == [] and engine.incidents() == []


def test_failures_retry_then_succeed_with_the_same_idempotency_key(
        engine: Engine, reg: Registry, clock) -> None:
    attempts: list[tuple[int, str]] = []

    def flaky(ctx: ConnectorContext) -> dict[str, int]:
        attempts.append((ctx.attempt, ctx.idempotency_key))
        if ctx.attempt < 3:
            raise ConnectionError("service unavailable")
        return {"score": 1}

    reg.register("score", flaky, ConnectorPolicy(timeout=None, retries=3))
    engine.deploy(scored())
    iid = engine.start("scored", {"order": 5})
    engine.run_due_jobs()
    (job,) = engine.jobs(instance_id=iid)
    assert job.retries == 2 and "service unavailable" in (job.last_error or "")
    later(clock, 3600)
    engine.run_due_jobs()
    later(clock, 3600)
    engine.run_due_jobs()
    assert [a for a, _ in attempts] == [1, 2, 3]
    assert len({k for _, k in attempts}) == 1          # one key for all retries
    assert engine.instance(iid).waiting == ["done"]


def test_retries_wait_the_policy_backoff(engine: Engine, reg: Registry, clock) -> None:
    attempts = []

    def flaky(ctx: ConnectorContext) -> dict[str, int]:
        attempts.append(ctx.attempt)
        if ctx.attempt < 3:
            raise ConnectionError("down")
        return {"score": 1}

    reg.register("score", flaky, ConnectorPolicy(timeout=None, retries=3, backoff=4,
                                                 backoff_factor=3))
    engine.deploy(scored())
    iid = engine.start("scored", {"order": 5})
    start = clock()
    engine.run_due_jobs()
    (job,) = engine.jobs(instance_id=iid)
    assert (job.due - start).total_seconds() == 4
    later(clock, 3.9)
    assert engine.run_due_jobs() == 0                   # not yet
    later(clock, 0.1)
    engine.run_due_jobs()
    (job,) = engine.jobs(instance_id=iid)
    assert (job.due - clock()).total_seconds() == 12    # 4 * 3
    later(clock, 12)
    engine.run_due_jobs()
    assert attempts == [1, 2, 3]


def test_when_retries_run_out_an_incident_opens_and_retrying_it_resumes(
        engine: Engine, reg: Registry, clock) -> None:
    state = {"up": False}

    def svc(ctx: ConnectorContext) -> dict[str, int]:
        if not state["up"]:
            raise ConnectionError("connection refused")
        return {"score": 3}

    reg.register("score", svc, ConnectorPolicy(timeout=None, retries=2))
    engine.deploy(scored())
    iid = engine.start("scored", {"order": 5})
    engine.run_due_jobs()
    later(clock, 3600)
    engine.run_due_jobs()
    (incident,) = engine.incidents()
    assert incident.instance_id == iid and incident.activity_id == "call"
    assert "connection refused" in incident.message
    later(clock, 3600)
    assert engine.run_due_jobs() == 0                   # parked until someone acts
    state["up"] = True
    engine.retry_incident(incident.id)
    engine.run_due_jobs()
    assert engine.instance(iid).waiting == ["done"]
    assert engine.incidents() == []


def test_each_call_of_a_loop_gets_its_own_idempotency_key(engine: Engine, reg: Registry) -> None:
    keys = []

    def count(ctx: ConnectorContext) -> dict[str, int]:
        keys.append(ctx.idempotency_key)
        return {"n": ctx.variables.get("n", 0) + 1}

    reg.register("count", count, ConnectorPolicy(timeout=None))
    engine.deploy(LOOP)
    a = engine.start("loop", {"n": 0})
    b = engine.start("loop", {"n": 0})
    engine.run_due_jobs()
    assert engine.instance(a).status == engine.instance(b).status == "completed"
    assert len(keys) == 6 and len(set(keys)) == 6


def test_an_open_breaker_postpones_jobs_without_burning_retries(
        engine: Engine, reg: Registry, clock) -> None:
    state = {"up": False, "calls": 0}

    def svc(ctx: ConnectorContext) -> dict[str, int]:
        state["calls"] += 1
        if not state["up"]:
            raise ConnectionError("down")
        return {"score": 1}

    r = reg.register("score", svc, ConnectorPolicy(
        timeout=None, retries=2, backoff=1000, breaker_failures=2, breaker_window=60,
        breaker_cooldown=30))
    engine.deploy(scored())
    first = [engine.start("scored", {"order": i}) for i in range(2)]
    engine.run_due_jobs()                                # two failures: the breaker opens
    assert state["calls"] == 2 and r.breaker is not None and r.breaker.state == "open"
    third = engine.start("scored", {"order": 9})
    engine.run_due_jobs()
    assert state["calls"] == 2                           # failed fast, not called
    (job,) = engine.jobs(instance_id=third)
    assert job.retries == 2 and job.attempts == 0        # no retry burnt
    assert job.due > clock()                             # waits for the cooldown
    assert engine.incidents() == []
    state["up"] = True
    r.breaker.record_success()                           # the service is back
    later(clock, 60)
    engine.run_due_jobs()
    assert engine.instance(third).waiting == ["done"]
    assert all(engine.instance(i).waiting in (["done"], ["call"]) for i in first)
