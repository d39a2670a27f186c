"""Scenarios for `spiff/bpmn/data/Test-Workflows/*` (old Signavio exports; SpiffWorkflow's
tests pick exclusive-gateway flows by name through the task data `choice`)."""

from __future__ import annotations

from collections import Counter

import pytest

from .drivers import BatonDriver, Driver, StepFailed, spiff
from .scenarios_bpmn import ended

T = "bpmn/data/Test-Workflows/"
MSG = "Test Message"  # these Signavio events have no messageRef: SpiffWorkflow uses the name


def steps(d: Driver, *names: str, **data: object) -> None:
    """Complete each named task in turn; each must be the only task with that name."""
    for name in names:
        d.complete(name, **data)


# ============================================================================ Action Management
AM = "sid-efb89bb6-299a-4dc4-a50a-4286ec490604"


def _am_start(d: Driver, choice: str) -> None:
    d.start()
    assert d.ready() == ["Review Action"]
    d.complete("Review Action", start_time=d.iso_in(0.05), finish_time=d.iso_in(0.10),
               choice=choice)


@spiff(T + "Action-Management.bpmn20.xml", process=AM)
def _(d: Driver) -> None:
    # happy path: approve, the start time passes, work is started and done
    _am_start(d, "Approve")
    assert d.ready() == ["Cancel Action (if necessary)"]
    assert d.data()["script_output"] == "NEW ACTION"
    assert d.waiting() == ["sid-EC95E155-147C-4FD1-AFE5-5B803F655E3B"]  # 'Start Time'
    d.advance(0.06)
    assert d.ready() == ["Cancel Action (if necessary)", "Start Work"]
    d.complete("Start Work")
    d.advance(0.06)  # the finish time passes: the non-interrupting boundary escalates
    assert d.completed()["sid-3D825928-1108-4E19-907F-E6B9ADA5BB3B"] == 1  # Overdue Escalation
    assert d.ready() == ["Cancel Action (if necessary)", "Complete Work"]
    d.complete("Complete Work", choice="Done")
    assert d.finished and d.ready() == []
    # cancelled at once
    _am_start(d, "Cancel")
    assert d.finished and d.ready() == []
    # cancelled while the work runs: the terminate end ends the call activity too
    _am_start(d, "Approve")
    d.advance(0.06)
    d.complete("Cancel Action (if necessary)")
    assert d.data()["script_output"] == "ACTION CANCELLED"
    assert d.finished and d.ready() == []


# ============================================================================ escalations
ESC = (T + "CallActivity-Escalation-Test-Sub.bpmn20.xml",)
ESCALATION_CUT = ("an escalation caught by an interrupting boundary event cancels the call "
                  "activity (BPMN 2.0.2 13.5.3): Baton records it as cancelled, as Camunda "
                  "7 does; SpiffWorkflow counts it as completed")
INTERRUPTING_CALLS = ("CallActivity_0g6to6j", "CallActivity_13dg1lb", "CallActivity_19a45v2")


def _interrupted(d: Driver, before: Counter[str], calls: tuple[str, ...]) -> None:
    """The call activities interrupted by the last command: cancelled in Baton, completed
    in SpiffWorkflow (`before`: the completions counted before that command)."""
    done = d.completed()
    for call in calls:
        assert done[call] - before[call] == (0 if isinstance(d, BatonDriver) else 1), call


@spiff(T + "CallActivity-Escalation-Test.bpmn20.xml", also=ESC,
       process="CallActivity-Escalation-Test")
def _(d: Driver) -> None:
    before = d.completed()
    with d.diverges(ESCALATION_CUT):
        d.start(should_escalate=True)
    assert d.finished
    _interrupted(d, before, INTERRUPTING_CALLS)
    done = d.completed()
    for end in ("specific1_noninterrupting_normal", "specific1_noninterrupting_escalated",
                "specific1_interrupting_escalated", "specific2_noninterrupting_normal",
                "specific2_noninterrupting_escalated", "specific2_interrupting_escalated",
                "general_noninterrupting_normal", "general_noninterrupting_escalated",
                "general_interrupting_escalated"):
        assert done["EndEvent_" + end] == 1, end
    for end in ("specific1_interrupting_normal", "specific2_noninterrupting_missingvariable",
                "specific2_interrupting_normal", "specific2_interrupting_missingvariable",
                "general_interrupting_normal"):
        assert "EndEvent_" + end not in done, end
    d.start(should_escalate=False)
    assert d.finished
    before = d.completed()
    with d.diverges(ESCALATION_CUT):
        d.start()  # no variable: only the 'no-variable-present' catchers and the general ones
    assert d.finished
    _interrupted(d, before, INTERRUPTING_CALLS[:2])
    # specific1 ignores 'no-variable-present': its call activity completes in both engines
    assert d.completed()["CallActivity_19a45v2"] == before["CallActivity_19a45v2"] + 1


