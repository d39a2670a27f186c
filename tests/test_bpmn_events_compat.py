"""Diagrams from SpiffWorkflow and old Signavio exports that Baton runs as SpiffWorkflow does:
message and signal events named by the event instead of a reference, multiple events at
compile time, ioSpecification on activities and processes, and a called process deleting
variables its caller passed it."""

from __future__ import annotations

import pytest

from engine import EngineError
from engine.bpmn.compiler import compile_bpmn
from engine.bpmn.errors import BpmnValidationError
from tests.runtime.conftest import Harness, bpmn, flows


@pytest.fixture
def h() -> Harness:
    return Harness()


# ---------------------------------------------------------------------------- names as refs
def test_message_catch_without_message_ref_waits_for_a_message_named_like_the_event(h):
    xml = bpmn('<startEvent id="s"/><intermediateCatchEvent id="c" name="Test Message">'
               '<messageEventDefinition/></intermediateCatchEvent><endEvent id="e"/>'
               + flows("s>c", "c>e"))
    (warning,) = compile_bpmn(xml).warnings
    assert "intermediateCatchEvent 'c'" in warning and "'Test Message'" in warning
    h.deploy(xml)
    iid = h.start()
    h.engine.correlate_message("Test Message", variables={"got": True})
    assert h.status(iid) == "completed" and h.vars(iid) == {"got": True}


def test_message_boundary_without_message_ref_interrupts_by_name(h):
    h.deploy(bpmn('<startEvent id="s"/><userTask id="work"/><endEvent id="e"/>'
                  '<boundaryEvent id="b" name="Stop" attachedToRef="work">'
                  '<messageEventDefinition/></boundaryEvent><endEvent id="stopped"/>'
                  + flows("s>work", "work>e", "b>stopped")))
    iid = h.start()
    h.engine.correlate_message("Stop")
    assert h.status(iid) == "completed" and "work" in h.cancelled(iid)


def test_message_throw_without_message_ref_sends_the_event_name(h):
    h.deploy(bpmn('<startEvent id="s"><messageEventDefinition messageRef="m"/></startEvent>'
                  '<endEvent id="e"/>' + flows("s>e"), pid="receiver",
                  extra='<message id="m" name="Hello"/>'),
             bpmn('<startEvent id="s"/><intermediateThrowEvent id="t" name="Hello">'
                  '<messageEventDefinition/></intermediateThrowEvent><endEvent id="e"/>'
                  + flows("s>t", "t>e"), pid="sender"))
    h.start("sender")
    assert [i.key for i in h.engine.instances()].count("receiver") == 1


def test_message_catch_without_message_ref_and_name_is_refused():
    xml = bpmn('<startEvent id="s"/><intermediateCatchEvent id="c"><messageEventDefinition/>'
               '</intermediateCatchEvent>' + flows("s>c"))
    with pytest.raises(BpmnValidationError, match="'c'.*no messageRef and no name"):
        compile_bpmn(xml)


def test_signal_events_without_signal_ref_use_their_names(h):
    h.deploy(bpmn('<startEvent id="s"/><userTask id="work"/><endEvent id="e"/>'
                  '<boundaryEvent id="b" name="Alarm" attachedToRef="work">'
                  '<signalEventDefinition/></boundaryEvent><endEvent id="stopped"/>'
                  + flows("s>work", "work>e", "b>stopped")))
    iid = h.start()
    h.engine.broadcast_signal("Alarm")
    assert h.status(iid) == "completed" and "work" in h.cancelled(iid)


def test_a_signal_throw_with_neither_signal_ref_nor_name_is_refused():
    xml = bpmn('<startEvent id="s"/><intermediateThrowEvent id="t"><signalEventDefinition/>'
               '</intermediateThrowEvent><endEvent id="e"/>' + flows("s>t", "t>e"))
    with pytest.raises(BpmnValidationError, match="'t'.*no signalRef and no name"):
        compile_bpmn(xml)


def test_a_signal_catch_with_neither_signal_ref_nor_name_compiles():
    """BPMN 2.0.2 10.5.5 makes signalRef optional; such a catch event can never be reached
    by a broadcast, which deployment reports as the warning `signal-catch-unnamed`
    (tests/runtime/test_issue10_unnamed_signal_catch.py)."""
    xml = bpmn('<startEvent id="s"/><userTask id="work"/><endEvent id="e"/>'
               '<boundaryEvent id="b" attachedToRef="work"><signalEventDefinition/>'
               '</boundaryEvent>' + flows("s>work", "work>e"))
    graph = compile_bpmn(xml).processes["p"]
    assert graph.node("b").event.type == "signal"


# ---------------------------------------------------------------------------- multiple events
DEFS = '<message id="ma" name="a"/><message id="mb" name="b"/><signal id="g" name="go"/>'


