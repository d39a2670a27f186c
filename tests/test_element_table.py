"""The element table (engine.bpmn.elements) is the one list of BPMN flow nodes: every entry
must compile to its kind and run through its behaviour, and every set derived from it must
agree with the others. These tests are what makes "one entry + one behaviour class" safe:
a half-added element fails here, not when a token first reaches it in production."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime

import pytest

from engine.bpmn import BpmnValidationError, compile_bpmn
from engine.bpmn import elements as el
from engine.bpmn.elements import ELEMENTS, ElementSpec
from engine.bpmn.events import DEFINITION_TYPES
from engine.bpmn.nodes import COMMON_READERS, READERS
from engine.runtime import effects as fx
from engine.runtime import start
from engine.runtime.behaviors import BEHAVIOR_CLASSES, BEHAVIORS, base, build_behaviors
from engine.runtime.triggers import Start

EXECUTABLE = [spec for spec in ELEMENTS if spec.kind is not None]
UNSUPPORTED = [spec for spec in ELEMENTS if spec.kind is None]
TIMER = '<timerEventDefinition><timeDuration>PT1M</timeDuration></timerEventDefinition>'


def _id(spec: ElementSpec) -> str:
    return f"{spec.tag}->{spec.kind}"


def definitions(body: str) -> str:
    return ('<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" '
            'targetNamespace="http://baton.test">'
            f'<process id="p" isExecutable="true">{body}</process></definitions>')


def flow(source: str, target: str) -> str:
    return f'<sequenceFlow id="{source}_{target}" sourceRef="{source}" targetRef="{target}"/>'


def element_xml(spec: ElementSpec, attrs: str = "", content: str = "") -> str:
    when = f' {spec.when}="true"' if spec.when else ""
    return f'<{spec.tag} id="X"{when}{attrs}>{content}</{spec.tag}>'


def diagram_with(spec: ElementSpec) -> str:
    """A small runnable process in which element X is an instance of `spec`, built from the
    entry's own category and flags (plus what one element needs: a gateway's targets)."""
    definition = TIMER if spec.category == el.EVENT and "none" not in spec.event_types else ""
    if spec.kind == "startEvent":
        return definitions(element_xml(spec) + '<endEvent id="E"/>' + flow("X", "E"))
    if spec.kind == "endEvent":
        return definitions('<startEvent id="S"/>' + element_xml(spec) + flow("S", "X"))
    if spec.category == el.EVENT and el.TRIGGERED in spec.flags:  # boundary event
        return definitions(
            '<startEvent id="S"/><userTask id="T"/><endEvent id="E"/><endEvent id="E2"/>'
            + element_xml(spec, ' attachedToRef="T"', definition)
            + flow("S", "T") + flow("T", "E") + flow("X", "E2"))
    if el.TRIGGERED in spec.flags:  # event subprocess: started by its event, not a flow
        inner = f'<startEvent id="XS">{TIMER}</startEvent><endEvent id="XE"/>' + flow("XS", "XE")
        return definitions('<startEvent id="S"/><userTask id="T"/><endEvent id="E"/>'
                           + element_xml(spec, content=inner) + flow("S", "T") + flow("T", "E"))
    content = definition
    if el.CONTAINER in spec.flags:
        content = '<startEvent id="XS"/><endEvent id="XE"/>' + flow("XS", "XE")
    if spec.kind == "adHocSubProcess":  # activities started on request, no start event
        content = '<task id="XS"/>'

    after = '<endEvent id="E"/>' + flow("X", "E")
    if spec.kind == "eventBasedGateway":
        after = (f'<intermediateCatchEvent id="C">{TIMER}</intermediateCatchEvent>'
                 '<endEvent id="E"/>' + flow("X", "C") + flow("C", "E"))
    attrs = ' calledElement="other"' if spec.kind == "callActivity" else ""
    return definitions('<startEvent id="S"/>' + element_xml(spec, attrs, content)
                       + flow("S", "X") + after)


# ------------------------------------------------------------------ parsing


@pytest.mark.parametrize("spec", EXECUTABLE, ids=_id)
def test_every_executable_entry_compiles_to_its_kind(spec: ElementSpec) -> None:
    graph = compile_bpmn(diagram_with(spec)).processes["p"]
    assert graph.node("X").kind == spec.kind
    for key, value in spec.marks:
        assert graph.node("X").ext[key] == value


@pytest.mark.parametrize("spec", UNSUPPORTED, ids=_id)
def test_every_unsupported_entry_is_refused_by_name(spec: ElementSpec) -> None:
    xml = definitions('<startEvent id="S"/>' + element_xml(spec) + '<endEvent id="E"/>'
                      + flow("S", "X") + flow("X", "E"))
    with pytest.raises(BpmnValidationError) as caught:
        compile_bpmn(xml)
    assert any(p.element_id == "X" and p.tag == spec.tag
               and p.message == "Baton cannot execute this element"
               for p in caught.value.problems)


def test_element_spec_picks_the_conditional_entry_only_when_its_attribute_is_true() -> None:
    assert el.element_spec("subProcess", {"triggeredByEvent": " TRUE "}).kind == "eventSubProcess"
    assert el.element_spec("subProcess", {"triggeredByEvent": "false"}).kind == "subProcess"
    assert el.element_spec("subProcess", {}).kind == "subProcess"
    assert el.element_spec("sequenceFlow", {}) is None


def test_every_parse_name_is_a_reader_and_readers_are_unique() -> None:
    names = [name for name, _ in READERS]
    assert len(names) == len(set(names))
    assert COMMON_READERS <= set(names)
    for spec in ELEMENTS:
        unknown = set(spec.parse) - set(names)
        assert not unknown, f"{spec.tag}: no reader named {sorted(unknown)}"
        assert not set(spec.parse) & COMMON_READERS, f"{spec.tag}: lists a common reader"


# ------------------------------------------------------------------ behaviours


@pytest.mark.parametrize("spec", EXECUTABLE, ids=_id)
def test_every_kind_has_the_behaviour_its_entry_names(spec: ElementSpec) -> None:
    assert type(BEHAVIORS[spec.kind]) is BEHAVIOR_CLASSES[spec.behavior]


def test_no_behaviour_without_a_kind_and_no_kind_without_a_behaviour() -> None:
    assert set(BEHAVIORS) == el.KINDS == set(el.BEHAVIOR_OF_KIND)


@pytest.mark.parametrize("spec", [s for s in EXECUTABLE if el.TRIGGERED not in s.flags],
                         ids=_id)
def test_a_token_entering_each_element_runs_its_behaviour(spec: ElementSpec) -> None:
    graph = compile_bpmn(diagram_with(spec)).processes["p"]
    _state, effects = start(graph, Start({}), datetime(2024, 1, 1, tzinfo=UTC))
    events = [fx.History._make(e) for e in effects if type(e) is tuple]
    assert any(e.type == "activity_started" and e.activity_id == "X" for e in events)


def test_a_kind_without_its_behaviour_class_stops_the_import() -> None:
    with pytest.raises(ImportError, match="fooTask -> FooTask"):
        build_behaviors({**el.BEHAVIOR_OF_KIND, "fooTask": "FooTask"}, BEHAVIOR_CLASSES)


def test_a_new_element_needs_one_entry_and_one_class(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "BEHAVIOR_CLASSES", dict(BEHAVIOR_CLASSES))

    class FooTask(base.Behavior):
        """A made-up element's behaviour: defining it registers it."""

    table = (*ELEMENTS, ElementSpec(tag="fooTask", kind="fooTask", category=el.ACTIVITY,
                                    behavior="FooTask"))
    built = build_behaviors(el.behaviors_by_kind(table), base.BEHAVIOR_CLASSES)
    assert type(built["fooTask"]) is FooTask
    assert set(built) == el.KINDS | {"fooTask"}


