"""How a rule is declared: a check function with its `Rule`, registered by a decorator.

A check takes the `Model` of one process and yields `Finding`s (the XML element at fault and
one sentence); the runner records each with the rule's name and severity. Declaring the rule
where it is checked keeps the documentation table (docs/validation-rules.md, generated from
`all_rules()`) from drifting away from what the code does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, NamedTuple

from lxml import etree

from engine.bpmn.catalog import READER_RULES, Rule

if TYPE_CHECKING:
    from engine.bpmn.rules.model import Model


class Finding(NamedTuple):
    """One breach of a rule: the element to name (its tag, id and line) and the sentence."""

    element: etree._Element
    message: str


Check = Callable[["Model"], Iterable[Finding]]

# rule name -> (rule, check), in the order checks run (module import order, then definition)
CHECKS: dict[str, tuple[Rule, Check]] = {}
# rules checked across the files of one deployment (engine.bpmn.rules.deployment)
DEPLOYMENT_RULES: dict[str, Rule] = {}


def rule(name: str, severity: str, *, applies_to: str, constraint: str, spec: str,
         instead: str | None = None) -> Callable[[Check], Check]:
    """Register the decorated function as the check of a new rule."""
    declared = Rule(name=name, severity=severity, applies_to=applies_to, constraint=constraint,
                    spec=spec, instead=instead)

    def register(check: Check) -> Check:
        _unique(name)
        CHECKS[name] = (declared, check)
        return check

    return register


def deployment_rule(declared: Rule) -> Rule:
    """Register a rule checked across a deployment (it has no per-process check)."""
    _unique(declared.name)
    DEPLOYMENT_RULES[declared.name] = declared
    return declared


def _unique(name: str) -> None:
    if name in CHECKS or name in DEPLOYMENT_RULES or any(r.name == name for r in READER_RULES):
        raise ValueError(f"validation rule '{name}' is declared twice")


def all_rules() -> tuple[Rule, ...]:
    """Every rule Baton checks: reader-side, per process, per deployment (import
    engine.bpmn.rules first so that every check module has registered)."""
    return (*READER_RULES, *(r for r, _ in CHECKS.values()), *DEPLOYMENT_RULES.values())


__all__ = ["CHECKS", "DEPLOYMENT_RULES", "Check", "Finding", "all_rules", "deployment_rule",
           "rule"]
