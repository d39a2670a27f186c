"""Compiled DMN decisions: immutable, shareable between threads, evaluated many times.

`compile_dmn` (engine/dmn/compiler.py) builds these once per deployed file; a process's
business rule task finds its `Decision` by id and calls `evaluate(variables)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from engine.dmn.evaluate import DecisionResult, evaluate_decision
from engine.dmn.unary import UnaryTests
from engine.expressions import Expression

HIT_POLICIES = ("UNIQUE", "FIRST", "PRIORITY", "ANY", "COLLECT", "RULE ORDER", "OUTPUT ORDER")
AGGREGATIONS = ("SUM", "MIN", "MAX", "COUNT")
SINGLE_HIT = frozenset({"UNIQUE", "FIRST", "PRIORITY", "ANY"})


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class InputClause:
    id: str
    label: str | None
    expression: Expression | None    # None: the input is the variable named `variable`
    variable: str | None             # SpiffWorkflow: an empty inputExpression reads its label
    cell_name: str                   # the name cells may use for the value (besides `?`)

    @property
    def title(self) -> str:
        return f"input '{self.label or self.id}'"


@dataclass(frozen=True, slots=True)
class OutputClause:
    id: str
    name: str                        # the result key: name, else label, else id
    priorities: tuple[Any, ...] = () # outputValues: first = highest priority
    default: Expression | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    row: int                         # 1-based, as modelers number rows
    line: int | None
    tests: tuple[UnaryTests, ...]
    outputs: tuple[Expression | None, ...]   # None: an empty cell (null)

    @property
    def title(self) -> str:
        return f"rule '{self.id}' (row {self.row})"


@dataclass(frozen=True, slots=True)
class DecisionTable:
    id: str | None
    hit_policy: str                  # one of HIT_POLICIES
    aggregation: str | None          # COLLECT only: one of AGGREGATIONS
    inputs: tuple[InputClause, ...]
    outputs: tuple[OutputClause, ...]
    rules: tuple[Rule, ...]

    @property
    def single_hit(self) -> bool:
        return self.hit_policy in SINGLE_HIT or self.aggregation is not None


@dataclass(frozen=True, slots=True)
class Decision:
    """One decision: a decision table or a literal expression, plus the decisions it
    requires (evaluated first; their values are visible under their variable names)."""

    id: str
    name: str | None
    line: int | None
    variable: str                    # the name its value has for decisions requiring it
    table: DecisionTable | None = None
    literal: Expression | None = None
    requires: tuple[Decision, ...] = ()

    @property
    def title(self) -> str:
        return f"decision '{self.id}'"

    def evaluate(self, variables: Mapping[str, Any]) -> DecisionResult:
        """Evaluate with the given variables; raises DecisionError (naming the decision and,
        when known, the rule) when the table cannot decide."""
        return evaluate_decision(self, variables)


@dataclass(frozen=True, slots=True)
class DecisionSet:
    """One compiled DMN file: its decisions by id."""

    decisions: Mapping[str, Decision] = field(default_factory=_empty)
    name: str | None = None
    namespace: str | None = None
    warnings: tuple[str, ...] = ()

    def __getitem__(self, decision_id: str) -> Decision:
        return self.decisions[decision_id]

    def __contains__(self, decision_id: object) -> bool:
        return decision_id in self.decisions

    def evaluate(self, decision_id: str, variables: Mapping[str, Any]) -> DecisionResult:
        return self.decisions[decision_id].evaluate(variables)


__all__ = ["AGGREGATIONS", "HIT_POLICIES", "Decision", "DecisionSet", "DecisionTable",
           "InputClause", "OutputClause", "Rule"]