@spiff(T + "CallActivity-Escalation-Test-Sub.bpmn20.xml", process="CallActivity-Escalation-Test-Sub")
def _(d: Driver) -> None:
    d.start(should_escalate=True)   # escalation end 'test-escalation', nobody catches it
    assert d.finished
    assert d.completed()["EndEvent_09tnjk6"] == 1
    d.start(should_escalate=False)  # default flow to the plain end
    assert d.completed()["EndEvent_0kpn6yh"] == 1
    d.start()                        # no variable: escalation 'no-variable-present'
    assert d.completed()["EndEvent_1iplfgs"] == 1
    assert d.finished


# ============================================================================ messages
@spiff(T + "Message-Interrupts.bpmn20.xml", process="sid-db1e1749-03ee-46aa-8674-bba07b1bd167")
def _(d: Driver) -> None:
    d.start()
    assert d.ready() == ["Do Something That Takes A Long Time"]
    d.complete("Do Something That Takes A Long Time")
    ended(d)
    d.start()
    d.message(MSG)
    assert d.ready() == ["Acknowledge Interrupt Message"]
    d.complete("Acknowledge Interrupt Message")
    ended(d)


@spiff(T + "Message-Interrupts-SP.bpmn20.xml", process="sid-607dfa9b-dbfd-41e8-94f8-42ae37f3b824")
def _(d: Driver) -> None:
    d.start()
    assert d.ready() == ["Do Something In a Subprocess"]
    steps(d, "Do Something In a Subprocess", "Ack Subprocess Done")
    ended(d)
    d.start()
    d.message(MSG)
    assert d.ready() == ["Acknowledge  SP Interrupt Message"]
    d.complete("Acknowledge  SP Interrupt Message")
    ended(d)


@spiff(T + "Message-Non-Interrupt.bpmn20.xml", process="sid-60e2cc58-68c9-4cb5-a95c-22e3e311b6b9")
def _(d: Driver) -> None:
    d.start()
    d.complete("Do Something That Takes A Long Time")
    ended(d)
    d.start()
    d.message(MSG)
    assert d.ready() == ["Acknowledge Non-Interrupt Message", "Do Something That Takes A Long Time"]
    d.complete("Acknowledge Non-Interrupt Message")
    assert not d.finished
    d.complete("Do Something That Takes A Long Time")
    ended(d)


@spiff(T + "Message-Non-Interrupt-SP.bpmn20.xml",
       process="sid-b6b1212d-76ea-4ced-888b-a99fbbbca575")
def _(d: Driver) -> None:
    d.start()
    steps(d, "Do Something In a Subprocess", "Ack Subprocess Done")
    ended(d)
    d.start()
    d.message(MSG)
    assert d.ready() == ["Acknowledge SP Parallel Message", "Do Something In a Subprocess"]
    steps(d, "Do Something In a Subprocess", "Ack Subprocess Done")
    assert not d.finished
    d.complete("Acknowledge SP Parallel Message")
    ended(d)


@spiff(T + "Messages.bpmn20.xml", process="sid-4a1f10ab-316f-4cd8-836d-65aa3d178fff")
def _(d: Driver) -> None:
    d.start()
    assert d.ready() == [] and d.waiting() == ["sid-DF69AC93-16C3-405D-9FB1-9B2539519372"]
    # not a recorded command: SpiffWorkflow ignores a message nobody waits for, Baton (like
    # Camunda 7's correlateMessage) tells the sender that no one took it
    if d.is_oracle:
        d._message("Wrong Message", {})
    else:
        with pytest.raises(StepFailed, match="Wrong Message"):
            d._message("Wrong Message", {})
    assert not d.finished
    d.message(MSG)
    ended(d)


