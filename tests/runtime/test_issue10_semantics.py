"""Issue 10, execution semantics: what a run records and decides where Baton differed from
BPMN 2.0.2 chapter 13 or from Camunda 7 (the reference where the spec is silent)."""

from __future__ import annotations

import pytest

from tests.runtime.conftest import bpmn, flows

ERROR = '<error id="err" errorCode="E1"/>'
MESSAGE = '<message id="msg" name="continue"/>'


# ---------------------------------------------------------------------------- error end
def _boundary_error_cancel() -> str:
    """Camunda 7's HistoricActivityInstanceStateTest.testBoundaryErrorCancel: a subprocess
    forks to a user task and a message catch; after the message, an error end event whose
    error the subprocess's interrupting boundary event catches."""
    inner = ('<startEvent id="subprocessStart"/><parallelGateway id="gtw"/>'
             '<userTask id="userTask"/><endEvent id="subprocessEnd"/>'
             '<intermediateCatchEvent id="catchMessage"><messageEventDefinition '
             'messageRef="msg"/></intermediateCatchEvent>'
             '<endEvent id="errorSubprocessEnd"><errorEventDefinition errorRef="err"/>'
             '</endEvent>'
             + flows("subprocessStart>gtw", "gtw>userTask", "userTask>subprocessEnd",
                     "gtw>catchMessage", "catchMessage>errorSubprocessEnd"))
    return bpmn('<startEvent id="start"/>'
                f'<subProcess id="subprocess">{inner}</subProcess>'
                '<boundaryEvent id="subprocessBoundary" attachedToRef="subprocess">'
                '<errorEventDefinition errorRef="err"/></boundaryEvent>'
                '<endEvent id="end"/><endEvent id="endAfterBoundary"/>'
                + flows("start>subprocess", "subprocess>end",
                        "subprocessBoundary>endAfterBoundary"),
                extra=ERROR + MESSAGE)


def test_an_error_end_event_caught_by_an_interrupting_boundary_is_cancelled(h) -> None:
    h.deploy(_boundary_error_cancel())
    iid = h.start()
    h.engine.correlate_message("continue")
    assert h.status(iid) == "completed"
    cancelled, completed = h.cancelled(iid), h.completed(iid)
    assert sorted(cancelled) == ["errorSubprocessEnd", "subprocess", "userTask"]
    assert "errorSubprocessEnd" not in completed and "subprocess" not in completed
    for done in ("start", "subprocessStart", "gtw", "catchMessage", "subprocessBoundary",
                 "endAfterBoundary"):
        assert done in completed and done not in cancelled, done
    types = [(r.type, r.activity_id) for r in h.engine.history(iid)]
    # the end event is cut short before the catcher takes over
    assert types.index(("activity_cancelled", "errorSubprocessEnd")) < types.index(
        ("activity_cancelled", "subprocess"))


def test_an_error_end_event_caught_by_an_event_subprocess_is_cancelled(h) -> None:
    """Camunda 7's testEventSubprocessErrorCancel: the error event subprocess of the
    process interrupts it, the error end event included."""
    h.deploy(bpmn(
        '<startEvent id="s"/><parallelGateway id="fork"/><userTask id="userTask"/>'
        '<intermediateCatchEvent id="catch"><messageEventDefinition messageRef="msg"/>'
        '</intermediateCatchEvent><endEvent id="errorEnd"><errorEventDefinition '
        'errorRef="err"/></endEvent><endEvent id="e"/>'
        '<subProcess id="esp" triggeredByEvent="true"><startEvent id="eventSubprocessStart">'
        '<errorEventDefinition errorRef="err"/></startEvent><endEvent id="eventSubprocessEnd"/>'
        + flows("eventSubprocessStart>eventSubprocessEnd") + '</subProcess>'
        + flows("s>fork", "fork>userTask", "userTask>e", "fork>catch", "catch>errorEnd"),
        extra=ERROR + MESSAGE))
    iid = h.start()
    h.engine.correlate_message("continue")
    assert h.status(iid) == "completed"
    assert sorted(h.cancelled(iid)) == ["errorEnd", "userTask"]
    assert "eventSubprocessEnd" in h.completed(iid)


