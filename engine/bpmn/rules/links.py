"""Link events: a throw jumps to the catch of the same name in the same (sub)process.

Baton pairs link events by name, as Camunda 7 and SpiffWorkflow do. BPMN 2.0.2 also lets the
XML name the pair explicitly (`<target>` on the throw's definition, `<source>` on the
catch's): where it does, the explicit pair must be the one the names give, or the token
would jump somewhere the file says it must not.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from engine.bpmn.catalog import ERROR, WARNING
from engine.bpmn.parser import bpmn_children, ref, ref_text
from engine.bpmn.rules.model import Model
from engine.bpmn.rules.registry import Finding, rule
from engine.graph import Node


def _links(m: Model, kind: str) -> list[Node]:
    return [n for n in m.nodes if n.kind == kind and m.event_type(n) == "link"]


def _catches(m: Model) -> dict[tuple[int | None, str], Node]:
    """(scope, name) -> the first link catch event of that name there."""
    found: dict[tuple[int | None, str], Node] = {}
    for node in _links(m, "intermediateCatchEvent"):
        if node.event is not None and node.event.ref:
            found.setdefault((node.scope, node.event.ref), node)
    return found


@rule("link-catch-unique", ERROR, applies_to="link catch events",
      constraint="Two link catch events of one (sub)process do not share a name.",
      spec="BPMN 2.0.2 10.5.5 Link Event Definition (name)")
def link_catch_unique(m: Model) -> Iterator[Finding]:
    seen: set[tuple[int | None, str]] = set()
    for node in _links(m, "intermediateCatchEvent"):
        if node.event is None or not node.event.ref:
            continue
        key = (node.scope, node.event.ref)
        if key in seen:
            yield Finding(m.element(node), f"another link catch event in the same scope is named "
                                           f"'{node.event.ref}'")
        seen.add(key)


@rule("link-catch-missing", ERROR, applies_to="link throw events",
      constraint="A link throw event has a link catch event of the same name in its "
                 "(sub)process.",
      spec="BPMN 2.0.2 10.5.5 Link Event Definition")
def link_catch_missing(m: Model) -> Iterator[Finding]:
    catches = _catches(m)
    for node in _links(m, "intermediateThrowEvent"):
        if node.event is not None and node.event.ref \
                and (node.scope, node.event.ref) not in catches:
            yield Finding(m.element(node), f"no link catch event named '{node.event.ref}' in the "
                                           "same scope")


@rule("link-catch-incoming", ERROR, applies_to="link catch events",
      constraint="A link catch event has no incoming sequence flow: its throw is the way in.",
      spec="BPMN 2.0.2 10.5.4 Intermediate Event (link), p. 258")
def link_catch_incoming(m: Model) -> Iterator[Finding]:
    for node in _links(m, "intermediateCatchEvent"):
        if node.incoming:
            ids = m.names(m.flow(f).id for f in node.incoming)
            yield Finding(m.element(node), f"a link catch event is reached through its link "
                                           f"throw event and cannot be the target of a sequence "
                                           f"flow; remove {ids}")


@rule("link-throw-outgoing", ERROR, applies_to="link throw events",
      constraint="A link throw event has no outgoing sequence flow: its catch is the way on.",
      spec="BPMN 2.0.2 10.5.4 Intermediate Event (link), p. 258")
def link_throw_outgoing(m: Model) -> Iterator[Finding]:
    for node in _links(m, "intermediateThrowEvent"):
        if node.outgoing:
            ids = m.names(m.flow(f).id for f in node.outgoing)
            yield Finding(m.element(node), f"a link throw event continues at its link catch "
                                           f"event and cannot be the source of a sequence flow; "
                                           f"remove {ids}")


@rule("link-catch-unused", WARNING, applies_to="link catch events",
      constraint="A link catch event has a link throw event of the same name in its "
                 "(sub)process.",
      spec="BPMN 2.0.2 10.5.5 Link Event Definition",
      instead="Nothing ever reaches the catch event, so Baton never runs what follows it.")
def link_catch_unused(m: Model) -> Iterator[Finding]:
    thrown = {(n.scope, n.event.ref) for n in _links(m, "intermediateThrowEvent")
              if n.event is not None and n.event.ref}
    for node in _links(m, "intermediateCatchEvent"):
        if node.event is not None and node.event.ref and not node.incoming \
                and (node.scope, node.event.ref) not in thrown:
            yield Finding(m.element(node), f"no link throw event named '{node.event.ref}' in the "
                                           "same scope jumps here, so no token ever reaches it")


@rule("link-explicit-pair", ERROR, applies_to="link events naming their pair (target, source)",
      constraint="Where a link definition names its pair explicitly (target on a throw, source "
                 "on a catch), the pair is the one their names give.",
      spec="BPMN 2.0.2 10.5.5 Link Event Definition (source, target)")
def link_explicit_pair(m: Model) -> Iterator[Finding]:
    by_definition = _definition_owners(m)
    catches = _catches(m)
    for node in _links(m, "intermediateThrowEvent"):
        for target_id in _pair_refs(m, node, "target"):
            owner = by_definition.get(target_id)
            if owner is None or owner.kind != "intermediateCatchEvent":
                yield Finding(m.element(node), f"its link target '{target_id}' names no link "
                                               "catch event of this process")
                continue
            paired = catches.get((node.scope, _name(node)))
            if owner is not paired:
                jump = f"would jump to '{paired.id}'" if paired is not None \
                    else f"'{owner.id}' is not named '{_name(node)}'"
                yield Finding(m.element(node), f"its link target is '{owner.id}', but Baton "
                                               f"pairs link events by name and {jump}; give the "
                                               "pair the same name")
    for node in _links(m, "intermediateCatchEvent"):
        for source_id in _pair_refs(m, node, "source"):
            owner = by_definition.get(source_id)
            if owner is None or owner.kind != "intermediateThrowEvent":
                yield Finding(m.element(node), f"its link source '{source_id}' names no link "
                                               "throw event of this process")
            elif catches.get((owner.scope, _name(owner))) is not node:
                yield Finding(m.element(node), f"its link source is '{owner.id}', but Baton "
                                               f"pairs link events by name and '{owner.id}' "
                                               f"(named '{_name(owner)}') does not jump here; "
                                               "give the pair the same name")


def _name(node: Node) -> str | None:
    return node.event.ref if node.event is not None else None


def _definition_owners(m: Model) -> dict[str, Node]:
    """Id of each link event definition drawn in this process -> its event."""
    owners: dict[str, Node] = {}
    for node in m.nodes:
        if m.event_type(node) == "link":
            for definition in m.definitions(node, "linkEventDefinition"):
                if definition.get("id"):
                    owners[definition.get("id")] = node
    return owners


def _pair_refs(m: Model, node: Node, what: str) -> list[str]:
    """Ids named by the link definitions' <target>/<source> children (or attributes)."""
    found: list[str] = []
    for definition in m.definitions(node, "linkEventDefinition"):
        found.extend(_refs(definition, what))
    return found


def _refs(definition: etree._Element, what: str) -> list[str]:
    values = [ref_text(child) for child in bpmn_children(definition, what)]
    attribute = ref(definition, what)
    if attribute:
        values.append(attribute)
    return [v for v in values if v]
