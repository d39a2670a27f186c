"""Scenarios for the `camunda/` corpus: the steps and assertions of the Camunda 7 JUnit
tests named in MANIFEST.tsv, replayed through the harness `Ctx`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.errors import EngineError

from .harness import Ctx, scenario

C = "camunda/"


def _ended(ctx: Ctx, iid: str) -> None:
    """The instance has ended normally and left nothing behind."""
    assert ctx.status(iid) == "completed", ctx.status(iid)
    assert ctx.tasks(iid) == []
    assert ctx.jobs(instance_id=iid) == []
    assert ctx.subscriptions(instance_id=iid) == []


def _node(ctx: Ctx, key: str, node_id: str):  # noqa: ANN202 - a graph Node
    return ctx.engine.graph(ctx.engine.definition(key).id).node(node_id)


# ============================================================================ external tasks
ET = C + "api/externaltask/"


@scenario(ET + "ExternalTaskSupportTest.messageEndEvent.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    (task,) = ctx.external_tasks("externalTaskTopic")
    assert task.activity_id == "end" and task.instance_id == iid
    assert dict(_node(ctx, "oneExternalTaskProcess", "end").ext["properties"]) == {
        "key1": "val1", "key2": "val2"}
    ctx.engine.complete_external(task.id)
    _ended(ctx, iid)
    assert ctx.external_tasks() == []


@scenario(ET + "ExternalTaskSupportTest.sendTask.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    (task,) = ctx.external_tasks("externalTaskTopic")
    assert task.activity_id == "externalTask"
    assert dict(_node(ctx, "oneExternalTaskProcess", "externalTask").ext["properties"]) == {
        "key1": "val1", "key2": "val2"}
    ctx.engine.complete_external(task.id)
    _ended(ctx, iid)
    assert ctx.running() == []


@scenario(ET + "oneExternalTaskProcess.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert ctx.waiting(iid) == ["externalTask"]
    (locked,) = ctx.engine.fetch_and_lock("aWorkerId", {"externalTaskTopic": 10}, max_tasks=1)
    assert locked.activity_id == "externalTask"
    assert locked.definition_key == "oneExternalTaskProcess"
    assert locked.topic == "externalTaskTopic"
    assert locked.worker_id == "aWorkerId"
    assert locked.lock_expires == ctx.clock() + timedelta(seconds=10)
    # locked: a second worker gets nothing
    assert ctx.engine.fetch_and_lock("other", {"externalTaskTopic": 10}) == []
    ctx.engine.complete_external(locked.id, worker_id="aWorkerId")
    _ended(ctx, iid)
    assert ctx.history_ids(iid) == ["start", "externalTask", "end"]


@scenario(ET + "twoExternalTaskProcess.bpmn20.xml")
def _(ctx: Ctx) -> None:
    # testComplete
    iid = ctx.start()
    (task,) = ctx.engine.fetch_and_lock("aWorkerId", {"externalTaskTopic": 10})
    ctx.engine.complete_external(task.id, worker_id="aWorkerId")
    assert ctx.engine.fetch_and_lock("aWorkerId", {"externalTaskTopic": 10}) == []
    assert ctx.waiting(iid) == ["afterExternalTask"]
    assert [t.activity_id for t in ctx.tasks(iid)] == ["afterExternalTask"]
    # testHandleBpmnError
    iid2 = ctx.start()
    (task,) = ctx.engine.fetch_and_lock("aWorkerId", {"externalTaskTopic": 10})
    assert task.instance_id == iid2
    ctx.engine.throw_bpmn_error(task.id, "ERROR-OCCURED", worker_id="aWorkerId")
    assert ctx.external_tasks() == []
    assert [t.activity_id for t in ctx.tasks(iid2)] == ["afterBpmnError"]
    assert "externalTask" in ctx.history_ids(iid2, "activity_cancelled")


# ============================================================================ async
@scenario(C + "async/AsyncAfterTest.testAsyncAfterManualTask.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    # both listeners ran, and the instance waits in the job after the manual task
    assert ctx.variables(iid) == {"listenerStartInvoked": True, "listenerEndInvoked": True}
    assert len(ctx.jobs(instance_id=iid)) == 1
    assert ctx.status(iid) == "running"
    assert ctx.run_jobs() == 1
    _ended(ctx, iid)


@scenario(C + "async/AsyncTaskTest.testAsyncScript.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert len(ctx.jobs(instance_id=iid)) == 1
    assert "invoked" not in ctx.variables(iid)
    assert ctx.run_jobs() == 1
    assert ctx.variables(iid)["invoked"] == "true"
    assert ctx.jobs(instance_id=iid) == []
    assert ctx.waiting(iid) == ["wait"]
    ctx.trigger(iid, "wait")
    _ended(ctx, iid)


# ============================================================================ call activities
CA = C + "callactivity/"


@scenario(CA + "CallActivity.testCallSimpleSubProcess.bpmn20.xml",
          also=[CA + "simpleSubProcess.bpmn20.xml"])
def _(ctx: Ctx) -> None:
    iid = ctx.start("callSimpleSubProcess")
    ctx.complete("Task before subprocess")
    assert len(ctx.running()) == 2
    (child,) = ctx.engine.instances(parent_id=iid)
    assert child.key == "simpleSubProcess"
    assert ctx.task("Task in subprocess").instance_id == child.id
    ctx.complete("Task in subprocess")
    assert ctx.status(child.id) == "completed"
    assert ctx.task_names() == ["Task after subprocess"]
    ctx.complete("Task after subprocess")
    _ended(ctx, iid)
    assert ctx.running() == []
    # deleting the child instance also deletes the parent (it cannot continue)
    iid2 = ctx.start("callSimpleSubProcess")
    ctx.complete("Task before subprocess")
    (child2,) = ctx.engine.instances(parent_id=iid2)
    ctx.engine.cancel(child2.id)
    assert ctx.status(child2.id) != "running"
    assert ctx.status(iid2) != "running"
    assert ctx.tasks() == []


@scenario(CA + "CallActivity.testSubProcessDataInputOutput.bpmn20.xml",
          also=[CA + "simpleSubProcess.bpmn20.xml"])
def _(ctx: Ctx) -> None:
    iid = ctx.start(superVariable="Hello from the super process.")
    (child,) = ctx.engine.instances(parent_id=iid)
    assert ctx.variables(child.id)["subVariable"] == "Hello from the super process."
    assert "superVariable" not in ctx.variables(child.id)
    ctx.complete("Task in subprocess", subVariable="Hello from sub process.")
    assert ctx.variables(iid)["superVariable"] == "Hello from sub process."
    assert ctx.task_names() == ["Task in super process"]
    ctx.complete("Task in super process", x=5)
    (child2,) = [c for c in ctx.engine.instances(parent_id=iid) if c.status == "running"]
    assert ctx.variables(child2.id)["y"] == 10
    ctx.complete("Task in subprocess")
    assert ctx.variables(iid)["z"] == 15
    ctx.complete("Task in super process")
    _ended(ctx, iid)
    assert ctx.running() == []


@scenario(CA + "simpleSubProcess.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert ctx.task_names() == ["Task in subprocess"]
    ctx.complete("Task in subprocess")
    _ended(ctx, iid)
    assert ctx.history_ids(iid) == ["theStart", "task", "theEnd"]


# ============================================================================ compensation
CE = C + "event/compensate/"


@scenario(CE + "CompensateEventTest.activityWithCompensationEndEvent.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert [t.activity_id for t in ctx.tasks(iid)] == ["undoBookHotel"]
    assert ctx.waiting(iid) == ["undoBookHotel"]
    ctx.complete("undoBookHotel")
    _ended(ctx, iid)
    completed = ctx.history_ids(iid)
    assert "undoBookFlight" not in completed
    assert completed.index("undoBookHotel") < completed.index("end")
    # deleting the instance while it compensates ends it
    iid = ctx.start()
    ctx.engine.cancel(iid)
    assert ctx.status(iid) == "terminated"
    assert ctx.tasks() == []


@scenario(CE + "CompensateEventTest.testCompensateActivityInSubprocess.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    ctx.complete("scopeTask")
    assert ctx.waiting(iid) == ["beforeCompensate"]
    ctx.trigger(iid, "beforeCompensate")
    assert [t.activity_id for t in ctx.tasks(iid)] == ["undoScopeTask"]
    ctx.complete("undoScopeTask")
    assert ctx.waiting(iid) == ["beforeEnd"]
    ctx.trigger(iid, "beforeEnd")
    _ended(ctx, iid)


@scenario(CE + "CompensateEventTest.testCompensationEventSubProcess.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert ctx.task_names() == ["Book Flight", "Book Hotel"]
    ctx.complete("Book Flight")
    ctx.complete("Book Hotel")
    ctx.complete("Validate Booking", valid=False)
    for name in ("Cancel Flight", "Cancel Hotel", "Update Customer Record"):
        assert ctx.task_names() == [name]
        ctx.complete(name)
    _ended(ctx, iid)


# ============================================================================ conditional events
@scenario(C + "event/conditional/BoundaryConditionalEventTest.testVariableCondition.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert ctx.task_names() == ["Task with condition"]
    ctx.engine.set_variables(iid, {"variable": 1})
    assert ctx.task_names() == ["After Condition"]
    assert "taskWithCondition" in ctx.history_ids(iid, "activity_cancelled")
    ctx.complete("After Condition")
    _ended(ctx, iid)
    # testWrongVariableCondition: another variable does not trigger it
    iid2 = ctx.start()
    ctx.engine.set_variables(iid2, {"varname": 1})
    assert ctx.task_names() == ["Task with condition"]
    ctx.complete("Task with condition")
    _ended(ctx, iid2)
    assert ctx.history_ids(iid2) == ["StartEvent_1", "taskWithCondition", "EndEvent_0gh1aan"]


@scenario(C + "event/conditional/IntermediateConditionalEventTest.testVariableValue.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start(variable=0)
    assert ctx.waiting(iid) == ["conditionalEvent"]
    ctx.engine.set_variables(iid, {"variable": 2})
    assert ctx.waiting(iid) == ["conditionalEvent"]
    ctx.engine.set_variables(iid, {"variable": 1})
    _ended(ctx, iid)


# ============================================================================ end events
@scenario(C + "event/end/TerminateEndEventTest.testProcessTerminate.bpmn")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert ctx.task_names() == ["check before end", "check before termination"]
    ctx.complete("check before termination")
    assert ctx.status(iid) in ("completed", "terminated")
    assert ctx.tasks() == []
    assert "preNormalTerminateTask" in ctx.history_ids(iid, "activity_cancelled")
    assert "EndEvent_2" in ctx.history_ids(iid)


# ============================================================================ error events
ER = C + "event/error/"


@scenario(ER + "BoundaryErrorEventTest.subprocess.bpmn20.xml")
def _(ctx: Ctx) -> None:
    # testUncaughtError: nothing catches 'myError'; Camunda refuses the completion
    iid = ctx.start()
    task = ctx.task("Task in subprocess")
    with pytest.raises(EngineError, match="no catching boundary event or event subprocess for "
                                          "BPMN error 'myError', thrown at 'theEnd'"):
        ctx.engine.complete_task(task.id)
    assert ctx.status(iid) == "running"
    assert ctx.task_names() == ["Task in subprocess"]


@scenario(ER + "BoundaryErrorEventTest.testCatchErrorOnCallActivity-parent.bpmn20.xml",
          also=[ER + "BoundaryErrorEventTest.subprocess.bpmn20.xml"])
def _(ctx: Ctx) -> None:
    iid = ctx.start("catchErrorOnCallActivity")
    (child,) = ctx.engine.instances(parent_id=iid)
    ctx.complete("Task in subprocess")
    assert ctx.status(child.id) != "running"
    assert ctx.task_names() == ["Escalated Task"]
    assert ctx.task("Escalated Task").instance_id == iid
    ctx.complete("Escalated Task")
    _ended(ctx, iid)
    assert "theEnd" not in ctx.history_ids(iid)


@scenario(ER + "BoundaryErrorEventTest.testCatchErrorOnEmbeddedSubprocess.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    ctx.complete("subprocessTask")
    assert ctx.task_names() == ["task after catching the error"]
    assert "subprocess" in ctx.history_ids(iid, "activity_cancelled")
    ctx.complete("task after catching the error")
    assert ctx.status(iid) == "completed"


@scenario(ER + "ErrorEventSubProcessTest.testCatchErrorInEmbeddedSubProcess.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert ctx.task_names() == ["Escalated Task"]
    ctx.complete("Escalated Task")
    _ended(ctx, iid)
    assert "theEnd" in ctx.history_ids(iid)


# ============================================================================ escalation
ES = C + "event/escalation/"


@scenario(ES + "EscalationEventSubprocessTest.testCatchEscalationEventFromEmbeddedSubprocess"
          ".bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert ctx.task_names() == ["task after catched escalation", "task in subprocess"]
    assert ctx.waiting(iid) == ["taskAfterCatchedEscalation", "taskInSubprocess"]
    ctx.complete("task in subprocess")
    ctx.complete("task after catched escalation")
    _ended(ctx, iid)


@scenario(ES + "EscalationEventTest.testBoundaryEventWithEscalationCode.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert ctx.task_names() == ["task after catched escalation 1", "task in subprocess"]
    assert "escalationBoundaryEvent2" not in ctx.history_ids(iid, "activity_started")


@scenario(ES + "EscalationEventTest.testEscalationEndEvent.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert ctx.task_names() == ["task after catched escalation"]
    assert "subProcess" in ctx.history_ids(iid)
    ctx.complete("task after catched escalation")
    _ended(ctx, iid)


@scenario(ES + "EscalationEventTest.testInterruptingEscalationBoundaryEvent.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert ctx.task_names() == ["task after catched escalation"]
    assert "subProcess" in ctx.history_ids(iid, "activity_cancelled")
    ctx.complete("task after catched escalation")
    _ended(ctx, iid)


# ============================================================================ link
@scenario(C + "event/link/LinkEventTest.testValidEventLink.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert ctx.waiting(iid) == ["waitAfterLink1"]
    ctx.trigger(iid, "waitAfterLink1")
    assert ctx.waiting(iid) == ["waitAfterLink2"]
    ctx.trigger(iid, "waitAfterLink2")
    _ended(ctx, iid)
    assert sorted(ctx.history_ids(iid)) == [
        "EndEvent_1", "StartEvent_1", "waitAfterLink1", "waitAfterLink2"]


# ============================================================================ messages
MS = C + "event/message/"


@scenario(MS + "MessageBoundaryEventTest.testSingleBoundaryMessageEvent.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert ctx.waiting(iid) == ["task"]
    (sub,) = ctx.subscriptions(instance_id=iid)
    assert (sub.kind, sub.name) == ("message", "messageName")
    ctx.message("messageName")
    assert [t.activity_id for t in ctx.tasks()] == ["taskAfterMessage"]
    assert ctx.subscriptions() == []
    ctx.complete("taskAfterMessage")
    _ended(ctx, iid)
    # second instance: completing the task removes the subscription
    iid2 = ctx.start()
    ctx.complete("task")
    assert ctx.subscriptions() == []
    assert [t.activity_id for t in ctx.tasks()] == ["taskAfterTask"]
    ctx.complete("taskAfterTask")
    _ended(ctx, iid2)


@scenario(MS + "MessageEventSubprocessTest.testInterruptingUnderProcessDefinition.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    (sub,) = ctx.subscriptions(instance_id=iid)
    assert sub.name == "newMessage"
    ctx.complete("task")
    _ended(ctx, iid)
    iid2 = ctx.start()
    ctx.message("newMessage")
    assert [t.activity_id for t in ctx.tasks()] == ["eventSubProcessTask"]
    assert "task" in ctx.history_ids(iid2, "activity_cancelled")
    ctx.complete("eventSubProcessTask")
    _ended(ctx, iid2)
    assert ctx.subscriptions() == []


@scenario(MS + "MessageEventSubprocessTest.testNonInterruptingUnderProcessDefinition.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert len(ctx.subscriptions(instance_id=iid)) == 1
    ctx.complete("task")
    _ended(ctx, iid)
    for order in (("task", "eventSubProcessTask"), ("eventSubProcessTask", "task")):
        iid = ctx.start()
        ctx.message("newMessage")
        assert sorted(t.activity_id for t in ctx.tasks()) == ["eventSubProcessTask", "task"]
        ctx.complete(order[0])
        assert ctx.status(iid) == "running"
        ctx.complete(order[1])
        _ended(ctx, iid)


@scenario(MS + "MessageIntermediateEventTest.testSingleIntermediateMessageEvent.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert ctx.waiting(iid) == ["messageCatch"]
    (sub,) = ctx.subscriptions(instance_id=iid)
    assert sub.name == "newInvoiceMessage"
    ctx.message("newInvoiceMessage")
    assert ctx.task_names() == ["Task"]
    ctx.complete("Task")
    _ended(ctx, iid)


@scenario(MS + "MessageNonInterruptingBoundaryEventTest"
          ".testSingleNonInterruptingBoundaryMessageEvent.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    ctx.message("messageName")
    assert sorted(t.activity_id for t in ctx.tasks()) == ["task", "taskAfterMessage"]
    assert len(ctx.subscriptions(instance_id=iid)) == 1
    ctx.message("messageName")
    assert sorted(t.activity_id for t in ctx.tasks()) == [
        "task", "taskAfterMessage", "taskAfterMessage"]
    ctx.complete("task")
    assert ctx.subscriptions() == []
    assert sorted(t.activity_id for t in ctx.tasks()) == [
        "taskAfterMessage", "taskAfterMessage", "taskAfterTask"]
    for t in ctx.tasks():
        ctx.engine.complete_task(t.id)
    _ended(ctx, iid)


@scenario(MS + "MessageStartEventTest.testSingleMessageStartEvent.bpmn20.xml")
def _(ctx: Ctx) -> None:
    (iid,) = ctx.message("newInvoiceMessage")
    assert ctx.instance(iid).key == "singleMessageStartEvent"
    assert ctx.task_names() == ["Task"]
    ctx.complete("Task")
    _ended(ctx, iid)
    iid2 = ctx.start("singleMessageStartEvent")
    assert ctx.task_names() == ["Task"]
    ctx.complete("Task")
    _ended(ctx, iid2)


# ============================================================================ signals
SG = C + "event/signal/"


@scenario(SG + "SignalEventTest.testSignalBoundaryOnSubProcess.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert ctx.waiting(iid) == ["timer"]
    assert len(ctx.jobs(instance_id=iid)) == 1
    ctx.signal("stopSignal")
    _ended(ctx, iid)
    assert "waitingsubprocess" in ctx.history_ids(iid, "activity_cancelled")


def _signal_catch_intermediate(ctx: Ctx) -> None:
    iid = ctx.start("catchSignal")
    assert len(ctx.subscriptions(kind="signal", name="alert")) == 1
    assert len(ctx.running()) == 1
    thrower = ctx.start("throwSignal")
    assert ctx.status(thrower) == "completed"
    assert ctx.subscriptions() == []
    assert ctx.running() == []
    _ended(ctx, iid)


scenario(SG + "SignalEventTests.catchAlertSignal.bpmn20.xml",
         also=[SG + "SignalEventTests.throwAlertSignal.bpmn20.xml"])(_signal_catch_intermediate)
scenario(SG + "SignalEventTests.throwAlertSignal.bpmn20.xml",
         also=[SG + "SignalEventTests.catchAlertSignal.bpmn20.xml"])(_signal_catch_intermediate)


# ============================================================================ timers
TM = C + "event/timer/"
SECONDS = timedelta(seconds=5)


@scenario(TM + "BoundaryTimerEventTest.testMultipleTimersOnUserTask.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert len(ctx.jobs(instance_id=iid)) == 3
    assert ctx.task_names() == ["First Task"]
    ctx.advance(timedelta(hours=1) + SECONDS)
    assert ctx.jobs(instance_id=iid) == []
    assert ctx.task_names() == ["Third Task"]
    ctx.complete("Third Task")
    _ended(ctx, iid)


@scenario(TM + "BoundaryTimerEventTest.testTimerOnNestingOfSubprocesses.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert ctx.task_names() == ["Inner subprocess task 1", "Inner subprocess task 2"]
    ctx.advance(timedelta(hours=1))
    assert len(ctx.task_names()) == 2
    ctx.advance(timedelta(hours=1) + SECONDS)
    assert ctx.task_names() == ["task outside subprocess"]
    cancelled = ctx.history_ids(iid, "activity_cancelled")
    assert {"innerTask1", "innerTask2", "subprocess"} <= set(cancelled)


@scenario(TM + "BoundaryTimerNonInterruptingEventTest.testMultipleTimersOnUserTask.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert len(ctx.jobs(instance_id=iid)) == 2
    ctx.advance(timedelta(hours=1) + SECONDS)
    assert ctx.task_names() == ["Escalation Task 1", "First Task"]
    assert len(ctx.jobs(instance_id=iid)) == 1
    ctx.complete("Escalation Task 1")
    assert ctx.task_names() == ["First Task"]
    ctx.advance(timedelta(hours=1))
    assert ctx.task_names() == ["Escalation Task 2", "First Task"]
    assert ctx.jobs(instance_id=iid) == []
    ctx.complete("First Task")
    assert ctx.status(iid) == "running"
    ctx.complete("Escalation Task 2")
    _ended(ctx, iid)


@scenario(TM + "BoundaryTimerNonInterruptingEventTest.testTimerOnEmbeddedSubprocess.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    (t1,) = ctx.tasks(assignee="kermit")
    assert t1.activity_id == "UserTask_1"
    ctx.advance(timedelta(seconds=3))
    assert sorted(t.activity_id for t in ctx.tasks(assignee="kermit")) == [
        "UserTask_1", "UserTask_2"]
    for t in ctx.tasks():
        ctx.engine.complete_task(t.id)
    _ended(ctx, iid)


@scenario(TM + "StartTimerEventTest.testStartTimerEventSubProcessWithUserTask.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert len(ctx.jobs(instance_id=iid)) == 2
    assert ctx.task_names() == ["NonInterruptingUserTask"]
    ctx.advance(timedelta(minutes=1))
    assert ctx.jobs(instance_id=iid) == []
    assert [t.activity_id for t in ctx.tasks()] == ["subprocessUserTask"]
    assert ctx.status(iid) == "running"


# ============================================================================ external
@scenario(C + "external/ExternalTaskParseTest.testParseExternalTaskWithStringTopic.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    (task,) = ctx.external_tasks()
    assert task.topic == "testTopicString"
    assert ctx.status(iid) == "running"
    ctx.engine.complete_external(task.id)
    _ended(ctx, iid)


# ============================================================================ gateways
GW = C + "gateway/"


def _event_gateway_waits(ctx: Ctx, iid: str, messages: int) -> None:
    assert ctx.waiting(iid) == ["gw1"]
    assert len(ctx.subscriptions(instance_id=iid, kind="signal", name="alert")) == 1
    assert len(ctx.subscriptions(instance_id=iid, kind="message")) == messages
    assert len(ctx.jobs(instance_id=iid)) == 1


def _event_gateway_alert_and_timer(ctx: Ctx) -> None:
    # testCatchSignalCancelsTimer
    iid = ctx.start("catchSignal")
    _event_gateway_waits(ctx, iid, 0)
    ctx.start("throwSignal")
    assert ctx.subscriptions(instance_id=iid) == []
    assert ctx.jobs(instance_id=iid) == []
    assert ctx.task("afterSignal").assignee == "kermit"
    ctx.complete("afterSignal")
    _ended(ctx, iid)
    # testCatchTimerCancelsSignal
    iid = ctx.start("catchSignal")
    _event_gateway_waits(ctx, iid, 0)
    assert ctx.advance(timedelta(seconds=1)) == 1
    assert ctx.subscriptions(instance_id=iid) == []
    assert ctx.task_names() == ["afterTimer"]
    ctx.complete("afterTimer")
    _ended(ctx, iid)


scenario(GW + "EventBasedGatewayTest.testCatchAlertAndTimer.bpmn20.xml",
         also=[GW + "EventBasedGatewayTest.throwAlertSignal.bpmn20.xml"])(
    _event_gateway_alert_and_timer)
scenario(GW + "EventBasedGatewayTest.throwAlertSignal.bpmn20.xml",
         also=[GW + "EventBasedGatewayTest.testCatchAlertAndTimer.bpmn20.xml"])(
    _event_gateway_alert_and_timer)


@scenario(GW + "EventBasedGatewayTest.testCatchSignalAndMessageAndTimer.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    _event_gateway_waits(ctx, iid, 1)
    (msg,) = ctx.subscriptions(instance_id=iid, kind="message")
    assert msg.name == "newInvoice"
    ctx.message("newInvoice")
    assert ctx.subscriptions() == []
    assert ctx.jobs() == []
    assert ctx.task_names() == ["afterMessage"]
    ctx.complete("afterMessage")
    _ended(ctx, iid)
    assert "task3" in ctx.history_ids(iid)


@scenario(GW + "ExclusiveGatewayTest.testDefaultSequenceFlow.bpmn20.xml")
def _(ctx: Ctx) -> None:
    for value, expected in ((1, "Input is one"), (3, "Input is three"), (5, "Default input")):
        iid = ctx.start(input=value)
        assert ctx.task_names(iid) == [expected]


@scenario(GW + "ExclusiveGatewayTest.testDivergingExclusiveGateway.bpmn20.xml")
def _(ctx: Ctx) -> None:
    for i in (1, 2, 3):
        iid = ctx.start(input=i)
        assert ctx.task_names(iid) == [f"Task {i}"]


@scenario(GW + "ExclusiveGatewayTest.testMergingExclusiveGateway.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert ctx.task_names(iid) == ["my task"] * 3
    for t in ctx.tasks(iid):
        ctx.engine.complete_task(t.id)
    _ended(ctx, iid)


def _no_flow_selected(ctx: Ctx, gateway: str) -> None:
    kind = "exclusiveGateway" if gateway == "exclusiveGw" else "inclusiveGateway"
    with pytest.raises(EngineError, match=f"{kind} '{gateway}': no outgoing sequence flow's "
                                          "condition is true and there is no default flow"):
        ctx.start(input=4)
    assert ctx.running() == []
    assert ctx.tasks() == []


@scenario(GW + "ExclusiveGatewayTest.testNoSequenceFlowSelected.bpmn20.xml")
def _(ctx: Ctx) -> None:
    _no_flow_selected(ctx, "exclusiveGw")
    assert ctx.task_names(ctx.start(input=2)) == ["Task 2"]


@scenario(GW + "InclusiveGatewayTest.testDefaultSequenceFlow.bpmn20.xml")
def _(ctx: Ctx) -> None:
    assert ctx.task_names(ctx.start(input=1)) == ["Input is one", "Input is three or one"]
    assert ctx.task_names(ctx.start(input=3)) == ["Input is three or one"]
    assert ctx.task_names(ctx.start(input=5)) == ["Default input"]


@scenario(GW + "InclusiveGatewayTest.testDivergingInclusiveGateway.bpmn20.xml")
def _(ctx: Ctx) -> None:
    assert ctx.task_names(ctx.start(input=1)) == ["Task 1", "Task 2", "Task 3"]
    assert ctx.task_names(ctx.start(input=2)) == ["Task 2", "Task 3"]
    iid = ctx.start(input=3)
    assert ctx.task_names(iid) == ["Task 3"]
    ctx.complete("Task 3", iid)
    _ended(ctx, iid)


@scenario(GW + "InclusiveGatewayTest.testMergingInclusiveGateway.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start(input=2)
    assert ctx.task_names(iid) == ["my task"]
    ctx.complete("my task")
    _ended(ctx, iid)


@scenario(GW + "InclusiveGatewayTest.testNoSequenceFlowSelected.bpmn20.xml")
def _(ctx: Ctx) -> None:
    _no_flow_selected(ctx, "inclusiveGw")


@scenario(GW + "ParallelGatewayTest.testForkJoin.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert ctx.task_names() == ["Receive Payment", "Ship Order"]
    ctx.complete("Receive Payment")
    assert ctx.task_names() == ["Ship Order"]
    ctx.complete("Ship Order")
    assert ctx.task_names() == ["Archive Order"]
    ctx.complete("Archive Order")
    _ended(ctx, iid)


@scenario(GW + "ParallelGatewayTest.testNestedForkJoin.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    ctx.complete("Task 0")
    assert ctx.task_names() == ["Task A", "Task B"]
    ctx.complete("Task A")
    assert ctx.task_names() == ["Task B"]
    ctx.complete("Task B")
    assert ctx.task_names() == ["Task B1", "Task B2"]
    ctx.complete("Task B1")
    ctx.complete("Task B2")
    assert ctx.task_names() == ["Task C"]
    ctx.complete("Task C")
    _ended(ctx, iid)


@scenario(GW + "ParallelGatewayTest.testUnbalancedForkJoin.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert ctx.task_names() == ["Task 1", "Task 2", "Task 3"]
    ctx.complete("Task 1")
    ctx.complete("Task 2")
    assert ctx.task_names() == ["Task 3", "Task 4"]
    ctx.complete("Task 3")
    assert ctx.status(iid) == "running"
    ctx.complete("Task 4")
    _ended(ctx, iid)


# ============================================================================ multi-instance
MI = C + "multiinstance/"


@scenario(MI + "MultiInstanceTest.externalSubProcess.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert ctx.task_names() == ["task one", "task two"]
    ctx.complete("task one")
    assert ctx.status(iid) == "running"
    ctx.complete("task two")
    _ended(ctx, iid)


@scenario(MI + "MultiInstanceTest.sequentialUserTasks.bpmn20.xml")
def _(ctx: Ctx) -> None:
    # testSequentialUserTasks
    iid = ctx.start(nrOfLoops=3)
    for i in range(3):
        (task,) = ctx.tasks(iid)
        assert (task.name, task.assignee) == ("My Task", f"kermit_{i}")
        ctx.engine.complete_task(task.id)
    _ended(ctx, iid)
    # testSequentialUserTasksCompletionCondition
    iid = ctx.start(nrOfLoops=10)
    for _i in range(5):
        (task,) = ctx.tasks(iid)
        ctx.engine.complete_task(task.id)
    _ended(ctx, iid)
    # testSequentialUserTasksWithTimer
    iid = ctx.start(nrOfLoops=3)
    ctx.complete("My Task", iid)
    ctx.advance(timedelta(hours=2, seconds=1))
    assert [t.activity_id for t in ctx.tasks(iid)] == ["taskAfterTimer"]
    ctx.complete("taskAfterTimer")
    _ended(ctx, iid)


@scenario(MI + "MultiInstanceTest.testParallelCallActivity.bpmn20.xml",
          also=[MI + "MultiInstanceTest.externalSubProcess.bpmn20.xml"])
def _(ctx: Ctx) -> None:
    iid = ctx.start("miParallelCallActivity")
    assert len(ctx.engine.instances(parent_id=iid)) == 6
    tasks = ctx.tasks()
    assert len(tasks) == 12
    for t in tasks:
        ctx.engine.complete_task(t.id)
    _ended(ctx, iid)
    assert ctx.running() == []


@scenario(MI + "MultiInstanceTest.testParallelUserTasks.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    tasks = sorted(ctx.tasks(iid), key=lambda t: t.name)
    assert [t.name for t in tasks] == ["My Task 0", "My Task 1", "My Task 2"]
    assert [t.assignee for t in tasks] == ["kermit_0", "kermit_1", "kermit_2"]
    for left, t in zip((2, 1, 0), tasks, strict=True):
        ctx.engine.complete_task(t.id)
        assert len(ctx.tasks(iid)) == left
    _ended(ctx, iid)


@scenario(MI + "MultiInstanceTest.testParallelUserTasksBasedOnCollection.bpmn20.xml")
def _(ctx: Ctx) -> None:
    people = ["kermit", "gonzo", "mispiggy", "fozzie", "bubba"]
    iid = ctx.start(assigneeList=people)
    tasks = sorted(ctx.tasks(iid), key=lambda t: t.name)
    assert sorted(t.assignee for t in tasks) == sorted(people)
    for t in tasks[:2]:
        ctx.engine.complete_task(t.id)
        assert ctx.status(iid) == "running"
    ctx.engine.complete_task(tasks[2].id)
    _ended(ctx, iid)
    # an empty collection: no task, the instance ends at once
    iid = ctx.start(assigneeList=[])
    _ended(ctx, iid)


@scenario(MI + "MultiInstanceTest.testParallelUserTasksCompletionCondition.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    for left in (5, 4, 3):
        tasks = ctx.tasks(iid)
        assert len(tasks) == left
        ctx.engine.complete_task(tasks[0].id)
    _ended(ctx, iid)


@scenario(MI + "MultiInstanceTest.testSequentialSubProcess.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    for _round in range(4):
        assert ctx.task_names(iid) == ["task one", "task two"]
        ctx.complete("task one")
        ctx.complete("task two")
    _ended(ctx, iid)


# ============================================================================ tasks and flows
@scenario(C + "receivetask/ReceiveTaskTest.singleReceiveTask.bpmn20.xml")
def _(ctx: Ctx) -> None:
    # legacy signal
    iid = ctx.start()
    (sub,) = ctx.subscriptions(instance_id=iid)
    assert (sub.kind, sub.name) == ("message", "newInvoiceMessage")
    ctx.trigger(iid, "waitState")
    _ended(ctx, iid)
    # correlateMessage
    iid = ctx.start()
    assert ctx.message("newInvoiceMessage") == [iid]
    _ended(ctx, iid)
    # by business key
    a = ctx.start(business_key="23")
    b = ctx.start(business_key="42")
    assert ctx.message("newInvoiceMessage", business_key="23") == [a]
    _ended(ctx, a)
    assert ctx.status(b) == "running"
    assert len(ctx.subscriptions(instance_id=b)) == 1


@scenario(C + "scripttask/ScriptTaskTest.testSetScriptResultToProcessVariable.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start(echo="hello", existingProcessVariableName="one")
    variables = ctx.variables(iid)
    assert variables["existingProcessVariableName"] == "hello"
    assert variables["newProcessVariableName"] == iid
    assert ctx.task_names() == ["keep-alive task"]


@scenario(C + "sequenceflow/ConditionalSequenceFlowTest.testUelExpression.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start(input="right")
    assert ctx.task_names(iid) == ["task right"]
    ctx.complete("task right")
    assert ctx.status(iid) == "completed"


@scenario(C + "sequenceflow/DefaultSequenceFlowTest.testDefaultSequenceFlowOnTask.bpmn20.xml")
def _(ctx: Ctx) -> None:
    for value, expected in ((2, "task2"), (3, "task3"), (123, "task1")):
        iid = ctx.start(input=value)
        assert ctx.waiting(iid) == [expected]


# ============================================================================ subprocesses
SP = C + "subprocess/"


@scenario(SP + "SubProcessTest.testNestedSimpleSubProcess.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert ctx.task_names() == ["Task in subprocess"]
    ctx.complete("Task in subprocess")
    assert ctx.task_names() == ["Task after subprocesses"]
    assert {"innerSubProcess", "outerSubProcess"} <= set(ctx.history_ids(iid))
    ctx.complete("Task after subprocesses")
    _ended(ctx, iid)


@scenario(SP + "SubProcessTest.testSimpleSubProcess.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert ctx.task_names() == ["Task in subprocess"]
    ctx.complete("Task in subprocess")
    _ended(ctx, iid)
    completed = ctx.history_ids(iid)
    assert completed.index("subProcessTask") < completed.index("subProcess") < \
        completed.index("theEnd")


@scenario(SP + "SubProcessTest.testTwoSubProcessInParallel.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    assert ctx.task_names() == ["Task in subprocess A", "Task in subprocess B"]
    ctx.complete("Task in subprocess A")
    assert ctx.task_names() == ["Task after subprocess A", "Task in subprocess B"]
    ctx.complete("Task in subprocess B")
    assert ctx.task_names() == ["Task after subprocess A", "Task after subprocess B"]
    ctx.complete("Task after subprocess A")
    assert ctx.status(iid) == "running"
    ctx.complete("Task after subprocess B")
    _ended(ctx, iid)


@scenario(SP + "transaction/TransactionSubProcessTest.testSimpleCase.bpmn20.xml")
def _(ctx: Ctx) -> None:
    # testSimpleCaseTxSuccessful
    iid = ctx.start()
    assert ctx.task("askCustomer").assignee == "kermit"
    ctx.complete("askCustomer", confirmed=True)
    assert ctx.waiting(iid) == ["afterSuccess"]
    completed = ctx.history_ids(iid)
    # the MANIFEST: bookHotel is a sequential multi-instance of exactly 5, bookFlight once
    assert completed.count("bookHotel") == 5 and completed.count("bookFlight") == 1
    assert "tx" in completed
    assert not {"undoBookHotel", "undoBookFlight", "undoChargeCard"} & set(completed)
    ctx.trigger(iid, "afterSuccess")
    _ended(ctx, iid)
    # testSimpleCaseTxCancelled: every compensation handler runs, one at a time, then the
    # cancel boundary. The handlers name a Java class (WaitStateUndoService, a wait state);
    # Baton hands a camunda:class to an outside worker, so each is an external task here.
    iid = ctx.start()
    ctx.complete("askCustomer", confirmed=False)
    undo = []
    for _ in range(8):
        if ctx.waiting(iid) == ["afterCancellation"]:
            break
        (handler,) = ctx.external_tasks()
        assert handler.topic.endswith("WaitStateUndoService")
        undo.append(handler.activity_id)
        ctx.engine.complete_external(handler.id)
    assert ctx.waiting(iid) == ["afterCancellation"], undo
    assert undo == ["undoChargeCard"] + ["undoBookHotel"] * 5 + ["undoBookFlight"]
    completed = ctx.history_ids(iid)
    assert completed.count("undoBookHotel") == 5
    assert completed.count("undoBookFlight") == 1
    assert completed.count("undoChargeCard") == 1
    ctx.trigger(iid, "afterCancellation")
    _ended(ctx, iid)


# ============================================================================ user tasks
UT = C + "usertask/"


@scenario(UT + "TaskAssignmentExtensionsTest.testCandidateGroupsExtension.bpmn20.xml")
def _(ctx: Ctx) -> None:
    ctx.start()
    (task,) = ctx.tasks()
    assert task.name == "make profit" and task.assignee is None
    assert sorted(task.candidate_groups) == ["accountancy", "management"]
    assert len(ctx.tasks(claimable_by=("kermit", ["management", "accountancy"]))) == 1
    assert len(ctx.tasks(claimable_by=("fozzie", ["management"]))) == 1
    assert len(ctx.tasks(candidate_groups=["management"])) == 1
    assert len(ctx.tasks(candidate_groups=["accountancy"])) == 1
    assert ctx.tasks(candidate_groups=["sales"]) == []


def _claim_and_complete(ctx: Ctx, iid: str, user: str, groups: list[str]) -> None:
    ctx.add_user(user, *groups)
    (task,) = ctx.tasks(claimable_by=(user, groups))
    ctx.engine.claim(task.id, user)
    assert ctx.tasks(claimable_by=(user, groups)) == []
    assert ctx.engine.task(task.id).assignee == user
    ctx.engine.complete_task(task.id, user=user)
    _ended(ctx, iid)


@scenario(UT + "TaskCandidateTest.testMultipleCandidateGroups.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    (task,) = ctx.tasks()
    assert task.name == "Approve expenses" and task.assignee is None
    assert len(ctx.tasks(claimable_by=("kermit", ["accountancy"]))) == 1
    assert len(ctx.tasks(claimable_by=("gonzo", ["management"]))) == 1
    assert len(ctx.tasks(candidate_groups=["management"])) == 1
    assert len(ctx.tasks(candidate_groups=["accountancy"])) == 1
    assert ctx.tasks(candidate_groups=["sales"]) == []
    _claim_and_complete(ctx, iid, "gonzo", ["management"])


@scenario(UT + "TaskCandidateTest.testSingleCandidateGroup.bpmn20.xml")
def _(ctx: Ctx) -> None:
    iid = ctx.start()
    (task,) = ctx.tasks()
    assert task.name == "Pay out expenses" and task.assignee is None
    assert task.candidate_groups == ["accountancy"]
    assert ctx.tasks(claimable_by=("gonzo", ["management"])) == []
    _claim_and_complete(ctx, iid, "kermit", ["accountancy"])


@scenario(UT + "TaskDueDateExtensionsTest.testRelativeDueDate.bpmn20.xml")
def _(ctx: Ctx) -> None:
    ctx.start(dateVariable="P2DT2H30M")
    (task,) = ctx.tasks()
    assert task.due == task.created + timedelta(days=2, hours=2, minutes=30)
    # testDueDateExtension / testDueDateStringExtension: a date (or ISO string) as-is
    ctx.start(dateVariable=datetime(1986, 7, 6, 12, 10, tzinfo=UTC))
    ctx.start(dateVariable="1986-07-06T12:10:00")
    dues = [t.due for t in ctx.tasks() if t.id != task.id]
    assert [d.replace(tzinfo=UTC) if d.tzinfo is None else d for d in dues] == [
        datetime(1986, 7, 6, 12, 10, tzinfo=UTC)] * 2


@scenario(UT + "TaskFollowUpDateExtensionsTest.testUserTaskFollowUpDate.bpmn20.xml")
def _(ctx: Ctx) -> None:
    ctx.start(dateVariable="P2DT2H30M")
    (task,) = ctx.tasks()
    assert task.follow_up == task.created + timedelta(days=2, hours=2, minutes=30)
    ctx.start(dateVariable=datetime(2015, 1, 1, 12, 10, tzinfo=UTC))
    ctx.start(dateVariable="2015-01-01T12:10:00")
    follow_ups = [t.follow_up for t in ctx.tasks() if t.id != task.id]
    assert [d.replace(tzinfo=UTC) if d.tzinfo is None else d for d in follow_ups] == [
        datetime(2015, 1, 1, 12, 10, tzinfo=UTC)] * 2


@scenario(UT + "TaskPriorityExtensionsTest.testPriorityExtension.bpmn20.xml")
def _(ctx: Ctx) -> None:
    for priority in (25, 75):
        iid = ctx.start(taskPriority=priority)
        (task,) = ctx.tasks(iid)
        assert task.name == "Task with Priority"
        assert task.priority == priority
