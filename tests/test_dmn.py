"""DMN decision tables: unary tests, hit policies, validation, attacks, business rule tasks."""

from __future__ import annotations

import csv
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from engine.dmn import (
    DecisionError,
    DmnValidationError,
    compile_dmn,
    is_dmn,
    map_decision_result,
    spiff_updates,
)
from engine.dmn.unary import UnaryTestError, compile_unary_tests
from engine.errors import EngineError, NotFound
from engine.service import Engine

DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
SPIFF = CORPUS / "spiff" / "camunda" / "data"


# --------------------------------------------------------------------------- builders
def dmn(*decisions: str, ns: str = DMN13, attrs: str = "") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="{ns}" '
            f'xmlns:camunda="http://camunda.org/schema/1.0/dmn" id="defs" name="Rules" '
            f'namespace="http://example.org" {attrs}>\n' + "\n".join(decisions)
            + "\n</definitions>\n")


def decision(did: str, inputs: list[str], outputs: list[str | tuple[str, str]],
             rules: list[tuple[list[str], list[str]]], *, hit: str | None = None,
             aggregation: str | None = None, requires: tuple[str, ...] = (),
             name: str | None = None) -> str:
    """A decision table; an output given as (name, outputValues) ranks its values."""
    policy = f' hitPolicy="{hit}"' if hit else ""
    agg = f' aggregation="{aggregation}"' if aggregation else ""
    parts = [f'<decision id="{did}" name="{name or did}">']
    parts += [f'<informationRequirement id="req_{did}_{r}"><requiredDecision href="#{r}"/>'
              "</informationRequirement>" for r in requires]
    parts.append(f'<decisionTable id="t_{did}"{policy}{agg}>')
    for n, text in enumerate(inputs):
        parts.append(f'<input id="in{n}" label="in{n}"><inputExpression id="ie{n}">'
                     f"<text>{escape(text)}</text></inputExpression></input>")
    for n, output in enumerate(outputs):
        out_name, values = output if isinstance(output, tuple) else (output, None)
        ranked = (f"<outputValues><text>{escape(values)}</text></outputValues>"
                  if values else "")
        parts.append(f'<output id="out{n}" name="{out_name}">{ranked}</output>')
    for n, (cells, results) in enumerate(rules, start=1):
        parts.append(f'<rule id="r{n}">')
        parts += [f'<inputEntry id="r{n}i{k}"><text>{escape(c)}</text></inputEntry>'
                  for k, c in enumerate(cells)]
        parts += [f'<outputEntry id="r{n}o{k}"><text>{escape(c)}</text></outputEntry>'
                  for k, c in enumerate(results)]
        parts.append("</rule>")
    parts.append("</decisionTable></decision>")
    return "\n".join(parts)


def one(did: str, *args, **kwargs):
    return compile_dmn(dmn(decision(did, *args, **kwargs)))[did]


def problems_of(source: str) -> list[str]:
    with pytest.raises(DmnValidationError) as info:
        compile_dmn(source, filename="rules.dmn")
    return [str(p) for p in info.value.problems]


# --------------------------------------------------------------------------- unary tests
@pytest.mark.parametrize("cell, value, expected", [
    ("-", 5, True), ("", None, True),
    ("5", 5, True), ("5", 6, False), ('"gold"', "gold", True), ("'gold'", "silver", False),
    ("true", True, True), ("true", 1, False), ("false", False, True),
    ('"a","b"', "b", True), ('"a","b"', "c", False),
    ('not("a","b")', "c", True), ('not("a","b")', "a", False), ("not(< 5)", 7, True),
    ("< 10", 9, True), ("< 10", 10, False), ("<= 10", 10, True), ("> 1.5", 2, True),
    (">= 5", 4, False),
    ("[1..10]", 1, True), ("[1..10]", 10, True), ("[1..10]", 11, False),
    ("(1..10]", 1, False), ("]1..10]", 1, False), ("[1..10)", 10, False), ("]1..10[", 5, True),
    ("[-5..-1]", -3, True), ("[1..10],[20..30]", 25, True), ("[1..10],[20..30]", 15, False),
    ('["a".."m"]', "k", True),
    ("< 10", None, False), ("< 10", "text", False), ("[1..10]", None, False),
    ("[1,2,3]", 2, True), ('date("2024-01-31")', __import__("datetime").date(2024, 1, 31), True),
    ("? > 3 and ? < 7", 5, True), ("? > 3 and ? < 7", 8, False), ('"what?"', "what?", True),
    ("< limit", 3, True), ("< limit", 4, False), ("[low..limit]", 2, True),
    ("amount > 100", "anything", True), ("amount > 1000", "anything", False),
])
def test_feel_unary_tests(cell: str, value: object, expected: bool) -> None:
    tests = compile_unary_tests(cell)
    assert tests.flavour in ("any", "feel")
    assert tests.matches(value, {"limit": 4, "low": 1, "amount": 200}) is expected


