"""Boundary events, event subprocesses, errors, escalations, signals, links, terminate,
conditional events and timers."""

from __future__ import annotations

import pytest

from engine import EngineError
from tests.runtime.conftest import bpmn, flows

TIMER = '<timerEventDefinition><timeDuration>{}</timeDuration></timerEventDefinition>'


def test_interrupting_boundary_timer_cancels_task(h):
    h.deploy(bpmn(
        '<startEvent id="s"/><userTask id="review"/><endEvent id="e"/>'
        f'<boundaryEvent id="late" attachedToRef="review">{TIMER.format("PT48H")}</boundaryEvent>'
        '<userTask id="supervisor"/>'
        + flows("s>review", "review>e", "late>supervisor")))
    iid = h.start()
    assert h.advance(hours=47) == 0
    assert h.tasks(iid) == ["review"]
    h.advance(hours=2)
    assert h.tasks(iid) == ["supervisor"]
    assert "review" in h.cancelled(iid)


def test_non_interrupting_cycle_timer_fires_repeatedly_and_stops_with_task(h):
    h.deploy(bpmn(
        '<startEvent id="s"/><userTask id="work"/><endEvent id="e"/>'
        '<boundaryEvent id="remind" attachedToRef="work" cancelActivity="false">'
        '<timerEventDefinition><timeCycle>R3/PT1H</timeCycle></timerEventDefinition></boundaryEvent>'
        '<serviceTask id="notify" camunda:type="external" camunda:topic="mail"/><endEvent id="e2"/>'
        + flows("s>work", "work>e", "remind>notify", "notify>e2")))
    iid = h.start()
    for _ in range(5):
        h.advance(hours=1)
    assert len(h.engine.external_tasks("mail")) == 3
    assert h.tasks(iid) == ["work"]
    h.complete("work", iid)
    assert h.engine.jobs(instance_id=iid) == []


def test_message_boundary_and_removal_of_subscription(h):
    h.deploy(bpmn(
        '<startEvent id="s"/><userTask id="task"/><endEvent id="e"/>'
        '<boundaryEvent id="b" attachedToRef="task"><messageEventDefinition messageRef="m"/></boundaryEvent>'
        '<userTask id="afterMessage"/>' + flows("s>task", "task>e", "b>afterMessage"),
        extra='<message id="m" name="cancelRequest"/>'))
    i1 = h.start()
    h.engine.correlate_message("cancelRequest")
    assert h.tasks(i1) == ["afterMessage"]
    i2 = h.start()
    h.complete("task", i2)
    with pytest.raises(EngineError, match="cancelRequest"):
        h.engine.correlate_message("cancelRequest")


def test_error_end_event_in_subprocess_caught_by_boundary_with_code_variable(h):
    h.deploy(bpmn("""
      <startEvent id="s"/>
      <subProcess id="sub">
        <startEvent id="ss"/><endEvent id="boom"><errorEventDefinition errorRef="err"/></endEvent>
        <sequenceFlow id="x" sourceRef="ss" targetRef="boom"/>
      </subProcess>
      <boundaryEvent id="caught" attachedToRef="sub">
        <errorEventDefinition errorRef="err" camunda:errorCodeVariable="code"/></boundaryEvent>
      <userTask id="handle"/><endEvent id="e"/>
      <sequenceFlow id="a" sourceRef="s" targetRef="sub"/>
      <sequenceFlow id="b" sourceRef="sub" targetRef="e"/>
      <sequenceFlow id="c" sourceRef="caught" targetRef="handle"/>""",
        extra='<error id="err" errorCode="INVALID"/>'))
    iid = h.start()
    assert h.tasks(iid) == ["handle"]
    assert h.vars(iid)["code"] == "INVALID"


def test_uncaught_error_fails_the_command(h):
    h.deploy(bpmn('<startEvent id="s"/><userTask id="t"/><endEvent id="e">'
                  '<errorEventDefinition errorRef="err"/></endEvent>' + flows("s>t", "t>e"),
                  extra='<error id="err" errorCode="X"/>'))
    iid = h.start()
    with pytest.raises(EngineError, match="BPMN error 'X'"):
        h.complete("t", iid)
    assert h.tasks(iid) == ["t"]  # nothing changed


def test_interrupting_message_event_subprocess_cancels_the_main_flow(h):
    h.deploy(bpmn("""
      <startEvent id="s"/><userTask id="task"/><endEvent id="e"/>
      <subProcess id="esp" triggeredByEvent="true">
        <startEvent id="es"><messageEventDefinition messageRef="m"/></startEvent>
        <userTask id="espTask"/><endEvent id="ee"/>
        <sequenceFlow id="x1" sourceRef="es" targetRef="espTask"/>
        <sequenceFlow id="x2" sourceRef="espTask" targetRef="ee"/>
      </subProcess>""" + flows("s>task", "task>e"), extra='<message id="m" name="abort"/>'))
    iid = h.start()
    h.engine.correlate_message("abort")
    assert h.tasks(iid) == ["espTask"]
    h.complete("espTask", iid)
    assert h.status(iid) == "completed"