def test_a_multiple_start_event_compiles_to_one_definition_per_part():
    graph = compile_bpmn(bpmn(
        '<startEvent id="s" parallelMultiple="true"><messageEventDefinition messageRef="ma"/>'
        '<signalEventDefinition signalRef="g"/></startEvent><endEvent id="e"/>' + flows("s>e"),
        extra=DEFS)).processes["p"]
    start = graph.node("s")
    assert start.event.type == "multiple" and start.parallel_multiple
    assert [(e.type, e.ref) for e in start.events] == [("message", "a"), ("signal", "go")]
    assert dict(graph.message_starts) == {"a": 0} and dict(graph.signal_starts) == {"go": 0}
    assert graph.start_nodes == ()


def test_a_throwing_multiple_event_is_never_parallel():
    graph = compile_bpmn(bpmn(
        '<startEvent id="s"/><intermediateThrowEvent id="t" parallelMultiple="true">'
        '<messageEventDefinition messageRef="ma"/><messageEventDefinition messageRef="mb"/>'
        '</intermediateThrowEvent>' + flows("s>t"), extra=DEFS)).processes["p"]
    assert not graph.node("t").parallel_multiple and len(graph.node("t").events) == 2


@pytest.mark.parametrize(("body", "says"), [
    ('<startEvent id="x"><messageEventDefinition messageRef="ma"/><timerEventDefinition>'
     '<timeDuration>PT1H</timeDuration></timerEventDefinition></startEvent>',
     "starts a process on the messages and signals"),
    ('<startEvent id="s"/><intermediateThrowEvent id="x"><messageEventDefinition '
     'messageRef="ma"/><timerEventDefinition><timeDuration>PT1H</timeDuration>'
     '</timerEventDefinition></intermediateThrowEvent><sequenceFlow id="f" sourceRef="s" '
     'targetRef="x"/>', "has a timer event definition"),
])
def test_multiple_events_with_parts_baton_cannot_run_are_refused(body, says):
    with pytest.raises(BpmnValidationError, match=f"'x'.*{says}"):
        compile_bpmn(bpmn(body, extra=DEFS))


# ---------------------------------------------------------------------------- ioSpecification
IO = ('<ioSpecification><dataInput id="in_1" name="input 1"/><dataInput id="in_2"/>'
      '<dataOutput id="out_1"/><inputSet><dataInputRefs>in_1</dataInputRefs>'
      '<dataInputRefs>in_2</dataInputRefs></inputSet><outputSet><dataOutputRefs>out_1'
      '</dataOutputRefs></outputSet></ioSpecification>')


def task_with_io(task: str) -> str:
    return bpmn('<startEvent id="s"/>' + task + '<endEvent id="e"/>' + flows("s>t", "t>e"))


def test_a_task_sees_only_its_data_inputs(h):
    h.deploy(task_with_io(f'<scriptTask id="t" scriptFormat="python">{IO}<script>'
                          'out_1 = in_1 + unused</script></scriptTask>'))
    with pytest.raises(EngineError, match="unused"):
        h.start(in_1=1, in_2=2, unused=3)


def test_a_task_hands_back_only_its_data_outputs(h):
    h.deploy(task_with_io(f'<scriptTask id="t" scriptFormat="python">{IO}<script>'
                          'out_1 = in_1 + in_2\nscratch = 1\nin_1 = 99</script></scriptTask>'))
    iid = h.start(in_1=1, in_2=2, unused=3)
    assert h.vars(iid) == {"in_1": 1, "in_2": 2, "unused": 3, "out_1": 3}


def test_a_missing_data_input_is_named(h):
    h.deploy(task_with_io(f'<userTask id="t">{IO}</userTask>'))
    with pytest.raises(EngineError, match="userTask 't'.*data input 'in_2'"):
        h.start(in_1=1)


def test_a_user_task_must_be_completed_with_its_data_outputs(h):
    h.deploy(task_with_io(f'<userTask id="t">{IO}</userTask>'))
    iid = h.start(in_1=1, in_2=2)
    with pytest.raises(EngineError, match="data output 'out_1'"):
        h.complete("t", iid, other=1)
    assert h.tasks(iid) == ["t"]                       # the failed completion changed nothing
    h.complete("t", iid, out_1="done", extra=True)
    assert h.vars(iid) == {"in_1": 1, "in_2": 2, "out_1": "done"}


def test_an_ioSpecification_with_only_outputs_sees_everything(h):
    io = '<ioSpecification><dataOutput id="total"/><outputSet/></ioSpecification>'
    h.deploy(task_with_io(f'<scriptTask id="t" scriptFormat="python">{io}<script>'
                          'total = a + b\nscratch = 1</script></scriptTask>'))
    assert h.vars(h.start(a=1, b=2)) == {"a": 1, "b": 2, "total": 3}


def test_an_ioSpecification_with_only_inputs_hands_back_what_the_task_set(h):
    io = '<ioSpecification><dataInput id="a"/><inputSet/></ioSpecification>'
    h.deploy(task_with_io(f'<scriptTask id="t" scriptFormat="python">{io}<script>'
                          'doubled = a * 2</script></scriptTask>'))
    assert h.vars(h.start(a=2, b=5)) == {"a": 2, "b": 5, "doubled": 4}


