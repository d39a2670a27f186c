"""Why Baton refuses each MIWG corpus file it refuses, checked against the file.

The MIWG test suite (../shared/corpus/miwg) is interchange material: most files are
drawings (isExecutable="false", timers without a time, call activities without a called
element), which Baton must refuse, and a few are executable models using what Baton cannot
run yet. Counting "compiles or is refused" as a pass proved nothing, so every refused file
is listed in MIWG_REFUSALS with its reasons, and every problem of the refusal must be
explained by one of them:

- a reason is a validation rule (and, for expressions, a pattern of the problem), plus a
  check that the file really contains what the problem says (the timer really has no
  time, the call activity really has no calledElement, ...);
- kind "correct": the file is not executable as drawn, or is broken; kind "gap": Baton
  lacks something the file legitimately uses (documented, to be closed: when Baton learns
  it, the file compiles and the MIWG test fails until its row is removed).

Regenerate the table after the compiler changes (new elements, new rules):

    .venv/bin/python -m tests.miwg_refusals

prints MIWG_REFUSALS for the current compiler, with UNCLASSIFIED for a problem no reason
explains (decide whether it is a correct refusal or a gap, and add a reason).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = ("http://camunda.org/schema/1.0/bpmn", "http://activiti.org/bpmn")
ZEEBE = "http://camunda.org/schema/zeebe/1.0"


def element(xml: Any, element_id: str | None) -> Any:
    """The BPMN element with id `element_id` (the one the problem names)."""
    assert element_id, "the problem names no element"
    found = xml.xpath("//*[@id=$id]", id=element_id)
    assert found, f"no element {element_id!r} in the file"
    return found[0]


def children(el: Any, local: str) -> list[Any]:
    return [c for c in el.iter() if isinstance(c.tag, str) and etree.QName(c).localname == local]


def has_text(els: list[Any]) -> bool:
    return any((e.text or "").strip() for e in els)


# ---------------------------------------------------------------------------- checks
def no_executable_process(xml: Any, problem: Any) -> None:
    """No process with flow nodes is marked isExecutable="true": a drawing."""
    for proc in xml.iter(f"{{{BPMN}}}process"):
        flow_nodes = [c for c in proc if isinstance(c.tag, str)
                      and etree.QName(c).localname not in ("laneSet", "documentation",
                                                            "extensionElements")]
        assert proc.get("isExecutable") != "true" or not flow_nodes, (
            f"process {proc.get('id')!r} is executable")


def timer_without_time(xml: Any, problem: Any) -> None:
    el = element(xml, problem.element_id)
    (timer,) = children(el, "timerEventDefinition")
    times = [c for name in ("timeDate", "timeDuration", "timeCycle") for c in children(timer,
                                                                                      name)]
    assert not has_text(times), "the timer has a time"


def call_without_called_element(xml: Any, problem: Any) -> None:
    el = element(xml, problem.element_id)
    assert etree.QName(el).localname == "callActivity"
    assert not el.get("calledElement")
    zeebe = [c for c in el.iter(f"{{{ZEEBE}}}calledElement") if c.get("processId")]
    assert not zeebe, "a zeebe:calledElement names the process"


def multi_instance_without_count(xml: Any, problem: Any) -> None:
    el = element(xml, problem.element_id)
    (mi,) = children(el, "multiInstanceLoopCharacteristics")
    assert not has_text(children(mi, "loopCardinality")), "it has a loopCardinality"
    assert not children(mi, "loopDataInputRef"), "it has a loopDataInputRef"
    assert not any(mi.get(f"{{{ns}}}collection") for ns in CAMUNDA_NS)
    assert not [z for z in mi.iter(f"{{{ZEEBE}}}loopCharacteristics")
                if z.get("inputCollection")], "zeebe:loopCharacteristics has a collection"


def loop_without_end(xml: Any, problem: Any) -> None:
    el = element(xml, problem.element_id)
    (loop,) = children(el, "standardLoopCharacteristics")
    assert not has_text(children(loop, "loopCondition")) and not loop.get("loopMaximum")


def event_without_trigger_name(xml: Any, problem: Any) -> None:
    el = element(xml, problem.element_id)
    kind = "message" if "message" in problem.message else "signal"
    definitions = children(el, f"{kind}EventDefinition")
    assert definitions and not any(d.get(f"{kind}Ref") for d in definitions)
    assert not (el.get("name") or "").strip(), "the event has a name Baton could use"


def conditional_without_condition(xml: Any, problem: Any) -> None:
    el = element(xml, problem.element_id)
    definitions = children(el, "conditionalEventDefinition")
    assert definitions and not has_text(children(definitions[0], "condition"))


def text_in_file(xml: Any, problem: Any) -> None:
    """The expression the problem quotes (its first 30 characters: long ones are cut) is
    in the file, in an attribute or the text of the element the problem names."""
    el = element(xml, problem.element_id)
    quoted = re.search(r"'(= .+?)(?:\.\.\.)?' does not|condition (['\"])(.+?)\2 does not",
                       str(problem))
    assert quoted, f"no expression quoted in {problem}"
    text = " ".join((quoted.group(1) or quoted.group(3)).split())[:30]   # excerpts: one space
    where = [v for c in el.iter() for v in c.attrib.values()]
    where += [c.text or "" for c in el.iter() if isinstance(c.tag, str)]
    assert any(text in " ".join(w.split()) for w in where), (
        f"{text!r} is not at {problem.element_id}")


def expression_language(xml: Any) -> str:
    return xml.getroot().get("expressionLanguage") or ""


def xpath_condition(xml: Any, problem: Any) -> None:
    text_in_file(xml, problem)
    assert expression_language(xml) == "http://www.w3.org/1999/XPath", "not declared XPath"


def tool_language_condition(xml: Any, problem: Any) -> None:
    """The file declares its tool's own expression language, which no engine but the
    tool's evaluates."""
    text_in_file(xml, problem)
    assert "omninet.de" in expression_language(xml), expression_language(xml)


