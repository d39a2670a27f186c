"""The SpiffWorkflow migration mode (`compat="spiffworkflow"`): SpiffWorkflow 3.2's reading of
camunda:collection, camunda:elementVariable and loopCardinality, asked for by the deployment
and never inferred from the diagram; without it, Camunda 7's reading is unchanged.

Why these cases: the mode exists so diagrams written for SpiffWorkflow keep their data
without edits (docs/migrating-from-spiffworkflow.md). The expected values are SpiffWorkflow
3.2's own results for the same diagrams and commands (its camunda/specs/multiinstance_task.py
and bpmn/specs/mixins/multiinstance_task.py); tests/conformance replays its Camunda-dialect
test diagrams in the mode against SpiffWorkflow itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Engine
from engine.bpmn import compile_bpmn
from engine.errors import EngineError
from engine.store import open_store
from engine.testing import ManualClock
from tests.runtime.conftest import Harness, bpmn, flows

SPIFF = "spiffworkflow"


def mi_task(loop: str, sequential: bool = False) -> str:
    seq = ' isSequential="true"' if sequential else ""
    return bpmn(f'<startEvent id="s"/><userTask id="t"><multiInstanceLoopCharacteristics{seq} '
                f'{loop}</multiInstanceLoopCharacteristics></userTask><endEvent id="e"/>'
                + flows("s>t", "t>e"))


WRITE_BACK = 'camunda:collection="items" camunda:elementVariable="item">'
CARDINALITY = ('camunda:collection="results" camunda:elementVariable="item">'
               '<loopCardinality>items</loopCardinality>')


def run(h: Harness, xml: str, compat: str | None, order: list[int] | None = None,
        answer=lambda seen: {"item": seen["item"] * 10}, **start) -> str:
    """Deploy `xml` in `compat`, start it, and complete the open instances one by one (the
    `order[i]`-th open task, by item, at step i; else the first), each with `answer` of
    what the task sees."""
    h.engine.deploy(xml.encode(), compat=compat)
    iid = h.start(**start)
    step = 0
    while tasks := sorted(h.engine.tasks(instance_id=iid), key=lambda t: t.token):
        pick = order[step] if order and step < len(order) else 0
        task = tasks[pick]
        h.engine.complete_task(task.id, answer(h.engine.token_variables(iid, task.token)))
        step += 1
    assert h.status(iid) == "completed"
    return iid


# ------------------------------------------------------------------ (1) write-back
@pytest.mark.parametrize("sequential", [False, True], ids=["parallel", "sequential"])
def test_the_element_variable_is_written_back_into_the_collection_at_its_index(h, sequential):
    """Instances completed out of order still land at their own index."""
    iid = run(h, mi_task(WRITE_BACK, sequential), SPIFF, order=None if sequential else [2, 0],
              items=[1, 2, 3])
    assert h.vars(iid) == {"items": [10, 20, 30]}


def test_without_the_mode_the_collection_is_unchanged(h):
    """Camunda 7: the element variable is local to each instance, nothing writes it back."""
    iid = run(h, mi_task(WRITE_BACK), None, items=[1, 2, 3])
    assert h.vars(iid) == {"items": [1, 2, 3]}


@pytest.mark.parametrize("sequential", [False, True], ids=["parallel", "sequential"])
def test_a_mapping_collection_gets_each_item_back_under_its_key(h, sequential):
    """SpiffWorkflow runs one instance per value of a mapping and writes the element variable
    back under the value's key (the corpus's DMNMultiInstance.bpmn); without the mode
    the mapping stays as it was."""
    iid = run(h, mi_task(WRITE_BACK, sequential), SPIFF, items={"a": 1, "b": 2})
    assert h.vars(iid) == {"items": {"a": 10, "b": 20}}
    camunda = Harness()
    iid = run(camunda, mi_task(WRITE_BACK, sequential), None, items={"a": 1, "b": 2})
    assert camunda.vars(iid) == {"items": {"a": 1, "b": 2}}


def test_each_write_back_is_seen_at_once(h):
    """The collection changes as each instance completes (SpiffWorkflow updates it in
    place): a later sequential instance already sees the earlier ones' items."""
    seen: list[object] = []

    def answer(variables):
        seen.append(list(variables["items"]))
        return {"item": variables["item"] * 10}

    run(h, mi_task(WRITE_BACK, sequential=True), SPIFF, answer=answer, items=[1, 2, 3])
    assert seen == [[1, 2, 3], [10, 2, 3], [10, 20, 3]]


