"""Validation problems: what is wrong in an uploaded diagram, and exactly where.

Analysts fix diagrams in a modeler, not in the XML, so every problem names the element the
way a modeler shows it (its BPMN tag and id) plus the XML line for those who do open the file.
Problems are collected rather than raised one by one: a diagram with five mistakes should
need one round trip to fix, not five.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from engine.bpmn.catalog import rule_for_message


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a diagram; `str()` gives the sentence shown to the user.

    `rule` names the validation rule broken (docs/validation-rules.md), when it has a name;
    `severity` is "error" (the upload is refused) or "warning" (Baton runs the diagram with
    a documented fallback)."""

    element_id: str | None
    tag: str | None
    line: int | None
    message: str
    filename: str | None = None
    rule: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        where = []
        if self.tag and self.element_id:
            where.append(f"{self.tag} '{self.element_id}'")
        elif self.element_id:
            where.append(f"'{self.element_id}'")
        elif self.tag:
            where.append(self.tag)
        if self.line is not None:
            where.append(f"(line {self.line})")
        head = " ".join(where)
        if self.filename:
            head = f"{self.filename}: {head}" if head else self.filename
        text = f"{head}: {self.message}" if head else self.message
        return f"{text} [{self.rule}]" if self.rule else text


class BpmnValidationError(ValueError):
    """A diagram that cannot be deployed; `problems` lists every reason found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


def local_name(element: etree._Element) -> str:
    """The tag without its namespace: what a modeler calls the element."""
    return etree.QName(element).localname


class ProblemList:
    """Collects problems (and warnings) while a file is compiled.

    `demoted` turns errors into warnings: problems inside a process marked
    isExecutable="false" (a partner pool drawn for documentation) must not stop the
    executable process of the same file from deploying. `lenient` does the same for the
    named graph rules (engine.bpmn.rules) of a whole file: a definition stored before a rule
    was added must still load.
    """

    def __init__(self, filename: str | None = None, *, lenient: bool = False) -> None:
        self.filename = filename
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self.demoted = False
        self.lenient = lenient

    def add(self, element: etree._Element | None, message: str, *, element_id: str | None = None,
            tag: str | None = None, rule: str | None = None) -> None:
        """Record an error about `element` (its id, tag and line are read from it).

        Without `rule`, the catalog names it when it knows the sentence (checks made while
        reading an element report plain sentences)."""
        rule = rule if rule is not None else rule_for_message(message, "error")
        severity = "warning" if self.demoted else "error"
        problem = self._make(element, message, element_id=element_id, tag=tag, rule=rule,
                             severity=severity)
        (self.warnings if self.demoted else self.errors).append(problem)

    def warn(self, element: etree._Element | None, message: str, *,
             rule: str | None = None) -> None:
        """Record something the user should know but that does not stop deployment."""
        rule = rule if rule is not None else rule_for_message(message, "warning")
        self.warnings.append(self._make(element, message, rule=rule, severity="warning"))

    def _make(self, element: etree._Element | None, message: str, *, element_id: str | None = None,
              tag: str | None = None, rule: str | None = None,
              severity: str = "error") -> Problem:
        line = None
        if element is not None:
            element_id = element_id if element_id is not None else element.get("id")
            tag = tag if tag is not None else local_name(element)
            line = element.sourceline
        return Problem(element_id, tag, line, message, self.filename, rule, severity)

    def raise_if_any(self, strict: bool = False) -> None:
        """Raise BpmnValidationError on any error, or with `strict` on any warning too."""
        problems = self.errors + (self.warnings if strict else [])
        if problems:
            raise BpmnValidationError(problems)