@pytest.mark.parametrize("cell, value, expected", [
    ("len(?) > 2", "abc", True), ("len(?) > 2", "ab", False),
    ("? in {'a', 'b'}", "a", True),
    ("== 3", 3, True), ("!= 3", 3, False), ("in ['x', 'y']", "y", True), ("is None", None, True),
    ("'a' if flag else 'b'", "a", True), ("True", True, True), ("x == 1", True, True),
    ("items[0]", "first", True),
])
def test_spiffworkflow_python_cells(cell: str, value: object, expected: bool) -> None:
    tests = compile_unary_tests(cell)
    assert tests.flavour == "python"
    assert tests.matches(value, {"flag": True, "x": 1, "items": ["first"]}) is expected


def test_the_input_is_visible_under_the_cell_input_name() -> None:
    assert compile_unary_tests("cellInput * 2 == 8").matches(4, {})
    tests = compile_unary_tests("val > 2", input_name="val")   # camunda:inputVariable
    assert tests.matches(3, {"val": 0}) and not tests.matches(1, {"val": 9})


@pytest.mark.parametrize("cell", ["= 1", "[1..", "< ", "((", "1,,2", "import os",
                                  "__import__('os')", "?.__class__", "().__class__.__bases__"])
def test_bad_cells_are_refused_with_a_reason(cell: str) -> None:
    with pytest.raises(UnaryTestError) as info:
        compile_unary_tests(cell)
    assert info.value.problem


def test_expression_language_forces_python() -> None:
    tests = compile_unary_tests("[1, 2]", language="python")
    assert tests.flavour == "python"
    assert tests.matches([1, 2], {}) and not tests.matches(1, {})


# --------------------------------------------------------------------------- hit policies
SCORES = [([">= 90"], ['"A"']), ([">= 80"], ['"B"']), (["< 80"], ['"C"'])]


def test_unique_is_the_default_and_refuses_two_matches() -> None:
    exclusive = one("grade", ["score"], ["grade"],
                    [(["[90..100]"], ['"A"']), (["[80..90["], ['"B"'])])
    assert exclusive.evaluate({"score": 85}).single_entry() == "B"
    assert exclusive.evaluate({"score": 10}).rows == ()
    overlapping = one("grade", ["score"], ["grade"], SCORES)
    with pytest.raises(DecisionError) as info:
        overlapping.evaluate({"score": 95})
    message = str(info.value)
    assert "decision 'grade'" in message and "UNIQUE" in message
    assert "rule 'r1'" in message and "rule 'r2'" in message
    assert info.value.decision_id == "grade" and info.value.rule_id == "r2"


def test_first_takes_the_first_match_in_rule_order() -> None:
    table = one("grade", ["score"], ["grade"], SCORES, hit="FIRST")
    result = table.evaluate({"score": 95})
    assert result.single_entry() == "A" and result.rules == ("r1",)
    assert table.evaluate({"score": 85}).single_entry() == "B"


def test_priority_ranks_by_output_values() -> None:
    table = one("risk", ["age"], [("risk", '"high","medium","low"')],
                [(["> 0"], ['"low"']), (["> 60"], ['"high"']), (["> 30"], ['"medium"'])],
                hit="PRIORITY")
    assert table.evaluate({"age": 70}).single_entry() == "high"
    assert table.evaluate({"age": 40}).single_entry() == "medium"
    assert table.evaluate({"age": 5}).single_entry() == "low"


