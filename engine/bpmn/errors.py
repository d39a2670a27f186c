"""Validation problems: what is wrong in an uploaded diagram, and exactly where.

Analysts fix diagrams in a modeler, not in the XML, so every problem names the element the
way a modeler shows it (its BPMN tag and id) plus the XML line for those who do open the file.
Problems are collected rather than raised one by one: a diagram with five mistakes should
need one round trip to fix, not five.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a diagram; `str()` gives the sentence shown to the user."""

    element_id: str | None
    tag: str | None
    line: int | None
    message: str
    filename: str | None = None

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
        return f"{head}: {self.message}" if head else self.message


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
    executable process of the same file from deploying.
    """

    def __init__(self, filename: str | None = None) -> None:
        self.filename = filename
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self.demoted = False

    def add(self, element: etree._Element | None, message: str, *, element_id: str | None = None,
            tag: str | None = None) -> None:
        """Record an error about `element` (its id, tag and line are read from it)."""
        problem = self._make(element, message, element_id=element_id, tag=tag)
        (self.warnings if self.demoted else self.errors).append(problem)

    def warn(self, element: etree._Element | None, message: str) -> None:
        """Record something the user should know but that does not stop deployment."""
        self.warnings.append(self._make(element, message))

    def _make(self, element: etree._Element | None, message: str, *, element_id: str | None = None,
              tag: str | None = None) -> Problem:
        line = None
        if element is not None:
            element_id = element_id if element_id is not None else element.get("id")
            tag = tag if tag is not None else local_name(element)
            line = element.sourceline
        return Problem(element_id, tag, line, message, self.filename)

    def raise_if_any(self) -> None:
        if self.errors:
            raise BpmnValidationError(self.errors)
