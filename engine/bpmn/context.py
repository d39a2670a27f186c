"""What every compile step of one file shares: the problems found so far and the file's
root-level definitions (messages, signals, errors, escalations) that events refer to."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from engine.bpmn.errors import ProblemList
from engine.bpmn.expr import ExpressionCompiler
from engine.bpmn.parser import bpmn_children, text_of


@dataclass
class Context:
    problems: ProblemList
    exprs: ExpressionCompiler
    messages: dict[str, str] = field(default_factory=dict)       # id -> name
    signals: dict[str, str] = field(default_factory=dict)        # id -> name
    errors: dict[str, str] = field(default_factory=dict)         # id -> errorCode
    escalations: dict[str, str] = field(default_factory=dict)    # id -> escalationCode
    elements: dict[str, etree._Element] = field(default_factory=dict)  # root-level id -> element
    # the migration mode the file is read in (engine.bpmn.compat; None: Camunda 7's reading)
    compat: str | None = None

    @classmethod
    def for_file(cls, root: etree._Element, problems: ProblemList,
                 compat: str | None = None) -> Context:
        """Read the root-level definitions that flow elements refer to by id."""
        ctx = cls(problems=problems, exprs=ExpressionCompiler(problems), compat=compat)
        for element in bpmn_children(root):
            ident = element.get("id")
            if ident:
                ctx.elements[ident] = element
            tag = element.tag.rsplit("}", 1)[-1]
            if not ident:
                continue
            name = (element.get("name") or "").strip()
            if tag == "message":
                ctx.messages[ident] = name or ident
            elif tag == "signal":
                ctx.signals[ident] = name or ident
            elif tag == "error":
                ctx.errors[ident] = (element.get("errorCode") or "").strip() or name or ident
            elif tag == "escalation":
                code = (element.get("escalationCode") or "").strip()
                ctx.escalations[ident] = code or name or ident
        return ctx

    def documentation(self, element: etree._Element) -> str | None:
        parts = [text_of(doc) for doc in bpmn_children(element, "documentation")]
        joined = "\n".join(part for part in parts if part)
        return joined or None