def test_data_associations_bind_inputs_and_outputs_to_data_objects(h):
    task = (f'<scriptTask id="t" scriptFormat="python">{IO}'
            '<dataInputAssociation><sourceRef>ref_price</sourceRef><targetRef>in_1</targetRef>'
            '</dataInputAssociation><dataOutputAssociation><sourceRef>out_1</sourceRef>'
            '<targetRef>ref_total</targetRef></dataOutputAssociation>'
            '<script>out_1 = in_1 * in_2</script></scriptTask>'
            '<dataObject id="price"/><dataObject id="total"/>'
            '<dataObjectReference id="ref_price" dataObjectRef="price"/>'
            '<dataObjectReference id="ref_total" dataObjectRef="total"/>')
    h.deploy(task_with_io(task))
    iid = h.start(price=5, in_2=3)
    assert h.vars(iid) == {"price": 5, "in_2": 3, "total": 15}


def test_ioSpecifications_naming_data_by_non_variable_ids_are_left_aside(h):
    io = ('<ioSpecification><dataInput id="_8b9a-11" name="Employee"/><inputSet>'
          '<dataInputRefs>_8b9a-11</dataInputRefs></inputSet><outputSet/></ioSpecification>')
    xml = task_with_io(f'<scriptTask id="t" scriptFormat="python">{io}<script>x = 1</script>'
                       '</scriptTask>')
    (warning,) = compile_bpmn(xml).warnings
    assert "scriptTask 't'" in warning and "'_8b9a-11'" in warning
    h.deploy(xml)
    assert h.vars(h.start(y=2)) == {"y": 2, "x": 1}      # runs as without ioSpecification


def test_an_empty_ioSpecification_changes_nothing():
    xml = task_with_io('<userTask id="t"><ioSpecification><inputSet/><outputSet/>'
                       '</ioSpecification></userTask>')
    graph = compile_bpmn(xml).processes["p"]
    assert not graph.node("t").io_spec and compile_bpmn(xml).warnings == ()


PROCESS_IO = ('<ioSpecification><dataInput id="in_1"/><dataInput id="in_2"/>'
              '<dataOutput id="out_1"/><inputSet/><outputSet/></ioSpecification>')


def child_process() -> str:
    return bpmn(PROCESS_IO + '<startEvent id="s"/><scriptTask id="t" scriptFormat="python">'
                '<script>out_1 = in_1 + in_2\nunused = False</script></scriptTask>'
                '<endEvent id="e"/>' + flows("s>t", "t>e"), pid="child")


def test_a_process_starts_with_exactly_its_data_inputs(h):
    h.deploy(child_process())
    with pytest.raises(EngineError, match="process 'child'.*'in_2'"):
        h.start("child", in_1=1)
    iid = h.start("child", in_1=1, in_2=2, unused=True)
    assert h.vars(iid) == {"in_1": 1, "in_2": 2, "out_1": 3, "unused": False}


def test_a_called_process_gets_its_inputs_and_gives_back_only_its_outputs(h):
    h.deploy(child_process(), bpmn(
        '<startEvent id="s"/><callActivity id="call" calledElement="child"/><endEvent id="e"/>'
        + flows("s>call", "call>e"), pid="parent"))
    iid = h.start("parent", in_1=1, in_2=2, unused=True)
    assert h.status(iid) == "completed"
    assert h.vars(iid) == {"in_1": 1, "in_2": 2, "unused": True, "out_1": 3}


def test_a_process_ending_without_its_data_output_is_an_error(h):
    h.deploy(bpmn(PROCESS_IO + '<startEvent id="s"/><endEvent id="e"/>' + flows("s>e"),
                  pid="child"))
    with pytest.raises(EngineError, match="ends without the data output.*'out_1'"):
        h.start("child", in_1=1, in_2=2)


# ---------------------------------------------------------------------------- call activities
def deleting_child() -> str:
    return bpmn('<startEvent id="s"/><scriptTask id="t" scriptFormat="python"><script>'
                'del temp\nresult = 1</script></scriptTask><endEvent id="e"/>'
                + flows("s>t", "t>e"), pid="child")


def test_a_called_process_given_every_variable_deletes_them_in_its_caller_too(h):
    h.deploy(deleting_child(), bpmn(
        '<startEvent id="s"/><callActivity id="call" calledElement="child"/><endEvent id="e"/>'
        + flows("s>call", "call>e"), pid="parent"))
    iid = h.start("parent", temp="x", keep=1)
    assert h.vars(iid) == {"keep": 1, "result": 1}


def test_deletions_do_not_cross_explicit_camunda_mappings(h):
    h.deploy(deleting_child(), bpmn(
        '<startEvent id="s"/><callActivity id="call" calledElement="child"><extensionElements>'
        '<camunda:in variables="all"/><camunda:out variables="all"/></extensionElements>'
        '</callActivity><endEvent id="e"/>' + flows("s>call", "call>e"), pid="parent"))
    iid = h.start("parent", temp="x", keep=1)
    assert h.vars(iid) == {"temp": "x", "keep": 1, "result": 1}
