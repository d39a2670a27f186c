"""Issue 13: the complex gateway (BPMN 2.0.2 10.6.5 and 13.3.4).

Waiting for start, it fires when its activationCondition holds over the tokens waiting on
its incoming flows (`_activationCount`, per-flow `_activationCounts`) and the data, taking
one token from each flow that has one and splitting like an inclusive gateway. Then it
waits for reset: the tokens still to come on the other flows (unless none can come any
more) are consumed; outgoing flows whose condition holds with `waitingForStart` false get a
token then. Then it waits for start again."""

from __future__ import annotations

import pytest

from engine.errors import EngineError
from tests.runtime.conftest import bpmn, flows


def _three_branches(activation: str | None = "${_activationCount >= 2}",
                    outgoing: str | None = None, before: str = "") -> str:
    """fork -> a, b, c (user tasks) -> cx -> after; `outgoing` replaces cx's flows."""
    condition = (f'<activationCondition xsi:type="tFormalExpression">{activation}'
                 '</activationCondition>') if activation is not None else ""
    out = outgoing if outgoing is not None else flows("cx>after") + '<userTask id="after"/>'
    return bpmn(
        f'<startEvent id="s"/>{before}<parallelGateway id="fork"/>'
        '<userTask id="a"/><userTask id="b"/><userTask id="c"/>'
        f'<complexGateway id="cx">{condition}</complexGateway><endEvent id="e"/>'
        + flows("s>fork", "fork>a", "fork>b", "fork>c", "a>cx", "b>cx", "c>cx") + out
        + (flows("after>e") if outgoing is None else ""))


def _started(h, iid, activity):
    return sum(1 for r in h.engine.history(iid)
               if r.type == "activity_completed" and r.activity_id == activity)


def test_two_out_of_three_activates_and_the_third_is_absorbed_at_reset(h):
    h.deploy(_three_branches())
    iid = h.start()
    h.complete("a", iid)
    assert h.tasks(iid) == ["b", "c"]
    h.complete("c", iid)
    assert h.tasks(iid) == ["after", "b"]     # activated by a and c
    h.complete("b", iid)                       # the reset consumes b's token: no new token
    assert h.tasks(iid) == ["after"]
    h.complete("after", iid)
    assert h.status(iid) == "completed"
    assert _started(h, iid, "after") == 1


def test_without_activation_condition_the_first_token_activates(h):
    h.deploy(_three_branches(activation=None))
    iid = h.start()
    h.complete("b", iid)
    assert h.tasks(iid) == ["a", "after", "c"]
    h.complete("a", iid)
    h.complete("c", iid)
    assert h.tasks(iid) == ["after"]


def test_the_activation_condition_reads_per_flow_counts_and_data(h):
    h.deploy(_three_branches(
        "${_activationCounts['a_cx'] == 1 &amp;&amp; _activationCount >= quorum}"))
    iid = h.start(quorum=2)
    h.complete("b", iid)
    h.complete("c", iid)
    assert h.tasks(iid) == ["a"]              # two arrived, but not the one from a
    h.complete("a", iid)
    assert h.tasks(iid) == ["after"]


def test_a_data_change_can_activate_waiting_tokens(h):
    h.deploy(_three_branches("${_activationCount >= 1 &amp;&amp; go}"))
    iid = h.start(go=False)
    h.complete("a", iid)
    assert h.tasks(iid) == ["b", "c"]
    h.engine.set_variables(iid, {"go": True})
    assert h.tasks(iid) == ["after", "b", "c"]


def test_outgoing_conditions_at_start_and_at_reset(h):
    outgoing = (
        '<userTask id="first"/><userTask id="late"/><endEvent id="e1"/><endEvent id="e2"/>'
        '<sequenceFlow id="to_first" sourceRef="cx" targetRef="first"><conditionExpression>'
        '${waitingForStart}</conditionExpression></sequenceFlow>'
        '<sequenceFlow id="to_late" sourceRef="cx" targetRef="late"><conditionExpression>'
        '${!waitingForStart}</conditionExpression></sequenceFlow>'
        + flows("first>e1", "late>e2"))
    h.deploy(_three_branches(outgoing=outgoing))
    iid = h.start()
    h.complete("a", iid)
    h.complete("b", iid)
    assert h.tasks(iid) == ["c", "first"]
    h.complete("c", iid)
    assert h.tasks(iid) == ["first", "late"]  # the reset passes a token to `late`