TW_ALL = (T + "Messages.bpmn20.xml", T + "Message-Interrupts.bpmn20.xml",
          T + "Message-Non-Interrupt.bpmn20.xml")


@spiff(T + "Test-Workflows.bpmn20.xml", also=TW_ALL, process="sid-b0903a88-fe74-4f93-b912-47b815ea8d1c",
       oracle_also=(T + "Scripts.bpmn20.xml",))
def _(d: Driver) -> None:
    d.start()
    d.complete("Select Test", choice="Messages")
    assert d.ready() == [] and not d.finished
    d.message(MSG)
    ended(d)
    d.start()
    d.complete("Select Test", choice="Message Interrupts")
    d.message(MSG)
    d.complete("Acknowledge Interrupt Message")
    ended(d)
    d.start()
    d.complete("Select Test", choice="Message Non Interrupt")
    d.complete("Do Something That Takes A Long Time")
    ended(d)
    d.start()
    d.complete("Select Test", choice="Tests Done")
    ended(d)


@spiff(T + "Scripts.bpmn20.xml", oracle="the diagram cannot run anywhere (see the scenario)",
       deploy_error=True)
def _(d: Driver) -> None:
    """Never executed by SpiffWorkflow's tests: its scripts call host objects (`record`,
    `sa_session`) and set attributes, and the 'Yes' condition `priority = 'Emergency'` is
    not an expression. Baton must refuse it at deployment, naming every problem."""
    assert isinstance(d, BatonDriver)
    assert d.deploy_error is not None
    for what in ("sid-26E89636-8D64-4086-A71F-A225A5AA8F81", "sid-F7545D0E-08BD-4415-968E-CEF57C5261A9",
                 "change_type", "sid-9928A8F9-83F2-4C6B-A253-FC3D161BD33C", "priority = 'Emergency'"):
        assert what in d.deploy_error, what


# ============================================================================ nesting
NESTED = (T + "Nested-Sub-level1.bpmn20.xml", T + "Nested-Sub-level2.bpmn20.xml")


@spiff(T + "Nested-Subprocesses.bpmn20.xml", also=NESTED,
       process="sid-a12cf1e5-86f4-4d69-9790-6a90342f5963")
def _(d: Driver) -> None:
    d.start()
    for name in ("Action1", "Action2", "Action3"):
        assert d.ready() == [name]
        d.complete(name)
    ended(d)


@spiff(T + "Nested-Sub-level1.bpmn20.xml", also=NESTED[1:],
       process="sid-c7ccc144-a90c-4a5b-973d-a9d67bc9aae7")
def _(d: Driver) -> None:
    d.start()
    for name in ("Action2", "Action3"):
        assert d.ready() == [name]
        d.complete(name)
    ended(d)


@spiff(T + "Nested-Sub-level2.bpmn20.xml", process="sid-65436787-c39d-47c9-b99e-b4d7bd01b8f5")
def _(d: Driver) -> None:
    d.start()
    assert d.ready() == ["Action3"]
    d.complete("Action3")
    ended(d)


@spiff(T + "Multi-Instance.bpmn20.xml", process="Process_0xa1l01")
def _(d: Driver) -> None:
    d.start()
    d.complete("Load Personnel")
    assert d.ready() == ["Personnel Details"] * 3
    for _ in range(3):
        d.complete("Personnel Details")
    ended(d)


# ============================================================================ parallel
@spiff(T + "Parallel-Join-Long.bpmn20.xml", process="sid-9274d78f-68da-4da6-a369-8a64feb3de52")
def _(d: Driver) -> None:
    d.start()
    assert d.ready() == ["Thread 1 - Choose", "Thread 2 - Choose"]
    d.complete("Thread 1 - Choose", choice="Yes")
    steps(d, *(f"Thread 1 - Task {i}" for i in range(1, 13)))
    assert "Done" not in d.ready()
    d.complete("Thread 2 - Choose", choice="Yes")
    steps(d, *(f"Thread 2 - Task {i}" for i in range(1, 13)))
    assert d.ready() == ["Done"]
    d.complete("Done")
    ended(d)


