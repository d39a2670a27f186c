"""Camunda 7's `execution` idioms: translated by the sandbox, run by the runtime.

Two halves: the sandbox (`compile_action`, `compile_script`, `compile_expression`) must
translate `execution.setVariable(...)` & co. statically and refuse everything else on
`execution` - no new way out of the sandbox; and the runtime must run execution listeners,
task listeners, `camunda:expression` actions and JUEL script tasks at the right moments.
"""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from engine import Engine
from engine.bpmn import compile_bpmn
from engine.errors import EngineError
from engine.expr.guards import MAX_LENGTH
from engine.expressions import (
    ExpressionError,
    Outcome,
    compile_action,
    compile_expression,
    compile_script,
)
from engine.testing import ManualClock

FACTS = {"instance_id": "i-1", "business_key": "order-7", "definition_id": "p:1",
         "activity_id": "task", "activity_name": "Task", "event_name": "start"}


def perform(source: str, variables: dict[str, Any] | None = None, *,
            script: bool = False, **options: Any) -> Outcome:
    compile_it = compile_script if script else compile_action
    return compile_it(source, where="listener", **options).perform(variables or {}, FACTS)


# =========================================================================== sandbox: actions
def test_juel_listener_expression_sets_a_variable() -> None:
    outcome = perform("${execution.setVariable('listenerStartInvoked', true)}")
    assert outcome == Outcome(None, {"listenerStartInvoked": True}, {}, ())


def test_juel_setters_anywhere_in_the_expression_record_in_order() -> None:
    source = ("${big ? execution.setVariable('route', 'manual') "
              ": execution.setVariableLocal('route', 'auto')}")
    assert perform(source, {"big": True}).variables == {"route": "manual"}
    assert perform(source, {"big": False}).local == {"route": "auto"}
    both = perform("${execution.setVariable('a', 1)}${execution.removeVariable('a')}",
                   {"a": 0})
    assert (both.variables, both.deleted) == ({}, ("a",))


def test_juel_script_value_is_the_outcome_value() -> None:
    assert perform("#{echo}", {"echo": "hello"}, language="juel").value == "hello"
    assert perform("= a + 1", {"a": 1}).value == 2
    # a builtin function is not a value a variable can hold
    assert perform("#{len}", language="juel").value is None


def test_python_script_setters_become_assignments_later_lines_read() -> None:
    outcome = perform("execution.setVariable('total', a + b)\n"
                      "execution.setVariableLocal('seen', execution.getVariable('total') * 2)\n"
                      "flag = execution.hasVariable('total') and not execution.hasVariable('z')\n"
                      "execution.removeVariable('old')\n"
                      "execution.removeVariable('never_set')",
                      {"a": 1, "b": 2, "old": "x"}, script=True)
    assert outcome.variables == {"total": 3, "flag": True}
    assert outcome.local == {"seen": 6}
    assert outcome.deleted == ("old",)


def test_groovy_and_javascript_bodies_that_are_also_python() -> None:
    body = """
        // set by the listener
        execution.setVariable("foo", "bar");
        execution.setVariable("ok", true);
        execution.setVariable("nothing", null)
    """
    for language in ("groovy", "javascript", "JavaScript"):
        outcome = perform(body, script=True, language=language)
        assert outcome.variables == {"foo": "bar", "ok": True, "nothing": None}
    with pytest.raises(ExpressionError, match="invalid syntax"):  # still not real groovy
        compile_script("def x = 1; println x", language="groovy")
    # in a Python script, `true` stays an (unset) variable name
    with pytest.raises(ExpressionError, match="unknown variable 'true'"):
        perform("execution.setVariable('ok', true)", script=True, language="python")


def test_a_script_last_expression_is_its_value() -> None:
    assert perform("x = 2\nx * 21", script=True).value == 42
    assert not compile_script("x = 2").has_value