def test_non_interrupting_escalation_boundary_keeps_subprocess_running(h):
    h.deploy(bpmn("""
      <startEvent id="s"/>
      <subProcess id="sub">
        <startEvent id="ss"/><intermediateThrowEvent id="esc"><escalationEventDefinition escalationRef="x"/></intermediateThrowEvent>
        <userTask id="inner"/><endEvent id="se"/>
        <sequenceFlow id="a1" sourceRef="ss" targetRef="esc"/>
        <sequenceFlow id="a2" sourceRef="esc" targetRef="inner"/>
        <sequenceFlow id="a3" sourceRef="inner" targetRef="se"/>
      </subProcess>
      <boundaryEvent id="b" attachedToRef="sub" cancelActivity="false"><escalationEventDefinition escalationRef="x"/></boundaryEvent>
      <userTask id="outer"/><endEvent id="e"/>
      <sequenceFlow id="f1" sourceRef="s" targetRef="sub"/>
      <sequenceFlow id="f2" sourceRef="sub" targetRef="e"/>
      <sequenceFlow id="f3" sourceRef="b" targetRef="outer"/>""",
        extra='<escalation id="x" escalationCode="LATE"/>'))
    iid = h.start()
    assert h.tasks(iid) == ["inner", "outer"]


def test_signal_reaches_every_waiting_instance(h):
    h.deploy(bpmn(
        '<startEvent id="s"/><intermediateCatchEvent id="c"><signalEventDefinition signalRef="sg"/>'
        '</intermediateCatchEvent><userTask id="t"/>' + flows("s>c", "c>t"),
        extra='<signal id="sg" name="go"/>'))
    a, b = h.start(), h.start()
    assert sorted(h.engine.broadcast_signal("go")) == sorted([a, b])
    assert h.tasks(a) == ["t"] and h.tasks(b) == ["t"]


def test_link_events_jump(h):
    h.deploy(bpmn("""
      <startEvent id="s"/><intermediateThrowEvent id="throw"><linkEventDefinition name="L"/></intermediateThrowEvent>
      <intermediateCatchEvent id="catch"><linkEventDefinition name="L"/></intermediateCatchEvent>
      <userTask id="t"/>""" + flows("s>throw", "catch>t")))
    assert h.tasks(h.start()) == ["t"]


def test_terminate_end_event_cancels_other_branches(h):
    h.deploy(bpmn(
        '<startEvent id="s"/><parallelGateway id="f"/><userTask id="a"/><userTask id="b"/>'
        '<endEvent id="term"><terminateEventDefinition/></endEvent><endEvent id="e"/>'
        + flows("s>f", "f>a", "f>b", "a>term", "b>e")))
    iid = h.start()
    h.complete("a", iid)
    assert h.status(iid) == "completed"
    assert h.tasks(iid) == []
    assert "b" in h.cancelled(iid)


def test_conditional_catch_fires_when_variable_changes(h):
    h.deploy(bpmn(
        '<startEvent id="s"/><intermediateCatchEvent id="c"><conditionalEventDefinition>'
        '<condition>${ready == true}</condition></conditionalEventDefinition></intermediateCatchEvent>'
        '<userTask id="t"/>' + flows("s>c", "c>t")))
    iid = h.start(ready=False)
    assert h.engine.instance(iid).waiting == ["c"]
    h.engine.set_variables(iid, {"other": 1})
    assert h.tasks(iid) == []
    h.engine.set_variables(iid, {"ready": True})
    assert h.tasks(iid) == ["t"]


def test_timer_catch_with_date_expression(h):
    h.deploy(bpmn(
        '<startEvent id="s"/><intermediateCatchEvent id="w"><timerEventDefinition>'
        '<timeDate>${when}</timeDate></timerEventDefinition></intermediateCatchEvent>'
        '<userTask id="t"/>' + flows("s>w", "w>t")))
    iid = h.start(when="2026-01-03T00:00:00Z")
    h.advance(hours=24)
    assert h.tasks(iid) == []
    h.advance(hours=25)
    assert h.tasks(iid) == ["t"]


def test_message_start_event_starts_instance_with_variables(h):
    h.deploy(bpmn(
        '<startEvent id="s"><messageEventDefinition messageRef="m"/></startEvent><userTask id="t"/>'
        + flows("s>t"), extra='<message id="m" name="newClaim"/>'))
    (iid,) = h.engine.correlate_message("newClaim", business_key="C-1", variables={"x": 1})
    assert h.tasks(iid) == ["t"]
    inst = h.engine.instance(iid)
    assert inst.business_key == "C-1" and inst.variables == {"x": 1}
