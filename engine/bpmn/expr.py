"""Compiling the expressions, templates and scripts found in a diagram, once, at deploy time.

Three kinds of text appear in diagrams and they must not be confused:

- expressions (conditions, loop cardinalities, completion conditions): the whole text is an
  expression, `${amount > 1000}` or `amount > 1000` alike;
- attribute values (camunda:assignee="demo", candidateGroups="sales, management"): plain text
  is a *literal string*, only `${...}`, `#{...}` or a leading `=` (FEEL, zeebe) make it an
  expression - otherwise "demo" would be read as a variable named demo;
- scripts (scriptTask, spiffworkflow:preScript): statements;
- actions (execution listeners, camunda:expression on service tasks, JUEL script tasks):
  an expression or a script run for its effect, which may call execution.setVariable(...).

A text that does not compile becomes a validation Problem on its element, never an exception,
so the analyst sees every broken expression of a diagram at once.
"""

from __future__ import annotations

import re

from lxml import etree

from engine.bpmn.errors import ProblemList, local_name
from engine.expressions import (
    Expression,
    ExpressionError,
    Script,
    compile_action,
    compile_expression,
    compile_script,
)

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def is_expression_text(text: str) -> bool:
    """Does an attribute value hold an expression rather than a literal string?"""
    stripped = text.strip()
    return "${" in stripped or "#{" in stripped or stripped.startswith("=")


def is_identifier(text: str) -> bool:
    return bool(_IDENTIFIER.match(text))


def _where(element: etree._Element, what: str) -> str:
    ident = element.get("id")
    label = f"{local_name(element)} '{ident}'" if ident else local_name(element)
    return f"{label} {what}".strip()


def _language_hint(language: str | None) -> str:
    if language and language.strip() and _dialect(language) is None:
        return (f" (language '{language}' is not supported; Baton reads Python, JUEL ${{...}} and "
                "FEEL =... expressions)")
    return ""


class ExpressionCompiler:
    """Compiles text from one file, reporting failures to its ProblemList."""

    def __init__(self, problems: ProblemList) -> None:
        self.problems = problems

    def expression(self, text: str | None, element: etree._Element, what: str, *,
                   language: str | None = None) -> Expression | None:
        """The whole text is an expression (a condition, a cardinality...)."""
        if text is None or not text.strip():
            return None
        try:
            return compile_expression(text.strip(), where=_where(element, what),
                                      language=_dialect(language))
        except ExpressionError as exc:
            self.problems.add(element, f"{what} {_excerpt(text)} does not compile: "
                                       f"{_reason(exc)}{_language_hint(language)}")
            return None

    def template(self, text: str | None, element: etree._Element, what: str) -> Expression | None:
        """An extension attribute value: a literal string unless it holds ${...}/#{...}/=..."""
        if text is None:
            return None
        if is_expression_text(text):
            return self.expression(text, element, what)
        return self.literal(text, element, what)

    def literal(self, value: str, element: etree._Element, what: str) -> Expression | None:
        """An expression that always yields the string `value`."""
        try:
            return compile_expression(repr(value), where=_where(element, what))
        except ExpressionError as exc:  # pragma: no cover - a str repr always compiles
            self.problems.add(element, f"{what} {value!r} does not compile: {_reason(exc)}")
            return None

    def variable(self, name: str | None, element: etree._Element, what: str) -> Expression | None:
        """A bare variable name (camunda:collection="items") or an expression (${items})."""
        if name is None or not name.strip():
            return None
        name = name.strip()
        if is_identifier(name) or is_expression_text(name):
            return self.expression(name, element, what)
        self.problems.add(element, f"{what} {name!r} is not a variable name or an expression")
        return None

    def script(self, text: str | None, element: etree._Element, what: str, *,
               language: str | None = None) -> Script | None:
        if text is None or not text.strip():
            return None
        try:
            return compile_script(text, where=_where(element, what), language=language)
        except ExpressionError as exc:
            self.problems.add(element, f"{what} does not compile: {_reason(exc)}"
                                       f"{_script_hint(language)}")
            return None

    def action(self, text: str | None, element: etree._Element, what: str, *,
               language: str | None = None, warn: bool = False) -> Script | None:
        """Something run for its effect (see the module docstring). `warn`: a text that does
        not compile is a warning and is dropped (listeners), not a problem."""
        if text is None or not text.strip():
            return None
        try:
            return compile_action(text, where=_where(element, what), language=language)
        except ExpressionError as exc:
            message = f"{what} {_excerpt(text)} does not compile: {_reason(exc)}"
            if warn:
                self.problems.warn(element, f"{message}{_script_hint(language)}; Baton ignores it")
            else:
                self.problems.add(element, f"{message}{_script_hint(language)}")
            return None


def _script_hint(language: str | None) -> str:
    if language and language.strip().lower() not in {"", "python", "juel", "feel"}:
        return (f" (scriptFormat '{language}' is not supported as such: Baton runs Python in "
                "its sandbox, and groovy/javascript only when the text is also valid Python, "
                "such as execution.setVariable(\"name\", value) lines)")
    return ""


def _excerpt(text: str, limit: int = 80) -> str:
    """The text quoted on one line, shortened: a problem is a sentence, not a dump."""
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[:limit - 3] + "...")


def _reason(exc: Exception) -> str:
    """The bare reason: our message already names the element and quotes the text."""
    reason = getattr(exc, "problem", None) or str(exc).strip() or type(exc).__name__
    lineno = getattr(exc, "lineno", None)
    source = getattr(exc, "source", "")
    if lineno and "\n" in source.strip():
        reason = f"{reason} (line {lineno} of the text)"
    return reason


def _dialect(language: str | None) -> str | None:
    """Pass only the languages the sandbox knows how to force; others are detected."""
    lowered = (language or "").lower()
    return language if any(name in lowered for name in ("python", "juel", "feel")) else None
