"""Issue 13: token quantities of activities and the counts of loops.

BPMN 2.0.2 13.2.1 / 10.3.1: `startQuantity` is the number of tokens that must arrive
before the activity starts, `completionQuantity` the number of tokens it sends down each
outgoing flow it takes; both default to 1 and "MUST NOT be less than 1". A standard loop's
`loopMaximum` and a multi-instance `loopCardinality` count iterations and instances: a
negative one is refused at deployment, or fails the activity when an expression gives it.
"""

from __future__ import annotations

import pytest

from engine.bpmn import BpmnValidationError
from engine.errors import EngineError
from tests.runtime.conftest import bpmn, flows


def _refused(h, body: str) -> list:
    with pytest.raises(BpmnValidationError) as caught:
        h.deploy(bpmn(body))
    return caught.value.problems


# ------------------------------------------------------------------ startQuantity


def test_start_quantity_waits_for_that_many_tokens(h):
    h.deploy(bpmn(
        '<startEvent id="s"/><parallelGateway id="fork"/>'
        '<task id="a"/><task id="b"/><task id="c"/>'
        '<userTask id="gather" startQuantity="3"/><endEvent id="e"/>'
        + flows("s>fork", "fork>a", "fork>b", "fork>c", "a>gather", "b>gather", "c>gather",
                "gather>e")))
    iid = h.start()
    assert h.tasks(iid) == ["gather"]           # one activity instance for three tokens
    h.complete("gather", iid)
    assert h.status(iid) == "completed"
    started = [r for r in h.engine.history(iid)
               if r.type == "activity_started" and r.activity_id == "gather"]
    assert len(started) == 1


def test_start_quantity_not_reached_keeps_the_tokens_waiting(h):
    h.deploy(bpmn(
        '<startEvent id="s"/><parallelGateway id="fork"/><userTask id="slow"/>'
        '<task id="fast"/><userTask id="gather" startQuantity="2"/><endEvent id="e"/>'
        + flows("s>fork", "fork>slow", "fork>fast", "slow>gather", "fast>gather",
                "gather>e")))
    iid = h.start()
    assert h.tasks(iid) == ["slow"]             # one token waits at `gather`
    h.complete("slow", iid)
    assert h.tasks(iid) == ["gather"]


# ------------------------------------------------------------------ completionQuantity


def test_completion_quantity_sends_that_many_tokens_down_each_flow(h):
    h.deploy(bpmn(
        '<startEvent id="s"/><task id="t" completionQuantity="2"/>'
        '<userTask id="next"/><userTask id="other"/><endEvent id="e"/><endEvent id="e2"/>'
        + flows("s>t", "t>next", "t>other", "next>e", "other>e2")))
    iid = h.start()
    tasks = h.tasks(iid)
    assert tasks == ["next", "next", "other", "other"]


def test_completion_and_start_quantity_pair_up(h):
    h.deploy(bpmn(
        '<startEvent id="s"/><task id="t" completionQuantity="2"/>'
        '<userTask id="both" startQuantity="2"/><endEvent id="e"/>'
        + flows("s>t", "t>both", "both>e")))
    iid = h.start()
    assert h.tasks(iid) == ["both"]
    h.complete("both", iid)
    assert h.status(iid) == "completed"


@pytest.mark.parametrize("attribute", ["startQuantity", "completionQuantity"])
@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_quantities_below_one_or_not_whole_are_refused(h, attribute, value):
    problems = _refused(h, f'<startEvent id="s"/><task id="t" {attribute}="{value}"/>'
                           '<endEvent id="e"/>' + flows("s>t", "t>e"))
    [problem] = problems
    assert problem.element_id == "t" and problem.line is not None
    assert attribute in problem.message and "at least 1" in problem.message


def test_quantity_one_is_the_default_and_accepted(h):
    h.deploy(bpmn('<startEvent id="s"/><task id="t" startQuantity="1" '
                  'completionQuantity="1"/><endEvent id="e"/>' + flows("s>t", "t>e")))
    assert h.status(h.start()) == "completed"


# ------------------------------------------------------------------ loop counts


def _loop(maximum: str) -> str:
    return ('<startEvent id="s"/><scriptTask id="t" scriptFormat="python">'
            f'<standardLoopCharacteristics loopMaximum="{maximum}">'
            '<loopCondition>True</loopCondition></standardLoopCharacteristics>'
            '<script>count = count + 1</script></scriptTask><endEvent id="e"/>'
            + flows("s>t", "t>e"))


def test_negative_loop_maximum_is_refused(h):
    [problem] = _refused(h, _loop("-1"))
    assert problem.element_id == "t" and "loopMaximum -1" in problem.message


@pytest.mark.parametrize(("maximum", "runs"), [("0", 0), ("3", 3)])
def test_loop_maximum_bounds_the_iterations(h, maximum, runs):
    h.deploy(bpmn(_loop(maximum)))
    iid = h.start(count=0)
    assert h.vars(iid)["count"] == runs


def _multi(cardinality: str) -> str:
    return ('<startEvent id="s"/><userTask id="t"><multiInstanceLoopCharacteristics>'
            f'<loopCardinality>{cardinality}</loopCardinality>'
            '</multiInstanceLoopCharacteristics></userTask><endEvent id="e"/>'
            + flows("s>t", "t>e"))


@pytest.mark.parametrize("literal", ["-1", "${-2}", "#{ -3 }", "= -4"])
def test_negative_literal_loop_cardinality_is_refused(h, literal):
    [problem] = _refused(h, _multi(literal))
    assert problem.element_id == "t" and "negative" in problem.message


def test_negative_cardinality_from_an_expression_fails_the_activity(h):
    h.deploy(bpmn(_multi("${n}")))
    with pytest.raises(EngineError, match="must be 0 or more"):
        h.start(n=-1)
    assert h.engine.instances() == []           # nothing half-started


@pytest.mark.parametrize("n", [2.5, "three", True])
def test_a_cardinality_that_is_not_a_whole_number_fails_the_activity(h, n):
    h.deploy(bpmn(_multi("${n}")))
    with pytest.raises(EngineError, match="not a whole number"):
        h.start(n=n)


def test_zero_cardinality_skips_the_activity(h):
    h.deploy(bpmn(_multi("${n}")))
    assert h.status(h.start(n=0)) == "completed"


def test_negative_cardinality_in_an_async_job_becomes_an_incident(h):
    h.deploy(bpmn(
        '<startEvent id="s"/><userTask id="t" camunda:asyncBefore="true">'
        '<multiInstanceLoopCharacteristics><loopCardinality>${n}</loopCardinality>'
        '</multiInstanceLoopCharacteristics></userTask><endEvent id="e"/>'
        + flows("s>t", "t>e")))
    iid = h.start(n=-1)
    for _ in range(5):                           # retries with backoff, then an incident
        h.advance(minutes=30)
    incidents = h.engine.incidents()
    assert [i.instance_id for i in incidents] == [iid]
    assert "must be 0 or more" in incidents[0].message
