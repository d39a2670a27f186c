"""From a DMN file to a `DecisionSet`: every cell compiled once, every problem reported.

Like the BPMN compiler, problems are collected, not raised one by one: each names the
decision (or the rule inside it) and the XML line, so a table with five bad cells needs one
round trip to fix. Supported: decision tables (all hit policies, aggregations, output
priorities, default outputs), literal-expression decisions, and decision requirements
(`informationRequirement/requiredDecision`) between decisions of the same file.

Expressions (input expressions, output entries, literal expressions) are FEEL, falling back
to Python for SpiffWorkflow's tables; `expressionLanguage="python"` or `"juel"` (on the
element or on `definitions`) forces that language. FEEL-looking text that indexes with `[0]`
(which FEEL, counting from 1, never means) is read as Python first. Input entries are
compiled by `engine.dmn.unary`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from lxml import etree

from engine.bpmn.errors import ProblemList, local_name
from engine.dmn.model import (
    AGGREGATIONS,
    HIT_POLICIES,
    Decision,
    DecisionSet,
    DecisionTable,
    InputClause,
    OutputClause,
    Rule,
)
from engine.dmn.parser import (
    CAMUNDA_DMN,
    DmnValidationError,
    dmn_child,
    dmn_children,
    href_id,
    parse_dmn_xml,
    text_child,
)
from engine.dmn.unary import UnaryTestError, UnaryTests, compile_unary_tests, literal_values
from engine.expressions import Expression, ExpressionError, compile_expression

_SHORT_POLICIES = {"U": "UNIQUE", "F": "FIRST", "P": "PRIORITY", "A": "ANY", "C": "COLLECT",
                   "R": "RULE ORDER", "O": "OUTPUT ORDER"}
_ZERO_INDEX = re.compile(r"\[\s*0\s*\]")


def compile_dmn(source: bytes | str, *, filename: str | None = None) -> DecisionSet:
    """Compile an uploaded DMN file; raise DmnValidationError listing every problem."""
    root = parse_dmn_xml(source, filename=filename)
    return _Compiler(filename).run(root)


def _dialect(language: str | None) -> str | None:
    """"python" or "juel" when an expressionLanguage forces one; None means FEEL first."""
    lowered = (language or "").lower()
    if "python" in lowered:
        return "python"
    if "juel" in lowered or lowered in ("el", "uel"):
        return "juel"
    return None


def _excerpt(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return f"`{flat[:limit - 3]}...`" if len(flat) > limit else f"`{flat}`"


class _Compiler:
    def __init__(self, filename: str | None) -> None:
        self.problems = ProblemList(filename)
        self.filename = filename
        self.cache: dict[tuple[Any, ...], Any] = {}   # identical cells compile once
        self.default_dialect: str | None = None

    # ------------------------------------------------------------------ file
    def run(self, root: etree._Element) -> DecisionSet:
        self.default_dialect = _dialect(root.get("expressionLanguage"))
        elements: dict[str, etree._Element] = {}
        for element in dmn_children(root, "decision"):
            decision_id = (element.get("id") or "").strip()
            if not decision_id:
                self.problems.add(element, "a decision needs an id (business rule tasks call "
                                           "decisions by id)")
            elif decision_id in elements:
                self.problems.add(element, f"another decision of this file has the id "
                                           f"'{decision_id}'")
            else:
                elements[decision_id] = element
        if not elements and not self.problems.errors:
            self.problems.add(root, "the file defines no decision")
        parts = {did: self._decision_parts(did, element) for did, element in elements.items()}
        requires = {did: self._requirements(did, element, elements)
                    for did, element in elements.items()}
        built: dict[str, Decision] = {}
        for did in elements:
            self._build(did, parts, requires, built, [])
        if self.problems.errors:
            raise DmnValidationError(self.problems.errors)
        return DecisionSet(decisions=built, name=root.get("name"),
                           namespace=root.get("namespace"),
                           warnings=tuple(str(w) for w in self.problems.warnings))

    def _build(self, did: str, parts: dict[str, dict[str, Any]],
               requires: dict[str, list[str]], built: dict[str, Decision],
               path: list[str]) -> Decision | None:
        """Decisions are immutable, so required ones are built first (depth first)."""
        if did in built:
            return built[did]
        if did in path:
            cycle = " -> ".join([*path[path.index(did):], did])
            self.problems.add(None, f"decision requirements form a cycle: {cycle}",
                              element_id=did, tag="decision")
            return None
        required = []
        for other in requires[did]:
            decision = self._build(other, parts, requires, built, [*path, did])
            if decision is not None:
                required.append(decision)
        built[did] = Decision(**parts[did], requires=tuple(required))
        return built[did]

    # ------------------------------------------------------------------ decisions
    def _decision_parts(self, did: str, element: etree._Element) -> dict[str, Any]:
        name = (element.get("name") or "").strip() or None
        variable_el = dmn_child(element, "variable")
        candidates = [variable_el.get("name") if variable_el is not None else None, name, did]
        variable = next((c.strip() for c in candidates if c and c.strip().isidentifier()), did)
        parts: dict[str, Any] = {"id": did, "name": name, "line": element.sourceline,
                                 "variable": variable}
        table = dmn_child(element, "decisionTable")
        literal = dmn_child(element, "literalExpression")
        if table is not None:
            parts["table"] = self._table(did, table)
        elif literal is not None:
            text = text_child(literal)
            if text is None:
                self.problems.add(literal, f"the literal expression of decision '{did}' is "
                                           "empty", element_id=did)
            else:
                parts["literal"] = self._expression(
                    text, literal, f"decision '{did}' literal expression", did)
        else:
            kinds = sorted({local_name(c) for c in element if isinstance(c.tag, str)}
                           - {"description", "extensionElements", "variable",
                              "informationRequirement", "knowledgeRequirement",
                              "authorityRequirement", "question", "allowedAnswers"})
            found = f" (it has {', '.join(kinds)})" if kinds else ""
            self.problems.add(element, "Baton evaluates decision tables and literal "
                                       f"expressions; this decision has neither{found}")
        return parts

    def _requirements(self, did: str, element: etree._Element,
                      elements: dict[str, etree._Element]) -> list[str]:
        out = []
        for requirement in dmn_children(element, "informationRequirement"):
            required = dmn_child(requirement, "requiredDecision")
            if required is None:
                continue  # requiredInput: an input data element, read from the variables
            target, local = href_id(required.get("href"))
            if not local:
                self.problems.add(required, f"decision '{did}' requires '{target}' from another "
                                            "file; Baton resolves requirements within one DMN "
                                            "file", element_id=did, tag="decision")
            elif target not in elements:
                self.problems.add(required, f"decision '{did}' requires decision '{target}', "
                                            "which this file does not define",
                                  element_id=did, tag="decision")
            elif target not in out:
                out.append(target)
        return out

    # ------------------------------------------------------------------ tables
    def _table(self, did: str, element: etree._Element) -> DecisionTable | None:
        errors_before = len(self.problems.errors)
        policy = self._hit_policy(did, element)
        aggregation = (element.get("aggregation") or "").strip().upper() or None
        inputs = tuple(self._input(did, i) for i in dmn_children(element, "input"))
        outputs = tuple(self._output(did, o) for o in dmn_children(element, "output"))
        if not outputs:
            self.problems.add(element, f"the decision table of decision '{did}' has no output "
                                       "column", element_id=did, tag="decision")
        names = [o.name for o in outputs]
        for name in sorted({n for n in names if names.count(n) > 1}):
            self.problems.add(element, f"decision '{did}' has two outputs named '{name}'",
                              element_id=did, tag="decision")
        if aggregation is not None:
            if aggregation not in AGGREGATIONS:
                self.problems.add(element, f"decision '{did}': aggregation '{aggregation}' is "
                                           "not one of SUM, MIN, MAX, COUNT",
                                  element_id=did, tag="decision")
            elif policy != "COLLECT":
                self.problems.add(element, f"decision '{did}': an aggregation ({aggregation}) "
                                           f"needs hit policy COLLECT, not {policy}",
                                  element_id=did, tag="decision")
            elif len(outputs) != 1:
                self.problems.add(element, f"decision '{did}': aggregation {aggregation} needs "
                                           f"exactly one output, the table has {len(outputs)}",
                                  element_id=did, tag="decision")
        if policy in ("PRIORITY", "OUTPUT ORDER") and not any(o.priorities for o in outputs):
            self.problems.add(element, f"decision '{did}': hit policy {policy} needs output "
                                       "values (outputValues) that rank the outputs",
                              element_id=did, tag="decision")
        rules = tuple(self._rule(did, r, n, inputs, outputs)
                      for n, r in enumerate(dmn_children(element, "rule"), start=1))
        self._check_inputs(did, element, inputs, rules)
        if len(self.problems.errors) > errors_before or policy is None:
            return None
        return DecisionTable(id=element.get("id"), hit_policy=policy,
                             aggregation=aggregation, inputs=inputs, outputs=outputs,
                             rules=rules)  # type: ignore[arg-type]

    def _hit_policy(self, did: str, element: etree._Element) -> str | None:
        raw = (element.get("hitPolicy") or "UNIQUE").strip().upper().replace("_", " ")
        policy = _SHORT_POLICIES.get(raw, raw)
        if policy not in HIT_POLICIES:
            self.problems.add(element, f"decision '{did}': hit policy '{raw}' is not one of "
                                       + ", ".join(HIT_POLICIES), element_id=did, tag="decision")
            return None
        return policy

    def _input(self, did: str, element: etree._Element) -> InputClause:
        input_id = element.get("id") or ""
        label = (element.get("label") or "").strip() or None
        cell_name = (element.get(f"{{{CAMUNDA_DMN}}}inputVariable") or "").strip() or "cellInput"
        expression_el = dmn_child(element, "inputExpression")
        text = text_child(expression_el)
        expression = variable = None
        if text is not None:
            expression = self._expression(text, expression_el, "input expression", did)
        elif label and label.isidentifier():
            variable = label  # SpiffWorkflow: no expression means "the variable named label"
        return InputClause(input_id, label, expression, variable, cell_name)

    def _check_inputs(self, did: str, element: etree._Element,
                      inputs: tuple[InputClause, ...], rules: tuple[Rule, ...]) -> None:
        """An input without expression is an error only if some rule tests it (a fresh
        table from a modeler has one, and no rules yet)."""
        for n, clause in enumerate(inputs):
            if clause.expression is not None or clause.variable is not None:
                continue
            tested = [r for r in rules if n < len(r.tests) and not r.tests[n].matches_anything]
            message = (f"input '{clause.label or clause.id}' of decision '{did}' has no input "
                       "expression")
            if tested:
                self.problems.add(element, f"{message}, but {tested[0].title} tests it",
                                  element_id=clause.id or did, tag="input")
            else:
                self.problems.warn(element, f"{message}; its value is null")

    def _output(self, did: str, element: etree._Element) -> OutputClause:
        output_id = element.get("id") or ""
        name = ((element.get("name") or "").strip() or (element.get("label") or "").strip()
                or output_id)
        priorities: tuple[Any, ...] = ()
        values_el = dmn_child(element, "outputValues")
        values_text = text_child(values_el)
        if values_text is not None:
            found = literal_values(values_text)
            if found is None:
                self.problems.add(values_el, f"the output values of output '{name}' in decision "
                                             f"'{did}' must be a list of literals such as "
                                             '"high","medium","low"', element_id=output_id)
            else:
                priorities = found
        default = None
        default_el = dmn_child(element, "defaultOutputEntry")
        default_text = text_child(default_el)
        if default_text is not None:
            default = self._expression(default_text, default_el, "default output entry", did)
        return OutputClause(output_id, name, priorities, default)

    # ------------------------------------------------------------------ rules
    def _rule(self, did: str, element: etree._Element, row: int,
              inputs: tuple[InputClause, ...], outputs: tuple[OutputClause, ...]) -> Rule:
        rule_id = (element.get("id") or "").strip() or f"row {row}"
        entries = list(dmn_children(element, "inputEntry"))
        results = list(dmn_children(element, "outputEntry"))
        if len(entries) != len(inputs) or len(results) != len(outputs):
            self._rule_problem(element, rule_id, did,
                               f"has {len(entries)} input and {len(results)} output entries; "
                               f"the table has {len(inputs)} inputs and {len(outputs)} outputs")
        tests: list[UnaryTests] = []
        for n, (entry, clause) in enumerate(zip(entries, inputs, strict=False), start=1):
            text = text_child(entry) or ""
            dialect = _dialect(entry.get("expressionLanguage")) or self.default_dialect
            try:
                tests.append(self._cached(("in", text, clause.cell_name, dialect), lambda t=text,
                             c=clause, d=dialect: compile_unary_tests(
                                 t, where="input entry", input_name=c.cell_name, language=d)))
            except UnaryTestError as exc:
                self._rule_problem(entry, rule_id, did, f"input entry {n} ({clause.title}) "
                                                        f"{_excerpt(text)} is refused: "
                                                        f"{exc.problem}")
        cells: list[Expression | None] = []
        for entry, clause in zip(results, outputs, strict=False):
            text = text_child(entry)
            if text is None:
                cells.append(None)
                continue
            try:
                cells.append(self._compile(text, entry, "output entry"))
            except ExpressionError as exc:
                self._rule_problem(entry, rule_id, did, f"output entry for '{clause.name}' "
                                                        f"{_excerpt(text)} is refused: "
                                                        f"{exc.problem}")
        return Rule(rule_id, row, element.sourceline, tuple(tests), tuple(cells))

    def _rule_problem(self, element: etree._Element, rule_id: str, did: str,
                      message: str) -> None:
        self.problems.add(element, f"in decision '{did}', {message}", element_id=rule_id,
                          tag="rule")

    # ------------------------------------------------------------------ expressions
    def _cached(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        if key not in self.cache:
            self.cache[key] = build()
        return self.cache[key]

    def _expression(self, text: str, element: etree._Element, where: str,
                    did: str) -> Expression | None:
        try:
            return self._compile(text, element, where)
        except ExpressionError as exc:
            self.problems.add(element, f"in decision '{did}', the {where} {_excerpt(text)} is "
                                       f"refused: {exc.problem}", element_id=did,
                              tag="decision")
            return None

    def _compile(self, text: str, element: etree._Element, where: str) -> Expression:
        dialect = _dialect(element.get("expressionLanguage")) or self.default_dialect
        return self._cached(("expr", text, dialect, where),
                            lambda: _compile_expression(text, where, dialect))


def _compile_expression(text: str, where: str, dialect: str | None) -> Expression:
    """FEEL first, then Python (SpiffWorkflow), unless a language is forced."""
    if dialect is not None:
        return compile_expression(text, where=where, language=dialect)
    if _ZERO_INDEX.search(text):
        try:
            return compile_expression(text, where=where, language="python")
        except ExpressionError:
            pass
    try:
        return compile_expression(text, where=where, language="feel")
    except ExpressionError as feel_error:
        try:
            return compile_expression(text, where=where, language="python")
        except ExpressionError as python_error:
            raise ExpressionError(
                f"it is neither FEEL ({feel_error.problem}) nor Python ({python_error.problem})",
                source=text, where=where, refused=True) from None


__all__ = ["compile_dmn"]
