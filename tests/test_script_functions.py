"""Host-registered script functions: trusted Python that diagram scripts and expressions
call by name (engine/script_functions.py), and what stays refused."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import Engine, EngineError
from engine.expressions import ExpressionError, compile_expression, compile_script
from engine.script_functions import (
    ENGINE_FUNCTIONS,
    ScriptFunctions,
    script_function,
    script_functions,
)
from engine.testing import ManualClock

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
        'id="defs" targetNamespace="http://baton.test">\n')


def script_process(script: str, pid: str = "p") -> bytes:
    """start -> script task 'calc' (Python) -> user task 'check' -> end."""
    return (f'{HEAD}<process id="{pid}" isExecutable="true"><startEvent id="s"/>'
            f'<scriptTask id="calc" scriptFormat="python"><script><![CDATA[{script}]]>'
            '</script></scriptTask><userTask id="check"/><endEvent id="e"/>'
            '<sequenceFlow id="f1" sourceRef="s" targetRef="calc"/>'
            '<sequenceFlow id="f2" sourceRef="calc" targetRef="check"/>'
            '<sequenceFlow id="f3" sourceRef="check" targetRef="e"/>'
            '</process></definitions>').encode()


def shout(text: str) -> str:
    return str(text).upper()


@pytest.fixture
def engine() -> Engine:
    return Engine(clock=ManualClock(), script_functions={"shout": shout})


@pytest.fixture
def global_function() -> Iterator[str]:
    """`vat` in the process-wide registry for one test."""
    script_function("vat")(lambda amount, rate=0.2: round(amount * rate, 2))
    try:
        yield "vat"
    finally:
        script_functions.unregister("vat")


def test_a_script_calls_a_function_its_engine_registered(engine):
    engine.deploy(script_process("greeting = shout('hello ' + name)"))
    iid = engine.start("p", {"name": "ann"})
    assert engine.variables(iid)["greeting"] == "HELLO ANN"


def test_registered_functions_serve_expressions_in_all_dialects(engine, global_function):
    engine.deploy((
        f'{HEAD}<process id="p" isExecutable="true"><startEvent id="s"/>'
        '<exclusiveGateway id="g" default="small"/><userTask id="big_task"/>'
        '<userTask id="small_task" camunda:assignee="${shout(owner)}"/>'
        '<sequenceFlow id="f0" sourceRef="s" targetRef="g"/>'
        '<sequenceFlow id="big" sourceRef="g" targetRef="big_task"><conditionExpression>'
        'vat(amount) &gt; 10</conditionExpression></sequenceFlow>'
        '<sequenceFlow id="small" sourceRef="g" targetRef="small_task"/>'
        '</process></definitions>').encode())
    big = engine.start("p", {"amount": 100, "owner": "x"})
    small = engine.start("p", {"amount": 10, "owner": "zoe"})
    assert [t.activity_id for t in engine.tasks(instance_id=big)] == ["big_task"]
    [task] = engine.tasks(instance_id=small)
    assert task.activity_id == "small_task" and task.assignee == "ZOE"


def test_the_engines_own_function_wins_over_the_global_one(global_function):
    own = Engine(script_functions={"vat": lambda amount: -1})
    other = Engine()
    for eng in (own, other):
        eng.deploy(script_process("tax = vat(50)"))
    assert own.variables(own.start("p"))["tax"] == -1
    assert other.variables(other.start("p"))["tax"] == 10.0


def test_engine_script_functions_can_be_added_later(engine):
    engine.script_functions["twice"] = lambda x: x * 2
    engine.deploy(script_process("y = twice(21)"))
    assert engine.variables(engine.start("p"))["y"] == 42


def test_an_unregistered_name_fails_with_an_error_naming_it_and_nothing_is_kept(engine):
    engine.deploy(script_process("y = custom_function('hello')"))   # deploys: resolved late
    with pytest.raises(EngineError, match="unknown function 'custom_function'.*no script "
                                          "function of that name is registered"):
        engine.start("p")
    assert engine.instances() == []


def test_a_registered_function_is_never_a_value():
    eng = Engine(script_functions={"shout": shout})
    eng.deploy(script_process("f = shout"))
    with pytest.raises(EngineError, match="unknown variable 'shout'"):
        eng.start("p")
    eng.deploy(script_process("ys = list(map(shout, ['a']))", pid="q"))
    with pytest.raises(EngineError, match="unknown variable 'shout'"):
        eng.start("q")


def test_a_name_the_script_binds_is_still_its_own_value():
    script = compile_script("f = len\nn = f([1, 2, 3])")
    assert script.run({}) == {"n": 3}      # called as what it holds; a function never leaks


@pytest.mark.parametrize(("fn", "problem"), [
    (lambda: len, "returned builtin_function_or_method; script functions must return data"),
    (lambda: sys, "returned module"),
    (lambda: {"ok": [1, {"deep": (2, len)}]}, "returned builtin_function_or_method"),
    (lambda: [dict], "returned type"),
    (lambda: object(), "returned object"),
    (lambda: "x" * 2_000_000, "returned 2000000 characters or items"),
    (lambda: 1 / 0, "script function 'f' raised ZeroDivisionError"),
])
def test_results_and_failures_of_host_functions_pass_the_sandbox_guards(fn, problem):
    script = compile_script("y = f()", where="scriptTask 'calc'")
    token = ENGINE_FUNCTIONS.set({"f": fn})
    try:
        with pytest.raises(ExpressionError, match="scriptTask 'calc'") as caught:
            script.run({})
    finally:
        ENGINE_FUNCTIONS.reset(token)
    assert problem in str(caught.value)


def test_data_results_of_any_shape_come_through():
    from datetime import date
    from decimal import Decimal

    value = {"when": date(2026, 1, 1), "rows": [(1, "a"), {2.5, None}], "n": Decimal("1.5")}
    token = ENGINE_FUNCTIONS.set({"lookup": lambda: value})
    try:
        assert compile_script("v = lookup()").run({}) == {"v": value}
    finally:
        ENGINE_FUNCTIONS.reset(token)


def test_the_sandbox_refusals_still_hold_for_calls():
    for text, reason in (("eval('1')", "eval() is not available"),
                         ("open('/etc/passwd')", "open() is not available"),
                         ("__import__('os')", "names starting with '__' are reserved")):
        with pytest.raises(ExpressionError, match="was refused") as caught:
            compile_expression(text)
        assert reason in str(caught.value)
    with pytest.raises(ExpressionError, match="unknown function 'system'"):
        compile_expression("system('ls')").evaluate({})


def test_names_and_values_are_checked_when_registered():
    with pytest.raises(ValueError, match="not 'bad-name'"):
        Engine(script_functions={"bad-name": shout})
    with pytest.raises(ValueError, match="not '_hidden'"):
        Engine(script_functions={"_hidden": shout})
    with pytest.raises(TypeError, match="must be a function, not int"):
        Engine(script_functions={"five": 5})
    with pytest.raises(TypeError, match="must be a function, not type"):
        ScriptFunctions().register("cls", dict)


def test_an_installed_package_declares_functions_by_entry_point(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "acme_rules.py").write_text(textwrap.dedent("""
        def discount(total):
            return total * 0.9

        def broken():
            return 1
    """))
    info = tmp_path / "acme_rules-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-rules\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[baton.script_functions]\ndiscount = acme_rules:discount\n"
        "missing = acme_rules:no_such_function\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = ScriptFunctions(discover=True)
    registry.register("discount", shout)               # explicit registrations win
    assert registry.get("discount") is shout
    fresh = ScriptFunctions(discover=True)
    assert fresh.get("discount")(100) == 90.0           # type: ignore[misc]
    assert "missing" not in fresh.names()
    assert any("missing (acme_rules:no_such_function)" in p for p in fresh.problems)


def test_a_called_process_sees_the_engines_functions(engine):
    engine.deploy(script_process("c = shout('child')", pid="child"))
    engine.deploy((f'{HEAD}<process id="p" isExecutable="true"><startEvent id="s"/>'
                   '<callActivity id="call" calledElement="child"/><endEvent id="e"/>'
                   '<sequenceFlow id="f1" sourceRef="s" targetRef="call"/>'
                   '<sequenceFlow id="f2" sourceRef="call" targetRef="e"/>'
                   '</process></definitions>').encode())
    iid = engine.start("p")
    [child] = [v for v in engine.instances() if v.parent_id == iid]
    assert child.variables["c"] == "CHILD"