def test_an_escalation_end_event_with_a_non_interrupting_catcher_completes(h) -> None:
    h.deploy(bpmn(
        '<startEvent id="s"/><subProcess id="sub"><startEvent id="ss"/>'
        '<endEvent id="up"><escalationEventDefinition escalationRef="esc"/></endEvent>'
        + flows("ss>up") + '</subProcess>'
        '<boundaryEvent id="b" attachedToRef="sub" cancelActivity="false">'
        '<escalationEventDefinition escalationRef="esc"/></boundaryEvent>'
        '<userTask id="after"/><endEvent id="e"/><endEvent id="e2"/>'
        + flows("s>sub", "sub>e", "b>after", "after>e2"),
        extra='<escalation id="esc" escalationCode="UP"/>'))
    iid = h.start()
    assert "up" in h.completed(iid) and "up" not in h.cancelled(iid)
    assert "sub" in h.completed(iid)
    assert h.tasks(iid) == ["after"]


# ---------------------------------------------------------------------------- inclusive split
def _inclusive(default: bool = False) -> str:
    """An inclusive split with two unconditioned flows (to a, b), one conditioned (to c),
    and an inclusive join; with `default`, the flow to d is the default."""
    cond = '<conditionExpression>${go}</conditionExpression>'
    body = ('<startEvent id="s"/><inclusiveGateway id="split"'
            + (' default="split_d"' if default else '') + '/>'
            '<userTask id="a"/><userTask id="b"/><userTask id="c"/><userTask id="d"/>'
            '<inclusiveGateway id="join"/><userTask id="after"/><endEvent id="e"/>'
            '<sequenceFlow id="split_a" sourceRef="split" targetRef="a"/>'
            '<sequenceFlow id="split_b" sourceRef="split" targetRef="b"/>'
            f'<sequenceFlow id="split_c" sourceRef="split" targetRef="c">{cond}</sequenceFlow>'
            '<sequenceFlow id="split_d" sourceRef="split" targetRef="d">'
            + ('' if default else '<conditionExpression>${not go}</conditionExpression>')
            + '</sequenceFlow>'
            + flows("s>split", "a>join", "b>join", "c>join", "d>join", "join>after",
                    "after>e"))
    return bpmn(body)


@pytest.mark.parametrize("go", [True, False])
def test_inclusive_split_takes_unconditioned_flows_with_every_true_condition(h, go) -> None:
    """BPMN 2.0.2 13.3.5 / 8.4.13: a flow without condition is not gated, so the split
    takes it together with every flow whose condition holds; the join waits for all."""
    h.deploy(_inclusive())
    iid = h.start(go=go)
    assert h.tasks(iid) == (["a", "b", "c"] if go else ["a", "b", "d"])
    for task in h.tasks(iid):
        assert h.tasks(iid) != ["after"]
        h.complete(task, iid)
    assert h.tasks(iid) == ["after"]
    assert h.completed(iid).count("join") == 1


def test_inclusive_split_with_unconditioned_flows_never_takes_its_default(h) -> None:
    """An unconditioned flow counts as a condition that holds: the default flow (taken
    "if and only if none of the other flows' conditions evaluate to true") stays idle."""
    h.deploy(_inclusive(default=True))
    iid = h.start(go=False)
    assert h.tasks(iid) == ["a", "b"]


# ---------------------------------------------------------------------------- conditions
def _gateway(condition: str, language: str | None = None) -> str:
    lang = f' language="{language}"' if language else ""
    return bpmn('<startEvent id="s"/><exclusiveGateway id="g" default="g_no"/>'
                '<userTask id="yes"/><userTask id="no"/>'
                f'<sequenceFlow id="g_yes" sourceRef="g" targetRef="yes">'
                f'<conditionExpression{lang}>{condition}</conditionExpression></sequenceFlow>'
                '<sequenceFlow id="g_no" sourceRef="g" targetRef="no"/>'
                + flows("s>g"))


@pytest.mark.parametrize(("condition", "language"), [
    ("${status}", None), ("${amount}", None), ("${missing_key.x}", None),
    ("= status", None), ("status", "feel"), ("status", "juel"),
])
def test_a_juel_or_feel_condition_without_a_boolean_fails_naming_the_flow(
        h, condition: str, language: str | None) -> None:
    """Camunda 7 raises "condition expression returns non-Boolean" where Baton used to take
    a non-empty string as true: now the instance fails there (an incident in a job), and
    the error names the flow."""
    from engine import EngineError

    h.deploy(_gateway(condition, language))
    with pytest.raises(EngineError, match=r"sequenceFlow 'g_yes'.*not true or false"):
        h.start(status="yes", amount=3, missing_key={})


@pytest.mark.parametrize("condition", ["${status == 'yes'}", "= status = \"yes\"",
                                       "status == 'yes'"])
def test_boolean_conditions_decide_as_before(h, condition: str) -> None:
    h.deploy(_gateway(condition))
    assert h.tasks(h.start(status="yes")) == ["yes"]
    assert h.tasks(h.start(status="no")) == ["no"]