def test_any_accepts_agreeing_matches_and_refuses_disagreeing_ones() -> None:
    table = one("ok", ["a", "b"], ["ok"],
                [(["> 0", "-"], ["true"]), (["-", "> 0"], ["true"]), (["< 0", "< 0"], ["false"]),
                 (["-", "< -10"], ["true"])], hit="ANY")
    assert table.evaluate({"a": 1, "b": 1}).single_entry() is True
    with pytest.raises(DecisionError) as info:
        table.evaluate({"a": -1, "b": -20})
    assert "ANY" in str(info.value) and "rule 'r4'" in str(info.value)


def test_collect_returns_every_match_in_rule_order() -> None:
    table = one("tags", ["amount"], ["tag"],
                [(["> 100"], ['"big"']), (["> 1000"], ['"huge"']), (["< 0"], ['"refund"'])],
                hit="COLLECT")
    assert table.evaluate({"amount": 5000}).collect_entries() == ["big", "huge"]
    assert table.evaluate({"amount": 50}).result_list() == []


@pytest.mark.parametrize("aggregation, expected, empty", [
    ("SUM", 60, None), ("MIN", 10, None), ("MAX", 30, None), ("COUNT", 3, 0)])
def test_collect_aggregations(aggregation: str, expected: int, empty: int | None) -> None:
    table = one("fee", ["n"], ["fee"],
                [(["> 0"], ["10"]), (["> 1"], ["20"]), (["> 2"], ["30"]), (["> 3"], ["null"])],
                hit="COLLECT", aggregation=aggregation)
    result = table.evaluate({"n": 4})
    assert result.single_entry() == expected
    assert table.evaluate({"n": 0}).single_entry() == empty


def test_rule_order_and_output_order() -> None:
    rules = [(["-"], ['"low"']), (["-"], ['"high"']), (["-"], ['"medium"'])]
    ordered = one("p", ["x"], [("level", '"high","medium","low"')], rules, hit="RULE ORDER")
    assert ordered.evaluate({"x": 1}).collect_entries() == ["low", "high", "medium"]
    by_output = one("p", ["x"], [("level", '"high","medium","low"')], rules,
                    hit="OUTPUT ORDER")
    assert by_output.evaluate({"x": 1}).collect_entries() == ["high", "medium", "low"]


def test_several_outputs_give_one_dict_per_result() -> None:
    table = one("offer", ["customer", "amount"], ["discount", "message"],
                [(['"gold"', ">= 100"], ["0.1", '"thanks " + customer']),
                 (['"gold","silver"', "-"], ["0.05", "null"])], hit="RULE ORDER")
    rows = table.evaluate({"customer": "gold", "amount": 150}).result_list()
    assert rows == [{"discount": 0.1, "message": "thanks gold"},
                    {"discount": 0.05, "message": None}]


def test_default_output_entry_when_no_rule_matches() -> None:
    xml = dmn(decision("d", ["x"], ["y"], [(["1"], ['"one"'])])).replace(
        '<output id="out0" name="y">',
        '<output id="out0" name="y"><defaultOutputEntry><text>"other"</text>'
        "</defaultOutputEntry>")
    table = compile_dmn(xml)["d"]
    assert table.evaluate({"x": 1}).single_entry() == "one"
    assert table.evaluate({"x": 2}).single_entry() == "other"


def test_failures_at_evaluation_name_decision_rule_and_input() -> None:
    table = one("d", ["x"], ["y"], [(["< 1"], ['"a"']), (["< missing"], ['"b"'])])
    with pytest.raises(DecisionError) as info:
        table.evaluate({"x": 5})
    assert "decision 'd' rule 'r2' (row 2) input 'in0'" in str(info.value)
    assert "missing" in str(info.value) and info.value.rule_id == "r2"
    with pytest.raises(DecisionError, match="decision 'd' input 'in0'.*unknown variable 'x'"):
        table.evaluate({})


