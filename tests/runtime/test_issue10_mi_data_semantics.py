"""Issue 10: the multi-instance data rules behind the known diffs that remain, and the
explicit way a diagram gets what SpiffWorkflow does implicitly.

Three SpiffWorkflow corpus diagrams (tests/conformance/KNOWN_DIFFS.md) rely on SpiffWorkflow's
reading of Camunda's attributes or of task data: the element variable written back into
camunda:collection, a list given as loopCardinality, data a task sets kept per
multi-instance instance. Baton follows Camunda 7 there (the attributes are Camunda's;
BPMN 2.0.2 10.3.8 gets items back only through an output collection): these tests pin that
behaviour, and that the same results are reachable when the diagram says so - an output
collection naming the input collection (loopDataOutputRef, zeebe outputCollection), or a
local variable per instance (camunda:inputParameter on the multi-instance activity).
SpiffWorkflow's reading of the Camunda attributes is also available without edits, when a
deployment asks for it (compat="spiffworkflow", tests/runtime/test_spiffworkflow_compat.py);
these tests pin the default, which that mode leaves as it is.
"""

from __future__ import annotations

import pytest

from engine.errors import EngineError
from tests.runtime.conftest import bpmn, flows

ZEEBE = 'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"'


def mi_task(loop: str) -> str:
    return bpmn(f'<startEvent id="s"/><userTask id="t">{loop}</userTask><endEvent id="e"/>'
                + flows("s>t", "t>e"))


def double_each_item(h, iid, item: str) -> None:
    """Complete every instance's task, setting the element variable to twice its item."""
    for task in h.engine.tasks(instance_id=iid):
        value = h.engine.token_variables(iid, task.token)[item]
        h.engine.complete_task(task.id, {item: value * 2})


def test_camunda_element_variable_stays_local_and_the_collection_unchanged(h):
    """Camunda 7 sets the element variable with setVariableLocal on each instance and never
    writes it back (MultiInstanceActivityBehavior): completing a task that sets it changes
    only that instance's copy."""
    h.deploy(mi_task('<multiInstanceLoopCharacteristics camunda:collection="input_data" '
                     'camunda:elementVariable="input_item"/>'))
    iid = h.start(input_data=[1, 2, 3])
    double_each_item(h, iid, "input_item")
    assert h.status(iid) == "completed"
    assert h.vars(iid) == {"input_data": [1, 2, 3]}


@pytest.mark.parametrize("loop", [
    # camunda:collection as the input, the standard output collection naming it too
    '<multiInstanceLoopCharacteristics camunda:collection="input_data" '
    'camunda:elementVariable="input_item"><loopDataOutputRef>input_data</loopDataOutputRef>'
    '<outputDataItem id="out" name="input_item"/></multiInstanceLoopCharacteristics>',
    # BPMN 2.0.2 10.3.8 only
    '<multiInstanceLoopCharacteristics><loopDataInputRef>input_data</loopDataInputRef>'
    '<loopDataOutputRef>input_data</loopDataOutputRef><inputDataItem id="in" name="input_item"/>'
    '<outputDataItem id="out" name="input_item"/></multiInstanceLoopCharacteristics>',
    # Camunda 8
    f'<multiInstanceLoopCharacteristics><extensionElements><zeebe:loopCharacteristics {ZEEBE} '
    'inputCollection="=input_data" inputElement="input_item" outputCollection="input_data" '
    'outputElement="=input_item"/></extensionElements></multiInstanceLoopCharacteristics>',
], ids=["camunda-with-loopDataOutputRef", "bpmn", "zeebe"])
def test_an_output_collection_naming_the_input_writes_the_items_back(h, loop):
    h.deploy(mi_task(loop))
    iid = h.start(input_data=[1, 2, 3])
    double_each_item(h, iid, "input_item")
    assert h.vars(iid) == {"input_data": [2, 4, 6]}


