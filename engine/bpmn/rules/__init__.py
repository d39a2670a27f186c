"""Named validation rules: BPMN 2.0.2 constraints that matter for execution, checked at upload.

Each rule is one function in a module by theme (`starts`, `flows`, `gateways`, `events`,
`compensation`, `links`, `activities`), declared with its `Rule` (name, severity, what it
checks, what Baton does instead, where the spec says so) by `registry.rule`. `check_process`
runs them all on one compiled process; `deployment.check_deployment` runs the rules that need
every file of a deployment. Rules checked while elements are read are listed in
`engine.bpmn.catalog`. docs/validation-rules.md is generated from `all_rules()`
(`python -m engine.bpmn.rules.docs`).

Severity: an error where Baton cannot run the model as drawn (the upload is refused), a
warning where Baton runs it with a documented fallback (the upload goes ahead, and the
deployment returns the warning; strict mode refuses it too).
"""

from __future__ import annotations

from engine.bpmn.catalog import ERROR, Rule
from engine.bpmn.rules import (  # noqa: F401  (each module registers its rules on import)
    activities,
    compensation,
    deployment,
    events,
    flows,
    gateways,
    links,
    starts,
)
from engine.bpmn.rules.model import Model
from engine.bpmn.rules.registry import CHECKS, Check, all_rules

# the order rules run and are documented in: from where a process starts to what it calls
THEMES = (starts, flows, gateways, events, compensation, links, activities)


def ordered_checks() -> list[tuple[str, Rule, Check]]:
    """(name, rule, check) of every per-process rule, theme by theme."""
    rank = {module.__name__: i for i, module in enumerate(THEMES)}
    return [(name, declared, check) for name, (declared, check)
            in sorted(CHECKS.items(), key=lambda item: rank[item[1][1].__module__])]


def check_process(model: Model) -> None:
    """Run every per-process rule, recording its findings in the file's problem list (as
    warnings only when the list is lenient: a stored definition must load)."""
    problems = model.ctx.problems
    for name, declared, check in ordered_checks():
        for finding in check(model):
            if declared.severity == ERROR and not problems.lenient:
                problems.add(finding.element, finding.message, rule=name)
            else:
                problems.warn(finding.element, finding.message, rule=name)


__all__ = ["THEMES", "Model", "all_rules", "check_process", "ordered_checks"]