def test_an_output_over_budget_fails_cleanly() -> None:
    table = one("d", ["x"], ["y"], [(["-"], ["[i * j for i in range(999) for j in range(999)]"])])
    with pytest.raises(DecisionError, match="rule 'r1'.*output 'y'.*budget"):
        table.evaluate({"x": 1})


# --------------------------------------------------------------------------- requirements
def test_required_decisions_are_evaluated_first() -> None:
    source = dmn(
        decision("category", ["age"], ["category"],
                 [(["< 18"], ['"minor"']), ([">= 18"], ['"adult"'])]),
        decision("price", ["category", "base"], ["price"],
                 [(['"minor"', "-"], ["base / 2"]), (['"adult"', "-"], ["base"])],
                 requires=("category",)),
        '<decision id="label" name="label"><informationRequirement><requiredDecision '
        'href="#price"/></informationRequirement><literalExpression><text>"costs " + '
        "string(price)</text></literalExpression></decision>",
    )
    decisions = compile_dmn(source)
    assert decisions["price"].evaluate({"age": 10, "base": 20}).single_entry() == 10
    assert decisions["price"].evaluate({"age": 30, "base": 20}).single_entry() == 20
    assert decisions.evaluate("label", {"age": 30, "base": 20}).single_entry() == "costs 20"


def test_requirement_cycles_and_unknown_decisions_are_refused() -> None:
    cycle = dmn(decision("a", ["x"], ["a"], [], requires=("b",)),
                decision("b", ["x"], ["b"], [], requires=("a",)))
    assert any("cycle: a -> b -> a" in p for p in problems_of(cycle))
    unknown = dmn(decision("a", ["x"], ["a"], [], requires=("nowhere",)))
    assert any("requires decision 'nowhere'" in p for p in problems_of(unknown))


# --------------------------------------------------------------------------- validation
def test_problems_name_decision_rule_and_line() -> None:
    source = dmn(decision("checks", ["x", "y"], ["out"], [
        (["= 1", "-"], ['"ok"']),
        (["1"], ['"too few"']),
        (["1", "2"], ["__import__('os')"]),
    ]))
    found = problems_of(source)
    assert len(found) == 3
    first, second, third = found
    assert first.startswith("rules.dmn: rule 'r1' (line ")
    assert "in decision 'checks', input entry 1 (input 'in0') `= 1` is refused" in first
    assert "rule 'r2'" in second and "has 1 input and 1 output entries" in second
    assert "rule 'r3'" in third and "output entry for 'out'" in third and "__" in third


@pytest.mark.parametrize("fragment, expected", [
    (decision("d", ["x"], ["y"], [], hit="SOMETIMES"), "hit policy 'SOMETIMES'"),
    (decision("d", ["x"], ["y"], [], hit="FIRST", aggregation="SUM"), "needs hit policy COLLECT"),
    (decision("d", ["x"], ["y", "z"], [], hit="COLLECT", aggregation="SUM"), "exactly one output"),
    (decision("d", ["x"], ["y"], [], hit="COLLECT", aggregation="AVG"), "'AVG' is not one of"),
    (decision("d", ["x"], ["y"], [], hit="PRIORITY"), "needs output values"),
    (decision("d", ["x"], ["y", "y"], []), "two outputs named 'y'"),
    (decision("d", ["x"], [], []), "has no output column"),
    (decision("d", ["x +"], ["y"], []), "the input expression `x +` is refused"),
    (decision("d", ["x"], ["y"], []) + decision("d", ["x"], ["y"], []), "another decision"),
    ('<decision id="d"><context/></decision>', "neither (it has context)"),
])
def test_table_problems(fragment: str, expected: str) -> None:
    assert any(expected in p for p in problems_of(dmn(fragment))), problems_of(dmn(fragment))


def test_files_that_are_not_dmn() -> None:
    assert any("defines no decision" in p for p in problems_of(dmn()))
    bpmn = ('<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="x" '
            'targetNamespace="t"/>')
    assert any("not a DMN file" in p for p in problems_of(bpmn))
    assert any("not well-formed" in p for p in problems_of("<definitions"))