def test_two_behaviour_classes_may_not_share_a_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "BEHAVIOR_CLASSES", dict(BEHAVIOR_CLASSES))
    with pytest.raises(TypeError, match="UserTask"):
        type("UserTask", (base.Behavior,), {})


# ------------------------------------------------------------------ the table's own rules


def test_a_tag_needs_exactly_one_unconditional_entry() -> None:
    extra = ElementSpec(tag="task", kind="task", category=el.ACTIVITY, behavior="Task")
    with pytest.raises(ValueError, match="'task'"):
        el.index_by_tag((*ELEMENTS, extra))


def test_one_kind_is_run_by_one_behaviour() -> None:
    extra = ElementSpec(tag="transaction2", kind="subProcess", category=el.ACTIVITY,
                        behavior="Task")
    with pytest.raises(ValueError, match="subProcess"):
        el.behaviors_by_kind((*ELEMENTS, extra))


def test_an_executable_entry_names_a_behaviour_and_an_unsupported_one_does_not() -> None:
    for spec in ELEMENTS:
        assert (spec.behavior is None) == (spec.kind is None), spec.tag
    missing = ElementSpec(tag="fooTask", kind="fooTask", category=el.ACTIVITY)
    with pytest.raises(ValueError, match="no behaviour"):
        el.behaviors_by_kind((missing,))


# ------------------------------------------------------------------ derived sets


