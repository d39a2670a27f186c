"""Gateways: exclusive with default, parallel split/join, inclusive split and join."""

from __future__ import annotations

import pytest

from engine import EngineError
from tests.runtime.conftest import bpmn, flows


def test_exclusive_takes_first_true_condition_else_default(h):
    h.deploy(bpmn("""
      <startEvent id="s"/><exclusiveGateway id="g" default="g_low"/>
      <userTask id="high"/><userTask id="low"/>
      <sequenceFlow id="s_g" sourceRef="s" targetRef="g"/>
      <sequenceFlow id="g_high" sourceRef="g" targetRef="high">
        <conditionExpression>${amount &gt; 1000}</conditionExpression></sequenceFlow>
      <sequenceFlow id="g_low" sourceRef="g" targetRef="low"/>"""))
    assert h.tasks(h.start(amount=5000)) == ["high"]
    assert h.tasks(h.start(amount=10)) == ["low"]


def test_exclusive_without_true_flow_fails_and_stores_nothing(h):
    h.deploy(bpmn("""
      <startEvent id="s"/><exclusiveGateway id="g"/><endEvent id="e"/>
      <sequenceFlow id="s_g" sourceRef="s" targetRef="g"/>
      <sequenceFlow id="g_e" sourceRef="g" targetRef="e">
        <conditionExpression>x == 1</conditionExpression></sequenceFlow>"""))
    with pytest.raises(EngineError, match="exclusiveGateway 'g'"):
        h.start(x=2)
    assert h.engine.instances() == []


def test_parallel_join_waits_for_all_branches(h):
    h.deploy(bpmn(
        '<startEvent id="s"/><parallelGateway id="fork"/><userTask id="a"/><userTask id="b"/>'
        '<parallelGateway id="join"/><userTask id="after"/><endEvent id="e"/>'
        + flows("s>fork", "fork>a", "fork>b", "a>join", "b>join", "join>after", "after>e")))
    iid = h.start()
    assert h.tasks(iid) == ["a", "b"]
    h.complete("a", iid)
    assert h.tasks(iid) == ["b"]
    h.complete("b", iid)
    assert h.tasks(iid) == ["after"]
    assert h.completed(iid).count("join") == 1
    h.complete("after", iid)
    assert h.status(iid) == "completed"


def test_inclusive_split_and_join_wait_only_for_taken_branches(h):
    h.deploy(bpmn("""
      <startEvent id="s"/><inclusiveGateway id="split"/>
      <userTask id="a"/><userTask id="b"/><userTask id="c"/>
      <inclusiveGateway id="join"/><userTask id="after"/>
      <sequenceFlow id="f0" sourceRef="s" targetRef="split"/>
      <sequenceFlow id="fa" sourceRef="split" targetRef="a"><conditionExpression>wantA</conditionExpression></sequenceFlow>
      <sequenceFlow id="fb" sourceRef="split" targetRef="b"><conditionExpression>wantB</conditionExpression></sequenceFlow>
      <sequenceFlow id="fc" sourceRef="split" targetRef="c"><conditionExpression>wantC</conditionExpression></sequenceFlow>
      <sequenceFlow id="ja" sourceRef="a" targetRef="join"/>
      <sequenceFlow id="jb" sourceRef="b" targetRef="join"/>
      <sequenceFlow id="jc" sourceRef="c" targetRef="join"/>
      <sequenceFlow id="j" sourceRef="join" targetRef="after"/>"""))
    iid = h.start(wantA=True, wantB=False, wantC=True)
    assert h.tasks(iid) == ["a", "c"]
    h.complete("a", iid)
    assert h.tasks(iid) == ["c"]
    h.complete("c", iid)
    assert h.tasks(iid) == ["after"]
    iid2 = h.start(wantA=False, wantB=True, wantC=False)
    h.complete("b", iid2)
    assert h.tasks(iid2) == ["after"]


def test_event_based_gateway_takes_first_event_and_cancels_the_other(h):
    h.deploy(bpmn("""
      <startEvent id="s"/><eventBasedGateway id="g"/>
      <intermediateCatchEvent id="msg"><messageEventDefinition messageRef="m"/></intermediateCatchEvent>
      <intermediateCatchEvent id="tmr"><timerEventDefinition><timeDuration>PT1H</timeDuration></timerEventDefinition></intermediateCatchEvent>
      <userTask id="paid"/><userTask id="late"/>
      <sequenceFlow id="a" sourceRef="s" targetRef="g"/>
      <sequenceFlow id="b" sourceRef="g" targetRef="msg"/>
      <sequenceFlow id="c" sourceRef="g" targetRef="tmr"/>
      <sequenceFlow id="d" sourceRef="msg" targetRef="paid"/>
      <sequenceFlow id="e" sourceRef="tmr" targetRef="late"/>""",
        extra='<message id="m" name="payment"/>'))
    i1 = h.start()
    assert h.engine.instance(i1).waiting == ["g"]
    h.engine.correlate_message("payment", variables={"sum": 5})
    assert h.tasks(i1) == ["paid"]
    assert h.engine.jobs(instance_id=i1) == []
    i2 = h.start()
    h.advance(hours=2)
    assert h.tasks(i2) == ["late"]
    assert h.engine.external_tasks() == []