def test_default_flow_when_no_condition_holds_at_activation(h):
    outgoing = (
        '<userTask id="yes"/><userTask id="otherwise"/><endEvent id="e1"/>'
        '<sequenceFlow id="to_yes" sourceRef="cx" targetRef="yes"><conditionExpression>'
        '${x &gt; 5}</conditionExpression></sequenceFlow>'
        '<sequenceFlow id="to_otherwise" sourceRef="cx" targetRef="otherwise"/>'
        + flows("yes>e1"))
    xml = _three_branches(outgoing=outgoing).replace(
        '<complexGateway id="cx">', '<complexGateway id="cx" default="to_otherwise">')
    h.deploy(xml)
    iid = h.start(x=1)
    h.complete("a", iid)
    h.complete("b", iid)
    assert h.tasks(iid) == ["c", "otherwise"]


def test_no_condition_and_no_default_fails(h):
    outgoing = ('<userTask id="yes"/><sequenceFlow id="to_yes" sourceRef="cx" '
                'targetRef="yes"><conditionExpression>${x &gt; 5}</conditionExpression>'
                '</sequenceFlow>')
    h.deploy(_three_branches(outgoing=outgoing))
    iid = h.start(x=1)
    h.complete("a", iid)
    with pytest.raises(EngineError, match="no outgoing sequence flow"):
        h.complete("b", iid)


def test_reset_does_not_wait_for_a_branch_that_was_never_taken(h):
    """An exclusive choice upstream leaves one incoming flow dead: the reset happens once
    nothing can reach it, and the gateway activates again on the next round."""
    h.deploy(bpmn(
        '<startEvent id="s"/><userTask id="round"/><exclusiveGateway id="pick" default="p_ab"/>'
        '<parallelGateway id="ab"/><userTask id="a"/><userTask id="b"/><userTask id="c"/>'
        '<complexGateway id="cx"><activationCondition>${_activationCount >= 1}'
        '</activationCondition></complexGateway>'
        '<exclusiveGateway id="again" default="again_e"/><endEvent id="e"/>'
        + flows("s>round", "round>pick", "ab>a", "ab>b", "a>cx", "b>cx", "c>cx", "cx>again")
        + '<sequenceFlow id="p_ab" sourceRef="pick" targetRef="ab"/>'
          '<sequenceFlow id="p_c" sourceRef="pick" targetRef="c"><conditionExpression>'
          '${only_c}</conditionExpression></sequenceFlow>'
          '<sequenceFlow id="again_round" sourceRef="again" targetRef="round">'
          '<conditionExpression>${more}</conditionExpression></sequenceFlow>'
          '<sequenceFlow id="again_e" sourceRef="again" targetRef="e"/>'))
    iid = h.start(only_c=False, more=True)
    h.complete("round", iid)
    h.complete("a", iid)                      # activates; waits for b (c is dead)
    assert h.tasks(iid) == ["b", "round"]
    h.complete("b", iid)                      # reset: absorbed
    assert h.tasks(iid) == ["round"]
    h.complete("round", iid, only_c=True, more=False)
    h.complete("c", iid)                      # activates again on the next round
    assert h.status(iid) == "completed"


def test_a_single_incoming_flow_gates_on_the_condition(h):
    h.deploy(bpmn(
        '<startEvent id="s"/><complexGateway id="cx"><activationCondition>${ready}'
        '</activationCondition></complexGateway><userTask id="after"/><endEvent id="e"/>'
        + flows("s>cx", "cx>after", "after>e")))
    iid = h.start(ready=False)
    assert h.tasks(iid) == []
    assert h.status(iid) == "running"
    h.engine.set_variables(iid, {"ready": True})
    assert h.tasks(iid) == ["after"]