def test_categories_partition_the_kinds() -> None:
    groups = (el.EVENT_KINDS, el.ACTIVITY_KINDS, el.GATEWAY_KINDS)
    assert sum(len(g) for g in groups) == len(el.KINDS)
    assert frozenset().union(*groups) == el.KINDS


def test_flag_sets_are_consistent() -> None:
    assert el.CATCH_KINDS | el.THROW_KINDS == el.EVENT_KINDS
    assert not el.CATCH_KINDS & el.THROW_KINDS
    assert el.JOIN_KINDS <= el.GATEWAY_KINDS
    assert el.CONTAINER_KINDS <= el.ACTIVITY_KINDS
    assert el.TRIGGERED_KINDS <= el.KINDS
    assert el.UNSUPPORTED_TAGS <= el.FLOW_NODE_TAGS
    assert el.CONTAINER_TAGS <= el.FLOW_NODE_TAGS
    assert not el.FLOW_NODE_TAGS & el.PASSIVE_TAGS


def test_event_fields_sit_on_events_only() -> None:
    definition_types = set(DEFINITION_TYPES.values()) | {"none"}
    for spec in ELEMENTS:
        if spec.category == el.EVENT:
            assert spec.event_types and spec.event_types <= definition_types, spec.tag
            assert "event" in spec.parse, spec.tag
        else:
            assert not spec.event_types and "event" not in spec.parse, spec.tag
        if spec.interrupting_attr is not None:
            assert el.CATCH in spec.flags, spec.tag
    assert set(el.EVENT_TYPES) == el.EVENT_KINDS


def test_the_derived_sets_are_those_the_code_kept_by_hand_before_the_table() -> None:
    assert el.EVENT_KINDS == {"startEvent", "endEvent", "intermediateCatchEvent",
                              "intermediateThrowEvent", "boundaryEvent"}
    assert el.ACTIVITY_KINDS == {"task", "userTask", "manualTask", "serviceTask", "sendTask",
                                 "receiveTask", "scriptTask", "businessRuleTask",
                                 "callActivity", "subProcess", "eventSubProcess",
                                 "adHocSubProcess"}
    assert el.GATEWAY_KINDS == {"exclusiveGateway", "parallelGateway", "inclusiveGateway",
                                "eventBasedGateway", "complexGateway"}
    assert el.CATCH_KINDS == {"startEvent", "intermediateCatchEvent", "boundaryEvent"}
    assert el.THROW_KINDS == {"intermediateThrowEvent", "endEvent"}
    assert el.JOIN_KINDS == {"parallelGateway", "inclusiveGateway", "complexGateway"}
    assert el.CONTAINER_KINDS == {"subProcess", "eventSubProcess", "adHocSubProcess"}
    assert el.TRIGGERED_KINDS == {"boundaryEvent", "eventSubProcess"}
    assert el.CONTAINER_TAGS == {"subProcess", "transaction", "adHocSubProcess"}
    assert el.UNSUPPORTED_TAGS == {"callChoreography", "choreographyTask", "subChoreography"}
    assert el.FLOW_NODE_TAGS == (el.KINDS - {"eventSubProcess"}) | {"transaction"} \
        | el.UNSUPPORTED_TAGS


@pytest.mark.parametrize("module_name", ["engine.service", "engine.services.runtime"])
def test_wait_states_match_what_the_engine_lists_as_waiting(module_name: str) -> None:
    """Where the engine still keeps its own list of wait states (to tell which activities an
    instance waits in), it must be the table's: a missing one hides waiting activities."""
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        pytest.skip(f"no module {module_name}")
    waiting = getattr(module, "WAITING_KINDS", None)
    if waiting is None:
        pytest.skip(f"{module_name} keeps no WAITING_KINDS of its own")
    assert waiting == el.WAIT_STATES, (
        f"{module_name}.WAITING_KINDS differs from engine.bpmn.elements.WAIT_STATES; "
        "import WAIT_STATES instead of keeping a copy")


def test_waiting_lists_wait_states_never_containers_boundaries_or_call_activities() -> None:
    """`Engine.instance(id).waiting` lists elements holding a token in a wait state. A
    container, a boundary event or a call activity holds its token for what runs inside or
    elsewhere (a called instance: see `InstanceView.called`), so none of them has a wait
    state, and a value is either a wait or a hold, never both."""
    assert not el.WAIT_STATES & el.HOLD_STATES
    assert el.HOLD_STATES == {"call"}
    for spec in ELEMENTS:
        if el.CONTAINER in spec.flags or spec.kind in ("boundaryEvent", "callActivity"):
            assert spec.waits == (), spec.tag
        if spec.holds:
            assert spec.category == el.ACTIVITY, spec.tag
