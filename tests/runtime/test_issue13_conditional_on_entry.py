"""Issue 13: conditional boundary events and conditional starts of event subprocesses whose
condition already holds when their activity or scope is entered fire then (as Camunda 7's
"default evaluation" does), and on every variable change after; as the intermediate
conditional catch event always did."""

from __future__ import annotations

import pytest

from tests.runtime.conftest import bpmn, flows


def cond(expression: str) -> str:
    return (f'<conditionalEventDefinition><condition>{expression}</condition>'
            '</conditionalEventDefinition>')


def _boundary(task: str = '<userTask id="task"/>', *, interrupting: bool = True) -> str:
    cancel = "true" if interrupting else "false"
    return bpmn(
        f'<startEvent id="s"/>{task}'
        f'<boundaryEvent id="b" attachedToRef="task" cancelActivity="{cancel}">'
        f'{cond("${flag == 1}")}</boundaryEvent>'
        '<userTask id="after_condition"/><endEvent id="e"/><endEvent id="e2"/>'
        + flows("s>task", "task>e", "b>after_condition", "after_condition>e2"))


def test_interrupting_boundary_true_on_entry_fires_at_once(h):
    h.deploy(_boundary())
    iid = h.start(flag=1)
    assert h.tasks(iid) == ["after_condition"]
    assert "task" in h.cancelled(iid)
    assert h.engine.run(lambda c: c.tx.find_subscriptions(instance_id=iid)) == []


def test_non_interrupting_boundary_true_on_entry_fires_and_the_task_stays(h):
    h.deploy(_boundary(interrupting=False))
    iid = h.start(flag=1)
    assert h.tasks(iid) == ["after_condition", "task"]


def test_boundary_false_on_entry_waits_for_a_variable_change(h):
    h.deploy(_boundary())
    iid = h.start(flag=0)
    assert h.tasks(iid) == ["task"]
    h.engine.set_variables(iid, {"flag": 1})
    assert h.tasks(iid) == ["after_condition"]


def test_boundary_condition_on_an_unset_variable_waits(h):
    h.deploy(_boundary())
    iid = h.start()
    assert h.tasks(iid) == ["task"]


def test_an_input_parameter_of_the_activity_counts_on_entry(h):
    task = ('<userTask id="task"><extensionElements><camunda:inputOutput>'
            '<camunda:inputParameter name="flag">${1}</camunda:inputParameter>'
            '</camunda:inputOutput></extensionElements></userTask>')
    h.deploy(_boundary(task))
    iid = h.start(flag=0)
    assert h.tasks(iid) == ["after_condition"]


@pytest.mark.parametrize("task", [
    '<scriptTask id="task" scriptFormat="python"><script>x = 1</script></scriptTask>',
    '<task id="task"/>',
])
def test_a_synchronous_activity_entered_with_the_condition_true_is_interrupted(h, task):
    h.deploy(_boundary(task))
    iid = h.start(flag=1)
    assert h.tasks(iid) == ["after_condition"]
    assert "task" in h.cancelled(iid)
    assert "task" not in h.completed(iid)


def test_a_script_that_makes_its_own_boundary_condition_true_is_interrupted(h):
    task = '<scriptTask id="task" scriptFormat="python"><script>flag = 1</script></scriptTask>'
    h.deploy(_boundary(task))
    iid = h.start(flag=0)
    assert h.tasks(iid) == ["after_condition"]


def test_a_script_with_a_false_condition_completes_normally(h):
    task = '<scriptTask id="task" scriptFormat="python"><script>flag = 2</script></scriptTask>'
    h.deploy(_boundary(task))
    iid = h.start(flag=0)
    assert h.status(iid) == "completed"
    assert "task" in h.completed(iid)


def test_a_boundary_on_a_subprocess_true_on_entry_cancels_the_subprocess(h):
    h.deploy(bpmn(
        '<startEvent id="s"/><subProcess id="sub"><startEvent id="ss"/>'
        '<userTask id="inner"/><endEvent id="se"/>' + flows("ss>inner", "inner>se")
        + '</subProcess>'
        f'<boundaryEvent id="b" attachedToRef="sub">{cond("${flag}")}</boundaryEvent>'
        '<userTask id="after_condition"/><endEvent id="e"/><endEvent id="e2"/>'
        + flows("s>sub", "sub>e", "b>after_condition", "after_condition>e2")))
    iid = h.start(flag=True)
    assert h.tasks(iid) == ["after_condition"]
    assert {"sub", "inner"} <= set(h.cancelled(iid))


def _event_subprocess(*, interrupting: bool = True, in_subprocess: bool = False) -> str:
    esp = ('<subProcess id="esp" triggeredByEvent="true">'
           f'<startEvent id="es" isInterrupting="{str(interrupting).lower()}">'
           f'{cond("${flag == 1}")}</startEvent><userTask id="handle"/><endEvent id="ee"/>'
           + flows("es>handle", "handle>ee") + '</subProcess>')
    main = '<userTask id="work"/>'
    if in_subprocess:
        return bpmn(
            '<startEvent id="s"/><userTask id="before"/><subProcess id="sub">'
            f'<startEvent id="ss"/>{main}<endEvent id="se"/>{esp}'
            + flows("ss>work", "work>se") + '</subProcess><endEvent id="e"/>'
            + flows("s>before", "before>sub", "sub>e"))
    return bpmn(f'<startEvent id="s"/>{main}<endEvent id="e"/>{esp}'
                + flows("s>work", "work>e"))


def test_interrupting_event_subprocess_true_at_process_start_fires(h):
    h.deploy(_event_subprocess())
    iid = h.start(flag=1)
    assert h.tasks(iid) == ["handle"]
    assert "work" in h.cancelled(iid)
    h.complete("handle", iid)
    assert h.status(iid) == "completed"


def test_non_interrupting_event_subprocess_true_at_process_start_fires_once(h):
    h.deploy(_event_subprocess(interrupting=False))
    iid = h.start(flag=1)
    assert h.tasks(iid) == ["handle", "work"]


def test_event_subprocess_true_when_its_subprocess_is_entered_fires(h):
    h.deploy(_event_subprocess(in_subprocess=True))
    iid = h.start(flag=0)
    assert h.tasks(iid) == ["before"]
    h.complete("before", iid, flag=1)      # true before the subprocess starts
    assert h.tasks(iid) == ["handle"]
    assert "work" in h.cancelled(iid)


def test_event_subprocess_false_on_entry_fires_on_a_later_change(h):
    h.deploy(_event_subprocess(in_subprocess=True))
    iid = h.start(flag=0)
    h.complete("before", iid)
    assert h.tasks(iid) == ["work"]
    h.engine.set_variables(iid, {"flag": 1})
    assert h.tasks(iid) == ["handle"]
