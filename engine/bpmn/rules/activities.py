"""Activities: what Baton's own extensions and the Camunda attributes it reads must name.

A reference to nothing (a four-eyes rule naming a task that does not exist) or an attribute
Baton reads differently from Camunda 7 (the called version) would make the diagram behave
otherwise than its author expects, without any sign at run time.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.bpmn.catalog import ERROR, WARNING
from engine.bpmn.rules.model import Model
from engine.bpmn.rules.registry import Finding, rule
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