def not_bpmn(xml: Any, problem: Any) -> None:
    assert etree.QName(xml.getroot()).localname != "definitions"


def flattened_event_subprocess(xml: Any, problem: Any) -> None:
    """OMNITRACKER's C.6.0 export: the event subprocess is empty, its compensate start
    event and handlers drawn at the process level, compensation boundaries marked
    non-interrupting, and the 'Cancel Flight' handler not marked isForCompensation."""
    assert xml.xpath("//*[local-name()='subProcess'][@triggeredByEvent='true'][not(*)]")
    element(xml, problem.element_id)


@dataclass(frozen=True)
class Reason:
    kind: str                              # "correct" or "gap"
    why: str
    rules: frozenset[str | None]
    check: Callable[[Any, Any], None]
    pattern: str | None = None             # searched in str(problem) (expression problems)
    examples: tuple[str, ...] = field(default=())


REASONS: dict[str, Reason] = {
    "drawing-only": Reason(
        "correct", "no process is marked isExecutable=\"true\": a drawing for interchange",
        frozenset({"executable-process"}), no_executable_process),
    "timer-without-time": Reason(
        "correct", "a timer event drawn without timeDate, timeDuration or timeCycle",
        frozenset({"timer-time"}), timer_without_time),
    "call-without-called-element": Reason(
        "correct", "a call activity that names no process to call",
        frozenset({"called-element"}), call_without_called_element),
    "multi-instance-without-count": Reason(
        "correct", "a multi-instance activity with neither loopCardinality nor a collection",
        frozenset({"multi-instance-count"}), multi_instance_without_count),
    "loop-without-end": Reason(
        "correct", "a standard loop with neither loopCondition nor loopMaximum",
        frozenset({"standard-loop-end"}), loop_without_end),
    "event-without-trigger-name": Reason(
        "correct", "a message event with no messageRef and no name, or a signal throw event "
                   "with no signalRef and no name (a signal catch event without either is a "
                   "warning, signal-catch-unnamed)",
        frozenset({"message-ref-missing", "signal-ref-missing"}), event_without_trigger_name),
    "conditional-without-condition": Reason(
        "correct", "a conditional event without a condition",
        frozenset({"conditional-event-condition"}), conditional_without_condition),
    "flattened-event-subprocess": Reason(
        "correct", "a broken export: the event subprocess is empty and its content drawn "
                   "beside it (compensation boundaries non-interrupting, handler unmarked)",
        frozenset({"boundary-interrupting", "compensation-boundary-handler",
                   "event-subprocess-one-start", "subprocess-start-none"}),
        flattened_event_subprocess),
    "not-a-bpmn-file": Reason(
        "correct", "an XML schema shipped with the reference models, not a BPMN file",
        frozenset({None}), not_bpmn, pattern=r"the document is not BPMN 2\.0"),
    "tool-expression-language": Reason(
        "correct", "conditions in OMNITRACKER's own expression language, which the file "
                   "declares as its expressionLanguage (bpmn:getDataObject, [Field] = ...)",
        frozenset({"expression-compiles"}), tool_language_condition),
    "condition-is-a-label": Reason(
        "correct", "a sequence flow's condition is a label or a tool's own notation "
                   "('Manual Validation Required', \"Service Level == 'Premium'\", "
                   "'[Vacation Approval] = ...'), an expression in no language",
        frozenset({"expression-compiles"}), text_in_file,
        pattern=r"condition '(Manual Validation Required|\[Vacation Approval\] = .*)' |"
                r"condition \"Service Level == 'Premium'\""),
    "gap-xpath-conditions": Reason(
        "gap", "XPath conditions (bpmn:getDataObject), the BPMN default expressionLanguage "
               "the file declares: Baton evaluates Python, JUEL and FEEL only",
        frozenset({"expression-compiles"}), xpath_condition,
        pattern=r"bpmn:getDataObject\("),
    "gap-feel-names-with-spaces": Reason(
        "gap", "FEEL names with spaces ('Vacation Approval Status.Approval'), which DMN's "
               "FEEL allows for names in scope; Baton's FEEL reads only plain names",
        frozenset({"expression-compiles"}), text_in_file,
        pattern=r"(Vacation Approval|Current Vacation Status)[^']*' does not compile: "
                r"unexpected text at position \d+ of the FEEL expression, found "
                r"'(Approval|Vacation|V)"),
    "gap-feel-now": Reason(
        "gap", "the FEEL built-in now() (Camunda 8's temporal functions)",
        frozenset({"expression-compiles"}), text_in_file,
        pattern=r"the FEEL function now\(\) is not supported"),
    "gap-feel-string-join": Reason(
        "gap", "the FEEL built-in string join(list, delimiter) (Camunda 8's list functions)",
        frozenset({"expression-compiles"}), text_in_file,
        pattern=r"'= string join\(risks, \", \"\)' does not compile"),
}