def test_an_untested_input_without_expression_is_a_warning() -> None:
    source = dmn(decision("d", [""], ["y"], [(["-"], ['"always"'])])).replace(
        'label="in0"', "")
    decisions = compile_dmn(source)
    assert any("no input expression" in w for w in decisions.warnings)
    assert decisions["d"].evaluate({}).single_entry() == "always"
    tested = source.replace("<text>-</text>", "<text>5</text>")
    assert any("rule 'r1' (row 1) tests it" in p for p in problems_of(tested))


@pytest.mark.parametrize("ns", [
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd", "http://www.omg.org/spec/DMN/20180521/MODEL/",
    DMN13, "https://www.omg.org/spec/DMN/20230324/MODEL/"])
def test_every_dmn_version_is_recognised(ns: str) -> None:
    source = dmn(decision("d", ["x"], ["y"], [(["1"], ['"one"'])]), ns=ns)
    assert is_dmn(source.encode())
    assert compile_dmn(source)["d"].evaluate({"x": 1}).single_entry() == "one"


def test_bpmn_files_are_not_taken_for_dmn() -> None:
    bpmn = b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"/>'
    assert not is_dmn(bpmn)
    assert is_dmn(bpmn, "named.dmn")       # the file name decides when it says .dmn


# --------------------------------------------------------------------------- attacks
def test_external_entities_are_refused() -> None:
    xxe = ('<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
           + dmn(decision("d", ["x"], ["y"], [(["-"], ['"&secret;"'])])).split("?>", 1)[1])
    found = problems_of(xxe)
    assert any("DOCTYPE" in p and "DMN files need none" in p for p in found)


def test_entity_expansion_is_refused() -> None:
    bomb = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
            '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
            f'<definitions xmlns="{DMN13}"><decision id="&lol2;"/></definitions>')
    assert any("DOCTYPE" in p for p in problems_of(bomb))


def test_huge_files_are_refused_before_parsing() -> None:
    rule = '<rule id="r"><inputEntry><text>-</text></inputEntry></rule>'
    huge = dmn(decision("d", ["x"], ["y"], [])).replace("</decisionTable>",
                                                         rule * 200_000 + "</decisionTable>")
    assert len(huge) > 10 * 1024 * 1024
    assert any("MiB" in p for p in problems_of(huge))


# --------------------------------------------------------------------------- storing results
def test_map_decision_result_variants() -> None:
    table = one("d", ["x"], ["a", "b"], [(["-"], ["1", "2"]), (["> 5"], ["3", "4"])],
                hit="RULE ORDER")
    single = table.evaluate({"x": 1})
    double = table.evaluate({"x": 9})
    assert map_decision_result(single, None) == [{"a": 1, "b": 2}]
    assert map_decision_result(single, "singleResult") == {"a": 1, "b": 2}
    assert map_decision_result(single, "value") == [{"a": 1, "b": 2}]
    with pytest.raises(DecisionError, match="singleEntry expects exactly one"):
        map_decision_result(single, "singleEntry")
    with pytest.raises(DecisionError, match="2 results"):
        map_decision_result(double, "singleResult")
    with pytest.raises(DecisionError, match="not one of"):
        map_decision_result(single, "everything")
    narrow = one("n", ["x"], ["a"], [(["-"], ["1"]), (["> 5"], ["3"])], hit="COLLECT")
    assert map_decision_result(narrow.evaluate({"x": 9}), "collectEntries") == [1, 3]
    assert map_decision_result(narrow.evaluate({"x": 9}), "value") == [1, 3]


def test_spiff_updates_merge_dotted_names_without_changing_the_old_value() -> None:
    table = one("d", ["item['x']"], ["item.y", "flag"], [(["-"], ['"D"', "true"])])
    item = {"x": 7}
    updates = spiff_updates(table.evaluate({"item": item}), {"item": item})
    assert updates == {"item": {"x": 7, "y": "D"}, "flag": True}
    assert item == {"x": 7}
    multi = one("m", ["x"], ["tag"], [(["-"], ['"a"']), (["-"], ['"b"'])], hit="COLLECT")
    assert spiff_updates(multi.evaluate({"x": 1}), {}) == {"tag": ["a", "b"]}


