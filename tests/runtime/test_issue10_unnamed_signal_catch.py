"""Issue 10: a signal catch event with neither signalRef nor name deploys, with a warning.

BPMN 2.0.2 10.5.5 makes signalRef optional and SpiffWorkflow parses such events (its
boundary_event_split.bpmn has two); Camunda 7 refuses them. Baton refused them too, although
nothing about them stops the rest of the diagram from running: no signal can reach the
event, that is all. Now a catch event without a signal name is the warning
`signal-catch-unnamed` (strict deployments still refuse it), and what it does is what the
warning says: a boundary event never fires, an event subprocess never starts, a start event
starts nothing, a token at an intermediate catch event waits until it is moved on through
the API, like a receive task without messageRef. A throw without a signal name cannot be
sent, so it stays the error `signal-ref-missing`.
"""

from __future__ import annotations

import pytest

from engine.bpmn import BpmnValidationError
from tests.runtime.conftest import bpmn, flows

UNNAMED = "<signalEventDefinition/>"
RULE = "[signal-catch-unnamed]"


def warnings_of(h, xml: str) -> list[str]:
    (definition,) = h.engine.deploy(xml.encode())
    return [w for w in definition.warnings if w.endswith(RULE)]


def test_a_boundary_event_without_signal_name_never_fires(h):
    xml = bpmn('<startEvent id="s"/><userTask id="t"/><endEvent id="e"/>'
               f'<boundaryEvent id="b" attachedToRef="t">{UNNAMED}</boundaryEvent>'
               '<userTask id="never"/>' + flows("s>t", "t>e", "b>never"))
    (warning,) = warnings_of(h, xml)
    assert "boundaryEvent 'b'" in warning and "this boundary event never fires" in warning
    iid = h.start()
    assert h.tasks(iid) == ["t"]
    assert h.engine.broadcast_signal("None") == []       # no name reaches it, not even "None"
    h.complete("t", iid)
    assert h.status(iid) == "completed"
    assert "b" not in h.completed(iid) and "never" not in h.completed(iid)


def test_an_intermediate_catch_without_signal_name_waits_until_triggered(h):
    xml = bpmn(f'<startEvent id="s"/><intermediateCatchEvent id="c">{UNNAMED}'
               '</intermediateCatchEvent><endEvent id="e"/>' + flows("s>c", "c>e"))
    (warning,) = warnings_of(h, xml)
    assert "moved on through the API" in warning
    iid = h.start()
    assert h.engine.instance(iid).waiting == ["c"]
    h.engine.broadcast_signal("anything")
    assert h.status(iid) == "running"
    h.engine.trigger(iid, "c")          # Camunda's runtimeService.signal(executionId)
    assert h.status(iid) == "completed"


def test_an_event_subprocess_started_by_an_unnamed_signal_never_starts(h):
    xml = bpmn('<startEvent id="s"/><userTask id="t"/><endEvent id="e"/>'
               '<subProcess id="esp" triggeredByEvent="true">'
               f'<startEvent id="es">{UNNAMED}</startEvent><userTask id="handle"/>'
               '<endEvent id="ee"/>' + flows("es>handle", "handle>ee") + '</subProcess>'
               + flows("s>t", "t>e"))
    (warning,) = warnings_of(h, xml)
    assert "startEvent 'es'" in warning and "this event subprocess never starts" in warning
    iid = h.start()
    h.engine.broadcast_signal("es")
    assert h.tasks(iid) == ["t"]
    h.complete("t", iid)
    assert h.status(iid) == "completed"


def test_a_process_start_event_without_signal_name_starts_nothing(h):
    xml = bpmn(f'<startEvent id="s"/><startEvent id="by_signal">{UNNAMED}</startEvent>'
               '<userTask id="t"/>' + flows("s>t", "by_signal>t"))
    (warning,) = warnings_of(h, xml)
    assert "no signal starts the process at this start event" in warning
    assert h.engine.broadcast_signal("by_signal") == []
    assert h.engine.instances() == []
    iid = h.start()                      # the none start event still starts it
    assert h.tasks(iid) == ["t"]


def test_an_unnamed_signal_in_a_multiple_catch_event_leaves_the_others_working(h):
    xml = bpmn('<startEvent id="s"/><intermediateCatchEvent id="c">'
               f'<messageEventDefinition messageRef="m"/>{UNNAMED}</intermediateCatchEvent>'
               '<endEvent id="e"/>' + flows("s>c", "c>e"), extra='<message id="m" name="go"/>')
    (warning,) = warnings_of(h, xml)
    assert "this definition of the multiple event never fires" in warning
    iid = h.start()
    h.engine.correlate_message("go")
    assert h.status(iid) == "completed"


def test_strict_deployments_refuse_it_and_a_throw_without_name_stays_an_error(h):
    catch = bpmn(f'<startEvent id="s"/><intermediateCatchEvent id="c">{UNNAMED}'
                 '</intermediateCatchEvent>' + flows("s>c"))
    with pytest.raises(BpmnValidationError, match=r"intermediateCatchEvent 'c'.*"
                                                  r"signal-catch-unnamed"):
        h.engine.deploy(catch.encode(), strict=True)
    throw = bpmn(f'<startEvent id="s"/><intermediateThrowEvent id="t">{UNNAMED}'
                 '</intermediateThrowEvent>' + flows("s>t"))
    with pytest.raises(BpmnValidationError, match=r"cannot tell which signal it throws "
                                                  r"\[signal-ref-missing\]"):
        h.engine.deploy(throw.encode())