@spiff(T + "Parallel-Join-Long-Inclusive.bpmn20.xml",
       process="sid-bae04828-c969-4480-8cfe-09ad1f97d81c")
def _(d: Driver) -> None:
    d.start()
    d.complete("Thread 1 - Choose", choice="Yes")
    steps(d, *(f"Thread 1 - Task {i}" for i in range(1, 13)))
    assert d.ready() == ["Thread 2 - Choose"]  # 'Done' waits for thread 2
    d.complete("Thread 2 - Choose", choice="No")
    assert d.ready() == ["Done", "Thread 2 - No Task"]
    steps(d, "Done", "Thread 2 - No Task")
    ended(d)
    d.start()  # thread 2 says no first: 'Done' follows right after thread 1's tasks
    d.complete("Thread 2 - Choose", choice="No")
    d.complete("Thread 1 - Choose", choice="Yes")
    steps(d, *(f"Thread 1 - Task {i}" for i in range(1, 13)))
    steps(d, "Done", "Thread 2 - No Task")
    ended(d)


@spiff(T + "Parallel-Looping-After-Join.bpmn20.xml",
       process="sid-41eb2b6c-08bc-4a61-b38b-5f32052139c5")
def _(d: Driver) -> None:
    d.start()
    steps(d, "Go", "1", "2", "2A", "2B", "2 Done")
    d.complete("Retry?", choice="Yes")
    steps(d, "Go", "1", "2", "2A", "2B", "2 Done")
    d.complete("Retry?", choice="No")
    d.complete("Done")
    ended(d)
    assert d.completed()["go"] == 2 and d.completed()["done"] == 1


@spiff(T + "Parallel-Many-Threads-At-Same-Point.bpmn20.xml",
       process="sid-6d1186e0-fc1f-43d5-bdb4-c49df043944d")
def _(d: Driver) -> None:
    d.start()
    assert d.ready() == ["1", "2", "3", "4"]
    steps(d, "1", "2")
    assert d.ready() == ["3", "4", "Done", "Done"]
    for _ in range(2):
        d.complete("Done")
    steps(d, "3", "Done", "4", "Done")
    ended(d)
    assert d.completed()["sid-F3A979E3-F586-4807-8223-1FAB5A5647B0"] == 4


@spiff(T + "Parallel-Many-Threads-At-Same-Point-Nested.bpmn20.xml",
       process="sid-d1e8e81e-60e9-48fc-a6c0-6118c6c3d0d2",
       oracle="SpiffWorkflow 3.2 refuses it: its call activities have no calledElement, "
              "only Signavio's metadata entry=SP, which Baton (like the older SpiffWorkflow "
              "the test was written for) resolves to the process named SP in the file")
def _(d: Driver) -> None:
    d.start()
    assert d.ready() == sorted(["1A", "1B", "2A", "2B"] * 4)
    for name in ("1A", "1B", "2A", "2B"):
        for _ in range(4):
            d.complete(name)
    assert d.ready() == ["Inner Done"] * 8
    for _ in range(8):
        d.complete("Inner Done")
    assert d.ready() == ["Outer Done", "Outer Done"]
    steps(d, "Outer Done", "Outer Done")
    ended(d)


@spiff(T + "Parallel-Multiple-Splits-And-Joins.bpmn20.xml",
       process="sid-a90fa1f1-32a9-4a62-8ad4-8820a3fc6cc4")
def _(d: Driver) -> None:
    d.start()
    steps(d, "1", "1A", "1B", "1 Done")
    assert "Done" not in d.ready()
    steps(d, "2", "2A")
    assert "2 Done" not in d.ready()
    steps(d, "2B", "2 Done", "Done")
    ended(d)


@spiff(T + "Parallel-Multiple-Splits.bpmn20.xml", process="sid-0f63def9-833d-4bcd-a6c4-8ef84a098b1a")
def _(d: Driver) -> None:
    d.start()
    assert d.ready() == ["Do First", "SP 2 - Choose"]
    d.complete("Do First")
    for n in (1, 2, 3):
        d.complete(f"SP {n} - Choose", choice="Yes")
    steps(d, "SP 1 - Yes Task", "SP 2 - Yes Task", "SP 3 - Yes Task", "Done")
    ended(d)