def classify(problem: Any, xml: Any) -> str:
    """The first reason whose rule and pattern match `problem` and whose check holds for
    the file `xml`, or "UNCLASSIFIED"."""
    text = str(problem)
    for name, reason in REASONS.items():
        if problem.rule not in reason.rules:
            continue
        if reason.pattern is not None and not re.search(reason.pattern, text):
            continue
        try:
            reason.check(xml, problem)
        except AssertionError:
            continue
        return name
    return "UNCLASSIFIED"


def parse(path: Path) -> Any:
    return etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))


# The table, generated by `python -m tests.miwg_refusals` and reviewed reason by reason.
# 115 refused files; by reason:
#    55  correct drawing-only
#    30  correct timer-without-time
#    16  correct call-without-called-element
#    15  correct multi-instance-without-count
#     8  correct loop-without-end
#     5  correct conditional-without-condition
#     4  gap     gap-feel-names-with-spaces
#     4  correct tool-expression-language
#     3  correct event-without-trigger-name
#     3  correct condition-is-a-label
#     2  gap     gap-feel-now
#     2  gap     gap-feel-string-join
#     1  correct flattened-event-subprocess
#     1  gap     gap-xpath-conditions
#     1  correct not-a-bpmn-file
MIWG_REFUSALS: dict[str, tuple[str, ...]] = {
    'miwg/adonis-17.0/A.1.0-export.bpmn': ('drawing-only',),
    'miwg/adonis-17.0/A.2.0-export.bpmn': ('drawing-only',),
    'miwg/adonis-17.0/A.2.1-export.bpmn': ('drawing-only',),
    'miwg/adonis-17.0/A.3.0-export.bpmn': ('drawing-only',),
    'miwg/adonis-17.0/A.4.0-export.bpmn': ('drawing-only',),
    'miwg/adonis-17.0/A.4.1-export.bpmn': ('drawing-only',),
    'miwg/adonis-17.0/B.2.0-export.bpmn': (
        'conditional-without-condition',
        'multi-instance-without-count',
    ),
    'miwg/adonis-17.0/C.1.0-export.bpmn': ('drawing-only',),
    'miwg/adonis-17.0/C.1.1-export.bpmn': ('drawing-only',),
    'miwg/adonis-17.0/C.2.0-export.bpmn': ('drawing-only',),
    'miwg/adonis-17.0/C.3.0-export.bpmn': ('drawing-only',),
    'miwg/adonis-17.0/C.4.0-export.bpmn': ('drawing-only',),
    'miwg/adonis-17.0/C.6.0-export.bpmn': ('drawing-only',),
    'miwg/adonis-17.0/C.7.0-export.bpmn': ('drawing-only',),
    'miwg/adonis-17.0/C.8.0-export.bpmn': ('drawing-only',),
    'miwg/adonis-17.0/C.8.1-export.bpmn': ('drawing-only',),
    'miwg/adonis-17.0/C.9.0-export.bpmn': ('drawing-only',),
    'miwg/adonis-17.0/C.9.1-export.bpmn': ('drawing-only',),
    'miwg/adonis-17.0/C.9.2-export.bpmn': ('drawing-only',),
    'miwg/aris-10.2025.07/B.1.0-export.bpmn': (
        'call-without-called-element',
        'timer-without-time',
    ),
    'miwg/aris-10.2025.07/B.2.0-export.bpmn': (
        'call-without-called-element',
        'conditional-without-condition',
        'loop-without-end',
        'multi-instance-without-count',
        'timer-without-time',
    ),
    'miwg/aris-10.2025.07/C.1.0-export.bpmn': ('timer-without-time',),
    'miwg/aris-10.2025.07/C.3.0-export.bpmn': (
        'event-without-trigger-name',
        'timer-without-time',
    ),
    'miwg/aris-10.2025.07/C.4.0-export.bpmn': ('loop-without-end',),
    'miwg/aris-10.2025.07/C.6.0-export.bpmn': ('timer-without-time',),
    'miwg/aris-10.2025.07/C.7.0-export.bpmn': ('multi-instance-without-count',),
    'miwg/aris-10.2025.07/C.8.0-export.bpmn': (
        'condition-is-a-label',
        'gap-feel-names-with-spaces',
    ),
    'miwg/aris-10.2025.07/C.8.1-export.bpmn': ('condition-is-a-label',),
    'miwg/aris-10.2025.07/C.9.0-export.bpmn': ('call-without-called-element',),
    'miwg/aris-10.2025.07/C.9.1-export.bpmn': ('timer-without-time',),
    'miwg/aris-10.2025.07/C.9.2-export.bpmn': (
        'call-without-called-element',
        'multi-instance-without-count',
        'timer-without-time',
    ),
    'miwg/bpmn-io-camunda-modeler-18.6.1/A.1.0-export.bpmn': ('drawing-only',),
    'miwg/bpmn-io-camunda-modeler-18.6.1/A.2.0-export.bpmn': ('drawing-only',),
    'miwg/bpmn-io-camunda-modeler-18.6.1/B.1.0-export.bpmn': ('timer-without-time',),
    'miwg/bpmn-io-camunda-modeler-18.6.1/B.2.0-export.bpmn': (
        'call-without-called-element',
        'conditional-without-condition',
        'loop-without-end',
        'multi-instance-without-count',
        'timer-without-time',
    ),
    'miwg/bpmn-io-camunda-modeler-18.6.1/C.1.0-export.bpmn': ('timer-without-time',),
    'miwg/bpmn-io-camunda-modeler-18.6.1/C.3.0-export.bpmn': (
        'event-without-trigger-name',
        'timer-without-time',
    ),
    'miwg/bpmn-io-camunda-modeler-18.6.1/C.4.0-export.bpmn': ('drawing-only',),
    'miwg/bpmn-io-camunda-modeler-18.6.1/C.5.0-export.bpmn': ('call-without-called-element',),
    'miwg/bpmn-io-camunda-modeler-18.6.1/C.6.0-export.bpmn': ('timer-without-time',),
    'miwg/bpmn-io-camunda-modeler-18.6.1/C.7.0-export.bpmn': ('multi-instance-without-count',),
    'miwg/bpmn-io-camunda-modeler-18.6.1/C.8.0-export.bpmn': ('drawing-only',),
    'miwg/bpmn-io-camunda-modeler-18.6.1/C.8.1-export.bpmn': ('drawing-only',),
    'miwg/bpmn-io-camunda-modeler-18.6.1/C.9.0-export.bpmn': ('call-without-called-element',),
    'miwg/bpmn-io-camunda-modeler-18.6.1/C.9.1-export.bpmn': ('timer-without-time',),
    'miwg/bpmn-io-camunda-modeler-18.6.1/C.9.2-export.bpmn': (
        'call-without-called-element',
        'multi-instance-without-count',
        'timer-without-time',
    ),
    'miwg/omnitracker-bpmn-12.3/B.1.0-export.bpmn': (
        'call-without-called-element',
        'timer-without-time',
    ),
    'miwg/omnitracker-bpmn-12.3/B.2.0-export.bpmn': (
        'call-without-called-element',
        'conditional-without-condition',
        'loop-without-end',
        'multi-instance-without-count',
        'timer-without-time',
    ),
    'miwg/omnitracker-bpmn-12.3/C.1.0-export.bpmn': ('timer-without-time',),
    'miwg/omnitracker-bpmn-12.3/C.1.1-export.bpmn': ('tool-expression-language',),
    'miwg/omnitracker-bpmn-12.3/C.3.0-export.bpmn': (
        'call-without-called-element',
        'timer-without-time',
        'tool-expression-language',
    ),
    'miwg/omnitracker-bpmn-12.3/C.4.0-export.bpmn': ('loop-without-end',),
    'miwg/omnitracker-bpmn-12.3/C.6.0-export.bpmn': (
        'flattened-event-subprocess',
        'timer-without-time',
    ),
    'miwg/omnitracker-bpmn-12.3/C.7.0-export.bpmn': ('multi-instance-without-count',),
    'miwg/omnitracker-bpmn-12.3/C.8.0-export.bpmn': ('tool-expression-language',),
    'miwg/omnitracker-bpmn-12.3/C.8.1-export.bpmn': ('tool-expression-language',),
    'miwg/omnitracker-bpmn-12.3/C.9.0-export.bpmn': (
        'multi-instance-without-count',
        'timer-without-time',
    ),
    'miwg/omnitracker-bpmn-12.3/C.9.1-export.bpmn': ('timer-without-time',),
    'miwg/omnitracker-bpmn-12.3/C.9.2-export.bpmn': (
        'multi-instance-without-count',
        'timer-without-time',
    ),
    'miwg/reference/A.1.0.bpmn': ('drawing-only',),
    'miwg/reference/A.2.0.bpmn': ('drawing-only',),
    'miwg/reference/A.2.1.bpmn': ('drawing-only',),
    'miwg/reference/A.3.0.bpmn': ('drawing-only',),
    'miwg/reference/A.4.0.bpmn': ('drawing-only',),
    'miwg/reference/A.4.1.bpmn': ('drawing-only',),
    'miwg/reference/B.1.0.bpmn': ('drawing-only',),
    'miwg/reference/B.2.0.bpmn': ('drawing-only',),
    'miwg/reference/C.1.1.bpmn': ('gap-xpath-conditions',),
    'miwg/reference/C.2.0.bpmn': ('drawing-only',),
    'miwg/reference/C.3.0.bpmn': ('condition-is-a-label',),
    'miwg/reference/C.4.0.bpmn': ('loop-without-end',),
    'miwg/reference/C.6.0.bpmn': ('timer-without-time',),
    'miwg/reference/C.7.0.bpmn': ('multi-instance-without-count',),
    'miwg/reference/C.8.0.bpmn': ('drawing-only',),
    'miwg/reference/C.8.1.bpmn': ('gap-feel-names-with-spaces',),
    'miwg/reference/C.9.0.bpmn': ('gap-feel-now',),
    'miwg/reference/C.9.2.bpmn': ('gap-feel-string-join',),
    'miwg/reference/xsdTypes.xsd': ('not-a-bpmn-file',),
    'miwg/sap-signavio-process-manager-19.9.0/A.1.0-export.bpmn': ('drawing-only',),
    'miwg/sap-signavio-process-manager-19.9.0/A.2.0-export.bpmn': ('drawing-only',),
    'miwg/sap-signavio-process-manager-19.9.0/A.2.1-export.bpmn': ('drawing-only',),
    'miwg/sap-signavio-process-manager-19.9.0/A.3.0-export.bpmn': ('drawing-only',),
    'miwg/sap-signavio-process-manager-19.9.0/A.4.0-export.bpmn': ('drawing-only',),
    'miwg/sap-signavio-process-manager-19.9.0/A.4.1-export.bpmn': ('drawing-only',),
    'miwg/sap-signavio-process-manager-19.9.0/B.1.0-export.bpmn': ('drawing-only',),
    'miwg/sap-signavio-process-manager-19.9.0/B.2.0-export.bpmn': ('drawing-only',),
    'miwg/sap-signavio-process-manager-19.9.0/C.1.0-export.bpmn': ('drawing-only',),
    'miwg/sap-signavio-process-manager-19.9.0/C.1.1-export.bpmn': ('drawing-only',),
    'miwg/sap-signavio-process-manager-19.9.0/C.2.0-export.bpmn': ('drawing-only',),
    'miwg/sap-signavio-process-manager-19.9.0/C.3.0-export.bpmn': ('drawing-only',),
    'miwg/sap-signavio-process-manager-19.9.0/C.4.0-export.1.bpmn': ('drawing-only',),
    'miwg/sap-signavio-process-manager-19.9.0/C.4.0-export.2.bpmn': ('drawing-only',),
    'miwg/sap-signavio-process-manager-19.9.0/C.4.0-export.3.bpmn': ('drawing-only',),
    'miwg/sap-signavio-process-manager-19.9.0/C.4.0-export.4.bpmn': ('drawing-only',),
    'miwg/sap-signavio-process-manager-19.9.0/C.5.0-export.1.bpmn': ('drawing-only',),
    'miwg/sap-signavio-process-manager-19.9.0/C.5.0-export.2.bpmn': ('drawing-only',),
    'miwg/sap-signavio-process-manager-19.9.0/C.6.0-export.bpmn': ('drawing-only',),
    'miwg/sap-signavio-process-manager-19.9.0/C.7.0-export.bpmn': ('drawing-only',),
    'miwg/sap-signavio-process-manager-19.9.0/C.8.0-export.bpmn': ('drawing-only',),
    'miwg/sap-signavio-process-manager-19.9.0/C.8.1-export.bpmn': ('drawing-only',),
    'miwg/sap-signavio-process-manager-19.9.0/C.9.0-export.bpmn': ('gap-feel-now',),
    'miwg/sap-signavio-process-manager-19.9.0/C.9.2-export.bpmn': ('gap-feel-string-join',),
    'miwg/trisotech-workflow-modeler-12.6.3/B.1.0-export.bpmn': (
        'call-without-called-element',
        'timer-without-time',
    ),
    'miwg/trisotech-workflow-modeler-12.6.3/B.2.0-export.bpmn': (
        'call-without-called-element',
        'conditional-without-condition',
        'loop-without-end',
        'multi-instance-without-count',
        'timer-without-time',
    ),
    'miwg/trisotech-workflow-modeler-12.6.3/C.1.0-export.bpmn': ('timer-without-time',),
    'miwg/trisotech-workflow-modeler-12.6.3/C.3.0-export.bpmn': (
        'event-without-trigger-name',
        'timer-without-time',
    ),
    'miwg/trisotech-workflow-modeler-12.6.3/C.4.0-export.bpmn': ('loop-without-end',),
    'miwg/trisotech-workflow-modeler-12.6.3/C.5.0-export.bpmn': (
        'call-without-called-element',
    ),
    'miwg/trisotech-workflow-modeler-12.6.3/C.6.0-export.bpmn': ('timer-without-time',),
    'miwg/trisotech-workflow-modeler-12.6.3/C.7.0-export.bpmn': (
        'multi-instance-without-count',
    ),
    'miwg/trisotech-workflow-modeler-12.6.3/C.8.0-export.bpmn': (
        'gap-feel-names-with-spaces',
    ),
    'miwg/trisotech-workflow-modeler-12.6.3/C.8.1-export.bpmn': (
        'gap-feel-names-with-spaces',
    ),
    'miwg/trisotech-workflow-modeler-12.6.3/C.9.0-export.bpmn': (
        'call-without-called-element',
    ),
    'miwg/trisotech-workflow-modeler-12.6.3/C.9.1-export.bpmn': ('timer-without-time',),
    'miwg/trisotech-workflow-modeler-12.6.3/C.9.2-export.bpmn': (
        'call-without-called-element',
        'multi-instance-without-count',
        'timer-without-time',
    ),
}


