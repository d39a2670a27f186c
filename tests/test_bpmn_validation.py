"""engine.bpmn validation: every rule reports the element id, its tag, its XML line and a
plain sentence, and all problems of a file are reported together."""

from __future__ import annotations

import pytest

from engine.bpmn import BpmnValidationError, Problem, compile_bpmn

NAMESPACES = (
    'xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:baton="http://baton.dev/schema/1.0" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)


def definitions(body: str) -> str:
    return f'<?xml version="1.0"?>\n<definitions {NAMESPACES} id="d">\n{body}\n</definitions>\n'


def process(body: str, attrs: str = 'isExecutable="true"') -> str:
    return definitions(f'<process id="p" {attrs}>\n{body}\n</process>')


def line_of(xml: str, needle: str) -> int:
    return next(i for i, line in enumerate(xml.splitlines(), 1) if needle in line)


def problems_of(xml: str) -> list[Problem]:
    with pytest.raises(BpmnValidationError) as info:
        compile_bpmn(xml)
    return info.value.problems


def only_problem(xml: str) -> Problem:
    problems = problems_of(xml)
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def assert_problem(problem: Problem, xml: str, element_id: str | None, tag: str, *fragments):
    assert problem.element_id == element_id
    assert problem.tag == tag
    needle = f'id="{element_id}"' if element_id else f"<{tag}"
    assert problem.line == line_of(xml, needle)
    for fragment in fragments:
        assert fragment in problem.message, problem.message


START_END = '<startEvent id="s"/>\n<endEvent id="e"/>\n'


# --------------------------------------------------------------------------- file level


def test_no_executable_process():
    xml = process(START_END + '<sequenceFlow id="f" sourceRef="s" targetRef="e"/>',
                  attrs='isExecutable="false"')
    problem = only_problem(xml)
    assert problem.tag == "definitions"
    assert "no process with flow nodes is executable" in problem.message


def test_no_flow_nodes():
    problem = only_problem(definitions('<process id="p"/><message id="m"/>'))
    assert "no process with flow nodes" in problem.message


def test_duplicate_ids_name_the_first_use():
    xml = process('<startEvent id="s"/>\n<task id="s"/>')
    problem = only_problem(xml)
    assert problem.element_id == "s" and problem.tag == "task"
    assert problem.line == 5
    assert "already used by the startEvent on line 4" in problem.message


def test_all_problems_are_reported_at_once():
    xml = process("""<startEvent id="s"/>
      <choreographyTask id="cx"/>
      <serviceTask id="bad" camunda:expression="${a +}"/>
      <sequenceFlow id="f" sourceRef="s" targetRef="nowhere"/>""")
    problems = problems_of(xml)
    assert {p.element_id for p in problems} == {"cx", "bad", "f"}
    assert len(str(BpmnValidationError(problems)).splitlines()) == 3


# --------------------------------------------------------------------------- flows


def test_flow_without_source_ref():
    xml = process(START_END + '<sequenceFlow id="f1" targetRef="e"/>')
    assert_problem(only_problem(xml), xml, "f1", "sequenceFlow", "has no sourceRef")


def test_flow_with_unknown_target_ref():
    xml = process(START_END + '<sequenceFlow id="f1" sourceRef="s" targetRef="ghost"/>')
    assert_problem(only_problem(xml), xml, "f1", "sequenceFlow",
                   "targetRef 'ghost' does not name a flow node of process 'p'")


def test_flow_to_a_node_of_another_process_is_unknown():
    xml = definitions("""<process id="p" isExecutable="true"><startEvent id="s"/>
      <sequenceFlow id="f1" sourceRef="s" targetRef="other_task"/></process>
      <process id="q" isExecutable="true"><task id="other_task"/></process>""")
    assert_problem(only_problem(xml), xml, "f1", "sequenceFlow", "targetRef 'other_task'")


def test_flow_crossing_a_subprocess_boundary():
    xml = process("""<startEvent id="s"/>
      <subProcess id="sub"><startEvent id="in"/><task id="inner"/>
        <sequenceFlow id="fi" sourceRef="in" targetRef="inner"/></subProcess>
      <sequenceFlow id="cross" sourceRef="s" targetRef="inner"/>""")
    assert_problem(only_problem(xml), xml, "cross", "sequenceFlow",
                   "connects 's' and 'inner'", "cannot cross a subprocess boundary")


# --------------------------------------------------------------------------- gateways


def test_exclusive_gateway_with_two_unconditioned_flows_and_no_default_is_a_warning():
    """Camunda 7 takes the first such flow in document order, and so does Baton: the diagram
    deploys, with a warning naming the flow that wins."""
    xml = process("""<startEvent id="s"/>
<exclusiveGateway id="Gateway_1"/>
<endEvent id="a"/><endEvent id="b"/>
<sequenceFlow id="f0" sourceRef="s" targetRef="Gateway_1"/>
<sequenceFlow id="f1" sourceRef="Gateway_1" targetRef="a"/>
<sequenceFlow id="f2" sourceRef="Gateway_1" targetRef="b"/>""")
    line = line_of(xml, 'id="Gateway_1"')
    assert compile_bpmn(xml).warnings == (
        f"exclusiveGateway 'Gateway_1' (line {line}): 2 outgoing flows without condition and "
        "no default flow; Baton takes the first of them in document order, 'f1' (as Camunda 7 "
        "does), and never 'f2' [exclusive-gateway-unconditioned]",)


@pytest.mark.parametrize("kind", ["exclusiveGateway", "inclusiveGateway"])
def test_decision_gateways_are_fine_with_a_default_or_a_single_unconditioned_flow(kind):
    xml = process(f"""<startEvent id="s"/><{kind} id="g" default="f2"/>
      <{kind} id="g2"/>
      <endEvent id="a"/><endEvent id="b"/><endEvent id="c"/><endEvent id="dd"/>
      <sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
      <sequenceFlow id="f1" sourceRef="g" targetRef="a"/>
      <sequenceFlow id="f2" sourceRef="g" targetRef="g2"/>
      <sequenceFlow id="f3" sourceRef="g2" targetRef="c"><conditionExpression>x</conditionExpression>
      </sequenceFlow>
      <sequenceFlow id="f4" sourceRef="g2" targetRef="dd"/>""")
    compile_bpmn(xml)


def test_inclusive_gateway_with_three_unconditioned_flows_is_a_warning():
    xml = process("""<startEvent id="s"/><inclusiveGateway id="ig"/>
      <endEvent id="a"/><endEvent id="b"/><endEvent id="c"/>
      <sequenceFlow id="f0" sourceRef="s" targetRef="ig"/>
      <sequenceFlow id="f1" sourceRef="ig" targetRef="a"/>
      <sequenceFlow id="f2" sourceRef="ig" targetRef="b"/>
      <sequenceFlow id="f3" sourceRef="ig" targetRef="c"/>""")
    [warning] = compile_bpmn(xml).warnings
    assert "3 outgoing flows without condition and no default flow; Baton always takes all " \
           "of them" in warning


def test_default_flow_that_is_not_an_outgoing_flow():
    xml = process("""<startEvent id="s"/><exclusiveGateway id="g" default="f0"/>
      <endEvent id="a"/>
      <sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
      <sequenceFlow id="f1" sourceRef="g" targetRef="a"/>""")
    assert_problem(only_problem(xml), xml, "g", "exclusiveGateway",
                   "default flow 'f0' is not an outgoing sequence flow of this element")


def test_event_based_gateway_must_lead_to_catch_events_or_receive_tasks():
    xml = definitions("""<message id="m" name="m"/>
      <process id="p" isExecutable="true"><startEvent id="s"/><eventBasedGateway id="eg"/>
      <intermediateCatchEvent id="wait_msg"><messageEventDefinition messageRef="m"/>
      </intermediateCatchEvent>
      <receiveTask id="recv"/>
      <userTask id="human"/>
      <sequenceFlow id="f0" sourceRef="s" targetRef="eg"/>
      <sequenceFlow id="f1" sourceRef="eg" targetRef="wait_msg"/>
      <sequenceFlow id="f2" sourceRef="eg" targetRef="recv"/>
      <sequenceFlow id="f3" sourceRef="eg" targetRef="human"/></process>""")
    assert_problem(only_problem(xml), xml, "eg", "eventBasedGateway",
                   "leads to userTask 'human'")


# --------------------------------------------------------------------------- starts


def test_a_process_that_can_never_start():
    xml = process("""<task id="a"/><task id="b"/>
      <sequenceFlow id="f1" sourceRef="a" targetRef="b"/>
      <sequenceFlow id="f2" sourceRef="b" targetRef="a"/>""")
    problem = only_problem(xml)
    assert (problem.element_id, problem.tag) == ("p", "process")
    assert "no start event and no node without incoming sequence flows" in problem.message


def test_a_subprocess_that_can_never_start():
    xml = process("""<startEvent id="s"/><subProcess id="sub">
      <task id="a"/><task id="b"/>
      <sequenceFlow id="f1" sourceRef="a" targetRef="b"/>
      <sequenceFlow id="f2" sourceRef="b" targetRef="a"/></subProcess>
      <sequenceFlow id="f0" sourceRef="s" targetRef="sub"/>""")
    assert_problem(only_problem(xml), xml, "sub", "subProcess", "can never start")


def test_a_subprocess_start_must_be_a_none_start():
    xml = definitions("""<message id="m"/><process id="p" isExecutable="true">
      <startEvent id="s"/><subProcess id="sub">
      <startEvent id="ms"><messageEventDefinition messageRef="m"/></startEvent></subProcess>
      <sequenceFlow id="f0" sourceRef="s" targetRef="sub"/></process>""")
    assert_problem(only_problem(xml), xml, "ms", "startEvent", "must be a none start event")


def test_event_subprocess_start_needs_a_trigger():
    xml = process("""<startEvent id="s"/><subProcess id="esp" triggeredByEvent="true">
      <startEvent id="plain"/></subProcess>""")
    assert_problem(only_problem(xml), xml, "plain", "startEvent", "needs a trigger")


def test_start_event_with_incoming_and_end_event_with_outgoing_flows():
    xml = process("""<startEvent id="s"/><endEvent id="e"/><task id="t"/>
      <sequenceFlow id="f1" sourceRef="s" targetRef="e"/>
      <sequenceFlow id="f2" sourceRef="e" targetRef="t"/>
      <sequenceFlow id="f3" sourceRef="t" targetRef="s"/>""")
    problems = {p.element_id: p for p in problems_of(xml)}
    assert "cannot have incoming sequence flows" in problems["s"].message
    assert "cannot have outgoing sequence flows" in problems["e"].message


# --------------------------------------------------------------------------- events


def test_boundary_event_with_unknown_or_missing_attached_to_ref():
    xml = process("""<startEvent id="s"/><task id="t"/><exclusiveGateway id="g"/>
      <boundaryEvent id="b1" attachedToRef="ghost"><timerEventDefinition><timeDuration>PT1M
      </timeDuration></timerEventDefinition></boundaryEvent>
      <boundaryEvent id="b2"><timerEventDefinition><timeDuration>PT1M</timeDuration>
      </timerEventDefinition></boundaryEvent>
      <boundaryEvent id="b3" attachedToRef="g"><timerEventDefinition><timeDuration>PT1M
      </timeDuration></timerEventDefinition></boundaryEvent>
      <sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
      <sequenceFlow id="f2" sourceRef="t" targetRef="g"/>""")
    problems = {p.element_id: p for p in problems_of(xml)}
    assert_problem(problems["b1"], xml, "b1", "boundaryEvent",
                   "attachedToRef 'ghost' does not name an activity")
    assert_problem(problems["b2"], xml, "b2", "boundaryEvent", "has no attachedToRef")
    assert_problem(problems["b3"], xml, "b3", "boundaryEvent", "names a exclusiveGateway")


def test_timer_without_definition_and_with_a_bad_duration():
    xml = process("""<startEvent id="s"/>
      <intermediateCatchEvent id="empty"><timerEventDefinition/></intermediateCatchEvent>
      <intermediateCatchEvent id="typo"><timerEventDefinition><timeDuration>PT5X</timeDuration>
      </timerEventDefinition></intermediateCatchEvent>
      <sequenceFlow id="f1" sourceRef="s" targetRef="empty"/>
      <sequenceFlow id="f2" sourceRef="empty" targetRef="typo"/>""")
    problems = {p.element_id: p for p in problems_of(xml)}
    assert_problem(problems["empty"], xml, "empty", "intermediateCatchEvent",
                   "the timer has no timeDate, timeDuration or timeCycle")
    assert_problem(problems["typo"], xml, "typo", "intermediateCatchEvent", "PT5X")


def test_undefined_message_signal_and_escalation_refs():
    xml = definitions("""<process id="p" isExecutable="true">
      <startEvent id="ms"><messageEventDefinition messageRef="nope"/></startEvent>
      <intermediateThrowEvent id="sig"><signalEventDefinition signalRef="ghost"/>
      </intermediateThrowEvent>
      <endEvent id="esc"><escalationEventDefinition escalationRef="x"/></endEvent>
      <receiveTask id="recv" messageRef="missing"/>
      <sequenceFlow id="f1" sourceRef="ms" targetRef="sig"/>
      <sequenceFlow id="f2" sourceRef="sig" targetRef="recv"/>
      <sequenceFlow id="f3" sourceRef="recv" targetRef="esc"/></process>""")
    problems = {p.element_id: p for p in problems_of(xml)}
    assert_problem(problems["ms"], xml, "ms", "startEvent",
                   "messageRef 'nope' does not name a message defined in this file")
    assert_problem(problems["sig"], xml, "sig", "intermediateThrowEvent",
                   "signalRef 'ghost' does not name a signal")
    assert_problem(problems["esc"], xml, "esc", "endEvent",
                   "escalationRef 'x' does not name an escalation")
    assert_problem(problems["recv"], xml, "recv", "receiveTask", "messageRef 'missing'")


def test_message_catch_without_message_ref():
    xml = process("""<startEvent id="s"/><intermediateCatchEvent id="c">
      <messageEventDefinition/></intermediateCatchEvent>
      <sequenceFlow id="f" sourceRef="s" targetRef="c"/>""")
    assert_problem(only_problem(xml), xml, "c", "intermediateCatchEvent", "has no messageRef")


def test_message_throw_without_message_ref_or_implementation():
    xml = process("""<startEvent id="s"/><intermediateThrowEvent id="send">
      <messageEventDefinition/></intermediateThrowEvent>
      <endEvent id="ext"><messageEventDefinition camunda:type="external" camunda:topic="t"/>
      </endEvent>
      <sequenceFlow id="f1" sourceRef="s" targetRef="send"/>
      <sequenceFlow id="f2" sourceRef="send" targetRef="ext"/>""")
    assert_problem(only_problem(xml), xml, "send", "intermediateThrowEvent",
                   "no messageRef and no implementation")


def test_error_and_escalation_catches_without_ref_are_catch_alls():
    xml = process("""<startEvent id="s"/><subProcess id="sub"><startEvent id="i"/></subProcess>
      <boundaryEvent id="b" attachedToRef="sub"><errorEventDefinition/></boundaryEvent>
      <boundaryEvent id="b2" attachedToRef="sub"><escalationEventDefinition/></boundaryEvent>
      <sequenceFlow id="f" sourceRef="s" targetRef="sub"/>""")
    graph = compile_bpmn(xml).processes["p"]
    assert graph.node("b").event.ref is None and graph.node("b2").event.ref is None


def test_link_throw_without_matching_catch():
    xml = process("""<startEvent id="s"/>
      <intermediateThrowEvent id="jump"><linkEventDefinition name="A"/></intermediateThrowEvent>
      <intermediateCatchEvent id="land"><linkEventDefinition name="B"/></intermediateCatchEvent>
      <endEvent id="e"/>
      <sequenceFlow id="f1" sourceRef="s" targetRef="jump"/>
      <sequenceFlow id="f2" sourceRef="land" targetRef="e"/>""")
    assert_problem(only_problem(xml), xml, "jump", "intermediateThrowEvent",
                   "no link catch event named 'A'")


def test_multiple_events_made_of_what_baton_cannot_combine_are_refused():
    # several definitions make a multiple event (tests/test_bpmn_events_compat.py); an error
    # definition cannot be one of the events a multiple boundary waits for
    xml = definitions("""<message id="m"/><error id="x" errorCode="X"/>
      <process id="p" isExecutable="true"><startEvent id="s"/><userTask id="t"/>
        <boundaryEvent id="multi" attachedToRef="t">
          <messageEventDefinition messageRef="m"/><errorEventDefinition errorRef="x"/>
        </boundaryEvent>
        <sequenceFlow id="f" sourceRef="s" targetRef="t"/></process>""")
    assert_problem(only_problem(xml), xml, "multi", "boundaryEvent",
                   "the multiple boundaryEvent has an error event definition")


def test_an_event_definition_the_element_cannot_have():
    xml = process("""<startEvent id="s"/><intermediateCatchEvent id="c">
      <terminateEventDefinition/></intermediateCatchEvent>
      <sequenceFlow id="f" sourceRef="s" targetRef="c"/>""")
    assert_problem(only_problem(xml), xml, "c", "intermediateCatchEvent",
                   "a terminate intermediateCatchEvent is not a valid BPMN event")


def test_compensation_boundary_without_handler():
    xml = process("""<startEvent id="s"/><task id="t"/>
      <boundaryEvent id="cb" attachedToRef="t"><compensateEventDefinition/></boundaryEvent>
      <sequenceFlow id="f" sourceRef="s" targetRef="t"/>""")
    assert_problem(only_problem(xml), xml, "cb", "boundaryEvent",
                   "no association to a compensation handler")


# --------------------------------------------------------------------------- activities


def test_call_activity_without_called_element():
    xml = process("""<startEvent id="s"/><callActivity id="call" calledElement=""/>
      <sequenceFlow id="f" sourceRef="s" targetRef="call"/>""")
    assert_problem(only_problem(xml), xml, "call", "callActivity", "has no calledElement")


@pytest.mark.parametrize("tag", ["callChoreography", "subChoreography", "choreographyTask",
                                 "futureTask"])
def test_elements_baton_cannot_execute(tag):
    xml = process(f"""<startEvent id="s"/><{tag} id="X"/>
      <sequenceFlow id="f" sourceRef="s" targetRef="X"/>""")
    problems = {p.element_id: p for p in problems_of(xml)}
    line = line_of(xml, 'id="X"')
    assert str(problems["X"]) == (f"{tag} 'X' (line {line}): Baton cannot execute this element "
                                  "[element-supported]")
    assert problems["X"].rule == "element-supported"


def test_flow_node_without_id():
    xml = process('<startEvent id="s"/>\n<userTask name="anonymous"/>')
    problem = only_problem(xml)
    assert (problem.element_id, problem.tag, problem.line) == (None, "userTask", 5)
    assert "has no id" in problem.message
    assert str(problem).startswith("userTask (line 5): ")


# --------------------------------------------------------------------------- expressions


def test_condition_that_does_not_compile():
    xml = process(START_END + """<sequenceFlow id="f1" sourceRef="s" targetRef="e">
      <conditionExpression>${amount &gt;}</conditionExpression></sequenceFlow>""")
    assert_problem(only_problem(xml), xml, "f1", "sequenceFlow",
                   "condition '${amount >}' does not compile")


def test_condition_in_an_unsupported_language_says_so():
    xml = process(START_END + """<sequenceFlow id="f1" sourceRef="s" targetRef="e">
      <conditionExpression language="http://www.w3.org/1999/XPath"
        >bpmn:getDataObject('x') = 1</conditionExpression></sequenceFlow>""")
    assert_problem(only_problem(xml), xml, "f1", "sequenceFlow",
                   "language 'http://www.w3.org/1999/XPath' is not supported")


def test_sandbox_refusals_become_problems_not_exceptions():
    xml = process("""<startEvent id="s"/>
      <scriptTask id="evil" scriptFormat="python"><script>import os</script></scriptTask>
      <userTask id="who" camunda:assignee="${__import__('os')}"/>
      <scriptTask id="groovy" scriptFormat="groovy"><script>def x = 1; println x</script>
      </scriptTask>
      <sequenceFlow id="f1" sourceRef="s" targetRef="evil"/>
      <sequenceFlow id="f2" sourceRef="evil" targetRef="who"/>
      <sequenceFlow id="f3" sourceRef="who" targetRef="groovy"/>""")
    problems = {p.element_id: p for p in problems_of(xml)}
    assert_problem(problems["evil"], xml, "evil", "scriptTask", "script does not compile")
    assert_problem(problems["who"], xml, "who", "userTask", "assignee", "does not compile")
    assert_problem(problems["groovy"], xml, "groovy", "scriptTask",
                   "scriptFormat 'groovy' is not supported")


def test_multi_instance_without_cardinality_or_collection():
    xml = process("""<startEvent id="s"/><task id="mi"><multiInstanceLoopCharacteristics/>
      </task><sequenceFlow id="f" sourceRef="s" targetRef="mi"/>""")
    assert_problem(only_problem(xml), xml, "mi", "task", "neither loopCardinality nor a collection")


def test_bad_baton_escalation_policies():
    xml = process("""<startEvent id="s"/><userTask id="u"><extensionElements>
        <baton:escalation after="4 hours" addGroups="x"/>
        <baton:escalation after="PT1H" when="sometimes" addGroups="x"/>
        <baton:escalation after="PT1H"/>
      </extensionElements></userTask><sequenceFlow id="f" sourceRef="s" targetRef="u"/>""")
    messages = [p.message for p in problems_of(xml)]
    assert len(messages) == 3
    assert "after='4 hours' is not an ISO 8601 duration" in messages[0]
    assert "when='sometimes' must be 'unclaimed' or 'overdue'" in messages[1]
    assert "does nothing" in messages[2]


def test_problems_inside_a_non_executable_pool_are_warnings():
    xml = definitions("""<process id="run" isExecutable="true"><startEvent id="s"/></process>
      <process id="doc" isExecutable="false"><task id="t"/><choreographyTask id="cx"/>
      <sequenceFlow id="f" sourceRef="t" targetRef="cx"/></process>""")
    result = compile_bpmn(xml)
    assert result.processes["doc"].executable is False
    assert any("choreographyTask 'cx'" in warning for warning in result.warnings)
