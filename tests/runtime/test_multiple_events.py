"""Multiple and parallel multiple events (BPMN 2.0.2 10.5.1): an event with several event
definitions fires on any of them, or with parallelMultiple="true" once all have occurred;
a throwing multiple event throws them all."""

from __future__ import annotations

import pytest

from engine import MessageNotCorrelated
from engine.runtime.state import InstanceState, Subscription
from tests.runtime.conftest import bpmn, flows

MESSAGES = '<message id="ma" name="a"/><message id="mb" name="b"/><signal id="go" name="go"/>'
A_AND_B = '<messageEventDefinition messageRef="ma"/><messageEventDefinition messageRef="mb"/>'


def catch_process(parallel: bool, pid: str = "p", definitions: str = A_AND_B) -> str:
    flag = ' parallelMultiple="true"' if parallel else ""
    return bpmn(
        f'<startEvent id="s"/><intermediateCatchEvent id="c"{flag}>{definitions}'
        '</intermediateCatchEvent><userTask id="after"/><endEvent id="e"/>'
        + flows("s>c", "c>after", "after>e"), pid=pid, extra=MESSAGES)


def subscriptions(h, iid) -> list[tuple]:
    """The stored subscriptions of an instance, as the state keeps them."""
    with h.engine.store.transaction() as tx:
        return [s.to_row() for s in
                InstanceState.from_dict(tx.get_instance(iid).state).subs.values()]


# ---------------------------------------------------------------------------- catch events
def test_multiple_catch_fires_on_either_message_and_stops_waiting_for_the_other(h):
    h.deploy(catch_process(parallel=False))
    iid = h.start()
    assert h.engine.instance(iid).waiting == ["c"]
    assert len(subscriptions(h, iid)) == 2            # one subscription per definition
    h.engine.correlate_message("b", variables={"via": "b"})
    assert h.tasks(iid) == ["after"]
    assert h.vars(iid)["via"] == "b"
    assert subscriptions(h, iid) == []
    with pytest.raises(MessageNotCorrelated, match="no process instance waits for message 'a'"):
        h.engine.correlate_message("a")               # nobody waits for 'a' any more


def test_parallel_multiple_catch_waits_until_every_message_arrived(h):
    h.deploy(catch_process(parallel=True))
    iid = h.start()
    h.engine.correlate_message("a", variables={"first": 1})
    assert h.tasks(iid) == [] and h.engine.instance(iid).waiting == ["c"]
    with pytest.raises(MessageNotCorrelated, match="no process instance waits for message 'a'"):
        h.engine.correlate_message("a")               # 'a' has occurred: not awaited again
    h.engine.correlate_message("b", variables={"second": 2})
    assert h.tasks(iid) == ["after"]
    assert h.vars(iid)["first"] == 1 and h.vars(iid)["second"] == 2
    assert h.completed(iid).count("c") == 1


def test_multiple_catch_with_a_timer_and_a_message(h):
    timer = '<timerEventDefinition><timeDuration>PT1H</timeDuration></timerEventDefinition>'
    h.deploy(catch_process(parallel=False,
                           definitions=timer + '<messageEventDefinition messageRef="ma"/>'))
    iid = h.start()
    assert h.advance(minutes=59) == 0
    h.advance(minutes=2)
    assert h.tasks(iid) == ["after"]
    assert h.engine.jobs(instance_id=iid) == []
    with pytest.raises(MessageNotCorrelated, match="no process instance waits for message 'a'"):
        h.engine.correlate_message("a")


def test_parallel_multiple_catch_with_a_condition_and_a_signal(h):
    condition = ('<conditionalEventDefinition><condition xsi:type="tFormalExpression">'
                 '${ready}</condition></conditionalEventDefinition>')
    h.deploy(catch_process(parallel=True,
                           definitions=condition + '<signalEventDefinition signalRef="go"/>'))
    iid = h.start(ready=False)
    h.engine.broadcast_signal("go")
    assert h.tasks(iid) == []                          # the condition is still false
    h.engine.set_variables(iid, {"ready": True})
    assert h.tasks(iid) == ["after"]


