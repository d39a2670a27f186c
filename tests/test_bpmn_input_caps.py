"""Inputs that used to be accepted but should not be (issue 10): XInclude elements, ids and
names of any length, and a process without a start event (a named warning)."""

from __future__ import annotations

import pytest

from engine import Engine
from engine.bpmn import BpmnValidationError, compile_bpmn
from engine.bpmn.parser import MAX_ID_LENGTH, MAX_NAME_LENGTH

HEAD = ('<?xml version="1.0"?>\n<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"'
        ' targetNamespace="t">\n')


def diagram(body: str) -> bytes:
    return (HEAD + f'<process id="p" isExecutable="true">\n{body}\n</process>\n'
            "</definitions>\n").encode()


def refused(xml: bytes) -> list[str]:
    with pytest.raises(BpmnValidationError) as info:
        Engine().deploy(xml)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize("namespace", ["http://www.w3.org/2001/XInclude",
                                       "http://www.w3.org/2003/XInclude"])
def test_xinclude_is_refused_like_a_dtd(namespace: str) -> None:
    xml = diagram(f'<startEvent id="s"><xi:include xmlns:xi="{namespace}" href="other.bpmn"/>'
                  "</startEvent>")
    (problem,) = refused(xml)
    assert "xi:include (line 4)" in problem and "XInclude" in problem


def test_a_million_character_name_is_refused_with_its_limit() -> None:
    (problem,) = refused(diagram(f'<startEvent id="s" name="{"n" * 1_000_000}"/>'))
    assert "startEvent 's' (line 4)" in problem
    assert "1,000,000 characters" in problem and f"{MAX_NAME_LENGTH:,}" in problem
    assert len(problem) < 400            # the message does not repeat the name


def test_names_up_to_the_limit_deploy() -> None:
    Engine().deploy(diagram(f'<startEvent id="s" name="{"n" * MAX_NAME_LENGTH}"/>'))
    Engine().deploy(diagram(f'<startEvent id="{"s" * MAX_ID_LENGTH}"/>'))


def test_long_ids_and_references_are_refused_all_at_once() -> None:
    long_id = "t" * (MAX_ID_LENGTH + 1)
    problems = refused(diagram(
        f'<startEvent id="s"/><task id="{long_id}"/>'
        f'<sequenceFlow id="f" sourceRef="s" targetRef="{long_id}"/>'))
    assert len(problems) == 2
    assert "task (line 4): the id is 256 characters long" in problems[0]
    assert "sequenceFlow 'f' (line 4): the reference targetRef is 256" in problems[1]


def test_a_process_without_start_event_deploys_with_a_named_warning() -> None:
    xml = diagram('<userTask id="a"/><task id="b"/><userTask id="c"/>'
                  '<sequenceFlow id="f" sourceRef="a" targetRef="b"/>')
    (warning,) = compile_bpmn(xml).warnings
    assert warning.endswith("[process-implicit-start]")
    assert "'a' and 'c'" in warning and "can be started" in warning
    engine = Engine()
    engine.deploy(xml)
    iid = engine.start("p")                      # as the warning says: a and c at once
    assert sorted(engine.instance(iid).waiting) == ["a", "c"]
    with pytest.raises(BpmnValidationError, match="process-implicit-start"):
        Engine().deploy(xml, strict=True)


def test_a_process_that_can_never_start_is_refused() -> None:
    xml = diagram('<task id="a"/><task id="b"/><sequenceFlow id="f1" sourceRef="a" '
                  'targetRef="b"/><sequenceFlow id="f2" sourceRef="b" targetRef="a"/>')
    (problem,) = refused(xml)
    assert problem.endswith("[process-can-start]") and "can never start" in problem
