"""Process instance modification: Engine.modify / move_token / reset_to / restart and the
Camunda REST `POST /engine-rest/process-instance/{id}/modification`."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from engine import Conflict, Engine, EngineError, NotFound
from engine.testing import ManualClock

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
        'id="defs" targetNamespace="http://baton.test">\n')
TIMER = '<timerEventDefinition><timeDuration>{}</timeDuration></timerEventDefinition>'


def bpmn(body: str, pid: str = "p", extra: str = "") -> bytes:
    return (f'{HEAD}{extra}<process id="{pid}" isExecutable="true">\n{body}\n</process>\n'
            '</definitions>').encode()


def flows(*pairs: str) -> str:
    """flows("a>b") -> <sequenceFlow id="a_b" .../>"""
    out = []
    for pair in pairs:
        src, dst = pair.split(">")
        out.append(f'<sequenceFlow id="{src}_{dst}" sourceRef="{src}" targetRef="{dst}"/>')
    return "\n".join(out)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def engine(clock: ManualClock) -> Engine:
    return Engine(clock=clock)


def tasks(engine: Engine, iid: str) -> list[str]:
    return sorted(t.activity_id for t in engine.tasks(instance_id=iid))


def complete(engine: Engine, iid: str, activity: str, **variables: Any) -> None:
    (task,) = [t for t in engine.tasks(instance_id=iid) if t.activity_id == activity]
    engine.complete_task(task.id, variables)


def events(engine: Engine, iid: str, *types: str) -> list[tuple[str, str | None]]:
    return [(e.type, e.activity_id) for e in engine.history(iid) if e.type in types]


LINE = bpmn('<startEvent id="s"/><userTask id="a"/><userTask id="b"/><userTask id="c"/>'
            '<endEvent id="e"/>' + flows("s>a", "a>b", "b>c", "c>e"))

NESTED = bpmn(
    '<startEvent id="s"/><userTask id="a"/>'
    '<subProcess id="outer"><startEvent id="os"/><userTask id="o1"/>'
    '  <subProcess id="inner"><startEvent id="is"/><userTask id="i1"/><userTask id="i2"/>'
    '    <endEvent id="ie"/>' + flows("is>i1", "i1>i2", "i2>ie") + '</subProcess>'
    '  <endEvent id="oe"/>' + flows("os>o1", "o1>inner", "inner>oe")
    + '  <subProcess id="esp" triggeredByEvent="true">'
    '    <startEvent id="esp_start" isInterrupting="false">'
    '      <messageEventDefinition messageRef="poke"/></startEvent>'
    '    <userTask id="poked"/><endEvent id="esp_end"/>' + flows("esp_start>poked", "poked>esp_end")
    + '  </subProcess>'
    '</subProcess>'
    f'<boundaryEvent id="late" attachedToRef="outer">{TIMER.format("PT1H")}</boundaryEvent>'
    '<userTask id="after"/><userTask id="escalated"/><endEvent id="e"/><endEvent id="e2"/>'
    + flows("s>a", "a>outer", "outer>after", "after>e", "late>escalated", "escalated>e2"),
    extra='<message id="poke" name="poke"/>')


# ---------------------------------------------------------------------------- modify
def test_move_token_cancels_the_task_and_starts_the_target_in_one_command(engine):
    engine.deploy(LINE)
    iid = engine.start("p")
    engine.add_user("ops", "Ops", "password1", roles=["admin"])
    engine.move_token(iid, "a", "c", reason="skip the review", user="ops")
    assert tasks(engine, iid) == ["c"]
    history = engine.history(iid)
    modified = [h for h in history if h.type == "instance_modified"]
    assert len(modified) == 1 and modified[0].user == "ops"
    assert modified[0].detail == {"instructions": [["cancel", "a"], ["start_before", "c"]],
                                  "reason": "skip the review"}
    tail = [(h.type, h.activity_id) for h in history[history.index(modified[0]):]]
    assert tail == [("instance_modified", "p"), ("activity_cancelled", "a"),
                    ("activity_started", "c")]
    complete(engine, iid, "c")
    assert engine.instance(iid).status == "completed"


def test_start_before_creates_the_missing_subprocess_scopes_on_the_way_down(engine):
    engine.deploy(NESTED)
    iid = engine.start("p")
    engine.modify(iid, cancel=["a"], start_before=["i2"])
    assert tasks(engine, iid) == ["i2"]
    started = [a for _, a in events(engine, iid, "activity_started")]
    assert started[-3:] == ["outer", "inner", "i2"]
    assert "os" not in started and "is" not in started     # no start event ran
    # 'outer' is entered for real: its boundary timer and its event subprocess wait
    assert [j.activity_id for j in engine.jobs(instance_id=iid)] == ["late"]
    engine.correlate_message("poke", instance_id=iid)
    assert tasks(engine, iid) == ["i2", "poked"]
    complete(engine, iid, "poked")
    complete(engine, iid, "i2")       # inner ends; outer has nothing else: it ends too
    assert tasks(engine, iid) == ["after"]
    completed = [a for _, a in events(engine, iid, "activity_completed")]
    assert completed[-4:] == ["ie", "inner", "oe", "outer"]
    assert engine.jobs(instance_id=iid) == []


SUB = bpmn(
    '<startEvent id="s"/><userTask id="a"/>'
    '<subProcess id="sp"><extensionElements><camunda:inputOutput>'
    '<camunda:inputParameter name="note">${orig}</camunda:inputParameter>'
    '</camunda:inputOutput></extensionElements>'
    '<startEvent id="ss"/><userTask id="x"/><userTask id="y" camunda:assignee="${note}"/>'
    '<userTask id="z" camunda:assignee="${hint}"/><endEvent id="se"/>'
    + flows("ss>x", "x>y", "y>z", "z>se") + '</subProcess>'
    '<endEvent id="e"/>' + flows("s>a", "a>sp", "sp>e"))


def test_starting_inside_a_running_subprocess_keeps_it_and_its_variables(engine):
    engine.deploy(SUB)
    iid = engine.start("p", {"orig": "first"})
    complete(engine, iid, "a")
    engine.set_variables(iid, {"orig": "second"})
    holder = [t for t in engine.instance(iid).tokens if t["activity_id"] == "sp"]
    engine.move_token(iid, "x", "y")
    assert [t for t in engine.instance(iid).tokens if t["activity_id"] == "sp"] == holder
    assert "sp" not in [a for _, a in events(engine, iid, "activity_cancelled")]
    [task] = engine.tasks(instance_id=iid)
    assert task.activity_id == "y" and task.assignee == "first"   # the input kept its value


def test_instruction_variables_go_to_the_scope_the_token_starts_in(engine):
    engine.deploy(SUB)
    iid = engine.start("p", {"orig": "o"})
    engine.apply_modification(iid, [("cancel", "a"), ("start_before", "z", {"hint": "ann"})])
    [task] = engine.tasks(instance_id=iid)
    assert task.activity_id == "z" and task.assignee == "ann"
    assert "hint" not in engine.variables(iid)      # local to the new 'sp' instance


def test_cancelling_the_last_token_of_a_subprocess_cancels_it_and_then_the_instance(engine):
    engine.deploy(NESTED)
    iid = engine.start("p")
    complete(engine, iid, "a")
    complete(engine, iid, "o1")
    assert tasks(engine, iid) == ["i1"]
    engine.modify(iid, cancel=["i1"], reason="wrong order")
    assert events(engine, iid, "activity_cancelled") == [
        ("activity_cancelled", "i1"), ("activity_cancelled", "inner"),
        ("activity_cancelled", "outer")]
    view = engine.instance(iid)
    assert view.status == "terminated" and view.tokens == []
    assert engine.jobs(instance_id=iid) == []               # the boundary timer went too


def test_a_parallel_branch_keeps_the_instance_alive(engine):
    engine.deploy(bpmn(
        '<startEvent id="s"/><parallelGateway id="fork"/><userTask id="l"/><userTask id="r"/>'
        '<endEvent id="el"/><endEvent id="er"/>'
        + flows("s>fork", "fork>l", "fork>r", "l>el", "r>er")))
    iid = engine.start("p")
    engine.modify(iid, cancel=["l"])
    assert tasks(engine, iid) == ["r"]
    complete(engine, iid, "r")
    assert engine.instance(iid).status == "completed"


def test_start_before_a_multi_instance_activity_starts_its_body(engine):
    engine.deploy(bpmn(
        '<startEvent id="s"/><userTask id="a"/>'
        '<userTask id="sign"><multiInstanceLoopCharacteristics camunda:collection="${people}" '
        'camunda:elementVariable="who"/></userTask><endEvent id="e"/>'
        + flows("s>a", "a>sign", "sign>e")))
    iid = engine.start("p", {"people": ["ann", "bob", "cy"]})
    engine.move_token(iid, "a", "sign")
    assert tasks(engine, iid) == ["sign", "sign", "sign"]
    # one instance cancelled by its token id: the others finish the activity
    inner = [t["id"] for t in engine.instance(iid).tokens
             if t["activity_id"] == "sign" and t["wait"] == "user"]
    engine.modify(iid, cancel_tokens=[inner[0]])
    assert tasks(engine, iid) == ["sign", "sign"]
    for task in engine.tasks(instance_id=iid):
        engine.complete_task(task.id)
    assert engine.instance(iid).status == "completed"


MI_SUB = bpmn(
    '<startEvent id="s"/><userTask id="a"/>'
    '<subProcess id="each"><multiInstanceLoopCharacteristics camunda:collection="${items}" '
    'camunda:elementVariable="item"/><startEvent id="es"/><userTask id="pack"/>'
    '<endEvent id="ee"/>' + flows("es>pack", "pack>ee") + '</subProcess>'
    '<userTask id="ship"/><endEvent id="e"/>' + flows("s>a", "a>each", "each>ship", "ship>e"))


def test_cancelling_inside_one_multi_instance_subprocess_instance_leaves_the_others(engine):
    engine.deploy(MI_SUB)
    iid = engine.start("p", {"items": [1, 2]})
    with pytest.raises(EngineError, match="none of the multi-instance.*instances is active"):
        engine.modify(iid, start_before=["pack"])
    complete(engine, iid, "a")
    with pytest.raises(EngineError, match="2 instances of subProcess 'each' are active"):
        engine.modify(iid, start_before=["pack"])
    first = min(t["id"] for t in engine.instance(iid).tokens if t["activity_id"] == "pack")
    engine.modify(iid, cancel_tokens=[first])
    assert tasks(engine, iid) == ["pack"]
    assert [a for _, a in events(engine, iid, "activity_cancelled")] == ["pack", "each"]
    complete(engine, iid, "pack")
    assert tasks(engine, iid) == ["ship"]            # the body ends with one instance done


def test_variables_are_set_before_the_tokens_start(engine):
    engine.deploy(bpmn('<startEvent id="s"/><userTask id="a"/>'
                       '<userTask id="b" camunda:assignee="${owner}"/><endEvent id="e"/>'
                       + flows("s>a", "a>b", "b>e")))
    iid = engine.start("p")
    engine.move_token(iid, "a", "b", variables={"owner": "zoe"})
    [task] = engine.tasks(instance_id=iid)
    assert task.assignee == "zoe" and engine.variables(iid)["owner"] == "zoe"


def test_start_after_and_start_transition_take_a_flow(engine):
    engine.deploy(bpmn('<startEvent id="s"/><userTask id="a"/><parallelGateway id="fork"/>'
                       '<userTask id="l"/><userTask id="r"/><endEvent id="e1"/><endEvent id="e2"/>'
                       + flows("s>a", "a>fork", "fork>l", "fork>r", "l>e1", "r>e2")))
    iid = engine.start("p")
    engine.apply_modification(iid, [("cancel", "a"), ("start_transition", "fork_r")])
    assert tasks(engine, iid) == ["r"]
    engine.modify(iid, start_after=["s"])
    assert tasks(engine, iid) == ["a", "r"]
    with pytest.raises(EngineError, match="start after parallelGateway 'fork'.*2 outgoing"):
        engine.modify(iid, start_after=["fork"])


def test_an_event_subprocess_can_be_started_but_not_entered_while_it_is_not_running(engine):
    engine.deploy(NESTED)
    iid = engine.start("p")
    complete(engine, iid, "a")
    with pytest.raises(EngineError, match="cannot start userTask 'poked' inside "
                                          "eventSubProcess 'esp'.*not running"):
        engine.modify(iid, start_before=["poked"])
    engine.modify(iid, start_before=["esp"])
    assert tasks(engine, iid) == ["o1", "poked"]      # non-interrupting
    engine.modify(iid, cancel=["poked"])              # empties the event subprocess
    assert tasks(engine, iid) == ["o1"]
    assert ("activity_cancelled", "esp") in events(engine, iid, "activity_cancelled")


def test_call_activity_cancellation_terminates_the_called_instance(engine):
    engine.deploy(bpmn('<startEvent id="cs"/><userTask id="child_task"/><endEvent id="ce"/>'
                       + flows("cs>child_task", "child_task>ce"), pid="child"))
    engine.deploy(bpmn('<startEvent id="s"/><userTask id="a"/><callActivity id="call" '
                       'calledElement="child"/><endEvent id="e"/>'
                       + flows("s>a", "a>call", "call>e")))
    iid = engine.start("p")
    complete(engine, iid, "a")
    [child] = [v for v in engine.instances() if v.parent_id == iid]
    engine.move_token(iid, "call", "a")
    assert engine.instance(child.id).status == "terminated"
    assert tasks(engine, iid) == ["a"] and tasks(engine, child.id) == []


def test_bad_instructions_are_refused_with_the_element_named_and_nothing_changes(engine):
    engine.deploy(LINE)
    iid = engine.start("p")
    with pytest.raises(EngineError, match="process 'p' has no activity 'nope'"):
        engine.modify(iid, cancel=["a"], start_before=["nope"])
    with pytest.raises(EngineError, match="userTask 'b' has no active instance to cancel"):
        engine.modify(iid, cancel=["b"], start_before=["c"])
    with pytest.raises(EngineError, match="at least one instruction"):
        engine.modify(iid)
    with pytest.raises(EngineError, match="unknown kind 'jump'"):
        engine.apply_modification(iid, [("jump", "a")])
    with pytest.raises(EngineError, match="boundary"):
        engine.deploy(bpmn('<startEvent id="s"/><userTask id="a"/><endEvent id="e"/>'
                           f'<boundaryEvent id="t" attachedToRef="a">{TIMER.format("PT1H")}'
                           '</boundaryEvent><endEvent id="e2"/>'
                           + flows("s>a", "a>e", "t>e2"), pid="q"))
        engine.modify(engine.start("q"), start_before=["t"])
    assert tasks(engine, iid) == ["a"]                  # each refusal rolled back
    assert events(engine, iid, "instance_modified", "activity_cancelled") == []
    with pytest.raises(NotFound, match="process instance 'missing' not found"):
        engine.modify("missing", start_before=["a"])


def test_an_ended_instance_cannot_be_modified_but_can_be_restarted(engine):
    engine.deploy(LINE)
    iid = engine.start("p", {"amount": 5})
    engine.move_token(iid, "a", "c")
    complete(engine, iid, "c", approved=True)
    with pytest.raises(Conflict, match="already ended"):
        engine.modify(iid, start_before=["b"])
    new = engine.restart(iid, ["b"], variables={"retry": 1}, reason="redo b")
    assert new != iid and tasks(engine, new) == ["b"]
    assert engine.variables(new) == {"amount": 5, "approved": True, "retry": 1}
    assert [e.detail["new_instance_id"] for e in engine.history(iid)
            if e.type == "instance_restarted"] == [new]
    [modified] = [e for e in engine.history(new) if e.type == "instance_modified"]
    assert modified.detail["restarted_from"] == iid
    with pytest.raises(Conflict, match="still running"):
        engine.restart(new, ["a"])


# ---------------------------------------------------------------------------- reset_to
PARALLEL = bpmn(
    '<startEvent id="s"/><userTask id="first"/><parallelGateway id="fork"/>'
    '<userTask id="a1"/><userTask id="a2"/><userTask id="b1"/><parallelGateway id="join"/>'
    '<userTask id="last"/><endEvent id="e"/>'
    + flows("s>first", "first>fork", "fork>a1", "a1>a2", "a2>join", "fork>b1", "b1>join",
            "join>last", "last>e"))


def test_reset_to_cancels_only_what_went_on_from_the_activity(engine):
    engine.deploy(PARALLEL)
    iid = engine.start("p")
    complete(engine, iid, "first")
    complete(engine, iid, "a1")
    complete(engine, iid, "b1")        # waits at the join, arrived from b1
    assert tasks(engine, iid) == ["a2"]
    engine.reset_to(iid, "a1")
    assert tasks(engine, iid) == ["a1"]
    complete(engine, iid, "a1")
    complete(engine, iid, "a2")        # b1's arrival was kept: the join fires
    assert tasks(engine, iid) == ["last"]


def test_reset_to_before_the_split_cancels_every_branch(engine):
    engine.deploy(PARALLEL)
    iid = engine.start("p")
    complete(engine, iid, "first")
    complete(engine, iid, "a1")
    engine.reset_to(iid, "first")
    assert tasks(engine, iid) == ["first"]
    assert sorted(a for _, a in events(engine, iid, "activity_cancelled")) == ["a2", "b1"]


def test_reset_into_a_finished_subprocess_reopens_it(engine):
    engine.deploy(NESTED)
    iid = engine.start("p")
    for activity in ("a", "o1", "i1", "i2"):
        complete(engine, iid, activity)
    assert tasks(engine, iid) == ["after"]
    engine.reset_to(iid, "i1")
    assert tasks(engine, iid) == ["i1"]
    complete(engine, iid, "i1")
    complete(engine, iid, "i2")
    assert tasks(engine, iid) == ["after"]


def test_reset_keeps_a_boundary_timer_for_the_restarted_task(engine, clock):
    engine.deploy(bpmn('<startEvent id="s"/><userTask id="a"/><userTask id="b"/>'
                       '<userTask id="slow"/><endEvent id="e"/><endEvent id="e2"/>'
                       f'<boundaryEvent id="t" attachedToRef="a">{TIMER.format("PT1H")}'
                       '</boundaryEvent>' + flows("s>a", "a>b", "b>e", "t>slow", "slow>e2")))
    iid = engine.start("p")
    complete(engine, iid, "a")
    assert engine.jobs(instance_id=iid) == []
    engine.reset_to(iid, "a")
    assert [j.activity_id for j in engine.jobs(instance_id=iid)] == ["t"]
    clock.advance(timedelta(hours=2))
    engine.run_due_jobs()
    assert tasks(engine, iid) == ["slow"]


# ---------------------------------------------------------------------------- Camunda REST
@pytest.fixture
def rest(engine: Engine) -> Any:
    from flask import Flask

    from tasklist_ui.engine_rest import bp

    app = Flask(__name__)
    app.config["BATON_REST_AUTH"] = False
    app.extensions["baton"] = SimpleNamespace(engine=engine)
    app.register_blueprint(bp)
    client = app.test_client()

    def post(path: str, body: Any) -> tuple[int, Any]:
        resp = client.post("/engine-rest" + path, json=body)
        return resp.status_code, resp.get_json(silent=True)

    return post


def test_camunda_rest_modification_runs_the_instructions_in_order(engine, rest):
    engine.deploy(LINE)
    iid = engine.start("p")
    [task] = engine.tasks(instance_id=iid)
    status, _ = rest(f"/process-instance/{iid}/modification", {
        "skipCustomListeners": False, "annotation": "fix",
        "instructions": [
            {"type": "cancel", "activityInstanceId": f"a:{task.token}"},
            {"type": "startBeforeActivity", "activityId": "c",
             "variables": {"note": {"value": "hi", "type": "String"}}}]})
    assert status == 204
    assert tasks(engine, iid) == ["c"] and engine.variables(iid)["note"] == "hi"
    [modified] = [e for e in engine.history(iid) if e.type == "instance_modified"]
    assert modified.detail["reason"] == "fix"


@pytest.mark.parametrize(("body", "status", "fragment"), [
    ({"instructions": []}, 400, "non-empty list"),
    ({"instructions": [{"type": "teleport", "activityId": "c"}]}, 400, "type must be one of"),
    ({"instructions": [{"type": "cancel"}]}, 400, "needs activityId"),
    ({"skipCustomListeners": True, "instructions": [{"type": "cancel", "activityId": "a"}]},
     400, "skipCustomListeners"),
    ({"instructions": [{"type": "startBeforeActivity", "activityId": "zz"}]}, 400,
     "has no activity 'zz'"),
])
def test_camunda_rest_modification_refuses_bad_bodies(engine, rest, body, status, fragment):
    engine.deploy(LINE)
    iid = engine.start("p")
    got, error = rest(f"/process-instance/{iid}/modification", body)
    assert got == status and fragment in error["message"]
    assert tasks(engine, iid) == ["a"]
    assert rest("/process-instance/nope/modification", body)[0] == 404