def _one_path(d: Driver) -> None:
    d.start()
    assert d.ready() == ["Choice 1", "Parallel Task"]
    d.complete("Parallel Task")
    assert "Done" not in d.ready()
    d.complete("Choice 1", choice="No")
    d.complete("Done")
    ended(d)
    d.start()
    d.complete("Choice 1", choice="No")
    assert "Done" not in d.ready()
    steps(d, "Parallel Task", "Done")
    ended(d)
    d.start()
    d.complete("Parallel Task")
    d.complete("Choice 1", choice="Yes")
    assert "Done" not in d.ready()
    steps(d, "Yes Task", "Done")
    ended(d)


spiff(T + "Parallel-One-Path-Ends.bpmn20.xml",
      process="sid-33b2dda8-ca46-47ca-9f08-43de73abde9e")(_one_path)


def _then_exclusive(d: Driver) -> None:
    d.start()
    assert d.ready() == ["Choice 1", "Parallel Task"]
    d.complete("Parallel Task")
    assert "Done" not in d.ready()
    d.complete("Choice 1", choice="Yes")
    steps(d, "Yes Task", "Done")
    ended(d)
    d.start()
    d.complete("Choice 1", choice="Yes")
    d.complete("Parallel Task")
    assert "Done" not in d.ready()
    steps(d, "Yes Task", "Done")
    ended(d)
    d.start()
    steps(d, "Choice 1", choice="Yes")
    d.complete("Yes Task")
    assert "Done" not in d.ready()
    steps(d, "Parallel Task", "Done")
    ended(d)


spiff(T + "Parallel-Then-Exclusive.bpmn20.xml",
      process="sid-bb9ea2d5-58b6-43c7-8e77-6e28f71106f0")(_then_exclusive)
spiff(T + "Parallel-Then-Exclusive-No-Inclusive.bpmn20.xml",
      process="sid-900d26c9-beab-47a4-8092-4284bfb39927")(_then_exclusive)


@spiff(T + "Parallel-Through-Same-Task.bpmn20.xml", process="sid-57c563e3-fb68-4961-ae34-b6201e0c09e8")
def _(d: Driver) -> None:
    # 'Repeated Task' first: the inclusive join lets its token through, since the other
    # thread could only arrive over the same incoming flow
    d.start()
    assert d.ready() == ["Choice 1", "Repeated Task"]
    d.complete("Repeated Task")
    d.complete("Done")
    d.complete("Choice 1", choice="Yes")
    d.complete("Yes Task")
    assert "Done" not in d.ready()
    steps(d, "Repeated Task", "Done")
    ended(d)
    # 'No' first: 'Done' waits for the repeated task
    d.start()
    d.complete("Choice 1", choice="No")
    assert "Done" not in d.ready()
    d.complete("Repeated Task")
    assert "Done" not in d.ready()
    steps(d, "No Task", "Done")
    ended(d)


@spiff(T + "Parallel.camunda.bpmn20.xml", process="Process_1hb021r")
def _(d: Driver) -> None:
    d.start()
    assert d.ready() == ["First Task"]
    d.complete("First Task")
    assert d.ready() == ["Parallel Task A", "Parallel Task B", "Parallel Task C"]
    d.complete("Parallel Task A", taskA="a")
    d.complete("Parallel Task B", taskB="b")
    d.complete("Parallel Task C", taskC="c")
    assert d.ready() == ["Last Task"]
    assert {"taskA": "a", "taskB": "b", "taskC": "c"}.items() <= d.data().items()
    d.complete("Last Task")
    ended(d)


@spiff(T + "Timer-Intermediate.bpmn20.xml", process="sid-909dfba4-15dd-47b3-b7d4-88330891429a")
def _(d: Driver) -> None:
    d.start(due_time=d.iso_in(0.01))
    assert d.waiting() == ["sid-AB1683F9-F260-499B-A04C-F7ADA9C64817"]
    d.advance(0.005)
    assert d.waiting() == ["sid-AB1683F9-F260-499B-A04C-F7ADA9C64817"]
    d.advance(0.02)
    ended(d)

