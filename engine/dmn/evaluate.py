"""Evaluating a decision: input values, matching rules, the hit policy, the result.

Hit policies (DMN 1.3, 8.2.11): UNIQUE (the default; two matching rules are an error),
FIRST (the first match in rule order), PRIORITY (the match whose outputs come first in the
outputs' `outputValues` lists), ANY (several matches must agree), COLLECT (every match; with
`aggregation` SUM, MIN, MAX or COUNT of the single output), RULE ORDER (every match, in rule
order) and OUTPUT ORDER (every match, by output priority). Nulls are left out of SUM, MIN,
MAX and COUNT, as Camunda does. When no rule matches and outputs have a
`defaultOutputEntry`, the defaults are the one result.

A result is a list of rows, one dict per matched rule (output name -> value). How a process
stores it is the business rule task's choice: `map_decision_result` implements Camunda 7's
`camunda:mapDecisionResult` for a `camunda:resultVariable`, `spiff_updates` SpiffWorkflow's
habit of merging the outputs into the task data when there is no result variable.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.dmn.unary import same
from engine.expressions import ExpressionError

if TYPE_CHECKING:
    from engine.dmn.model import Decision, DecisionTable, Rule

MAP_DECISION_RESULTS = ("singleEntry", "singleResult", "collectEntries", "resultList")


class DecisionError(ValueError):
    """A decision that cannot decide (failed expression, hit policy violated, a result that
    does not fit its mapping). `decision_id`/`rule_id` say where, when known."""

    def __init__(self, message: str, decision_id: str | None = None,
                 rule_id: str | None = None) -> None:
        super().__init__(message)
        self.decision_id = decision_id
        self.rule_id = rule_id

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.decision_id, self.rule_id))


@dataclass(frozen=True, slots=True)
class DecisionResult:
    """What a decision returned: `rows` (output name -> value, one per matched rule),
    `single` for single-hit tables, aggregations and literal expressions, and the ids of
    the matched rules."""

    decision_id: str
    rows: tuple[dict[str, Any], ...]
    single: bool
    rules: tuple[str, ...] = ()

    def value(self) -> Any:
        """The decision's value as DMN defines it, seen by decisions that require it: one
        output -> its value; several -> a dict; a multi-hit table -> a list of those."""
        def one(row: dict[str, Any]) -> Any:
            return next(iter(row.values())) if len(row) == 1 else dict(row)

        if self.single:
            return one(self.rows[0]) if self.rows else None
        return [one(row) for row in self.rows]

    def result_list(self) -> list[dict[str, Any]]:
        return [dict(row) for row in self.rows]

    def single_result(self) -> dict[str, Any] | None:
        if len(self.rows) > 1:
            raise DecisionError(f"decision '{self.decision_id}' has {len(self.rows)} results "
                                "(matched rules " + _ids(self.rules) + "), singleResult "
                                "expects at most one", self.decision_id)
        return dict(self.rows[0]) if self.rows else None

    def single_entry(self) -> Any:
        row = self.single_result()
        if row is None:
            return None
        if len(row) != 1:
            raise DecisionError(f"decision '{self.decision_id}' has {len(row)} outputs, "
                                "singleEntry expects exactly one", self.decision_id)
        return next(iter(row.values()))

    def collect_entries(self) -> list[Any]:
        out = []
        for row in self.rows:
            if len(row) != 1:
                raise DecisionError(f"decision '{self.decision_id}' has {len(row)} outputs, "
                                    "collectEntries expects exactly one", self.decision_id)
            out.append(next(iter(row.values())))
        return out


def _ids(ids: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"'{i}'" for i in ids)


# --------------------------------------------------------------------------- decisions
def evaluate_decision(decision: Decision, variables: Mapping[str, Any],
                      done: dict[str, DecisionResult] | None = None) -> DecisionResult:
    """Evaluate `decision`, its required decisions first (each once per evaluation)."""
    done = {} if done is None else done
    known = done.get(decision.id)
    if known is not None:
        return known
    scope: Mapping[str, Any] = variables
    if decision.requires:
        required = {}
        for other in decision.requires:
            required[other.variable] = evaluate_decision(other, variables, done).value()
        scope = ChainMap(required, variables)  # type: ignore[arg-type]
    if decision.table is not None:
        result = _evaluate_table(decision, decision.table, scope)
    else:
        assert decision.literal is not None
        try:
            value = decision.literal.evaluate(scope)
        except ExpressionError as exc:
            raise DecisionError(f"{decision.title}: {exc}", decision.id) from exc
        result = DecisionResult(decision.id, ({decision.variable: value},), True)
    done[decision.id] = result
    return result


def _input_values(decision: Decision, table: DecisionTable,
                  scope: Mapping[str, Any]) -> list[Any]:
    values = []
    for clause in table.inputs:
        if clause.expression is not None:
            try:
                values.append(clause.expression.evaluate(scope))
            except ExpressionError as exc:
                raise DecisionError(f"{decision.title} {clause.title}: {exc}",
                                    decision.id) from exc
        elif clause.variable is not None:
            if clause.variable not in scope:
                raise DecisionError(f"{decision.title} {clause.title}: no variable named "
                                    f"'{clause.variable}' is set", decision.id)
            values.append(scope[clause.variable])
        else:
            values.append(None)
    return values


def _matches(decision: Decision, table: DecisionTable, rule: Rule, values: list[Any],
             scope: Mapping[str, Any]) -> bool:
    for test, value, clause in zip(rule.tests, values, table.inputs, strict=True):
        try:
            if not test.matches(value, scope):
                return False
        except ExpressionError as exc:
            raise DecisionError(f"{decision.title} {rule.title} {clause.title}: {exc}",
                                decision.id, rule.id) from exc
    return True


def _outputs(decision: Decision, table: DecisionTable, rule: Rule,
             scope: Mapping[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for expression, clause in zip(rule.outputs, table.outputs, strict=True):
        try:
            row[clause.name] = None if expression is None else expression.evaluate(scope)
        except ExpressionError as exc:
            raise DecisionError(f"{decision.title} {rule.title} output '{clause.name}': {exc}",
                                decision.id, rule.id) from exc
    return row


def _evaluate_table(decision: Decision, table: DecisionTable,
                    scope: Mapping[str, Any]) -> DecisionResult:
    values = _input_values(decision, table, scope)
    policy = table.hit_policy
    matched: list[Rule] = []
    for rule in table.rules:
        if _matches(decision, table, rule, values, scope):
            matched.append(rule)
            if policy == "FIRST":
                break
    if policy == "UNIQUE" and len(matched) > 1:
        raise DecisionError(
            f"{decision.title} has hit policy UNIQUE but {len(matched)} rules match: "
            + ", ".join(r.title for r in matched)
            + "; make the rules exclusive or choose another hit policy (FIRST, PRIORITY, "
              "COLLECT, ...)", decision.id, matched[1].id)
    rows = [_outputs(decision, table, rule, scope) for rule in matched]
    if not rows:
        return _defaults(decision, table, scope)
    if policy == "ANY":
        for rule, row in zip(matched[1:], rows[1:], strict=True):
            if not _same_row(row, rows[0]):
                raise DecisionError(
                    f"{decision.title} has hit policy ANY but {matched[0].title} and "
                    f"{rule.title} match with different outputs", decision.id, rule.id)
    if policy in ("PRIORITY", "OUTPUT ORDER"):
        order = sorted(range(len(rows)), key=lambda i: _priority(table, rows[i]))
        matched = [matched[i] for i in order]
        rows = [rows[i] for i in order]
    ids = tuple(r.id for r in matched)
    if policy in ("UNIQUE", "FIRST", "PRIORITY", "ANY"):
        return DecisionResult(decision.id, (rows[0],), True, ids[:1])
    if table.aggregation is not None:
        return DecisionResult(decision.id, _aggregate(decision, table, rows), True, ids)
    return DecisionResult(decision.id, tuple(rows), False, ids)


def _same_row(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)


def _priority(table: DecisionTable, row: dict[str, Any]) -> tuple[int, ...]:
    key = []
    for clause in table.outputs:
        if clause.priorities:
            value = row.get(clause.name)
            rank = next((i for i, p in enumerate(clause.priorities) if same(value, p)),
                        len(clause.priorities))
            key.append(rank)
    return tuple(key)


def _defaults(decision: Decision, table: DecisionTable,
              scope: Mapping[str, Any]) -> DecisionResult:
    if table.aggregation == "COUNT":
        return DecisionResult(decision.id, ({table.outputs[0].name: 0},), True)
    if not any(clause.default is not None for clause in table.outputs):
        return DecisionResult(decision.id, (), table.single_hit)
    row: dict[str, Any] = {}
    for clause in table.outputs:
        try:
            row[clause.name] = None if clause.default is None else clause.default.evaluate(scope)
        except ExpressionError as exc:
            raise DecisionError(f"{decision.title} default output '{clause.name}': {exc}",
                                decision.id) from exc
    return DecisionResult(decision.id, (row,), table.single_hit)


def _aggregate(decision: Decision, table: DecisionTable,
               rows: list[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    name = table.outputs[0].name
    values = [row[name] for row in rows if row[name] is not None]
    how = table.aggregation
    if how == "COUNT":
        return ({name: len(values)},)
    if not values:
        return ()
    try:
        if how == "SUM":
            if any(isinstance(v, bool) or not isinstance(v, int | float) for v in values):
                raise TypeError("SUM needs numbers")
            total: Any = sum(values)
        elif how == "MIN":
            total = min(values)
        else:
            total = max(values)
    except TypeError as exc:
        shown = ", ".join(repr(v)[:40] for v in values[:5])
        raise DecisionError(f"{decision.title}: cannot aggregate ({how}) the values {shown}: "
                            f"{exc}", decision.id) from exc
    return ({name: total},)


# --------------------------------------------------------------------------- storing results
def map_decision_result(result: DecisionResult, mapping: str | None) -> Any:
    """Camunda 7's camunda:mapDecisionResult: what a camunda:resultVariable receives.

    singleEntry (one value), singleResult (one dict), collectEntries (a list of values) or
    resultList (a list of dicts; the default); "value" is Zeebe's zeebe:calledDecision
    resultVariable: the DMN value (see DecisionResult.value)."""
    how = (mapping or "resultList").strip()
    if how == "singleEntry":
        return result.single_entry()
    if how == "singleResult":
        return result.single_result()
    if how == "collectEntries":
        return result.collect_entries()
    if how == "resultList":
        return result.result_list()
    if how == "value":
        return result.value()
    raise DecisionError(f"camunda:mapDecisionResult '{how}' is not one of "
                        + ", ".join(MAP_DECISION_RESULTS), result.decision_id)


def spiff_updates(result: DecisionResult, current: Mapping[str, Any]) -> dict[str, Any]:
    """SpiffWorkflow's rule without a result variable: the outputs are merged into the task
    data. A single-hit result's outputs become variables; a multi-hit result gives each
    output the list of its values. A dotted output name (`item.y`) sets a key inside the
    dict variable `item`. Returns the top-level variables to set (new dicts: the current
    values are never changed in place)."""
    if result.single:
        flat: dict[str, Any] = dict(result.rows[0]) if result.rows else {}
    else:
        flat = {}
        for row in result.rows:
            for key, value in row.items():
                flat.setdefault(key, []).append(value)
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        parts = [p for p in key.split(".") if p] or [key]
        target = nested
        for part in parts[:-1]:
            existing = target.get(part)
            if not isinstance(existing, dict):
                existing = target[part] = {}
            target = existing
        target[parts[-1]] = value
    return {name: _deep_merge(current.get(name), value) for name, value in nested.items()}


def _deep_merge(old: Any, new: Any) -> Any:
    if not (isinstance(old, Mapping) and isinstance(new, dict)):
        return new
    merged = dict(old)
    for key, value in new.items():
        merged[key] = _deep_merge(merged.get(key), value)
    return merged


__all__ = ["MAP_DECISION_RESULTS", "DecisionError", "DecisionResult", "evaluate_decision",
           "map_decision_result", "spiff_updates"]
