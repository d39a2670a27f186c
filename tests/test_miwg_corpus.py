"""The parser against real diagrams from other tools and engines (../shared/corpus).

- Every MIWG file (six modelling tools plus the reference models) either compiles or is
  refused for the reasons listed for it in `tests/miwg_refusals.py` (`MIWG_REFUSALS`): a
  correct refusal (the file is a drawing, not an executable model, or is broken) or a
  documented gap of Baton; each problem is checked against what the file contains.
- Every file the MANIFEST marks executable=yes (SpiffWorkflow and Camunda 7 test diagrams)
  compiles, except the explicit allow-list below of files Baton refuses on purpose.
- No corpus file at all makes the compiler crash.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from engine.bpmn import BpmnValidationError, compile_bpmn
from tests.miwg_refusals import MIWG_REFUSALS, REASONS, classify, parse

SHARED = Path(__file__).parents[1] / ".." / "shared"
CORPUS = SHARED / "corpus"
MISSING = f"the shared corpus is not at {CORPUS.resolve()} (it ships beside the repository)"

# Executable corpus files Baton refuses on purpose: path -> (text expected in the problems,
# why). Anything not listed must compile; anything listed must still be refused, so the list
# shrinks as soon as Baton learns something new.
EXPECTED_REFUSALS: dict[str, tuple[str, str]] = {
    # --- Python scripts using what the sandbox forbids (attribute assignment)
    "spiff/bpmn/data/Test-Workflows/Scripts.bpmn20.xml": (
        "priority = 'Emergency'",
        "assigns attributes in scripts, has the Python-invalid condition `priority = "
        "'Emergency'` and relies on SpiffWorkflow's test-only `choice` convention"),
    # (SpiffWorkflow's Test-Workflows with several unconditioned exclusive flows, meant for
    # its `choice` test convention, now compile: Baton takes the first in document order, as
    # Camunda 7 does, and warns - tests/test_bpmn_rules_corpus.py lists those warnings.)
    # (Parallel-Many-Threads-At-Same-Point-Nested compiles: its call activities without
    # calledElement call the process their Signavio metadata `entry` names.)
    # (boundary_event_split, SpiffWorkflow's parse-only test with signal boundary events that
    # have neither signalRef nor name, compiles: such a catch event is a warning,
    # signal-catch-unnamed - no signal can reach it.)
}


def _manifest() -> list[dict[str, str]]:
    with open(CORPUS / "MANIFEST.tsv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _params(paths: list[str]) -> list:
    if not CORPUS.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=MISSING), id="no-corpus")]
    return [pytest.param(path, id=path) for path in paths]


def _miwg_files() -> list[str]:
    if not CORPUS.is_dir():
        return []
    return sorted(str(p.relative_to(CORPUS)) for p in (CORPUS / "miwg").rglob("*") if p.is_file())


def _executable_files() -> list[str]:
    if not CORPUS.is_dir():
        return []
    return [row["path"] for row in _manifest() if row["executable"] == "yes"]


def _bpmn_files() -> list[str]:
    if not CORPUS.is_dir():
        return []
    return [row["path"] for row in _manifest() if not row["path"].endswith(".dmn")]


def _refusal_is_explained(error: BpmnValidationError) -> None:
    assert error.problems, "a refusal must list at least one problem"
    for problem in error.problems:
        assert problem.element_id or problem.line, f"problem names no element or line: {problem}"
        text = str(problem)
        assert problem.message in text
        assert (problem.element_id and f"'{problem.element_id}'" in text) or (
            f"(line {problem.line})" in text)


@pytest.mark.parametrize("path", _params(_miwg_files()))
def test_miwg_file_compiles_or_is_refused_for_its_listed_reasons(path):
    """Each MIWG file compiles, or is refused for exactly the reasons MIWG_REFUSALS lists
    for it: every problem is explained by one of them (rule, wording and what the file
    contains at that element), and every listed reason still shows. A file that starts to
    compile, or is refused for something new, fails here until the table says so."""
    expected = MIWG_REFUSALS.get(path, ())
    try:
        definitions = compile_bpmn(CORPUS / path)
    except BpmnValidationError as error:
        _refusal_is_explained(error)
        if not expected:
            pytest.fail(f"{path} is refused but MIWG_REFUSALS does not list it:\n{error}")
        xml = parse(CORPUS / path)
        seen: set[str] = set()
        for problem in error.problems:
            reason = classify(problem, xml)     # rule, wording and the file's content
            assert reason in expected, (
                f"refused for {reason!r}, which MIWG_REFUSALS does not list for {path}: "
                f"{problem}")
            seen.add(reason)
        assert seen == set(expected), f"listed but no longer seen: {set(expected) - seen}"
        return
    assert not expected, (f"{path} compiles now: remove it from MIWG_REFUSALS (it was "
                          f"refused for {', '.join(expected)})")
    assert any(graph.nodes for graph in definitions.processes.values())


def test_the_miwg_refusal_table_is_current():
    """The table names only MIWG files and known reasons, and every reason is used: a
    stale row or a reason nobody needs fails here rather than lingering."""
    if not CORPUS.is_dir():
        pytest.skip(MISSING)
    files = set(_miwg_files())
    assert set(MIWG_REFUSALS) <= files
    used = {reason for reasons in MIWG_REFUSALS.values() for reason in reasons}
    assert used == set(REASONS)
    assert all(REASONS[r].kind in ("correct", "gap") for r in used)


@pytest.mark.parametrize("path", _params(_executable_files()))
def test_executable_corpus_files_compile(path):
    expected = EXPECTED_REFUSALS.get(path)
    if expected is None:
        definitions = compile_bpmn(CORPUS / path)
        assert any(graph.executable and graph.nodes for graph in definitions.processes.values())
        return
    fragment, reason = expected
    with pytest.raises(BpmnValidationError) as info:
        compile_bpmn(CORPUS / path)
    _refusal_is_explained(info.value)
    assert fragment in str(info.value), f"refused for another reason than {reason!r}"


@pytest.mark.parametrize("path", _params(_bpmn_files()))
def test_no_corpus_file_crashes_the_compiler(path):
    try:
        compile_bpmn(CORPUS / path)
    except BpmnValidationError as error:
        _refusal_is_explained(error)


def test_the_allow_list_only_names_executable_corpus_files():
    if not CORPUS.is_dir():
        pytest.skip(MISSING)
    executable = set(_executable_files())
    assert len(executable) == 189                  # the MANIFEST's executable rows
    assert set(EXPECTED_REFUSALS) <= executable
    # "nearly all": keep refusals a small minority of the executable corpus
    assert len(EXPECTED_REFUSALS) <= len(executable) // 8


@pytest.mark.parametrize("tool", ["aris-10.2025.07", "omnitracker-bpmn-12.3",
                                  "trisotech-workflow-modeler-12.6.3"])
def test_four_tools_drawing_miwg_a21_compile_to_the_same_graph(tool):
    """Interchange: each tool's export of A.2.1 gives bpmn.io's graph (same nodes, same flows
    between them), whatever the prefixes, ids and element order of the file."""
    if not CORPUS.is_dir():
        pytest.skip(MISSING)

    def structure(relative: str):
        [graph] = compile_bpmn(CORPUS / "miwg" / relative).processes.values()

        def label(index: int) -> tuple[str, str]:
            node = graph.nodes[index]
            return node.kind, " ".join((node.name or "").split())

        flows = sorted((label(flow.source), label(flow.target)) for flow in graph.flows)
        return sorted(label(node.index) for node in graph.nodes), flows

    assert structure(f"{tool}/A.2.1-export.bpmn") == structure(
        "bpmn-io-camunda-modeler-18.6.1/A.2.1-export.bpmn")