# --------------------------------------------------------------------------- engine
def bpmn(task_attrs: str, extension: str = "", pid: str = "approve") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="defs" targetNamespace="t">
  <bpmn:process id="{pid}" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="rules"/>
    <bpmn:businessRuleTask id="rules" name="Decide" {task_attrs}>{extension}</bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="f2" sourceRef="rules" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


DISCOUNT = dmn(decision("discount", ["customer", "amount"], ["rate", "reason"], [
    (['"gold"', ">= 100"], ["0.15", '"big gold"']),
    (['"gold"', "< 100"], ["0.1", '"gold"']),
    (['not("gold")', "-"], ["0", '"standard"']),
]))


def deployed(*files: str) -> Engine:
    engine = Engine()
    engine.deploy(*[(f"file{n}.{'dmn' if 'DMN' in f else 'bpmn'}", f.encode())
                    for n, f in enumerate(files)])
    return engine


@pytest.mark.parametrize("mapping, expected", [
    ("", [{"rate": 0.15, "reason": "big gold"}]),
    ('camunda:mapDecisionResult="singleResult"', {"rate": 0.15, "reason": "big gold"}),
    ('camunda:mapDecisionResult="resultList"', [{"rate": 0.15, "reason": "big gold"}]),
])
def test_camunda_result_variable(mapping: str, expected: object) -> None:
    engine = deployed(bpmn(f'camunda:decisionRef="discount" camunda:resultVariable="offer" '
                           f"{mapping}"), DISCOUNT)
    iid = engine.start("approve", {"customer": "gold", "amount": 120})
    view = engine.instance(iid)
    assert view.status == "completed"
    assert view.variables["offer"] == expected


def test_single_entry_mapping_failure_names_task_and_decision() -> None:
    engine = deployed(bpmn('camunda:decisionRef="discount" camunda:resultVariable="offer" '
                           'camunda:mapDecisionResult="singleEntry"'), DISCOUNT)
    with pytest.raises(EngineError) as info:
        engine.start("approve", {"customer": "gold", "amount": 120})
    assert "businessRuleTask 'rules'" in str(info.value)
    assert "decision 'discount'" in str(info.value)


def test_spiff_flavour_merges_outputs_into_the_data() -> None:
    extension = ("<bpmn:extensionElements><spiffworkflow:calledDecisionId "
                 'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core">discount'
                 "</spiffworkflow:calledDecisionId></bpmn:extensionElements>")
    engine = deployed(bpmn("", extension), DISCOUNT)
    iid = engine.start("approve", {"customer": "silver", "amount": 5})
    assert engine.variables(iid) == {"customer": "silver", "amount": 5, "rate": 0,
                                     "reason": "standard"}


def test_zeebe_called_decision_stores_the_dmn_value() -> None:
    extension = ('<bpmn:extensionElements><zeebe:calledDecision decisionId="discount" '
                 'resultVariable="offer"/></bpmn:extensionElements>')
    engine = deployed(bpmn("", extension), DISCOUNT)
    iid = engine.start("approve", {"customer": "gold", "amount": 1})
    assert engine.variables(iid)["offer"] == {"rate": 0.1, "reason": "gold"}


def test_missing_decision_fails_naming_task_and_decision() -> None:
    engine = deployed(bpmn('camunda:decisionRef="nowhere"'))
    with pytest.raises(EngineError) as info:
        engine.start("approve")
    assert "businessRuleTask 'rules'" in str(info.value) and "'nowhere'" in str(info.value)
    assert engine.instances() == []


def test_evaluation_errors_fail_the_command() -> None:
    engine = deployed(bpmn('camunda:decisionRef="discount" camunda:resultVariable="x"'),
                      DISCOUNT)
    with pytest.raises(EngineError, match="decision 'discount' input 'in0'.*customer"):
        engine.start("approve", {"amount": 1})


