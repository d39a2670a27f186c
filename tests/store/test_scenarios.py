"""Engine scenarios on every store (memory, SQLite, PostgreSQL): the claim diagram, user
tasks, timers on a manual clock, messages, call activities, versions, rollback, variables
that keep their types, and an engine restarted on the same database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.registry import ConnectorPolicy, Registry
from engine.errors import EngineError
from engine.service import Engine
from engine.testing import ManualClock
from tests.runtime.conftest import bpmn, flows
from tests.store.conftest import SQL_KINDS

CLAIM = Path(__file__).resolve().parents[3] / "shared" / "bench-models" / "claim.bpmn"
if not CLAIM.exists():  # the shared models live next to the repository
    CLAIM = Path("/work/shared/bench-models/claim.bpmn")

REVIEW = bpmn('<startEvent id="s"/><userTask id="review" camunda:candidateGroups="adjusters"/>'
              '<scriptTask id="after"><script>done = True</script></scriptTask>'
              '<endEvent id="e"/>' + flows("s>review", "review>after", "after>e"), pid="reviewing")
TIMER = bpmn('<startEvent id="s"/><intermediateCatchEvent id="wait"><timerEventDefinition>'
             '<timeDuration>PT2H</timeDuration></timerEventDefinition></intermediateCatchEvent>'
             '<userTask id="t"/><endEvent id="e"/>' + flows("s>wait", "wait>t", "t>e"),
             pid="timed")


def restarted(engine: Engine, open_store: Any, clock: ManualClock) -> Engine:
    """A new engine on the same database: what a process restart (or a second machine) sees."""
    return Engine(store=open_store(), clock=clock, connectors=engine.connectors)


def completed_activities(engine: Engine, iid: str) -> list[str]:
    return [h.activity_id for h in engine.history(iid) if h.type == "activity_completed"]


# ---------------------------------------------------------------------- the claim diagram
def test_claim_with_a_high_amount_waits_for_review_then_completes(engine: Engine) -> None:
    engine.deploy(CLAIM)
    iid = engine.start("claim", {"amount": 8000}, business_key="C-1")
    view = engine.instance(iid)
    assert view.waiting == ["review"] and view.business_key == "C-1"
    assert view.variables == {"amount": 8000, "valid": True, "score": 80.0, "coverage": 16000}
    (task,) = engine.tasks(instance_id=iid)
    engine.complete_task(task.id, {"approved": True})
    assert engine.instance(iid).status == "completed"
    assert engine.tasks() == []
    done = completed_activities(engine, iid)
    assert done[:3] == ["start", "validate", "gw_valid"]
    assert set(done[3:6]) >= {"fork", "fraud_score"} and done[-2:] == ["review", "end_reviewed"]
    assert engine.variables(iid)["approved"] is True


def test_claim_with_a_low_amount_is_approved_straight_through(engine: Engine) -> None:
    engine.deploy(CLAIM)
    iid = engine.start("claim", {"amount": 100})
    assert engine.instance(iid).status == "completed"
    assert engine.variables(iid)["approved"] is True
    assert "end_approved" in completed_activities(engine, iid)
    assert engine.tasks() == [] and engine.jobs() == []


def test_an_instance_continues_on_a_restarted_engine(engine: Engine, open_store: Any,
                                                      clock: ManualClock) -> None:
    engine.deploy(CLAIM)
    iid = engine.start("claim", {"amount": 9000})
    other = restarted(engine, open_store, clock)
    (task,) = other.tasks(candidate_groups=["nobody"]) or other.tasks(instance_id=iid)
    other.complete_task(task.id, {"approved": False})
    assert engine.instance(iid).status == "completed"
    assert other.history(iid) == engine.history(iid)


# ---------------------------------------------------------------------- user tasks
def test_group_task_is_claimed_and_completed_by_a_candidate(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("engine.identity.PASSWORD_METHOD", "pbkdf2:sha256:1")
    engine.add_user("ann", "Ann", "password1", ["staff"], ["adjusters"])
    engine.add_user("cat", "Cat", "password1", ["staff"], ["underwriters"])
    engine.deploy(REVIEW)
    iid = engine.start("reviewing")
    (task,) = engine.tasks(candidate_groups=["adjusters"], unassigned=True)
    assert engine.tasks(candidate_groups=["underwriters"]) == []
    engine.claim(task.id, "ann")
    assert engine.task(task.id).assignee == "ann"
    assert engine.tasks(assignee="ann")[0].id == task.id
    assert engine.tasks(candidate_groups=["adjusters"], unassigned=True) == []
    engine.complete_task(task.id, {"ok": 1}, user="ann")
    assert engine.instance(iid).status == "completed"
    assert engine.variables(iid) == {"ok": 1, "done": True}


# ---------------------------------------------------------------------- timers
def test_a_timer_fires_once_when_due_even_after_a_restart(engine: Engine, open_store: Any,
                                                          clock: ManualClock) -> None:
    engine.deploy(TIMER)
    iid = engine.start("timed")
    (job,) = engine.jobs(instance_id=iid)
    assert job.kind == "timer" and job.due == clock() + timedelta(hours=2)
    clock.advance(timedelta(hours=1, minutes=59))
    assert engine.run_due_jobs() == 0
    clock.advance(timedelta(minutes=1))
    other = restarted(engine, open_store, clock)
    assert other.run_due_jobs() == 1
    assert other.run_due_jobs() == 0 and engine.run_due_jobs() == 0
    assert engine.instance(iid).waiting == ["t"]
    assert completed_activities(engine, iid).count("wait") == 1
    assert engine.jobs() == []


# ---------------------------------------------------------------------- messages
def test_a_message_reaches_the_instance_with_its_business_key(engine: Engine) -> None:
    engine.deploy(bpmn('<startEvent id="s"/><receiveTask id="r" messageRef="m"/>'
                       '<userTask id="t"/>' + flows("s>r", "r>t"), pid="waits",
                       extra='<message id="m" name="paid"/>'))
    a = engine.start("waits", business_key="A")
    b = engine.start("waits", business_key="B")
    assert engine.correlate_message("paid", business_key="B", variables={"sum": 5}) == [b]
    assert engine.instance(b).waiting == ["t"] and engine.variables(b)["sum"] == 5
    assert engine.instance(a).waiting == ["r"]
    with pytest.raises(EngineError, match="paid"):
        engine.correlate_message("paid", business_key="B")


# ---------------------------------------------------------------------- call activity
def test_a_call_activity_waits_for_its_child_across_a_restart(
        engine: Engine, open_store: Any, clock: ManualClock) -> None:
    child = bpmn('<startEvent id="cs"/><userTask id="childTask"/>' + flows("cs>childTask"),
                 pid="child")
    parent = bpmn('<startEvent id="s"/><callActivity id="call" calledElement="child">'
                  '<extensionElements><camunda:in source="n" target="n"/>'
                  '<camunda:out source="r" target="r"/></extensionElements></callActivity>'
                  '<userTask id="after"/>' + flows("s>call", "call>after"), pid="parent")
    engine.deploy(child, parent)
    iid = engine.start("parent", {"n": 2})
    (kid,) = engine.instances(parent_id=iid)
    other = restarted(engine, open_store, clock)
    (task,) = other.tasks(instance_id=kid.id)
    other.complete_task(task.id, {"r": "ok"})
    assert engine.instance(kid.id).status == "completed"
    assert engine.instance(iid).waiting == ["after"] and engine.variables(iid)["r"] == "ok"


# ---------------------------------------------------------------------- versions
def test_running_instances_keep_their_version_and_new_ones_take_the_latest(
        engine: Engine) -> None:
    v1 = bpmn('<startEvent id="s"/><userTask id="t"/><scriptTask id="sc"><script>v = 1</script>'
              '</scriptTask><endEvent id="e"/>' + flows("s>t", "t>sc", "sc>e"), pid="ver")
    v2 = v1.replace("v = 1", "v = 2")
    (d1,) = engine.deploy(v1.encode())
    old = engine.start("ver")
    (d2,) = engine.deploy(v2.encode())
    assert (d1.version, d2.version, d2.new) == (1, 2, True)
    new = engine.start("ver")
    named = engine.start("ver", version=1)
    assert [engine.instance(i).version for i in (old, new, named)] == [1, 2, 1]
    for iid in (old, new, named):
        (task,) = engine.tasks(instance_id=iid)
        engine.complete_task(task.id)
    assert [engine.variables(i)["v"] for i in (old, new, named)] == [1, 2, 1]
    assert [d.version for d in engine.definitions("ver")] == [1, 2]


def test_redeploying_an_unchanged_file_keeps_the_version(engine: Engine) -> None:
    (first,) = engine.deploy(CLAIM)
    (again,) = engine.deploy(CLAIM)
    assert again.new is False and (again.id, again.version) == (first.id, 1)
    assert len(engine.definitions("claim")) == 1
    assert engine.definition("claim").xml == CLAIM.read_bytes()


# ---------------------------------------------------------------------- rollback
def test_a_failing_script_rolls_the_whole_command_back(engine: Engine) -> None:
    engine.deploy(bpmn('<startEvent id="s"/><userTask id="t"/><scriptTask id="boom">'
                       '<script>x = 1 / zero</script></scriptTask><userTask id="never"/>'
                       + flows("s>t", "t>boom", "boom>never"), pid="fails"))
    iid = engine.start("fails", {"zero": 0})
    (task,) = engine.tasks(instance_id=iid)
    with engine.store.transaction() as tx:
        before = tx.get_instance(iid)
    history_before = engine.history(iid)
    with pytest.raises(EngineError):
        engine.complete_task(task.id, {"note": "changed?"})
    with engine.store.transaction() as tx:
        after = tx.get_instance(iid)
    assert (after.revision, after.state, after.variables) == \
        (before.revision, before.state, before.variables)
    assert [t.id for t in engine.tasks(instance_id=iid)] == [task.id]
    assert engine.history(iid) == history_before
    assert engine.jobs() == []


def test_a_start_that_fails_leaves_nothing_behind(engine: Engine) -> None:
    engine.deploy(bpmn('<startEvent id="s"/><scriptTask id="boom"><script>x = 1 / 0</script>'
                       '</scriptTask><endEvent id="e"/>' + flows("s>boom", "boom>e"), pid="bad"))
    with pytest.raises(EngineError):
        engine.start("bad")
    assert engine.instances() == [] and engine.tasks() == []
    with engine.store.transaction() as tx:
        assert tx.find_jobs() == [] and tx.find_subscriptions(kind="message") == []


# ---------------------------------------------------------------------- variables
def test_variables_keep_their_types_through_the_store(engine: Engine) -> None:
    engine.deploy(REVIEW)
    values: dict[str, Any] = {
        "when": datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC),
        "day": date(2026, 3, 2),
        "price": Decimal("1234.50"),
        "items": [{"sku": "A", "due": date(2026, 4, 1)}, [1, 2.5, None, True]],
        "name": "Zoë ✓",
        "big": 2 ** 62,
        "flag": False,
        "nothing": None,
    }
    iid = engine.start("reviewing", values)
    assert engine.variables(iid) == values
    assert type(engine.variables(iid)["price"]) is Decimal
    (task,) = engine.tasks(instance_id=iid)
    engine.complete_task(task.id, {"later": datetime(2027, 1, 1, tzinfo=UTC)})
    got = engine.variables(iid)
    assert got["later"] == datetime(2027, 1, 1, tzinfo=UTC) and got["when"] == values["when"]


@pytest.mark.parametrize("store_kind", SQL_KINDS, indirect=True)
def test_a_value_the_store_cannot_keep_is_refused_with_its_type(engine: Engine) -> None:
    engine.deploy(REVIEW)
    with pytest.raises(EngineError, match="complex"):
        engine.start("reviewing", {"z": complex(1, 2)})
    assert engine.instances() == []


# ---------------------------------------------------------------------- connectors
def test_a_failing_connector_becomes_an_incident_that_retry_resolves(
        engine: Engine, reg: Registry, clock: ManualClock) -> None:
    state = {"up": False, "keys": []}

    def call(ctx: Any) -> dict[str, Any]:
        state["keys"].append(ctx.idempotency_key)
        if not state["up"]:
            raise ConnectionError("service down")
        return {"answer": 42}

    reg.register("svc", call, ConnectorPolicy(timeout=None, retries=2, backoff=60))
    engine.deploy(bpmn('<startEvent id="s"/><serviceTask id="call" camunda:type="external" '
                       'camunda:topic="svc"/><userTask id="t"/>' + flows("s>call", "call>t"),
                       pid="svc"))
    iid = engine.start("svc")
    assert engine.run_due_jobs() == 1
    (job,) = engine.jobs(instance_id=iid)
    assert job.retries == 1 and job.due == clock() + timedelta(seconds=60)
    clock.advance(timedelta(seconds=60))
    engine.run_due_jobs()
    (incident,) = engine.incidents()
    assert incident.activity_id == "call" and "service down" in incident.message
    assert "ConnectionError" in (incident.stack or "")
    clock.advance(timedelta(days=1))
    assert engine.run_due_jobs() == 0
    state["up"] = True
    engine.retry_incident(incident.id)
    assert engine.run_due_jobs() == 1
    assert engine.instance(iid).waiting == ["t"] and engine.variables(iid)["answer"] == 42
    assert engine.incidents() == [] and len(engine.incidents(open_only=False)) == 1
    assert len(state["keys"]) == 3 and len(set(state["keys"])) == 1