def test_a_completion_condition_leaves_the_remaining_items_as_they_were(h):
    loop = WRITE_BACK + "<completionCondition>item == 20</completionCondition>"
    iid = run(h, mi_task(loop, sequential=True), SPIFF, items=[1, 2, 3])
    assert h.vars(iid) == {"items": [10, 20, 3]}


def test_a_collection_that_lost_the_item_fails_naming_it(h):
    """A task that replaced the collection with a shorter one: there is no index to write
    to, and the activity fails rather than dropping the item."""
    h.engine.deploy(mi_task(WRITE_BACK).encode(), compat=SPIFF)
    iid = h.start(items=[1, 2, 3])
    last = max(h.engine.tasks(instance_id=iid), key=lambda t: t.token)
    with pytest.raises(EngineError, match=r"cannot write 'item' back into the collection "
                                          r"'items': it no longer has item 2"):
        h.engine.complete_task(last.id, {"item": 30, "items": [1]})


@pytest.mark.parametrize("loop", [
    # the diagram names its own output collection
    WRITE_BACK[:-1] + '><loopDataOutputRef>out</loopDataOutputRef>'
    '<outputDataItem id="o" name="item"/>',
    # an expression is not a variable SpiffWorkflow could write to
    'camunda:collection="${items}" camunda:elementVariable="item">',
], ids=["explicit-output", "expression"])
def test_what_the_diagram_declares_itself_is_kept(h, loop):
    iid = run(h, mi_task(loop), SPIFF, items=[1, 2, 3])
    assert h.vars(iid)["items"] == [1, 2, 3]
    assert h.vars(iid).get("out") == ([10, 20, 30] if "loopDataOutputRef" in loop else None)


# ------------------------------------------------------------------ (2) a list as cardinality
def test_a_list_as_loop_cardinality_is_the_input_and_camunda_collection_the_output(h):
    """SpiffWorkflow collects the outputs as the instances complete: in completion order
    (the corpus's parallel_multiinstance_cardinality.bpmn)."""
    iid = run(h, mi_task(CARDINALITY), SPIFF, items=[1, 2, 3])
    assert h.vars(iid) == {"items": [1, 2, 3], "results": [10, 20, 30]}


def test_the_output_collection_is_in_completion_order(h):
    iid = run(h, mi_task(CARDINALITY), SPIFF, order=[2, 0], items=[1, 2, 3])
    assert h.vars(iid)["results"] == [30, 10, 20]


def test_without_the_mode_a_list_as_loop_cardinality_fails_naming_it(h):
    h.deploy(mi_task(CARDINALITY))
    with pytest.raises(EngineError, match=r"loopCardinality \[1, 2, 3\] is not a whole number"):
        h.start(items=[1, 2, 3])


def test_a_mapping_as_loop_cardinality_gives_a_mapping_output(h):
    iid = run(h, mi_task(CARDINALITY), SPIFF, items={"a": 1, "b": 2})
    assert h.vars(iid)["results"] == {"a": 10, "b": 20}


def test_a_number_as_loop_cardinality_gives_the_indexes_and_still_collects(h):
    """SpiffWorkflow: with a count, the element variable is the instance's index and
    camunda:collection the output; Camunda 7 reads the collection as the input (the
    first n items)."""
    loop = CARDINALITY.replace(">items<", ">3<")
    iid = run(h, mi_task(loop, sequential=True), SPIFF,
              answer=lambda seen: {"item": seen["item"] + 100})
    assert h.vars(iid) == {"results": [100, 101, 102]}
    camunda = Harness()
    iid = run(camunda, mi_task(loop), None, answer=lambda seen: {"item": seen["item"] + 100},
              results=[5, 6, 7])
    assert camunda.vars(iid) == {"results": [5, 6, 7]}