def test_external_business_rule_tasks_stay_service_tasks() -> None:
    engine = deployed(bpmn('camunda:type="external" camunda:topic="scoring" '
                           'camunda:decisionRef="discount"'), DISCOUNT)
    iid = engine.start("approve", {"customer": "gold", "amount": 1})
    (task,) = engine.external_tasks(topic="scoring")
    assert engine.instance(iid).waiting == ["rules"]
    engine.complete_external(task.id, {"rate": 0.5})
    assert engine.instance(iid).status == "completed"
    assert engine.variables(iid)["rate"] == 0.5


def test_decisions_are_versioned_and_kept_apart_from_processes() -> None:
    engine = deployed(bpmn('camunda:decisionRef="discount" camunda:resultVariable="r" '
                           'camunda:mapDecisionResult="singleResult"'), DISCOUNT)
    assert [d.key for d in engine.definitions()] == ["approve"]
    assert [(d.key, d.version) for d in engine.decisions()] == [("discount", 1)]
    again = engine.deploy(("file1.dmn", DISCOUNT.encode()))
    assert [(d.kind, d.new) for d in again] == [("decision", False)]
    cheaper = DISCOUNT.replace("<text>0.15</text>", "<text>0.2</text>")
    (v2,) = engine.deploy(("discount.dmn", cheaper.encode()))
    assert (v2.kind, v2.version, v2.new) == ("decision", 2, True)
    iid = engine.start("approve", {"customer": "gold", "amount": 500})
    assert engine.variables(iid)["r"]["rate"] == 0.2     # the latest version is called
    with pytest.raises(NotFound, match="DMN decision, not a process"):
        engine.start("discount")
    assert engine.evaluate_decision("discount", {"customer": "x", "amount": 1}).rows[0] == {
        "rate": 0, "reason": "standard"}
    with pytest.raises(NotFound, match="no DMN decision with id 'nowhere' is deployed"):
        engine.evaluate_decision("nowhere")


def test_decision_and_process_ids_must_not_collide() -> None:
    engine = deployed(DISCOUNT)
    with pytest.raises(EngineError, match="already the id of a deployed DMN decision"):
        engine.deploy(bpmn('camunda:decisionRef="discount"', pid="discount").encode())
    engine = deployed(bpmn("", pid="discount"))
    with pytest.raises(EngineError, match="already the key of a deployed process"):
        engine.deploy(("d.dmn", DISCOUNT.encode()))


def test_an_invalid_dmn_file_stops_the_whole_deployment() -> None:
    engine = Engine()
    bad = DISCOUNT.replace("<text>&gt;= 100</text>", "<text>= 100</text>")
    with pytest.raises(DmnValidationError, match="rule 'r1'"):
        engine.deploy(bpmn('camunda:decisionRef="discount"').encode(), ("d.dmn", bad.encode()))
    assert engine.definitions() == [] and engine.decisions() == []


def test_a_restarted_engine_finds_decisions_in_the_database(tmp_path: Path) -> None:
    from engine.store import open_store

    url = f"sqlite:///{tmp_path / 'baton.db'}"
    first = Engine(store=open_store(url))
    first.deploy(bpmn('camunda:decisionRef="discount" camunda:resultVariable="r" '
                      'camunda:mapDecisionResult="singleResult"').encode(),
                 DISCOUNT.encode())      # no file names: told apart by their namespace
    first.store.close()
    second = Engine(store=open_store(url))
    iid = second.start("approve", {"customer": "gold", "amount": 50})
    assert second.variables(iid)["r"] == {"rate": 0.1, "reason": "gold"}
    assert [d.key for d in second.definitions()] == ["approve"]
    second.store.close()