def test_python_conditions_keep_python_truthiness(h) -> None:
    """Documented (engine.expressions.Expression.holds, README): SpiffWorkflow diagrams
    test lists and strings for being non-empty."""
    h.deploy(_gateway("items"))
    assert h.tasks(h.start(items=[1])) == ["yes"]
    assert h.tasks(h.start(items=[])) == ["no"]


# ---------------------------------------------------------------------------- signavio calls
SIGNAVIO_NS = 'xmlns:signavio="http://www.signavio.com"'


def _signavio(entry: str, sub_name: str = "SP") -> str:
    call = ('<callActivity id="call"><extensionElements><signavio:signavioMetaData '
            f'metaKey="entry" metaValue="{entry}"/></extensionElements></callActivity>')
    main = bpmn('<startEvent id="s"/>' + call + '<endEvent id="e"/>' + flows("s>call", "call>e"))
    sub = (f'<process id="sub_process" name="{sub_name}" isExecutable="true">'
           '<startEvent id="ss"/><userTask id="inner"/><endEvent id="se"/>'
           + flows("ss>inner", "inner>se") + '</process>')
    return main.replace("<definitions ", f"<definitions {SIGNAVIO_NS} ").replace(
        "</definitions>", sub + "</definitions>")


def test_a_signavio_call_activity_calls_the_process_its_entry_names(h) -> None:
    """Signavio exports link a call activity to its subprocess by name (metadata `entry`),
    without calledElement; the process of that name in the same file is called."""
    h.deploy(_signavio("SP"))
    iid = h.start()
    (child,) = h.engine.instance(iid).called["call"]
    assert h.tasks(child) == ["inner"]
    h.complete("inner", child)
    assert h.status(iid) == "completed"


def test_a_signavio_entry_naming_no_process_is_still_refused(h) -> None:
    from engine.bpmn import BpmnValidationError

    with pytest.raises(BpmnValidationError, match="has no calledElement"):
        h.deploy(_signavio("Elsewhere"))


# ---------------------------------------------------------------------------- data objects
def _data_objects() -> str:
    """Data object `total` (process level); `write` has a dataOutputAssociation to it,
    `other` and `script` none; `read` reads it."""
    out = ('<dataOutputAssociation id="o"><targetRef>ref</targetRef></dataOutputAssociation>')
    return bpmn('<dataObject id="total"/><dataObjectReference id="ref" dataObjectRef="total"/>'
                '<startEvent id="s"/>'
                f'<userTask id="write">{out}</userTask><userTask id="other"/>'
                '<scriptTask id="script"><script>total = 99\nnote = "kept"</script></scriptTask>'
                '<userTask id="read"/><endEvent id="e"/>'
                + flows("s>write", "write>other", "other>script", "script>read", "read>e"))


def test_only_an_activity_with_a_data_output_association_writes_a_data_object(h) -> None:
    """BPMN 2.0.2 10.4.1: a data object is reached through data associations. A form or a
    script of an activity without a dataOutputAssociation to it does not change it; its
    other variables are kept."""
    h.deploy(_data_objects())
    iid = h.start()
    h.complete("write", iid, total=1)
    h.complete("other", iid, total=2, comment="x")
    assert h.vars(iid) == {"total": 1, "comment": "x", "note": "kept"}


def test_a_non_boolean_condition_reached_in_a_job_is_an_incident_naming_the_flow(h) -> None:
    """After a timer (a job), the failing condition is an incident on the instance, with
    the flow named, as Camunda 7 raises it there; the instance stays where it was."""
    timer = ('<intermediateCatchEvent id="wait"><timerEventDefinition><timeDuration>PT1M'
             '</timeDuration></timerEventDefinition></intermediateCatchEvent>')
    xml = _gateway("${status}").replace('<startEvent id="s"/>', '<startEvent id="s"/>' + timer)
    xml = xml.replace('sourceRef="s" targetRef="g"', 'sourceRef="s" targetRef="wait"')
    xml = xml.replace('</process>', '<sequenceFlow id="wait_g" sourceRef="wait" '
                                    'targetRef="g"/></process>')
    h.deploy(xml)
    iid = h.start(status="yes")
    for _ in range(4):                        # the job's retries, then the incident
        h.advance(minutes=10)
    (incident,) = h.engine.incidents(instance_id=iid)
    assert "sequenceFlow 'g_yes'" in incident.message
    assert "not true or false" in incident.message
    assert h.status(iid) == "running"
