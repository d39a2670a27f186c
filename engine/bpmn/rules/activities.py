"""Activities: what Baton's own extensions and the Camunda attributes it reads must name.

A reference to nothing (a four-eyes rule naming a task that does not exist) or an attribute
Baton reads differently from Camunda 7 (the called version) would make the diagram behave
otherwise than its author expects, without any sign at run time.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from engine.bpmn.catalog import ERROR, WARNING
from engine.bpmn.expr import is_expression_text
from engine.bpmn.rules.model import Model
from engine.bpmn.rules.registry import Finding, rule
from engine.graph import Node
from engine.limits import MAX_KEY_LEN, too_long
from engine.separation import EXT_KEY as SEPARATION_KEY


@rule("separation-targets", ERROR, applies_to="user tasks with baton:separateFrom",
      constraint="baton:separateFrom names other user tasks of the same process.",
      spec="Baton: separation of duties (engine/separation.py)")
def separation_targets(m: Model) -> Iterator[Finding]:
    """A typo, a service task or a task of another pool would leave the four-eyes rule
    guarding nothing."""
    for node in m.nodes:
        if node.kind != "userTask" or not node.ext or not node.ext.get(SEPARATION_KEY):
            continue
        for other_id in node.ext[SEPARATION_KEY]:
            position = m.graph.index.get(other_id)
            other = m.nodes[position] if position is not None else None
            if other is None:
                yield Finding(m.element(node), f"baton:separateFrom names '{other_id}', which is "
                                               f"not an element of process '{m.graph.key}'; it "
                                               "must name user tasks of the same process")
            elif other.index == node.index:
                yield Finding(m.element(node), "baton:separateFrom names the task itself; it must "
                                               "name the other user tasks whose workers may not "
                                               "work this one")
            elif other.kind != "userTask":
                yield Finding(m.element(node), f"baton:separateFrom names {other.label}, which is "
                                               "not a user task; it must name user tasks of the "
                                               "same process")


@rule("called-version-binding", WARNING, applies_to="call activities",
      constraint="camunda:calledElementBinding is absent or \"latest\".",
      spec="Camunda 7 call activity (calledElementBinding, calledElementVersion)",
      instead="Baton always calls the latest deployed version of the called process.")
def called_version_binding(m: Model) -> Iterator[Finding]:
    for node in m.nodes:
        if node.kind != "callActivity" or not node.ext:
            continue
        binding = (node.ext.get("called_element_binding") or "").strip()
        version = node.ext.get("called_element_version")
        if (binding and binding != "latest") or version:
            said = f"calledElementBinding=\"{binding}\"" if binding and binding != "latest" \
                else f"calledElementVersion=\"{version}\""
            yield Finding(m.element(node), f"Baton ignores camunda:{said} and always calls the "
                                           "latest deployed version of the called process")


@rule("stored-text-length", ERROR,
      applies_to="message and signal events, receive and send tasks, service tasks, "
                 "user tasks, call activities",
      constraint=f"Message and signal names, service task topics, and assignees, candidate "
                 f"users and groups and called business keys written as plain text have at "
                 f"most {MAX_KEY_LEN} characters.",
      spec="Baton: they are kept in indexed columns (VARCHAR(255) on MariaDB, as in "
           "Camunda 7); names from expressions are checked when evaluated")
def stored_text_length(m: Model) -> Iterator[Finding]:
    """The parser caps names at 2,000 characters, but these become indexed columns: a
    longer one would deploy and then fail every instance that reaches it (on MariaDB as
    a database error), so it is refused at upload, naming the element and line."""
    for node in m.nodes:
        for what, value in stored_texts(node):
            if len(value) > MAX_KEY_LEN:
                yield Finding(m.element(node), too_long(what, value))


def stored_texts(node: Node) -> Iterator[tuple[str, str]]:
    """(what, text) of each literal name of `node` that the stores index."""
    for event in (node.event, *node.events):
        if event is not None and event.type in ("message", "signal") and event.ref \
                and event.ref_expr is None:
            yield f"the {event.type} name", event.ref
    if node.message_ref and not is_expression_text(node.message_ref):
        yield "the message name", node.message_ref
    if node.topic and not is_expression_text(node.topic):
        yield "the topic", node.topic
    business_key = _literal(node.business_key_expr)
    if business_key is not None:
        yield "the business key (camunda:in businessKey)", business_key
    spec = node.user_task
    if spec is None:
        return
    for what, expr, many in (("the assignee", spec.assignee, False),
                             ("the candidate user", spec.candidate_users, True),
                             ("the candidate group", spec.candidate_groups, True)):
        text = _literal(expr)
        if text is None:
            continue
        for name in (text.split(",") if many else [text]):
            yield what, name.strip()


def _literal(expr: object) -> str | None:
    """The text of an attribute read as a literal (engine.bpmn.expr.Exprs.literal compiles
    it as its repr); None for a real expression, evaluated only at run time."""
    source = getattr(expr, "source", None)
    if not isinstance(source, str) or source[:1] not in ("'", '"'):
        return None
    try:
        value = ast.literal_eval(source)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None