def test_a_list_as_loop_cardinality_fails_naming_it(h):
    """BPMN 2.0.2 Table 10.29: loopCardinality is a numeric expression; Camunda 7 fails with
    "expression not a number". Baton runs neither len(list) instances nor the list as a
    collection (SpiffWorkflow's Camunda dialect does the latter)."""
    h.deploy(mi_task("<multiInstanceLoopCharacteristics><loopCardinality>input_data"
                     "</loopCardinality></multiInstanceLoopCharacteristics>"))
    with pytest.raises(EngineError, match=r"loopCardinality \[1, 2, 3\] is not a whole number"):
        h.start(input_data=[1, 2, 3])


def test_with_a_cardinality_and_a_collection_the_cardinality_counts(h):
    """Camunda 7 (MultiInstanceActivityBehavior.resolveNrOfInstances) takes the number of
    instances from loopCardinality when there is one, and the element variable from the
    collection's first items; more instances than items fail the activity."""
    loop = ('<multiInstanceLoopCharacteristics camunda:collection="people" '
            'camunda:elementVariable="person"><loopCardinality>${n}</loopCardinality>'
            '</multiInstanceLoopCharacteristics>')
    h.deploy(mi_task(loop))
    iid = h.start(people=["ann", "bob", "cy"], n=2)
    assert sorted(h.engine.token_variables(iid, t.token)["person"]
                  for t in h.engine.tasks(instance_id=iid)) == ["ann", "bob"]
    with pytest.raises(EngineError, match=r"loopCardinality 4 asks for more instances than "
                                          r"the 3 items of the collection"):
        h.start(people=["ann", "bob", "cy"], n=4)


def test_without_an_element_variable_the_collection_is_not_read(h):
    """Camunda 7 reads the collection only to set the element variable: with a cardinality
    and no element variable, a collection that does not exist does not matter."""
    h.deploy(mi_task('<multiInstanceLoopCharacteristics camunda:collection="nobody">'
                     "<loopCardinality>2</loopCardinality></multiInstanceLoopCharacteristics>"))
    iid = h.start()
    assert h.tasks(iid) == ["t", "t"]


SUBPROCESS = (
    '<startEvent id="s"/><subProcess id="sub">{io}'
    '<multiInstanceLoopCharacteristics><loopCardinality>2</loopCardinality>'
    '</multiInstanceLoopCharacteristics>'
    '<startEvent id="ss"/><userTask id="configure"/><userTask id="wait"/><endEvent id="se"/>'
    + flows("ss>configure", "configure>wait", "wait>se")
    + '</subProcess><userTask id="after"/>' + flows("s>sub", "sub>after"))
LOCAL = ('<extensionElements><camunda:inputOutput><camunda:inputParameter name="task_num"/>'
         '</camunda:inputOutput></extensionElements>')


def configure_both(h, iid) -> list[object]:
    """Each instance's 'configure' task sets task_num to 0, then 1; what each instance sees
    at 'wait' afterwards."""
    for value in (0, 1):
        task = next(t for t in h.engine.tasks(instance_id=iid) if t.activity_id == "configure")
        h.engine.complete_task(task.id, {"task_num": value})
    return sorted(h.engine.token_variables(iid, t.token)["task_num"]
                  for t in h.engine.tasks(instance_id=iid) if t.activity_id == "wait")


def test_a_variable_a_task_sets_in_a_multi_instance_subprocess_is_one_process_variable(h):
    """Camunda 7: setVariable climbs to the process instance unless a nearer scope has the
    variable (AbstractVariableScope), so the instances share it and it outlives them."""
    h.deploy(bpmn(SUBPROCESS.format(io="")))
    iid = h.start()
    assert configure_both(h, iid) == [1, 1]
    assert h.vars(iid) == {"task_num": 1}


def test_an_input_parameter_gives_each_instance_its_own_variable(h):
    """Camunda 7's way to keep data per instance: an input mapping on the multi-instance
    activity creates the variable locally in every instance."""
    h.deploy(bpmn(SUBPROCESS.format(io=LOCAL)))
    iid = h.start()
    assert configure_both(h, iid) == [0, 1]
    for task in [t for t in h.engine.tasks(instance_id=iid) if t.activity_id == "wait"]:
        h.engine.complete_task(task.id, {})
    assert h.tasks(iid) == ["after"] and "task_num" not in h.vars(iid)
