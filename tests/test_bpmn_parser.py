"""engine.bpmn: safe parsing and what each BPMN feature compiles into (engine.graph objects)."""

from __future__ import annotations

import pytest

from engine.bpmn import BpmnValidationError, Problem, compile_bpmn, parse_xml
from engine.bpmn.parser import MAX_BYTES

NAMESPACES = (
    'xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'xmlns:baton="http://baton.dev/schema/1.0" '
    'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
    'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
    'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)


def definitions(body: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<definitions {NAMESPACES} id="defs" '
            f'targetNamespace="http://baton.dev/test">\n{body}\n</definitions>\n')


def process(body: str, pid: str = "p", attrs: str = 'isExecutable="true"') -> str:
    return definitions(f'<process id="{pid}" {attrs}>\n{body}\n</process>')


def straight(*middle: str, kinds: str = "") -> str:
    """start -> each element of `middle` (given as XML with id t1, t2, ...) -> end."""
    ids = [f"t{i}" for i in range(1, len(middle) + 1)]
    chain = ["start", *ids, "end"]
    flows = "\n".join(f'<sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
                      for i, (a, b) in enumerate(zip(chain, chain[1:], strict=False)))
    return process('<startEvent id="start"/>\n' + "\n".join(middle) + '\n<endEvent id="end"/>\n'
                   + flows)


def line_of(xml: str, needle: str) -> int:
    return next(i for i, line in enumerate(xml.splitlines(), 1) if needle in line)


def refused(source: str | bytes) -> list[Problem]:
    with pytest.raises(BpmnValidationError) as info:
        compile_bpmn(source)
    return info.value.problems


def graph_of(xml: str, pid: str = "p"):
    return compile_bpmn(xml).processes[pid]


# --------------------------------------------------------------------------- safe parsing


def test_a_minimal_process_compiles_with_indexes_in_document_order():
    xml = straight('<userTask id="t1" name="Review"/>')
    graph = graph_of(xml)
    assert [n.id for n in graph.nodes] == ["start", "t1", "end"]
    assert [n.kind for n in graph.nodes] == ["startEvent", "userTask", "endEvent"]
    assert graph.start_nodes == (0,)
    assert graph.children == (0, 1, 2)
    review = graph.node("t1")
    assert review.name == "Review"
    assert review.line == line_of(xml, 'id="t1"')
    assert review.incoming == (0,) and review.outgoing == (1,)
    assert graph.flows[1].source == 1 and graph.flows[1].target == 2
    assert graph.flow_index == {"f0": 0, "f1": 1}
    assert graph.executable is True


def test_incoming_and_outgoing_come_from_sequence_flows_not_from_stale_children():
    xml = process("""
      <startEvent id="start"><outgoing>nonsense</outgoing></startEvent>
      <task id="a"><incoming>f_wrong</incoming><outgoing>f_wrong</outgoing></task>
      <sequenceFlow id="f1" sourceRef="start" targetRef="a"/>""")
    graph = graph_of(xml)
    assert graph.node("a").incoming == (0,)
    assert graph.node("a").outgoing == ()
    assert graph.node("start").outgoing == (0,)


@pytest.mark.parametrize("prefix", ["bpmn", "bpmn2", "semantic", "model"])
def test_the_bpmn_namespace_is_matched_by_uri_whatever_the_prefix(prefix):
    xml = f"""<?xml version="1.0"?>
<{prefix}:definitions xmlns:{prefix}="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:other="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <{prefix}:process id="p" isExecutable="true">
    <{prefix}:startEvent id="s"/>
    <other:endEvent id="e"/>
    <{prefix}:sequenceFlow id="f" sourceRef="s" targetRef="e"/>
  </{prefix}:process>
</{prefix}:definitions>"""
    graph = graph_of(xml)
    assert [n.kind for n in graph.nodes] == ["startEvent", "endEvent"]


def test_a_look_alike_element_in_another_namespace_is_ignored():
    xml = process("""
      <startEvent id="s"/>
      <x:userTask xmlns:x="http://example.com/not-bpmn" id="fake"/>
      <endEvent id="e"/>
      <sequenceFlow id="f" sourceRef="s" targetRef="e"/>""")
    assert [n.id for n in graph_of(xml).nodes] == ["s", "e"]


def test_iso_8859_1_encoded_bytes_are_read_with_their_declared_encoding():
    xml = straight('<userTask id="t1" name="Überprüfung €"/>').replace("UTF-8", "ISO-8859-15")
    data = xml.encode("iso-8859-15")
    assert "Überprüfung €".encode() not in data
    assert graph_of_bytes(data).node("t1").name == "Überprüfung €"


def graph_of_bytes(data: bytes):
    return compile_bpmn(data).processes["p"]


def test_xml_text_with_an_encoding_declaration_is_accepted_as_str():
    xml = straight('<task id="t1" name="Prüfen"/>').replace("UTF-8", "ISO-8859-1")
    assert compile_bpmn(xml).processes["p"].node("t1").name == "Prüfen"


def test_xml_text_may_start_with_a_byte_order_mark_or_blank_lines():
    xml = "\ufeff\n  " + straight('<task id="t1"/>').split("\n", 1)[1]
    assert compile_bpmn(xml).processes["p"].node("t1").kind == "task"


def test_a_path_is_read_and_its_name_used_in_problems(tmp_path):
    path = tmp_path / "broken.bpmn"
    path.write_text(process('<startEvent id="s"/><choreographyTask id="cx"/>'))
    with pytest.raises(BpmnValidationError) as info:
        compile_bpmn(path)
    assert info.value.problems[0].filename == "broken.bpmn"
    assert str(info.value).startswith("broken.bpmn: choreographyTask 'cx' (line ")
    ok = tmp_path / "ok.bpmn"
    ok.write_text(straight('<task id="t1"/>'))
    assert "p" in compile_bpmn(str(ok)).processes


def test_doctype_is_refused_outright():
    xml = straight('<task id="t1"/>').replace(
        '<definitions', '<!DOCTYPE definitions>\n<definitions', 1)
    [problem] = refused(xml)
    assert problem.line == 2
    assert "DOCTYPE" in problem.message and "refuses" in problem.message


def test_billion_laughs_is_refused_before_any_expansion():
    bomb = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p">
<startEvent id="s" name="&lol3;"/></process></definitions>"""
    [problem] = refused(bomb.encode())
    assert "DOCTYPE" in problem.message


def test_external_entity_xxe_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    xxe = f"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file://{secret}">]>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p">
<startEvent id="s" name="&xxe;"/></process></definitions>"""
    problems = refused(xxe)
    assert "TOPSECRET" not in str(problems[0])
    assert problems[0].line == 2


def test_a_doctype_in_utf16_is_refused_too():
    xml = ('<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE d>\n'
           '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"/>')
    [problem] = refused(xml.encode("utf-16"))
    assert "DOCTYPE" in problem.message


def test_files_over_10_mib_are_refused_with_a_clear_message(tmp_path):
    padding = "<!--" + "x" * (MAX_BYTES + 10) + "-->"
    data = straight('<task id="t1"/>').replace("</definitions>", padding + "</definitions>")
    [problem] = refused(data.encode())
    assert "MiB" in problem.message and "10 MiB" in problem.message
    path = tmp_path / "huge.bpmn"
    path.write_bytes(data.encode())
    [problem] = refused(path)
    assert "10 MiB" in problem.message


def test_malformed_xml_gives_one_problem_with_lxml_line():
    xml = '<?xml version="1.0"?>\n<definitions xmlns="x">\n<process id="p">\n</definitions>'
    [problem] = refused(xml)
    assert problem.line == 4
    assert "not well-formed" in problem.message
    assert "(line 4)" in str(problem)


def test_parse_xml_is_the_safe_parser_and_returns_the_root():
    root = parse_xml(b'<a xmlns="urn:x"><b/></a>')
    assert root.tag == "{urn:x}a"
    with pytest.raises(BpmnValidationError, match="contains a DOCTYPE declaration"):
        parse_xml(b'<!DOCTYPE a><a/>')


def test_a_non_bpmn_document_is_refused():
    [problem] = refused('<definitions xmlns="urn:not-bpmn"/>')
    assert "not BPMN 2.0" in problem.message


def test_problem_str_formats():
    assert str(Problem("Gateway_1", "exclusiveGateway", 42, "bad")) == \
        "exclusiveGateway 'Gateway_1' (line 42): bad"
    assert str(Problem(None, None, 3, "oops", "f.bpmn")) == "f.bpmn: (line 3): oops"
    assert str(Problem(None, None, None, "plain")) == "plain"
    error = BpmnValidationError([Problem("a", "task", 1, "x"), Problem("b", "task", 2, "y")])
    assert str(error).splitlines() == ["task 'a' (line 1): x", "task 'b' (line 2): y"]
    assert isinstance(error, ValueError)


# --------------------------------------------------------------------------- definitions


def test_several_processes_collaboration_names_and_non_executable_pools():
    xml = definitions("""
      <collaboration id="c">
        <participant id="pa" name="Claims dept" processRef="claims"/>
        <participant id="pb" name="Customer" processRef="customer"/>
      </collaboration>
      <process id="claims" isExecutable="true">
        <startEvent id="s1"/><endEvent id="e1"/>
        <sequenceFlow id="f1" sourceRef="s1" targetRef="e1"/>
      </process>
      <process id="customer" isExecutable="false">
        <task id="t"/>
        <exclusiveGateway id="g"/>
        <sequenceFlow id="f2" sourceRef="t" targetRef="g"/>
        <sequenceFlow id="f3" sourceRef="g" targetRef="t"/>
        <sequenceFlow id="f4" sourceRef="g" targetRef="t"/>
      </process>
      <process id="empty_pool"/>""")
    result = compile_bpmn(xml)
    assert set(result.processes) == {"claims", "customer"}
    assert result.processes["claims"].name == "Claims dept"
    assert result.processes["customer"].executable is False
    assert result.target_namespace == "http://baton.dev/test"
    # problems in a documentation-only pool are warnings, not refusals
    assert any("exclusiveGateway 'g'" in w and "without condition" in w for w in result.warnings)


def test_root_definitions_resolve_to_names_and_codes():
    xml = definitions("""
      <message id="m1" name="order placed"/>
      <message id="m2"/>
      <signal id="s1" name="alert"/>
      <error id="e1" name="Broken" errorCode="E42"/>
      <error id="e2" name="NoCode"/>
      <error id="e3"/>
      <escalation id="x1" escalationCode="late"/>
      <process id="p"><startEvent id="s"/></process>""")
    result = compile_bpmn(xml)
    assert result.messages == {"m1": "order placed", "m2": "m2"}
    assert result.signals == {"s1": "alert"}
    assert result.errors == {"e1": "E42", "e2": "NoCode", "e3": "e3"}
    assert result.escalations == {"x1": "late"}


def test_lanes_map_nodes_to_the_innermost_lane_and_reach_user_tasks():
    xml = process("""
      <laneSet id="ls">
        <lane id="l1" name="Sales">
          <flowNodeRef>s</flowNodeRef>
          <childLaneSet id="cls"><lane id="l2" name="Sales managers">
            <flowNodeRef>t1</flowNodeRef></lane></childLaneSet>
        </lane>
        <lane id="l3"><flowNodeRef>e</flowNodeRef></lane>
      </laneSet>
      <startEvent id="s"/><userTask id="t1"/><endEvent id="e"/>
      <sequenceFlow id="f1" sourceRef="s" targetRef="t1"/>
      <sequenceFlow id="f2" sourceRef="t1" targetRef="e"/>""")
    graph = graph_of(xml)
    assert graph.lanes == {"s": "Sales", "t1": "Sales managers", "e": "l3"}
    assert graph.node("t1").user_task.lane == "Sales managers"


def test_artifacts_data_and_unknown_vendor_extensions_are_accepted_and_ignored():
    xml = process("""
      <extensionElements><acme:stuff xmlns:acme="urn:acme"><acme:x/></acme:stuff>
      </extensionElements>
      <dataObject id="do1"/><dataObjectReference id="dor1" dataObjectRef="do1"/>
      <dataStoreReference id="ds1"/>
      <textAnnotation id="ta"><text>note</text></textAnnotation>
      <association id="as" sourceRef="ta" targetRef="t1"/>
      <group id="grp"/>
      <startEvent id="s"/>
      <task id="t1" acme:color="red" xmlns:acme="urn:acme">
        <dataOutputAssociation id="doa"><targetRef>dor1</targetRef></dataOutputAssociation>
      </task>
      <sequenceFlow id="f1" sourceRef="s" targetRef="t1"/>""")
    assert [n.id for n in graph_of(xml).nodes] == ["s", "t1"]


def test_documentation_and_camunda_properties_go_to_ext():
    xml = straight("""<serviceTask id="t1" camunda:type="external" camunda:topic="x">
        <documentation>Calls the
 pricing API</documentation>
        <extensionElements><camunda:properties>
          <camunda:property name="color" value="blue"/>
        </camunda:properties></extensionElements></serviceTask>""")
    node = graph_of(xml).node("t1")
    assert node.ext["documentation"] == "Calls the\n pricing API"
    assert node.ext["properties"] == {"color": "blue"}


def test_process_level_ext_keeps_camunda_process_attributes():
    xml = process('<startEvent id="s"/>', attrs='isExecutable="true" camunda:versionTag="v3" '
                  'camunda:candidateStarterGroups="sales"')
    assert dict(graph_of(xml).ext) == {"versionTag": "v3", "candidateStarterGroups": "sales"}


def test_a_process_without_is_executable_counts_as_executable():
    xml = process('<startEvent id="s"/>', attrs="")
    assert graph_of(xml).executable is True


def test_sequence_flows_without_id_get_a_synthetic_id_and_a_warning():
    xml = process("""<startEvent id="s"/><endEvent id="e"/>
      <sequenceFlow sourceRef="s" targetRef="e"/><sequenceFlow sourceRef="s" targetRef="e"/>""")
    result = compile_bpmn(xml)
    graph = result.processes["p"]
    assert [f.id for f in graph.flows] == ["flow:s->e", "flow:s->e#2"]
    assert any("has no id" in w for w in result.warnings)


# --------------------------------------------------------------------------- events


def test_none_events_and_a_timer_start():
    xml = process("""
      <startEvent id="s"/>
      <startEvent id="ts"><timerEventDefinition><timeCycle>R3/PT10M</timeCycle>
      </timerEventDefinition></startEvent>
      <endEvent id="e"/>
      <sequenceFlow id="f1" sourceRef="s" targetRef="e"/>
      <sequenceFlow id="f2" sourceRef="ts" targetRef="e"/>""")
    graph = graph_of(xml)
    assert graph.node("s").event.type == "none"
    timer = graph.node("ts").event
    assert (timer.type, timer.timer_kind, timer.timer_text, timer.timer_expr) == (
        "timer", "timeCycle", "R3/PT10M", None)
    assert graph.timer_starts == (1,)
    assert graph.start_nodes == (0,)


@pytest.mark.parametrize("text", ["${dueDate}", "#{later}", "= due_date", "due_time"])
def test_timer_expressions_are_compiled(text):
    xml = process(f"""<startEvent id="s"/>
      <intermediateCatchEvent id="w"><timerEventDefinition>
        <timeDate xsi:type="tFormalExpression">{text}</timeDate>
      </timerEventDefinition></intermediateCatchEvent>
      <sequenceFlow id="f" sourceRef="s" targetRef="w"/>""")
    event = graph_of(xml).node("w").event
    assert event.timer_kind == "timeDate" and event.timer_text == text
    assert event.timer_expr is not None


def test_message_signal_error_escalation_refs_resolve_to_names():
    xml = definitions("""
      <message id="m1" name="paid"/><signal id="sg" name="alarm"/>
      <error id="er" errorCode="E1"/><escalation id="es" escalationCode="late"/>
      <process id="p" isExecutable="true">
        <startEvent id="ms"><messageEventDefinition messageRef="m1"/></startEvent>
        <startEvent id="ss"><signalEventDefinition signalRef="sg"/></startEvent>
        <subProcess id="sub">
          <startEvent id="in"/>
          <endEvent id="err"><errorEventDefinition errorRef="er"/></endEvent>
          <sequenceFlow id="f0" sourceRef="in" targetRef="err"/>
        </subProcess>
        <boundaryEvent id="catch_all" attachedToRef="sub"><errorEventDefinition
          camunda:errorCodeVariable="code" camunda:errorMessageVariable="msg"/></boundaryEvent>
        <boundaryEvent id="esc" attachedToRef="sub" cancelActivity="false">
          <escalationEventDefinition escalationRef="es"/></boundaryEvent>
        <endEvent id="e"/>
        <sequenceFlow id="f1" sourceRef="ms" targetRef="sub"/>
        <sequenceFlow id="f2" sourceRef="ss" targetRef="sub"/>
        <sequenceFlow id="f3" sourceRef="sub" targetRef="e"/>
        <sequenceFlow id="f4" sourceRef="catch_all" targetRef="e"/>
        <sequenceFlow id="f5" sourceRef="esc" targetRef="e"/>
      </process>""")
    graph = graph_of(xml)
    assert graph.message_starts == {"paid": graph.index["ms"]}
    assert graph.signal_starts == {"alarm": graph.index["ss"]}
    assert graph.start_nodes == ()
    assert graph.node("err").event.ref == "E1"
    catch_all = graph.node("catch_all")
    assert catch_all.event.ref is None
    assert catch_all.event.error_code_variable == "code"
    assert catch_all.event.error_message_variable == "msg"
    assert catch_all.interrupting is True
    assert catch_all.attached_to == graph.index["sub"]
    esc = graph.node("esc")
    assert (esc.event.type, esc.event.ref, esc.interrupting) == ("escalation", "late", False)
    sub = graph.node("sub")
    assert sub.boundaries == (graph.index["catch_all"], graph.index["esc"])
    assert sub.children == (graph.index["in"], graph.index["err"])
    assert sub.start_nodes == (graph.index["in"],)
    assert graph.node("in").scope == graph.index["sub"]
    assert graph.node("catch_all").scope is None


def test_an_error_ref_naming_no_error_is_used_as_the_code_like_camunda_7():
    xml = process("""<startEvent id="s"/><endEvent id="e"><errorEventDefinition
      errorRef="myError"/></endEvent><sequenceFlow id="f" sourceRef="s" targetRef="e"/>""")
    result = compile_bpmn(xml)
    assert result.processes["p"].node("e").event.ref == "myError"
    assert any("errorRef 'myError'" in w for w in result.warnings)


def test_message_names_with_expressions_get_a_ref_expr_and_zeebe_correlation_key():
    xml = definitions("""
      <message id="m" name="${kind}">
        <extensionElements><zeebe:subscription correlationKey="= orderId"/></extensionElements>
      </message>
      <process id="p" isExecutable="true"><startEvent id="s"/>
        <intermediateCatchEvent id="c"><messageEventDefinition messageRef="m"/>
        </intermediateCatchEvent>
        <sequenceFlow id="f" sourceRef="s" targetRef="c"/></process>""")
    event = graph_of(xml).node("c").event
    assert event.ref == "${kind}"
    assert event.ref_expr.evaluate({"kind": "paid"}) == "paid"
    assert event.correlation_key.evaluate({"orderId": 7}) == 7


def test_conditional_link_compensate_terminate_and_cancel_definitions():
    xml = definitions("""
      <process id="p" isExecutable="true">
        <startEvent id="s"/>
        <intermediateCatchEvent id="cond"><conditionalEventDefinition>
          <condition xsi:type="tFormalExpression">${amount &gt; 10}</condition>
        </conditionalEventDefinition></intermediateCatchEvent>
        <intermediateThrowEvent id="go"><linkEventDefinition name="L"/></intermediateThrowEvent>
        <intermediateCatchEvent id="land"><linkEventDefinition name="L"/>
        </intermediateCatchEvent>
        <task id="book"/>
        <boundaryEvent id="cb" attachedToRef="book"><compensateEventDefinition/></boundaryEvent>
        <task id="undo" isForCompensation="true"/>
        <association id="a" sourceRef="cb" targetRef="undo" associationDirection="One"/>
        <intermediateThrowEvent id="comp"><compensateEventDefinition activityRef="book"
           waitForCompletion="false"/></intermediateThrowEvent>
        <endEvent id="t"><terminateEventDefinition/></endEvent>
        <sequenceFlow id="f1" sourceRef="s" targetRef="cond"/>
        <sequenceFlow id="f2" sourceRef="cond" targetRef="go"/>
        <sequenceFlow id="f3" sourceRef="land" targetRef="book"/>
        <sequenceFlow id="f4" sourceRef="book" targetRef="comp"/>
        <sequenceFlow id="f5" sourceRef="comp" targetRef="t"/>
      </process>""")
    graph = graph_of(xml)
    condition = graph.node("cond").event.condition
    assert condition.evaluate({"amount": 11}) is True
    assert condition.evaluate({"amount": 9}) is False
    assert graph.node("go").event.ref == "L" and graph.node("land").event.ref == "L"
    comp = graph.node("comp").event
    assert (comp.type, comp.ref, comp.wait_for_completion) == ("compensate", "book", False)
    assert graph.node("book").compensation_handler == graph.index["undo"]
    assert graph.node("undo").is_for_compensation is True
    assert graph.node("t").event.type == "terminate"
    # the link catch and the compensation handler are not implicit starts
    assert graph.start_nodes == (0,)


def test_event_subprocess_with_interrupting_and_non_interrupting_starts():
    xml = definitions("""
      <message id="m" name="cancel"/>
      <process id="p" isExecutable="true">
        <startEvent id="s"/><userTask id="work"/><endEvent id="e"/>
        <sequenceFlow id="f1" sourceRef="s" targetRef="work"/>
        <sequenceFlow id="f2" sourceRef="work" targetRef="e"/>
        <subProcess id="on_cancel" triggeredByEvent="true">
          <startEvent id="cs"><messageEventDefinition messageRef="m"/></startEvent>
          <endEvent id="ce"/>
          <sequenceFlow id="f3" sourceRef="cs" targetRef="ce"/>
        </subProcess>
        <subProcess id="on_timer" triggeredByEvent="true">
          <startEvent id="ts" isInterrupting="false"><timerEventDefinition>
            <timeDuration>PT1H</timeDuration></timerEventDefinition></startEvent>
          <endEvent id="te"/>
          <sequenceFlow id="f4" sourceRef="ts" targetRef="te"/>
        </subProcess>
      </process>""")
    graph = graph_of(xml)
    assert graph.node("on_cancel").kind == "eventSubProcess"
    assert graph.event_subprocesses == (graph.index["on_cancel"], graph.index["on_timer"])
    assert graph.node("on_cancel").event_starts == (graph.index["cs"],)
    assert graph.node("cs").interrupting is True
    assert graph.node("ts").interrupting is False
    # event subprocess starts are not process-level starts
    assert graph.message_starts == {} and graph.timer_starts == ()
    assert graph.start_nodes == (graph.index["s"],)


def test_transaction_compiles_as_a_subprocess_marked_in_ext():
    xml = straight("""<transaction id="t1"><startEvent id="ts"/><endEvent id="te">
      <cancelEventDefinition/></endEvent>
      <sequenceFlow id="tf" sourceRef="ts" targetRef="te"/></transaction>""")
    node = graph_of(xml).node("t1")
    assert node.kind == "subProcess" and node.ext["transaction"] is True
    assert graph_of(xml).node("te").event.type == "cancel"


def test_a_subprocess_without_start_event_starts_at_its_source_less_nodes():
    xml = straight("""<subProcess id="t1"><task id="a"/><task id="b"/><task id="c"/>
      <sequenceFlow id="x" sourceRef="a" targetRef="c"/></subProcess>""")
    graph = graph_of(xml)
    assert graph.node("t1").start_nodes == (graph.index["a"], graph.index["b"])


def test_a_process_without_start_event_starts_at_its_source_less_nodes():
    xml = process("""<task id="a"/><task id="b"/><sequenceFlow id="f" sourceRef="a"
      targetRef="b"/>""")
    assert graph_of(xml).start_nodes == (0,)


# --------------------------------------------------------------------------- gateways


def test_default_flow_and_conditions_on_an_exclusive_gateway():
    xml = process("""
      <startEvent id="s"/>
      <exclusiveGateway id="g" default="f_no"/>
      <endEvent id="yes"/><endEvent id="no"/>
      <sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
      <sequenceFlow id="f_yes" name="big" sourceRef="g" targetRef="yes">
        <conditionExpression xsi:type="tFormalExpression">${amount &gt; 1000}</conditionExpression>
      </sequenceFlow>
      <sequenceFlow id="f_no" sourceRef="g" targetRef="no"/>""")
    graph = graph_of(xml)
    gateway = graph.node("g")
    assert gateway.default_flow == graph.flow_index["f_no"]
    big = graph.flows[graph.flow_index["f_yes"]]
    assert big.name == "big"
    assert big.condition.evaluate({"amount": 2000}) is True
    assert big.line == line_of(xml, 'id="f_yes"')


@pytest.mark.parametrize("condition, language", [
    ("${x == 1}", None), ("x == 1", "groovy"), ("variable == 1", "javascript"),
    ("= x = 1", None), ("x == 1", "python"),
])
def test_conditions_in_several_languages_compile(condition, language):
    lang = f' language="{language}"' if language else ""
    xml = process(f"""<startEvent id="s"/><endEvent id="e"/>
      <sequenceFlow id="f" sourceRef="s" targetRef="e">
        <conditionExpression{lang}>{condition}</conditionExpression></sequenceFlow>""")
    assert graph_of(xml).flows[0].condition.evaluate({"x": 1, "variable": 1}) is True


def test_inclusive_join_upstream_set():
    xml = process("""
      <startEvent id="s"/>
      <inclusiveGateway id="split"/>
      <task id="a"/><task id="b"/><userTask id="c"/>
      <boundaryEvent id="late" attachedToRef="c"><timerEventDefinition>
        <timeDuration>PT1H</timeDuration></timerEventDefinition></boundaryEvent>
      <task id="after_late"/>
      <inclusiveGateway id="join"/>
      <task id="after"/><endEvent id="e"/><endEvent id="c_end"/>
      <sequenceFlow id="f0" sourceRef="s" targetRef="split"/>
      <sequenceFlow id="f1" sourceRef="split" targetRef="a"><conditionExpression>x</conditionExpression></sequenceFlow>
      <sequenceFlow id="f2" sourceRef="split" targetRef="b"><conditionExpression>y</conditionExpression></sequenceFlow>
      <sequenceFlow id="f3" sourceRef="split" targetRef="c"><conditionExpression>z</conditionExpression></sequenceFlow>
      <sequenceFlow id="f4" sourceRef="a" targetRef="join"/>
      <sequenceFlow id="f5" sourceRef="b" targetRef="join"/>
      <sequenceFlow id="f6" sourceRef="c" targetRef="c_end"/>
      <sequenceFlow id="f7" sourceRef="late" targetRef="after_late"/>
      <sequenceFlow id="f8" sourceRef="after_late" targetRef="join"/>
      <sequenceFlow id="f9" sourceRef="join" targetRef="after"/>
      <sequenceFlow id="f10" sourceRef="after" targetRef="join"/>
      <sequenceFlow id="f11" sourceRef="after" targetRef="e"/>""")
    graph = graph_of(xml)
    upstream = {graph.nodes[i].id for i in graph.node("join").join_upstream}
    # `after` loops back into the join, so a token there may still arrive; `e` and `c_end`
    # are only reachable through the join or not at all: not upstream. The activity `c`
    # counts through its boundary event.
    assert upstream == {"s", "split", "a", "b", "late", "c", "after_late", "after"}
    assert graph.index["join"] not in graph.node("join").join_upstream
    assert graph.node("split").join_upstream == frozenset()


# --------------------------------------------------------------------------- tasks


def test_script_task_with_result_variable_and_spiff_pre_post_scripts():
    xml = straight("""<scriptTask id="t1" scriptFormat="python" camunda:resultVariable="r">
      <extensionElements>
        <spiffworkflow:preScript>a = 1</spiffworkflow:preScript>
        <spiffworkflow:postScript>b = a + 1</spiffworkflow:postScript>
      </extensionElements>
      <script><![CDATA[
        total = 0
        for i in range(3):
            total += i
      ]]></script></scriptTask>""")
    node = graph_of(xml).node("t1")
    assert node.script_format == "python" and node.result_variable == "r"
    assert node.script.run({}) == {"total": 3, "i": 2}
    assert node.pre_script.run({}) == {"a": 1}
    assert node.post_script.run({"a": 1}) == {"b": 2}


def test_a_juel_script_becomes_an_action_with_a_value():
    xml = straight('<scriptTask id="t1" scriptFormat="juel" camunda:resultVariable="r">'
                   '<script>#{echo}</script></scriptTask>')
    node = graph_of(xml).node("t1")
    assert node.expression is None
    outcome = node.script.perform({"echo": "hi"})
    assert (outcome.value, outcome.variables) == ("hi", {})


@pytest.mark.parametrize("attrs, task_type, topic", [
    ('camunda:type="external" camunda:topic="invoices"', "external", "invoices"),
    ('camunda:delegateExpression="${fraudScore}"', "delegate", "fraudScore"),
    ('camunda:class="com.acme.Pay"', "delegate", "com.acme.Pay"),
    ('camunda:type="external" camunda:topic="t" camunda:taskPriority="7"', "external", "t"),
    ('baton:connector="http"', "connector", "http"),
    ('activiti:type="external" activiti:topic="legacy" '
     'xmlns:activiti="http://activiti.org/bpmn"', "external", "legacy"),
])
def test_service_task_implementations(attrs, task_type, topic):
    node = graph_of(straight(f'<serviceTask id="t1" {attrs}/>')).node("t1")
    assert (node.task_type, node.topic) == (task_type, topic)
    assert node.ext.get("priority") == (7 if "taskPriority" in attrs else None)


def test_service_task_expression_and_vendor_extension_elements():
    xml = straight(
        '<serviceTask id="t1" camunda:expression="${a + 1}" camunda:resultVariable="b"/>',
        """<serviceTask id="t2"><extensionElements>
             <zeebe:taskDefinition type="payment-service" retries="3"/>
             <zeebe:taskHeaders><zeebe:header key="k" value="v"/></zeebe:taskHeaders>
           </extensionElements></serviceTask>""",
        """<serviceTask id="t3"><extensionElements>
             <spiffworkflow:serviceTaskOperator id="http/GetRequest"/>
           </extensionElements></serviceTask>""",
        """<serviceTask id="t4"><extensionElements><camunda:connector>
             <camunda:connectorId>http-connector</camunda:connectorId>
           </camunda:connector></extensionElements></serviceTask>""")
    graph = graph_of(xml)
    t1 = graph.node("t1")
    assert (t1.task_type, t1.result_variable) == ("expression", "b")
    assert t1.expression.evaluate({"a": 1}) == 2
    assert (graph.node("t2").task_type, graph.node("t2").topic) == ("external", "payment-service")
    assert graph.node("t2").ext["headers"] == {"k": "v"}
    assert (graph.node("t3").task_type, graph.node("t3").topic) == ("connector", "http/GetRequest")
    assert (graph.node("t4").task_type, graph.node("t4").topic) == ("connector", "http-connector")


def test_camunda_external_message_end_event():
    xml = process("""<startEvent id="s"/><endEvent id="e"><messageEventDefinition
      camunda:type="external" camunda:topic="notify"/></endEvent>
      <sequenceFlow id="f" sourceRef="s" targetRef="e"/>""")
    node = graph_of(xml).node("e")
    assert (node.event.type, node.task_type, node.topic) == ("message", "external", "notify")


def test_send_and_receive_tasks_resolve_message_refs():
    xml = definitions("""<message id="m" name="invoice"/>
      <process id="p" isExecutable="true"><startEvent id="s"/>
        <sendTask id="send" messageRef="m"/><receiveTask id="recv" messageRef="m"/>
        <receiveTask id="plain_wait"/>
        <sequenceFlow id="f1" sourceRef="s" targetRef="send"/>
        <sequenceFlow id="f2" sourceRef="send" targetRef="recv"/>
        <sequenceFlow id="f3" sourceRef="recv" targetRef="plain_wait"/></process>""")
    graph = graph_of(xml)
    assert graph.node("send").message_ref == "invoice"
    assert graph.node("recv").message_ref == "invoice"
    assert graph.node("plain_wait").message_ref is None


def test_user_task_camunda_attributes_are_templates_literal_unless_marked():
    xml = straight("""<userTask id="t1" camunda:assignee="demo"
        camunda:candidateUsers="kermit_${n}" camunda:candidateGroups="sales, management"
        camunda:dueDate="${due}" camunda:followUpDate="P2D" camunda:priority="80"
        camunda:formKey="embedded:app:forms/claim.html"/>""")
    spec = graph_of(xml).node("t1").user_task
    assert spec.assignee.evaluate({}) == "demo"
    assert spec.candidate_users.evaluate({"n": 3}) == "kermit_3"
    assert spec.candidate_groups.evaluate({}) == "sales, management"
    assert spec.due_date.evaluate({"due": "2026-02-01"}) == "2026-02-01"
    assert spec.follow_up_date.evaluate({}) == "P2D"
    assert spec.priority.evaluate({}) == "80"
    assert spec.form_key == "embedded:app:forms/claim.html"
    assert spec.lane is None


def test_user_task_form_fields():
    xml = straight("""<userTask id="t1"><extensionElements><camunda:formData>
        <camunda:formField id="amount" label="Amount" type="long" defaultValue="10">
          <camunda:validation>
            <camunda:constraint name="required"/>
            <camunda:constraint name="min" config="1"/>
            <camunda:constraint name="maxlength" config="25"/>
            <camunda:constraint name="pattern" config="[0-9]+"/>
          </camunda:validation>
        </camunda:formField>
        <camunda:formField id="kind" type="enum" defaultValue="${defaultKind}">
          <camunda:value id="car" name="Car"/><camunda:value id="home" name="Home"/>
        </camunda:formField>
        <camunda:formField id="ok" type="boolean">
          <camunda:validation><camunda:constraint name="readonly"/></camunda:validation>
        </camunda:formField>
      </camunda:formData></extensionElements></userTask>""")
    amount, kind, ok = graph_of(xml).node("t1").user_task.form_fields
    assert (amount.id, amount.label, amount.type, amount.default) == ("amount", "Amount",
                                                                     "long", "10")
    assert amount.required is True and amount.readonly is False
    assert dict(amount.constraints) == {"min": 1, "maxlength": 25, "pattern": "[0-9]+"}
    assert kind.enum_values == (("car", "Car"), ("home", "Home"))
    assert kind.default is None and kind.default_expr.evaluate({"defaultKind": "car"}) == "car"
    assert ok.readonly is True and ok.type == "boolean"


def test_potential_owner_and_human_performer_like_camunda():
    xml = straight(
        """<userTask id="t1"><potentialOwner><resourceAssignmentExpression>
             <formalExpression>user(kermit), group(management), accountancy</formalExpression>
           </resourceAssignmentExpression></potentialOwner></userTask>""",
        """<userTask id="t2"><humanPerformer><resourceAssignmentExpression>
             <formalExpression>fozzie</formalExpression>
           </resourceAssignmentExpression></humanPerformer></userTask>""")
    graph = graph_of(xml)
    spec = graph.node("t1").user_task
    assert spec.candidate_users.evaluate({}) == "kermit"
    assert spec.candidate_groups.evaluate({}) == "management, accountancy"
    assert graph.node("t2").user_task.assignee.evaluate({}) == "fozzie"


def test_zeebe_user_task_extensions():
    xml = straight("""<userTask id="t1"><extensionElements>
        <zeebe:assignmentDefinition assignee="= owner" candidateGroups="ops"/>
        <zeebe:formDefinition formKey="camunda-forms:bpmn:Form_1"/>
        <zeebe:taskSchedule dueDate="= due" followUpDate="2026-01-02T10:00:00Z"/>
      </extensionElements></userTask>""")
    spec = graph_of(xml).node("t1").user_task
    assert spec.assignee.evaluate({"owner": "ann"}) == "ann"
    assert spec.candidate_groups.evaluate({}) == "ops"
    assert spec.form_key == "camunda-forms:bpmn:Form_1"
    assert spec.due_date.evaluate({"due": "x"}) == "x"
    assert spec.follow_up_date.evaluate({}) == "2026-01-02T10:00:00Z"


def test_timeout_task_listener_and_baton_escalation_policies():
    xml = straight("""<userTask id="t1"><extensionElements>
        <camunda:taskListener event="timeout" id="remind" class="x">
          <timerEventDefinition><timeDuration>PT1H</timeDuration></timerEventDefinition>
        </camunda:taskListener>
        <camunda:taskListener event="create" expression="${x}"/>
        <baton:escalation after="PT4H" when="unclaimed" addGroups="leads, managers"
                          priority="80"/>
        <baton:escalation after="P2D" when="overdue" reassignUser="boss"
                          reassignGroup="escalations"/>
      </extensionElements></userTask>""")
    spec = graph_of(xml).node("t1").user_task
    assert spec.timeout_listeners == (("remind", "timeDuration", "PT1H"),)
    first, second = spec.escalations
    assert (first.after, first.when, first.add_groups, first.priority) == (
        "PT4H", "unclaimed", ("leads", "managers"), 80)
    assert (second.after, second.when, second.reassign_user, second.reassign_group) == (
        "P2D", "overdue", "boss", "escalations")


def test_async_flags_and_retry_cycle():
    xml = straight(
        """<serviceTask id="t1" camunda:asyncBefore="true" camunda:asyncAfter="true"
             camunda:type="external" camunda:topic="x"><extensionElements>
             <camunda:failedJobRetryTimeCycle>R5/PT5M</camunda:failedJobRetryTimeCycle>
           </extensionElements></serviceTask>""",
        '<task id="t2" camunda:async="true"/>')
    graph = graph_of(xml)
    t1 = graph.node("t1")
    assert (t1.async_before, t1.async_after, t1.retry_cycle) == (True, True, "R5/PT5M")
    assert graph.node("t2").async_before is True
    assert graph.node("start").async_before is False


def test_camunda_input_output_parameters():
    xml = straight("""<task id="t1"><extensionElements><camunda:inputOutput>
        <camunda:inputParameter name="plain">hello</camunda:inputParameter>
        <camunda:inputParameter name="computed">${a * 2}</camunda:inputParameter>
        <camunda:inputParameter name="empty"/>
        <camunda:inputParameter name="items"><camunda:list>
          <camunda:value>one</camunda:value><camunda:value>two</camunda:value>
        </camunda:list></camunda:inputParameter>
        <camunda:inputParameter name="table"><camunda:map>
          <camunda:entry key="k">v</camunda:entry></camunda:map></camunda:inputParameter>
        <camunda:outputParameter name="result">${computed + 1}</camunda:outputParameter>
      </camunda:inputOutput></extensionElements></task>""")
    node = graph_of(xml).node("t1")
    params = {p.name: p for p in node.inputs}
    assert params["plain"].value == "hello" and params["plain"].expr is None
    assert params["computed"].expr.evaluate({"a": 4}) == 8
    assert params["empty"].value is None
    assert params["items"].value == ["one", "two"]
    assert params["table"].value == {"k": "v"}
    assert all(p.local for p in node.inputs)
    [out] = node.outputs
    assert out.name == "result" and out.expr.evaluate({"computed": 1}) == 2


def test_zeebe_io_mapping():
    xml = straight("""<serviceTask id="t1"><extensionElements>
      <zeebe:taskDefinition type="t"/>
      <zeebe:ioMapping><zeebe:input source="= order.id" target="orderId"/>
        <zeebe:output source="= result" target="outcome"/></zeebe:ioMapping>
      </extensionElements></serviceTask>""")
    node = graph_of(xml).node("t1")
    assert node.inputs[0].name == "orderId"
    assert node.inputs[0].expr.evaluate({"order": {"id": 5}}) == 5
    assert node.outputs[0].name == "outcome"


def test_call_activity_camunda_mappings():
    xml = straight("""<callActivity id="t1" calledElement="child">
      <extensionElements>
        <camunda:in businessKey="#{key}"/>
        <camunda:in source="a" target="b"/>
        <camunda:in sourceExpression="${x + 5}" target="y" local="true"/>
        <camunda:in variables="all"/>
        <camunda:out source="res" target="result"/>
      </extensionElements></callActivity>""",
                   '<callActivity id="t2" calledElement="${which}"/>')
    graph = graph_of(xml)
    node = graph.node("t1")
    assert node.called_element == "child" and node.called_element_expr is None
    assert node.business_key_expr.evaluate({"key": "K1"}) == "K1"
    by_name, by_expr, everything = node.call_in
    assert (by_name.name, by_name.source) == ("b", "a")
    assert by_expr.name == "y" and by_expr.local and by_expr.expr.evaluate({"x": 1}) == 6
    assert everything.all_variables is True
    assert [(p.name, p.source) for p in node.call_out] == [("result", "res")]
    dynamic = graph.node("t2")
    assert dynamic.called_element is None
    assert dynamic.called_element_expr.evaluate({"which": "w"}) == "w"


def test_zeebe_called_element_and_variable_propagation():
    xml = straight("""<callActivity id="t1"><extensionElements>
      <zeebe:calledElement processId="child" propagateAllChildVariables="false"/>
      </extensionElements></callActivity>""", """<callActivity id="t2"><extensionElements>
      <zeebe:calledElement processId="child"/></extensionElements></callActivity>""")
    graph = graph_of(xml)
    node = graph.node("t1")
    assert node.called_element == "child"
    assert [p.all_variables for p in node.call_in] == [True]
    assert node.call_out == ()
    both = graph.node("t2")
    assert [p.all_variables for p in both.call_in + both.call_out] == [True, True]


def test_multi_instance_camunda_collection_and_completion():
    xml = straight("""<userTask id="t1" camunda:assignee="${assignee}">
      <multiInstanceLoopCharacteristics isSequential="true"
          camunda:collection="reviewers" camunda:elementVariable="assignee">
        <completionCondition>${nrOfCompletedInstances/nrOfInstances &gt;= 0.5}
        </completionCondition>
      </multiInstanceLoopCharacteristics></userTask>""",
                   """<task id="t2"><multiInstanceLoopCharacteristics>
        <loopCardinality>${5-2}</loopCardinality></multiInstanceLoopCharacteristics></task>""",
                   """<task id="t3"><multiInstanceLoopCharacteristics
          camunda:collection="${items}"/></task>""")
    graph = graph_of(xml)
    mi = graph.node("t1").multi_instance
    assert mi.sequential is True and mi.element_variable == "assignee"
    assert mi.collection.evaluate({"reviewers": ["a", "b"]}) == ["a", "b"]
    assert mi.completion_condition.evaluate(
        {"nrOfCompletedInstances": 1, "nrOfInstances": 2}) is True
    assert graph.node("t2").multi_instance.cardinality.evaluate({}) == 3
    assert graph.node("t2").multi_instance.sequential is False
    assert graph.node("t3").multi_instance.collection.evaluate({"items": [1]}) == [1]


def test_multi_instance_bpmn_data_refs_spiff_style():
    xml = straight("""<task id="t1"><multiInstanceLoopCharacteristics>
        <loopDataInputRef>input_data</loopDataInputRef>
        <loopDataOutputRef>output_data</loopDataOutputRef>
        <inputDataItem id="input_item" name="input item"/>
        <outputDataItem id="output_item" name="output item"/>
      </multiInstanceLoopCharacteristics></task>""")
    mi = graph_of(xml).node("t1").multi_instance
    assert mi.collection.evaluate({"input_data": [1, 2]}) == [1, 2]
    assert mi.element_variable == "input_item"
    assert mi.output_collection == "output_data"
    assert mi.output_element.evaluate({"output_item": 4}) == 4


def test_multi_instance_zeebe_loop_characteristics():
    xml = straight("""<task id="t1"><multiInstanceLoopCharacteristics>
      <extensionElements><zeebe:loopCharacteristics inputCollection="= orders"
         inputElement="order" outputCollection="results" outputElement="= order.total"/>
      </extensionElements></multiInstanceLoopCharacteristics></task>""")
    mi = graph_of(xml).node("t1").multi_instance
    assert mi.collection.evaluate({"orders": [1]}) == [1]
    assert mi.element_variable == "order" and mi.output_collection == "results"
    assert mi.output_element.evaluate({"order": {"total": 3}}) == 3


def test_standard_loop():
    xml = straight("""<task id="t1"><standardLoopCharacteristics testBefore="true"
        loopMaximum="5"><loopCondition>count &lt; 3</loopCondition>
      </standardLoopCharacteristics></task>""")
    loop = graph_of(xml).node("t1").loop
    assert loop.test_before is True and loop.maximum == 5
    assert loop.condition.evaluate({"count": 1}) is True


# --------------------------------------------------------------------------- diagram


def test_bpmndi_becomes_a_diagram():
    xml = definitions("""
      <process id="p" isExecutable="true">
        <startEvent id="s"><timerEventDefinition><timeDuration>PT1M</timeDuration>
        </timerEventDefinition></startEvent>
        <subProcess id="sub"><startEvent id="in"/></subProcess>
        <textAnnotation id="ta"><text>remember</text></textAnnotation>
        <sequenceFlow id="f" name="go" sourceRef="s" targetRef="sub"/>
      </process>
      <bpmndi:BPMNDiagram id="d"><bpmndi:BPMNPlane id="pl" bpmnElement="p">
        <bpmndi:BPMNShape id="s_di" bpmnElement="s"><dc:Bounds x="10" y="20" width="36"
          height="36"/><bpmndi:BPMNLabel><dc:Bounds x="5" y="60" width="50" height="14"/>
          </bpmndi:BPMNLabel></bpmndi:BPMNShape>
        <bpmndi:BPMNShape id="sub_di" bpmnElement="sub" isExpanded="true">
          <dc:Bounds x="100" y="0" width="300" height="200"/></bpmndi:BPMNShape>
        <bpmndi:BPMNShape id="ta_di" bpmnElement="ta"><dc:Bounds x="1" y="2" width="3"
          height="4"/></bpmndi:BPMNShape>
        <bpmndi:BPMNEdge id="f_di" bpmnElement="f"><di:waypoint x="46" y="38"/>
          <di:waypoint x="100.5" y="38"/></bpmndi:BPMNEdge>
      </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>""")
    diagram = compile_bpmn(xml).diagram
    start = diagram.shapes["s"]
    assert (start.x, start.y, start.width, start.height) == (10, 20, 36, 36)
    assert start.label == (5, 60, 50, 14) and start.expanded is None
    assert diagram.shapes["sub"].expanded is True
    assert diagram.edges["f"].waypoints == ((46, 38), (100.5, 38))
    assert diagram.kinds == {"s": "startEvent", "sub": "subProcess", "ta": "textAnnotation",
                             "f": "sequenceFlow"}
    assert diagram.names == {"ta": "remember", "f": "go"}
    assert diagram.event_types == {"s": "timer"}


def test_compiled_graphs_are_read_only():
    graph = graph_of(straight('<task id="t1"/>'))
    with pytest.raises(TypeError):
        graph.index["x"] = 1  # type: ignore[index]