def test_parallel_multiple_catch_whose_condition_already_holds(h):
    condition = ('<conditionalEventDefinition><condition xsi:type="tFormalExpression">'
                 '${ready}</condition></conditionalEventDefinition>')
    h.deploy(catch_process(parallel=True,
                           definitions=condition + '<signalEventDefinition signalRef="go"/>'))
    iid = h.start(ready=True)
    assert h.tasks(iid) == []
    h.engine.broadcast_signal("go")
    assert h.tasks(iid) == ["after"]


# ---------------------------------------------------------------------------- boundary events
def boundary_process(parallel: bool, interrupting: bool) -> str:
    attrs = (' parallelMultiple="true"' if parallel else "") + (
        "" if interrupting else ' cancelActivity="false"')
    return bpmn(
        '<startEvent id="s"/><userTask id="work"/><endEvent id="e"/>'
        f'<boundaryEvent id="b" attachedToRef="work"{attrs}>'
        '<messageEventDefinition messageRef="ma"/><signalEventDefinition signalRef="go"/>'
        '</boundaryEvent><userTask id="react"/><endEvent id="e2"/>'
        + flows("s>work", "work>e", "b>react", "react>e2"), extra=MESSAGES)


def test_interrupting_parallel_multiple_boundary_needs_message_and_signal(h):
    h.deploy(boundary_process(parallel=True, interrupting=True))
    iid = h.start()
    h.engine.broadcast_signal("go")
    assert h.tasks(iid) == ["work"]
    h.engine.correlate_message("a")
    assert h.tasks(iid) == ["react"]
    assert "work" in h.cancelled(iid)


def test_interrupting_multiple_boundary_fires_on_either(h):
    h.deploy(boundary_process(parallel=False, interrupting=True))
    iid = h.start()
    h.engine.broadcast_signal("go")
    assert h.tasks(iid) == ["react"]
    assert subscriptions(h, iid) == []                 # the message part went with the task


def test_non_interrupting_parallel_multiple_boundary_listens_again_after_firing(h):
    h.deploy(boundary_process(parallel=True, interrupting=False))
    iid = h.start()
    for round_ in (1, 2):
        h.engine.correlate_message("a")
        assert h.tasks(iid).count("react") == round_ - 1
        h.engine.broadcast_signal("go")
        assert h.tasks(iid).count("react") == round_
        assert "work" in h.tasks(iid)
    h.complete("work", iid)
    assert subscriptions(h, iid) == []


# ---------------------------------------------------------------------------- event subprocess
def test_event_subprocess_with_a_multiple_start_event(h):
    h.deploy(bpmn(
        '<startEvent id="s"/><userTask id="work"/><endEvent id="e"/>'
        '<subProcess id="esp" triggeredByEvent="true"><startEvent id="es">'
        '<messageEventDefinition messageRef="ma"/><signalEventDefinition signalRef="go"/>'
        '</startEvent><userTask id="handle"/><endEvent id="ee"/>'
        + flows("es>handle", "handle>ee") + '</subProcess>'
        + flows("s>work", "work>e"), extra=MESSAGES))
    iid = h.start()
    h.engine.broadcast_signal("go")
    assert h.tasks(iid) == ["handle"]                  # interrupting: 'work' is cancelled
    with pytest.raises(MessageNotCorrelated, match="no process instance waits for message 'a'"):
        h.engine.correlate_message("a")
    h.complete("handle", iid)
    assert h.status(iid) == "completed"


