"""BPMN diagram interchange (BPMNDI) -> Diagram: what the tasklist needs to draw a process.

Drawing data never affects execution, so this reader is lenient: a shape with unreadable
bounds is skipped rather than refusing a diagram that runs fine.
"""

from __future__ import annotations

import math

from lxml import etree

from engine.bpmn.errors import local_name
from engine.bpmn.events import DEFINITION_TYPES
from engine.bpmn.parser import BPMN, BPMNDI, DC, DI, frozen, is_true, ref, text_of
from engine.graph import Diagram, Edge, Shape


def compile_diagram(root: etree._Element) -> Diagram:
    shapes: dict[str, Shape] = {}
    edges: dict[str, Edge] = {}
    for shape_el in root.iter(f"{{{BPMNDI}}}BPMNShape"):
        shape = _shape(shape_el)
        if shape is not None:
            shapes.setdefault(shape.element_id, shape)
    for edge_el in root.iter(f"{{{BPMNDI}}}BPMNEdge"):
        edge = _edge(edge_el)
        if edge is not None:
            edges.setdefault(edge.element_id, edge)
    drawn = set(shapes) | set(edges)
    kinds: dict[str, str] = {}
    names: dict[str, str] = {}
    event_types: dict[str, str] = {}
    for element in root.iter(f"{{{BPMN}}}*"):
        ident = element.get("id")
        if not ident or ident not in drawn or ident in kinds:
            continue
        tag = local_name(element)
        kinds[ident] = tag
        name = element.get("name")
        if tag == "textAnnotation":
            name = text_of(next((c for c in element if local_name(c) == "text"), None))
        if name:
            names[ident] = name
        if tag.endswith("Event"):
            types = [DEFINITION_TYPES[local_name(c)] for c in element
                     if isinstance(c.tag, str) and local_name(c) in DEFINITION_TYPES]
            event_types[ident] = types[0] if len(types) == 1 else (
                "none" if not types else "multiple")
    return Diagram(shapes=frozen(shapes), edges=frozen(edges), kinds=frozen(kinds),
                   names=frozen(names), event_types=frozen(event_types))


def _bounds(element: etree._Element | None) -> tuple[float, float, float, float] | None:
    if element is None:
        return None
    try:
        bounds = (float(element.get("x")), float(element.get("y")),
                  float(element.get("width")), float(element.get("height")))
    except (TypeError, ValueError):
        return None
    return bounds if all(_drawable(v) for v in bounds) else None


MAX_COORDINATE = 1e7


def _drawable(value: float) -> bool:
    """"NaN", "1e999" or 1e308 cannot be placed on a drawing (the SVG writer would overflow
    computing its size); modelers stay far inside this range."""
    return math.isfinite(value) and abs(value) <= MAX_COORDINATE


def _shape(shape_el: etree._Element) -> Shape | None:
    element_id = ref(shape_el, "bpmnElement")
    bounds = _bounds(shape_el.find(f"{{{DC}}}Bounds"))
    if not element_id or bounds is None:
        return None
    label_el = shape_el.find(f"{{{BPMNDI}}}BPMNLabel")
    label = _bounds(label_el.find(f"{{{DC}}}Bounds")) if label_el is not None else None
    expanded = shape_el.get("isExpanded")
    x, y, width, height = bounds
    return Shape(element_id=element_id, x=x, y=y, width=width, height=height,
                 expanded=None if expanded is None else is_true(expanded), label=label)


def _edge(edge_el: etree._Element) -> Edge | None:
    element_id = ref(edge_el, "bpmnElement")
    if not element_id:
        return None
    points = []
    for point in edge_el.iter(f"{{{DI}}}waypoint"):
        try:
            x, y = float(point.get("x")), float(point.get("y"))
        except (TypeError, ValueError):
            continue
        if _drawable(x) and _drawable(y):
            points.append((x, y))
    return Edge(element_id=element_id, waypoints=tuple(points))