def current_table() -> dict[str, tuple[str, ...]]:
    """What the compiler refuses today, classified."""
    from engine.bpmn import BpmnValidationError, compile_bpmn

    table: dict[str, tuple[str, ...]] = {}
    for path in sorted(p for p in (CORPUS / "miwg").rglob("*") if p.is_file()):
        try:
            compile_bpmn(path)
        except BpmnValidationError as error:
            xml = parse(path)
            reasons = sorted({classify(p, xml) for p in error.problems})
            table[str(path.relative_to(CORPUS))] = tuple(reasons)
    return table


def main() -> None:
    table = current_table()
    print("MIWG_REFUSALS: dict[str, tuple[str, ...]] = {")
    for path, reasons in table.items():
        line = f"    {path!r}: {reasons!r},"
        if len(line) <= 95:
            print(line)
            continue
        print(f"    {path!r}: (")
        for reason in reasons:
            print(f"        {reason!r},")
        print("    ),")
    print("}")
    counts = Counter(r for reasons in table.values() for r in reasons)
    print(f"# {len(table)} refused files; by reason:")
    for name, n in counts.most_common():
        kind = REASONS[name].kind if name in REASONS else "?"
        print(f"#   {n:3d}  {kind:7s} {name}")


if __name__ == "__main__":
    main()
