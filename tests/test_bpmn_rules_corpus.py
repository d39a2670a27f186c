"""The named graph rules against the shared corpus (../shared/corpus): what they say about
real diagrams from six modelling tools, SpiffWorkflow and Camunda 7.

The rules of issue 12 refuse no MIWG file or executable corpus file that compiled before;
they changed two outcomes, both listed below: exclusive gateways with several flows without
condition are a warning now (Baton takes the first in document order, as Camunda 7 does), so
the files refused for that alone compile, and SpiffWorkflow's `invalid_cancel.bpmn` (a cancel
boundary event on a user task, which SpiffWorkflow refuses too) is refused. Every warning of
a graph rule on a corpus file is listed here, so a rule that starts saying more (or less)
about real diagrams shows up in review.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from engine.bpmn import BpmnValidationError, compile_bpmn
from engine.bpmn.rules import ordered_checks

CORPUS = Path(__file__).parents[1] / ".." / "shared" / "corpus"
MISSING = f"the shared corpus is not at {CORPUS.resolve()} (it ships beside the repository)"

# path -> {rule: number of warnings}, for every corpus file that compiles with a warning of a
# graph rule (engine.bpmn.rules)
WARNINGS: dict[str, dict[str, int]] = {
    "camunda/async/AsyncTaskTest.testAsyncScript.bpmn20.xml": {"receive-task-message": 1},
    "camunda/event/compensate/CompensateEventTest.testCompensateActivityInSubprocess.bpmn20.xml": {"receive-task-message": 2},
    "camunda/event/link/LinkEventTest.testValidEventLink.bpmn20.xml": {"receive-task-message": 2},
    "camunda/gateway/InclusiveGatewayTest.testMergingInclusiveGateway.bpmn20.xml": {"condition-on-event-flow": 1},
    "camunda/sequenceflow/ConditionalSequenceFlowTest.testUelExpression.bpmn20.xml": {"condition-on-event-flow": 1},
    "camunda/sequenceflow/DefaultSequenceFlowTest.testDefaultSequenceFlowOnTask.bpmn20.xml": {"receive-task-message": 3},
    "camunda/subprocess/transaction/TransactionSubProcessTest.testSimpleCase.bpmn20.xml": {"receive-task-message": 2},
    "miwg/adonis-17.0/B.1.0-export.bpmn": {"exclusive-gateway-unconditioned": 2},
    "miwg/adonis-17.0/C.5.0-export.bpmn": {"exclusive-gateway-unconditioned": 6},
    "miwg/aris-10.2025.07/A.2.0-export.bpmn": {"exclusive-gateway-unconditioned": 1},
    "miwg/aris-10.2025.07/A.2.1-export.bpmn": {"default-flow-never-taken": 3, "exclusive-gateway-unconditioned": 1},
    "miwg/aris-10.2025.07/C.1.1-export.bpmn": {"exclusive-gateway-unconditioned": 2},
    "miwg/aris-10.2025.07/C.2.0-export.bpmn": {"exclusive-gateway-unconditioned": 3, "throw-without-code": 1},
    "miwg/aris-10.2025.07/C.5.0-export.bpmn": {"exclusive-gateway-unconditioned": 6},
    "miwg/bpmn-io-camunda-modeler-18.6.1/A.2.1-export.bpmn": {"default-flow-never-taken": 1, "exclusive-gateway-unconditioned": 1},
    "miwg/bpmn-io-camunda-modeler-18.6.1/C.1.1-export.bpmn": {"exclusive-gateway-unconditioned": 2},
    "miwg/bpmn-io-camunda-modeler-18.6.1/C.2.0-export.bpmn": {"exclusive-gateway-unconditioned": 3, "throw-without-code": 1},
    "miwg/omnitracker-bpmn-12.3/A.2.0-export.bpmn": {"exclusive-gateway-unconditioned": 1},
    "miwg/omnitracker-bpmn-12.3/A.2.1-export.bpmn": {"default-flow-never-taken": 1, "exclusive-gateway-unconditioned": 1},
    "miwg/omnitracker-bpmn-12.3/C.2.0-export.bpmn": {"exclusive-gateway-unconditioned": 3, "throw-without-code": 1},
    "miwg/omnitracker-bpmn-12.3/C.5.0-export.bpmn": {"exclusive-gateway-unconditioned": 6},
    "miwg/reference/C.5.0.bpmn": {"exclusive-gateway-unconditioned": 6},
    "miwg/trisotech-workflow-modeler-12.6.3/A.2.0-export.bpmn": {"exclusive-gateway-unconditioned": 1},
    "miwg/trisotech-workflow-modeler-12.6.3/A.2.1-export.bpmn": {"default-flow-never-taken": 1, "exclusive-gateway-unconditioned": 1},
    "miwg/trisotech-workflow-modeler-12.6.3/C.1.1-export.bpmn": {"exclusive-gateway-unconditioned": 2},
    "miwg/trisotech-workflow-modeler-12.6.3/C.2.0-export.bpmn": {"exclusive-gateway-unconditioned": 3, "throw-without-code": 1},
    "spiff/bpmn/data/Invalid-Workflows/No-Start-Event.bpmn20.xml": {"process-implicit-start": 1},
    # compiles since its signal boundary events without signalRef or name are a warning
    # (signal-catch-unnamed): they never fire, and lead nowhere either
    "spiff/bpmn/data/boundary_event_split.bpmn": {"boundary-outgoing": 2},
    "spiff/bpmn/data/Test-Workflows/Action-Management.bpmn20.xml": {"exclusive-gateway-unconditioned": 2},
    "spiff/bpmn/data/Test-Workflows/Parallel-Join-Long.bpmn20.xml": {"exclusive-gateway-unconditioned": 2},
    "spiff/bpmn/data/Test-Workflows/Parallel-Looping-After-Join.bpmn20.xml": {"exclusive-gateway-unconditioned": 1},
    "spiff/bpmn/data/Test-Workflows/Parallel-Multiple-Splits.bpmn20.xml": {"exclusive-gateway-unconditioned": 3},
    "spiff/bpmn/data/Test-Workflows/Test-Workflows.bpmn20.xml": {"exclusive-gateway-unconditioned": 1},
    "spiff/bpmn/data/transaction.bpmn": {"throw-without-code": 1},
}

# refused before issue 12 only because of exclusive gateways with several flows without
# condition; they compile now, with exclusive-gateway-unconditioned warnings
NOW_COMPILE = (
    "miwg/adonis-17.0/C.5.0-export.bpmn",
    "miwg/aris-10.2025.07/A.2.0-export.bpmn",
    "miwg/aris-10.2025.07/C.1.1-export.bpmn",
    "miwg/aris-10.2025.07/C.2.0-export.bpmn",
    "miwg/aris-10.2025.07/C.5.0-export.bpmn",
    "miwg/bpmn-io-camunda-modeler-18.6.1/C.1.1-export.bpmn",
    "miwg/omnitracker-bpmn-12.3/A.2.0-export.bpmn",
    "miwg/omnitracker-bpmn-12.3/C.2.0-export.bpmn",
    "miwg/omnitracker-bpmn-12.3/C.5.0-export.bpmn",
    "miwg/reference/C.5.0.bpmn",
    "miwg/trisotech-workflow-modeler-12.6.3/A.2.0-export.bpmn",
    "miwg/trisotech-workflow-modeler-12.6.3/C.1.1-export.bpmn",
    "miwg/trisotech-workflow-modeler-12.6.3/C.2.0-export.bpmn",
    "spiff/bpmn/data/Test-Workflows/Action-Management.bpmn20.xml",
    "spiff/bpmn/data/Test-Workflows/Parallel-Join-Long.bpmn20.xml",
    "spiff/bpmn/data/Test-Workflows/Parallel-Looping-After-Join.bpmn20.xml",
    "spiff/bpmn/data/Test-Workflows/Parallel-Multiple-Splits.bpmn20.xml",
    "spiff/bpmn/data/Test-Workflows/Test-Workflows.bpmn20.xml",
)
# compiled before issue 12 and refused now (not executable in the MANIFEST: a negative test)
NOW_REFUSED = {
    "spiff/bpmn/data/invalid_cancel.bpmn": "cancel-boundary-transaction",
}

_RULE = re.compile(r"\[([a-z-]+)\]$")


def _corpus_files() -> list[str]:
    if not CORPUS.is_dir():
        return []
    return sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*")
                  if p.is_file() and p.suffix.lower() in (".bpmn", ".xml")
                  and "licenses" not in p.parts)


def _graph_rule_warnings(path: str) -> dict[str, int] | None:
    """None when the file is refused."""
    graph_rules = {name for name, _, _ in ordered_checks()}
    try:
        definitions = compile_bpmn(CORPUS / path)
    except BpmnValidationError:
        return None
    found = Counter(m.group(1) for w in definitions.warnings if (m := _RULE.search(w))
                    and m.group(1) in graph_rules)
    return dict(sorted(found.items()))


def corpus_warnings() -> dict[str, dict[str, int]]:
    found = {}
    for path in _corpus_files():
        warnings = _graph_rule_warnings(path)
        if warnings:
            found[path] = warnings
    return found


def test_graph_rule_warnings_on_the_corpus_are_the_listed_ones() -> None:
    if not CORPUS.is_dir():
        pytest.skip(MISSING)
    assert corpus_warnings() == WARNINGS, (
        "the graph rules say something else about the corpus: review the difference, then "
        "print the new table with `.venv/bin/python -m tests.test_bpmn_rules_corpus`")


if __name__ == "__main__":
    for path, warnings in corpus_warnings().items():
        print(f"    {path!r}: {warnings!r},".replace("'", '"'))


@pytest.mark.parametrize("path", NOW_COMPILE)
def test_files_refused_only_for_ambiguous_exclusive_gateways_now_compile(path: str) -> None:
    if not CORPUS.is_dir():
        pytest.skip(MISSING)
    warnings = _graph_rule_warnings(path)
    assert warnings is not None and warnings.get("exclusive-gateway-unconditioned")


@pytest.mark.parametrize("path", sorted(NOW_REFUSED))
def test_files_newly_refused_break_the_listed_rule(path: str) -> None:
    if not CORPUS.is_dir():
        pytest.skip(MISSING)
    with pytest.raises(BpmnValidationError) as info:
        compile_bpmn(CORPUS / path)
    assert NOW_REFUSED[path] in {p.rule for p in info.value.problems}