def test_read_only_facts_come_from_the_context() -> None:
    outcome = perform("${execution.setVariable('who', execution.processInstanceId)}"
                      "${execution.setVariable('key', execution.getProcessBusinessKey())}"
                      "${execution.setVariable('at', execution.currentActivityId)}"
                      "${execution.setVariable('ev', execution.getEventName())}"
                      "${execution.setVariable('id', execution.id)}")
    assert outcome.variables == {"who": "i-1", "key": "order-7", "at": "task", "ev": "start",
                                 "id": "i-1"}
    script = compile_script("pid = execution.getProcessInstanceId()")
    assert script.uses_context and not compile_script("x = 1").uses_context
    with pytest.raises(ExpressionError, match="process instance id is not known here"):
        script.run({})  # no context handed in


def test_conditions_stay_read_only() -> None:
    assert compile_expression("${execution.hasVariable('a')}").evaluate({"a": 1}) is True
    assert compile_expression("execution.getVariable('a') + 1").evaluate({"a": 1}) == 2
    for source in ("${execution.setVariable('a', 1)}", "execution.setVariable('a', 1)",
                   "${execution.removeVariable('a')}"):
        with pytest.raises(ExpressionError, match="must not change variables"):
            compile_expression(source)
    for source in ("${execution.processInstanceId}", "execution.getProcessInstanceId()"):
        with pytest.raises(ExpressionError, match="works in scripts, execution listeners"):
            compile_expression(source)


def test_actions_and_scripts_pickle_as_their_text() -> None:
    action = pickle.loads(pickle.dumps(compile_action("${execution.setVariable('a', x)}")))
    assert action.perform({"x": 5}).variables == {"a": 5}
    groovy = pickle.loads(pickle.dumps(compile_script('execution.setVariable("b", true);',
                                                      language="groovy")))
    assert groovy.run({}) == {"b": True}