def test_an_explicit_input_collection_keeps_the_cardinality_a_count(h):
    loop = ('><loopDataInputRef>items</loopDataInputRef><inputDataItem id="i" name="item"/>'
            '<loopCardinality>2</loopCardinality>')
    h.engine.deploy(mi_task(loop).encode(), compat=SPIFF)
    iid = h.start(items=[7, 8, 9])
    assert sorted(h.engine.token_variables(iid, t.token)["item"]
                  for t in h.engine.tasks(instance_id=iid)) == [7, 8]


# ------------------------------------------------------------------ the option itself
def test_the_compiler_takes_the_mode_and_refuses_an_unknown_one():
    xml = mi_task(WRITE_BACK)
    node = compile_bpmn(xml, compat=SPIFF).processes["p"].nodes[1]
    assert node.multi_instance.write_back and node.multi_instance.output_collection == "items"
    assert not compile_bpmn(xml).processes["p"].nodes[1].multi_instance.write_back
    with pytest.raises(ValueError, match="'spiff' is not a migration mode: use 'spiffworkflow'"):
        compile_bpmn(xml, compat="spiff")


def test_the_definition_shows_the_mode_and_a_wrong_one_is_refused(h):
    xml = mi_task(WRITE_BACK).encode()
    with pytest.raises(EngineError, match="compat 'camunda' is not a migration mode: use "
                                          "'spiffworkflow'"):
        h.engine.deploy(xml, compat="camunda")
    assert h.engine.definitions() == []
    (d,) = h.engine.deploy(xml, compat=SPIFF)
    assert (d.version, d.new, d.compat) == (1, True, SPIFF)
    assert h.engine.definition("p").compat == SPIFF
    # the same file in the same mode is unchanged; in another mode it is a new version,
    # since it compiles to another graph
    (again,) = h.engine.deploy(xml, compat=SPIFF)
    assert (again.version, again.new) == (1, False)
    (plain,) = h.engine.deploy(xml)
    assert (plain.version, plain.new, plain.compat) == (2, True, None)
    assert [x.compat for x in h.engine.definitions("p")] == [SPIFF, None]
    assert h.engine.graph(d.id).nodes[1].multi_instance.write_back
    assert not h.engine.graph(plain.id).nodes[1].multi_instance.write_back


def test_a_reopened_sqlite_store_compiles_the_definition_in_its_mode(tmp_path: Path):
    """The mode is stored with the definition: another process (here: a fresh engine on
    the same file, with an empty definition cache) compiles the same graph, and an
    instance started before the restart finishes with SpiffWorkflow's data."""
    url = f"sqlite:///{tmp_path / 'compat.db'}"
    first = Engine(store=open_store(url), clock=ManualClock())
    (d,) = first.deploy(mi_task(WRITE_BACK, sequential=True).encode(), compat=SPIFF)
    iid = first.start("p", {"items": [1, 2]})
    (task,) = first.tasks(instance_id=iid)
    first.complete_task(task.id, {"item": 10})
    first.store.close()

    again = Engine(store=open_store(url), clock=ManualClock())
    try:
        assert again.definition("p").compat == SPIFF
        assert again.graph(d.id).nodes[1].multi_instance.write_back
        (task,) = again.tasks(instance_id=iid)
        again.complete_task(task.id, {"item": 20})
        assert again.instance(iid).variables == {"items": [10, 20]}
        iid = again.start("p", {"items": [3]})
        (task,) = again.tasks(instance_id=iid)
        again.complete_task(task.id, {"item": 30})
        assert again.instance(iid).variables == {"items": [30]}
    finally:
        again.store.close()