# --------------------------------------------------------------------------- spiff corpus
def _manifest(path: str) -> str:
    with open(CORPUS / "MANIFEST.tsv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["path"] == path:
                return row["expected_behaviour"]
    raise AssertionError(f"{path} is not in the MANIFEST")


corpus = pytest.mark.skipif(not SPIFF.is_dir(), reason="the shared corpus is not present")


@corpus
def test_corpus_every_spiff_dmn_file_compiles_or_is_refused_with_a_reason() -> None:
    for path in sorted((CORPUS / "spiff").rglob("*.dmn")):
        try:
            decisions = compile_dmn(path.read_bytes(), filename=path.name)
        except DmnValidationError as error:
            assert path.name == "invalid_decision.dmn", str(error)
        else:
            assert decisions.decisions


@corpus
def test_corpus_exclusive_gateway_if_else_and_decision() -> None:
    expected = _manifest("spiff/camunda/data/ExclusiveGatewayIfElseAndDecision.bpmn")
    assert "{x:3, y:'A'}" in expected
    engine = Engine()
    engine.deploy(SPIFF / "ExclusiveGatewayIfElseAndDecision.bpmn",
                  SPIFF / "dmn" / "test_integer_decision.dmn")
    iid = engine.start("Process_1", {"x": 3})
    view = engine.instance(iid)
    assert view.status == "completed"
    assert view.variables == {"x": 3, "y": "A"}


@corpus
def test_corpus_integer_decision_reads_its_label_and_ranges() -> None:
    """The table's input has no expression: SpiffWorkflow reads the variable named like its
    label ('x'); rows are 3, 4, 5, >= 6."""
    decisions = compile_dmn((SPIFF / "dmn" / "test_integer_decision.dmn").read_bytes())
    table = decisions["IntegerDecisionStringOutputTable"]
    assert [table.evaluate({"x": x}).single_entry() for x in (3, 4, 5, 6, 40, 1)] == [
        "A", "B", "C", "D", "D", None]


@corpus
def test_corpus_dmn_multi_instance_evaluates_each_item() -> None:
    expected = _manifest("spiff/camunda/data/DMNMultiInstance.bpmn")
    assert "['E']['y'] == 'D'" in expected
    decisions = compile_dmn((SPIFF / "dmn" / "test_integer_decision_multi.dmn").read_bytes())
    table = decisions["IntegerDecisionStringOutputTable"]
    item = {"x": 7}
    assert spiff_updates(table.evaluate({"item": item}), {"item": item}) == {
        "item": {"x": 7, "y": "D"}}
    engine = Engine()
    engine.deploy(SPIFF / "DMNMultiInstance.bpmn", SPIFF / "dmn" / "test_integer_decision_multi.dmn")
    iid = engine.start("Process_1")
    assert engine.instance(iid).status == "completed"


@corpus
def test_corpus_dmn_multi_instance_keeps_the_collection_by_default() -> None:
    """Camunda 7's reading (the default): the element variable is local to each instance
    and never written back into camunda:collection (BPMN 2.0.2 10.3.8)."""
    engine = Engine()
    engine.deploy(SPIFF / "DMNMultiInstance.bpmn", SPIFF / "dmn" / "test_integer_decision_multi.dmn")
    iid = engine.start("Process_1")
    assert engine.instance(iid).status == "completed"
    assert "y" not in engine.variables(iid)["stuff"]["E"]


@corpus
def test_corpus_dmn_multi_instance_updates_the_collection_in_spiffworkflow_mode() -> None:
    """Deployed for SpiffWorkflow migration, each instance's decision result goes back into
    the collection, as SpiffWorkflow's Camunda dialect does."""
    engine = Engine()
    engine.deploy(SPIFF / "DMNMultiInstance.bpmn", SPIFF / "dmn" / "test_integer_decision_multi.dmn",
                  compat="spiffworkflow")
    iid = engine.start("Process_1")
    assert engine.variables(iid)["stuff"]["E"]["y"] == "D"


@corpus
def test_corpus_invalid_decision_is_refused_at_deployment() -> None:
    """SpiffWorkflow fails when the rule runs ('spam= 1' ... row 1); Baton compiles every cell
    at deployment, so the same mistake is refused before anything runs."""
    expected = _manifest("spiff/camunda/data/invalid/InvalidDecision.bpmn")
    assert "spam= 1" in expected and "row 1" in expected
    engine = Engine()
    with pytest.raises(DmnValidationError) as info:
        engine.deploy(SPIFF / "invalid" / "InvalidDecision.bpmn",
                      SPIFF / "dmn" / "invalid_decision.dmn")
    (problem,) = info.value.problems
    assert problem.element_id == "row-484867957-5" and problem.line == 16
    assert "decision 'InvalidDecisionId'" in str(problem) and "`= 1`" in str(problem)
    assert engine.definitions() == []