# =========================================================================== sandbox: no new hole
@pytest.mark.parametrize("source, fragment", [
    ("execution.__class__", "is not supported"),
    ("x = execution.getVariable.__self__", "is not supported"),
    ("execution.setVariable('__x', 1)", "plain identifier"),
    ("execution.setVariable('_x', 1)", "plain identifier"),
    ("execution.setVariable('a b', 1)", "plain identifier"),
    ("execution.setVariable('class', 1)", "plain identifier"),
    ("execution.setVariable('eval', 1)", "eval() is not available"),
    ("execution.setVariable(name, 1)", "must be quoted text"),
    ("execution.setVariable('a' + 'b', 1)", "must be quoted text"),
    ("execution.removeVariable(name)", "must be quoted text"),
    ("x = execution.setVariable('a', 1)", "must be a statement on its own line"),
    ("execution.setVariable('a', execution)", "not a value that can be passed around"),
    ("e = execution\ne.setVariable('a', 1)", "not a value that can be passed around"),
    ("execution.setVariable('a')", "takes a variable name and a value"),
    ("execution.setVariable(name='a', value=1)", "no keyword arguments"),
    ("execution.getVariable('__baton_vars')", "names starting with '__'"),
    ("execution.getEngineServices()", "is not supported"),
    ("execution.setVariable('a', 'x' * 10**9)", "limit"),
])
def test_script_refusals(source: str, fragment: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_script(source)
    assert caught.value.refused
    assert fragment in str(caught.value)


@pytest.mark.parametrize("source, fragment", [
    ("${execution.__class__}", "is not supported"),
    ("${execution.setVariable(name, 1)}", "must be quoted text"),
    ("${execution.setVariable('__x', 1)}", "plain identifier"),
    ("${service.notify(execution)}", "not a value that can be passed around"),
    ("${execution}", "not a value that can be passed around"),
    ("${execution.getVariable}", "is not supported"),
    ("${execution.setVariable('a', 'x' * 10000000)}", "limit"),
])
def test_action_refusals(source: str, fragment: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_action(source)
    assert fragment in str(caught.value)


@pytest.mark.parametrize("source, fragment", [
    # computed names cannot reach the sandbox's own locals or the context parameter
    ("x = execution.getVariable('__baton_' + 'vars')", "names starting with '__' are reserved"),
    ("x = execution.getVariable(n)", "names starting with '__' are reserved"),
    ("x = execution.hasVariable(n)", "names starting with '__' are reserved"),
    ("x = execution.getVariable(5)", "needs a text variable name"),
    # huge values are still guarded when they are built
    ("execution.setVariable('big', s * k)", "limit"),
    ("while True:\n    execution.setVariable('a', 1)", "operation budget"),
])
def test_script_run_time_guards(source: str, fragment: str) -> None:
    script = compile_script(source)
    with pytest.raises(ExpressionError) as caught:
        script.perform({"n": "__baton_ctx", "s": "ab", "k": MAX_LENGTH}, FACTS)
    assert fragment in str(caught.value)


def test_juel_huge_value_is_guarded_at_run_time() -> None:
    action = compile_action("${execution.setVariable('big', s * n)}")
    with pytest.raises(ExpressionError, match=str(MAX_LENGTH)):
        action.perform({"s": "ab", "n": MAX_LENGTH})


def test_constant_folding_of_translated_juel_is_a_refusal_not_a_crash() -> None:
    # JUEL nodes carry no line numbers; the folding guard must still refuse cleanly
    with pytest.raises(ExpressionError, match="limit"):
        compile_expression("${'x' * 10000000}")


def test_functions_never_become_variables() -> None:
    outcome = perform("execution.setVariable('f', len)\nexecution.setVariable('g', 1)",
                      script=True)
    assert outcome.variables == {"g": 1}
    assert perform("${execution.setVariable('f', len)}").variables == {}


# =========================================================================== runtime
HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" targetNamespace="t">\n')


def bpmn(body: str, extensions: str = "") -> str:
    process_ext = f"<extensionElements>{extensions}</extensionElements>" if extensions else ""
    return f'{HEAD}<process id="p" isExecutable="true">{process_ext}\n{body}\n</process>\n</definitions>'


def listener(event: str, expression: str) -> str:
    return f'<camunda:executionListener event="{event}" expression="{expression}"/>'


def ext(*items: str) -> str:
    return f"<extensionElements>{''.join(items)}</extensionElements>"


def flow(source: str, target: str, inner: str = "") -> str:
    return (f'<sequenceFlow id="{source}_{target}" sourceRef="{source}" targetRef="{target}">'
            f"{inner}</sequenceFlow>")


@pytest.fixture
def engine() -> Engine:
    return Engine(clock=ManualClock())


def run_process(engine: Engine, xml: str, **variables: Any) -> tuple[str, dict[str, Any]]:
    engine.deploy(xml.encode())
    iid = engine.start("p", variables, business_key="order-7")
    return iid, engine.variables(iid)


def test_start_and_end_listeners_run_around_the_activity(engine: Engine) -> None:
    task = ('<scriptTask id="work" scriptFormat="python">'
            + ext(listener("start", "${execution.setVariable('log', log + ['start'])}"),
                  listener("end", "${execution.setVariable('log', log + ['end'])}"))
            + "<script>log = log + ['body']</script></scriptTask>")
    xml = bpmn('<startEvent id="s"/>' + task + '<endEvent id="e"/>'
               + flow("s", "work") + flow("work", "e"))
    iid, variables = run_process(engine, xml, log=[])
    assert variables["log"] == ["start", "body", "end"]
    assert engine.instance(iid).status == "completed"


def test_listeners_on_events_gateways_flows_and_the_process(engine: Engine) -> None:
    count = "${execution.setVariable('seen', seen + [execution.eventName + ':' + execution.currentActivityId])}"
    xml = bpmn(
        '<startEvent id="s">' + ext(listener("end", count)) + "</startEvent>"
        '<exclusiveGateway id="g">' + ext(listener("start", count)) + "</exclusiveGateway>"
        '<endEvent id="e">' + ext(listener("start", count)) + "</endEvent>"
        + flow("s", "g")
        + flow("g", "e", ext('<camunda:executionListener expression="' + count + '"/>')),
        extensions=listener("start", "${execution.setVariable('seen', ['process'])}")
        + listener("end", "${execution.setVariable('done', true)}"))
    _, variables = run_process(engine, xml)
    assert variables["seen"] == ["process", "end:s", "start:g", "take:g_e", "start:e"]
    assert variables["done"] is True


def test_async_after_end_listener_runs_once(engine: Engine) -> None:
    xml = bpmn('<startEvent id="s"/><manualTask id="m" camunda:asyncAfter="true">'
               + ext(listener("end", "${execution.setVariable('ends', ends + 1)}"))
               + '</manualTask><endEvent id="e"/>' + flow("s", "m") + flow("m", "e"))
    iid, variables = run_process(engine, xml, ends=0)
    assert variables["ends"] == 1 and len(engine.jobs(instance_id=iid)) == 1
    assert engine.run_due_jobs() == 1
    assert engine.instance(iid).status == "completed"
    assert engine.instance(iid).variables["ends"] == 1


def test_async_after_job_does_not_end_the_activity_twice(engine: Engine) -> None:
    outputs = ('<camunda:inputOutput><camunda:outputParameter name="n">${n + 1}'
               "</camunda:outputParameter></camunda:inputOutput>")
    xml = bpmn('<startEvent id="s"/><task id="t" camunda:asyncAfter="true">' + ext(outputs)
               + '</task><endEvent id="e"/>' + flow("s", "t") + flow("t", "e"))
    iid, variables = run_process(engine, xml, n=0)
    assert variables["n"] == 1
    engine.run_due_jobs()
    assert engine.instance(iid).variables["n"] == 1  # output mapping not evaluated again
    assert engine.instance(iid).status == "completed"


def test_async_before_start_listener_waits_for_the_job(engine: Engine) -> None:
    xml = bpmn('<startEvent id="s"/><task id="t" camunda:asyncBefore="true">'
               + ext(listener("start", "${execution.setVariable('started', true)}"))
               + '</task><endEvent id="e"/>' + flow("s", "t") + flow("t", "e"))
    iid, variables = run_process(engine, xml)
    assert "started" not in variables
    engine.run_due_jobs()
    assert engine.instance(iid).variables["started"] is True


def test_multi_instance_listeners_run_per_instance(engine: Engine) -> None:
    xml = bpmn('<startEvent id="s"/><task id="t">'
               + ext(listener("start", "${execution.setVariable('starts', starts + 1)}"),
                     listener("end", "${execution.setVariable('ends', ends + 1)}"))
               + '<multiInstanceLoopCharacteristics isSequential="true">'
               '<loopCardinality>3</loopCardinality></multiInstanceLoopCharacteristics>'
               '</task><endEvent id="e"/>' + flow("s", "t") + flow("t", "e"))
    _, variables = run_process(engine, xml, starts=0, ends=0)
    assert (variables["starts"], variables["ends"]) == (3, 3)


def test_set_variable_local_stays_in_the_subprocess(engine: Engine) -> None:
    sub = ('<subProcess id="sub">'
           + ext(listener("start", "${execution.setVariableLocal('inner', 1)}"),
                 listener("start", "${execution.setVariable('outer', 2)}"))
           + '<startEvent id="ss"/><scriptTask id="copy"><script>seen_inner = inner</script>'
           '</scriptTask><endEvent id="se"/>' + flow("ss", "copy") + flow("copy", "se")
           + "</subProcess>")
    xml = bpmn('<startEvent id="s"/>' + sub + '<endEvent id="e"/>'
               + flow("s", "sub") + flow("sub", "e"))
    _, variables = run_process(engine, xml)
    assert variables == {"outer": 2, "seen_inner": 1}


def test_event_subprocess_start_listener_runs_in_its_scope(engine: Engine) -> None:
    esp = ('<subProcess id="esp" triggeredByEvent="true">'
           + ext(listener("start", "${execution.setVariable('handled', execution.eventName)}"))
           + '<startEvent id="es"><messageEventDefinition messageRef="m"/></startEvent>'
           '<endEvent id="ee"/>' + flow("es", "ee") + "</subProcess>")
    xml = bpmn('<startEvent id="s"/><userTask id="wait"/><endEvent id="e"/>' + esp
               + flow("s", "wait") + flow("wait", "e")).replace(
        "<process", '<message id="m" name="poke"/><process', 1)
    iid, variables = run_process(engine, xml)
    assert "handled" not in variables
    engine.correlate_message("poke", business_key="order-7")
    assert engine.instance(iid).variables["handled"] == "start"


def test_groovy_script_listener_and_script_task(engine: Engine) -> None:
    script_listener = ('<camunda:executionListener event="start"><camunda:script '
                       'scriptFormat="groovy">execution.setVariable("fromListener", true);'
                       "</camunda:script></camunda:executionListener>")
    xml = bpmn('<startEvent id="s"/><scriptTask id="g" scriptFormat="javascript">'
               + ext(script_listener)
               + '<script>execution.setVariable("foo", "bar");</script></scriptTask>'
               '<endEvent id="e"/>' + flow("s", "g") + flow("g", "e"))
    _, variables = run_process(engine, xml)
    assert variables == {"fromListener": True, "foo": "bar"}


def test_juel_script_task_and_expression_service_task(engine: Engine) -> None:
    xml = bpmn(
        '<startEvent id="s"/>'
        '<scriptTask id="id" scriptFormat="juel" camunda:resultVariable="me">'
        "<script>#{execution.id}</script></scriptTask>"
        '<scriptTask id="set" scriptFormat="juel">'
        "<script>#{execution.setVariable('invoked', 'true')}</script></scriptTask>"
        '<serviceTask id="svc" camunda:resultVariable="r" camunda:expression='
        "\"${execution.setVariable('key', execution.processBusinessKey)}\"/>"
        '<endEvent id="e"/>'
        + flow("s", "id") + flow("id", "set") + flow("set", "svc") + flow("svc", "e"))
    iid, variables = run_process(engine, xml)
    assert variables == {"me": iid, "invoked": "true", "key": "order-7", "r": None}


def test_python_script_task_result_variable_takes_the_last_expression(engine: Engine) -> None:
    xml = bpmn('<startEvent id="s"/><scriptTask id="t" camunda:resultVariable="sum">'
               "<script>a + b</script></scriptTask><endEvent id=\"e\"/>"
               + flow("s", "t") + flow("t", "e"))
    _, variables = run_process(engine, xml, a=1, b=2)
    assert variables["sum"] == 3


def test_task_listeners_on_create_and_complete(engine: Engine) -> None:
    task_listeners = (
        '<camunda:taskListener event="create" '
        "expression=\"${execution.setVariable('created', execution.currentActivityId)}\"/>"
        '<camunda:taskListener event="complete" '
        "expression=\"${execution.setVariable('approvedTwice', approved + approved)}\"/>")
    xml = bpmn('<startEvent id="s"/><userTask id="review">' + ext(task_listeners)
               + '</userTask><endEvent id="e"/>' + flow("s", "review") + flow("review", "e"))
    iid, variables = run_process(engine, xml)
    assert variables == {"created": "review"}
    (task,) = engine.tasks(instance_id=iid)
    engine.complete_task(task.id, {"approved": 2})
    assert engine.instance(iid).variables == {"created": "review", "approved": 2,
                                              "approvedTwice": 4}


def test_listeners_baton_cannot_run_are_deploy_warnings() -> None:
    body = ('<startEvent id="s"/><task id="t">'
            + ext('<camunda:executionListener event="start" class="com.acme.Audit"/>',
                  '<camunda:executionListener event="end" delegateExpression="${audit}"/>',
                  listener("start", "${execution.getEngineServices()}"),
                  listener("take", "${x}"),
                  '<camunda:taskListener event="create" expression="${task.setAssignee(1)}"/>')
            + '</task><endEvent id="e"/>' + flow("s", "t") + flow("t", "e"))
    definitions = compile_bpmn(bpmn(body))
    text = "\n".join(definitions.warnings)
    assert "a Java class is ignored" in text
    assert "a delegate expression is ignored" in text
    assert "execution.getEngineServices() is not supported" in text
    assert "event 'take' is ignored" in text
    node = definitions.processes["p"].node("t")
    assert node.listeners_start == () and node.listeners_end == ()


def test_a_failing_listener_names_where_it_failed(engine: Engine) -> None:
    xml = bpmn('<startEvent id="s"/><task id="t">'
               + ext(listener("start", "${execution.setVariable('x', missing + 1)}"))
               + '</task><endEvent id="e"/>' + flow("s", "t") + flow("t", "e"))
    engine.deploy(xml.encode())
    with pytest.raises(EngineError, match="task 't' start executionListener.*unknown variable"):
        engine.start("p")
