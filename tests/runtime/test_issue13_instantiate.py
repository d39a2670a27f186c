"""Issue 13: a receive task, or an event-based gateway, with instantiate="true" starts the
process when its message arrives (BPMN 2.0.2 10.3.3 Receive Task, 10.6.6 Event-Based
Gateway to start a process)."""

from __future__ import annotations

import pytest

from engine.bpmn import BpmnValidationError
from tests.runtime.conftest import bpmn, flows

MESSAGES = ('<message id="m_order" name="order"/><message id="m_cancel" name="cancel"/>'
            '<signal id="s_alarm" name="alarm"/>')


def _receive_task() -> str:
    return bpmn('<receiveTask id="receive" messageRef="m_order" instantiate="true"/>'
                '<userTask id="handle"/><endEvent id="e"/>'
                + flows("receive>handle", "handle>e"), extra=MESSAGES)


def test_a_message_for_an_instantiating_receive_task_starts_the_process(h):
    h.deploy(_receive_task())
    [iid] = h.engine.correlate_message("order", business_key="B-1", variables={"qty": 3})
    assert h.tasks(iid) == ["handle"]
    assert h.vars(iid) == {"qty": 3}
    assert h.engine.instance(iid).business_key == "B-1"
    assert "receive" in h.completed(iid)
    [second] = h.engine.correlate_message("order")       # each message: a new instance
    assert second != iid


def test_started_by_key_the_receive_task_waits_for_its_message(h):
    h.deploy(_receive_task())
    iid = h.start()
    assert h.engine.instance(iid).waiting == ["receive"]
    assert h.engine.correlate_message("order") == [iid]  # delivered, not a new instance
    assert h.tasks(iid) == ["handle"]
    assert len(h.engine.instances()) == 1


def _event_gateway(kind: str = "Exclusive", third: str = "") -> str:
    return bpmn(
        f'<eventBasedGateway id="gw" instantiate="true" eventGatewayType="{kind}"/>'
        '<intermediateCatchEvent id="on_order"><messageEventDefinition messageRef="m_order"/>'
        '</intermediateCatchEvent>'
        '<receiveTask id="on_cancel" messageRef="m_cancel"/>'
        '<userTask id="ship"/><userTask id="refund"/><endEvent id="e1"/><endEvent id="e2"/>'
        + third + flows("gw>on_order", "gw>on_cancel", "on_order>ship", "on_cancel>refund",
                        "ship>e1", "refund>e2"), extra=MESSAGES)


@pytest.mark.parametrize(("message", "task", "event"), [
    ("order", "ship", "on_order"), ("cancel", "refund", "on_cancel")])
def test_an_exclusive_instantiating_gateway_starts_on_either_message(h, message, task,
                                                                    event):
    h.deploy(_event_gateway())
    [iid] = h.engine.correlate_message(message, variables={"by": message})
    assert h.tasks(iid) == [task]
    assert h.vars(iid) == {"by": message}
    assert {"gw", event} <= set(h.completed(iid))
    assert h.engine.instance(iid).waiting == [task]       # the other event is not awaited


def test_a_parallel_instantiating_gateway_awaits_the_other_events_in_that_instance(h):
    h.deploy(_event_gateway("Parallel"))
    [iid] = h.engine.correlate_message("order", business_key="K")
    assert h.tasks(iid) == ["ship"]
    assert sorted(h.engine.instance(iid).waiting) == ["on_cancel", "ship"]
    assert h.engine.correlate_message("cancel", business_key="K") == [iid]
    assert h.tasks(iid) == ["refund", "ship"]
    assert len(h.engine.instances()) == 1


def test_signal_and_timer_events_of_an_instantiating_gateway_start_it_too(h):
    third = ('<intermediateCatchEvent id="on_alarm"><signalEventDefinition '
             'signalRef="s_alarm"/></intermediateCatchEvent>'
             '<intermediateCatchEvent id="nightly"><timerEventDefinition><timeDuration>PT1H'
             '</timeDuration></timerEventDefinition></intermediateCatchEvent>'
             '<userTask id="panic"/><userTask id="batch"/>'
             + flows("gw>on_alarm", "gw>nightly", "on_alarm>panic", "nightly>batch"))
    h.deploy(_event_gateway(third=third))
    [iid] = h.engine.broadcast_signal("alarm")
    assert h.tasks(iid) == ["panic"]
    h.advance(hours=2)
    timed = [i.id for i in h.engine.instances() if i.id != iid]
    assert len(timed) == 1 and h.tasks(timed[0]) == ["batch"]


@pytest.mark.parametrize(("body", "fragment"), [
    ('<startEvent id="s"/><subProcess id="sub"><startEvent id="ss"/>'
     '<receiveTask id="x" messageRef="m_order" instantiate="true"/><endEvent id="se"/>'
     + flows("ss>x", "x>se") + '</subProcess><endEvent id="e"/>' + flows("s>sub", "sub>e"),
     "inside a subprocess"),
    ('<startEvent id="s"/><receiveTask id="x" messageRef="m_order" instantiate="true"/>'
     '<endEvent id="e"/>' + flows("s>x", "x>e"), "with incoming sequence flows"),
    ('<startEvent id="s"/><eventBasedGateway id="x" instantiate="true"/>'
     '<intermediateCatchEvent id="c"><messageEventDefinition messageRef="m_order"/>'
     '</intermediateCatchEvent><endEvent id="e"/>' + flows("s>x", "x>c", "c>e"),
     "with incoming sequence flows"),
])
def test_instantiate_where_it_cannot_apply_is_ignored_with_a_warning(h, body, fragment):
    """Modelers set instantiate="true" where it has no meaning (MIWG exports do): the
    element runs as drawn, and the deployment says so."""
    [definition] = h.engine.deploy(bpmn(body, extra=MESSAGES).encode())
    warnings = h.engine.compiled(definition.id).warnings
    assert any("'x'" in w and fragment in w for w in warnings)
    iid = h.start()
    assert h.engine.correlate_message("order") == [iid]   # delivered, not a new instance
    assert h.status(iid) == "completed"


@pytest.mark.parametrize(("body", "fragment"), [
    ('<eventBasedGateway id="gw" instantiate="true"/>'
     '<intermediateCatchEvent id="x"><conditionalEventDefinition><condition>${go}'
     '</condition></conditionalEventDefinition></intermediateCatchEvent><endEvent id="e"/>'
     + flows("gw>x", "x>e"), "conditional event"),
    ('<receiveTask id="x" instantiate="true"/><endEvent id="e"/>' + flows("x>e"),
     "names no message"),
])
def test_instantiation_that_cannot_work_is_refused(h, body, fragment):
    with pytest.raises(BpmnValidationError) as caught:
        h.deploy(bpmn(body, extra=MESSAGES))
    assert any(p.element_id == "x" and fragment in p.message for p in caught.value.problems)
