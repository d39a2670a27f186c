"""Issue 13: a signal thrown inside a subprocess and caught by an interrupting catcher that
cancels the thrower's own scope (BPMN 2.0.2 13.5.1: the signal is broadcast to every
catcher; an interrupting boundary event cancels the activity it is attached to).

The thrower is still executing when its own scope is cancelled; the engine must let the
catcher take over and not move the cancelled token on."""

from __future__ import annotations

import pytest

from tests.runtime.conftest import bpmn, flows

SIGNAL = '<signal id="sig" name="go"/>'
SIGNAL_DEF = '<signalEventDefinition signalRef="sig"/>'


def _diagram(thrower: str, *, cancel_activity: bool = True, nested: bool = False) -> str:
    """sub (with a signal boundary `b`) contains the thrower; after the throw comes `never`
    (or the end); the boundary leads to `after`."""
    if thrower == "end":
        inner = (f'<startEvent id="ss"/><endEvent id="throw">{SIGNAL_DEF}</endEvent>'
                 '<userTask id="never"/>' + flows("ss>throw"))
    else:
        inner = (f'<startEvent id="ss"/><intermediateThrowEvent id="throw">{SIGNAL_DEF}'
                 '</intermediateThrowEvent><userTask id="never"/><endEvent id="se"/>'
                 + flows("ss>throw", "throw>never", "never>se"))
    if nested:
        inner = ('<startEvent id="os"/><subProcess id="inner">' + inner + '</subProcess>'
                 '<endEvent id="oe"/>' + flows("os>inner", "inner>oe"))
    cancel = "true" if cancel_activity else "false"
    return bpmn(
        '<startEvent id="s"/>'
        f'<subProcess id="sub">{inner}</subProcess>'
        f'<boundaryEvent id="b" attachedToRef="sub" cancelActivity="{cancel}">{SIGNAL_DEF}'
        '</boundaryEvent>'
        '<userTask id="after"/><endEvent id="e"/><endEvent id="e2"/>'
        + flows("s>sub", "sub>e", "b>after", "after>e2"),
        extra=SIGNAL)


@pytest.mark.parametrize("thrower", ["intermediate", "end"])
def test_interrupting_boundary_on_the_throwers_subprocess_takes_over(h, thrower):
    h.deploy(_diagram(thrower))
    iid = h.start()
    assert h.tasks(iid) == ["after"]
    assert h.status(iid) == "running"
    assert "sub" in h.cancelled(iid)
    assert "throw" in h.completed(iid)  # the throw happened, then its scope was cancelled
    h.complete("after", iid)
    assert h.status(iid) == "completed"
    assert "never" not in h.completed(iid)


def test_boundary_on_an_outer_subprocess_cancels_the_nested_thrower(h):
    h.deploy(_diagram("intermediate", nested=True))
    iid = h.start()
    assert h.tasks(iid) == ["after"]
    assert {"sub", "inner"} <= set(h.cancelled(iid))


def test_non_interrupting_boundary_lets_the_thrower_go_on(h):
    h.deploy(_diagram("intermediate", cancel_activity=False))
    iid = h.start()
    assert h.tasks(iid) == ["after", "never"]
    h.complete("never", iid)
    h.complete("after", iid)
    assert h.status(iid) == "completed"


def test_interrupting_event_subprocess_in_the_throwers_scope_takes_over(h):
    h.deploy(bpmn(
        '<startEvent id="s"/>'
        '<subProcess id="sub">'
        f'<startEvent id="ss"/><intermediateThrowEvent id="throw">{SIGNAL_DEF}'
        '</intermediateThrowEvent><userTask id="never"/><endEvent id="se"/>'
        '<subProcess id="esp" triggeredByEvent="true">'
        f'<startEvent id="es">{SIGNAL_DEF}</startEvent><userTask id="handle"/>'
        '<endEvent id="ee"/>' + flows("es>handle", "handle>ee") + '</subProcess>'
        + flows("ss>throw", "throw>never", "never>se") +
        '</subProcess><endEvent id="e"/>' + flows("s>sub", "sub>e"),
        extra=SIGNAL))
    iid = h.start()
    assert h.tasks(iid) == ["handle"]
    h.complete("handle", iid)
    assert h.status(iid) == "completed"
    assert "never" not in h.completed(iid)


def test_process_level_interrupting_event_subprocess_cancels_a_thrower_at_process_level(h):
    h.deploy(bpmn(
        f'<startEvent id="s"/><intermediateThrowEvent id="throw">{SIGNAL_DEF}'
        '</intermediateThrowEvent><userTask id="never"/><endEvent id="e"/>'
        '<subProcess id="esp" triggeredByEvent="true">'
        f'<startEvent id="es">{SIGNAL_DEF}</startEvent><endEvent id="ee"/>'
        + flows("es>ee") + '</subProcess>' + flows("s>throw", "throw>never", "never>e"),
        extra=SIGNAL))
    iid = h.start()
    assert h.status(iid) == "completed"
    assert h.tasks(iid) == []
    assert "never" not in h.completed(iid)