# ---------------------------------------------------------------------------- throw events
def test_multiple_throw_sends_every_message_to_a_parallel_multiple_catch(h):
    h.deploy(catch_process(parallel=True, pid="receiver"),
             bpmn('<startEvent id="s"/><intermediateThrowEvent id="t">' + A_AND_B
                  + '</intermediateThrowEvent><endEvent id="e"/>' + flows("s>t", "t>e"),
                  pid="sender", extra=MESSAGES))
    receiver = h.start("receiver")
    sender = h.start("sender")
    assert h.status(sender) == "completed"
    assert h.tasks(receiver) == ["after"]


def test_multiple_end_event_throws_a_message_and_a_signal(h):
    h.deploy(bpmn('<startEvent id="s"/><intermediateCatchEvent id="c" parallelMultiple="true">'
                  '<messageEventDefinition messageRef="ma"/><signalEventDefinition '
                  'signalRef="go"/></intermediateCatchEvent><endEvent id="e"/>'
                  + flows("s>c", "c>e"), pid="receiver", extra=MESSAGES),
             bpmn('<startEvent id="s"/><endEvent id="t"><messageEventDefinition messageRef="ma"/>'
                  '<signalEventDefinition signalRef="go"/></endEvent>' + flows("s>t"),
                  pid="sender", extra=MESSAGES))
    receiver = h.start("receiver")
    h.start("sender")
    assert h.status(receiver) == "completed"


# ---------------------------------------------------------------------------- start events
def start_process(parallel: bool) -> str:
    flag = ' parallelMultiple="true"' if parallel else ""
    return bpmn(f'<startEvent id="s"{flag}>{A_AND_B}</startEvent><userTask id="work"/>'
                '<endEvent id="e"/>' + flows("s>work", "work>e"), extra=MESSAGES)


def test_multiple_start_event_starts_an_instance_on_each_of_its_messages(h):
    h.deploy(start_process(parallel=False))
    (first,) = h.engine.correlate_message("b", variables={"n": 1})
    (second,) = h.engine.correlate_message("a", variables={"n": 2})
    assert first != second
    assert h.tasks(first) == ["work"] and h.tasks(second) == ["work"]
    assert h.vars(second)["n"] == 2


def test_parallel_multiple_start_event_waits_for_all_its_messages(h):
    h.deploy(start_process(parallel=True))
    (iid,) = h.engine.correlate_message("a", variables={"x": 1})
    assert h.status(iid) == "running" and h.tasks(iid) == []
    assert h.engine.instance(iid).waiting == ["s"]
    assert h.engine.correlate_message("b", variables={"y": 2}) == [iid]   # the same instance
    assert h.tasks(iid) == ["work"]
    assert h.vars(iid) == {"x": 1, "y": 2}
    assert len(h.engine.instances()) == 1


def test_parallel_multiple_start_thrown_by_a_multiple_throw(h):
    h.deploy(start_process(parallel=True),
             bpmn('<startEvent id="s"/><intermediateThrowEvent id="t">' + A_AND_B
                  + '</intermediateThrowEvent><endEvent id="e"/>' + flows("s>t", "t>e"),
                  pid="sender", extra=MESSAGES))
    h.start("sender")
    (receiver,) = [i for i in h.engine.instances() if i.key == "p"]
    assert h.tasks(receiver.id) == ["work"]


# ---------------------------------------------------------------------------- state
def test_subscriptions_of_single_events_keep_their_six_fields(h):
    """Nodes without multiple events pay nothing: their subscriptions store as before."""
    h.deploy(bpmn('<startEvent id="s"/><intermediateCatchEvent id="c"><messageEventDefinition '
                  'messageRef="ma"/></intermediateCatchEvent><endEvent id="e"/>'
                  + flows("s>c", "c>e"), extra=MESSAGES))
    iid = h.start()
    (sub,) = subscriptions(h, iid)
    assert len(sub) == 6


def test_a_subscription_part_survives_serialisation():
    sub = Subscription(7, "message", "a", 3, 2, 0, part=1)
    again = Subscription.from_row(sub.to_row())
    assert (again.id, again.name, again.part) == (7, "a", 1)
    assert Subscription.from_row([7, "message", "a", 3, 2, 0]).part is None
