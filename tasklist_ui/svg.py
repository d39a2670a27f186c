"""Draw a BPMN diagram as inline SVG on the server, from its diagram-interchange (BPMNDI) data.

Why server-side: the tasklist must work on slow laptops and without any external JavaScript
or CDN, and a diagram drawn once as a few kilobytes of SVG costs the browser nothing. The
drawing follows the BPMN 2.0 notation closely enough that an analyst recognises what they
drew in their modeler: round events (thin start, thick end, double intermediate, dashed when
non-interrupting) with their trigger symbol, rounded tasks with a type marker, diamond
gateways, containers (pools, lanes, subprocesses), and flows as polylines with arrowheads.

States are CSS classes, so one drawing serves every page: `active` (a token waits there),
`done` (the instance passed through), `taken` (a sequence flow the instance followed) and
`highlight` (the element the page is about, e.g. the task being worked).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from engine.graph import Diagram, ProcessGraph, Shape

FONT = 12.0
CHAR_WIDTH = 0.56 * FONT          # average glyph width of a sans-serif font at FONT px
LINE_HEIGHT = 14.0
MARGIN = 24.0

TASK_TAGS = frozenset({
    "task", "userTask", "manualTask", "serviceTask", "sendTask", "receiveTask", "scriptTask",
    "businessRuleTask", "callActivity",
})
CONTAINER_TAGS = frozenset({"subProcess", "transaction", "adHocSubProcess"})
GATEWAY_TAGS = frozenset({
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
    "complexGateway",
})
EVENT_TAGS = frozenset({
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
})
THROW_TAGS = frozenset({"endEvent", "intermediateThrowEvent"})
DATA_TAGS = frozenset({"dataObjectReference", "dataObject", "dataInput", "dataOutput"})

# Styles travel with every drawing so that the standalone .svg download looks the same as the
# inline one; the page stylesheet may override colours.
STYLE = """
.bpmn text{font:12px system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;fill:#1f2933}
.bpmn .outline{fill:#fff;stroke:#1f2933;stroke-width:1.5}
.bpmn .container>.outline{fill:none}
.bpmn .participant>.outline,.bpmn .lane>.outline{fill:none;stroke:#52606d}
.bpmn .band{fill:none;stroke:#52606d;stroke-width:1.2}
.bpmn .marker{fill:none;stroke:#1f2933;stroke-width:1.5}
.bpmn .marker.filled{fill:#1f2933}
.bpmn .flow path{fill:none;stroke:#1f2933;stroke-width:1.5}
.bpmn .flow.messageFlow path{stroke-dasharray:8 5}
.bpmn .flow.association path,.bpmn .flow.dataInputAssociation path,
.bpmn .flow.dataOutputAssociation path{stroke-dasharray:2 4}
.bpmn .arrow{fill:#1f2933}
.bpmn .arrow-open{fill:#fff;stroke:#1f2933}
.bpmn .done>.outline{fill:#e3f5e9}
.bpmn .flow.taken path{stroke:#1f7a3d;stroke-width:2.5}
.bpmn .active>.outline,.bpmn .highlight>.outline{stroke:#d9480f;stroke-width:4;fill:#fff4e6}
.bpmn .badge circle{fill:#d9480f}
.bpmn .badge text{fill:#fff;font-weight:700;font-size:11px}
.bpmn .annotation-bracket{fill:none;stroke:#52606d;stroke-width:1.5}
.bpmn .group>.outline{fill:none;stroke:#52606d;stroke-dasharray:8 4 2 4}
"""

_ids = itertools.count(1)


@dataclass(slots=True)
class DiagramState:
    """What to mark on a drawing; every collection holds BPMN element ids."""

    active: Mapping[str, int] = field(default_factory=dict)     # element -> waiting tokens
    done: Collection[str] = ()
    taken: Collection[str] = ()
    highlight: Collection[str] = ()


def render_svg(diagram: Diagram, state: DiagramState | None = None, *,
               graphs: Iterable[ProcessGraph] = (), title: str | None = None) -> Markup:
    """The whole diagram as one `<svg>` element, safe to insert in a page.

    `graphs` (the compiled processes of the same file) add what the drawing data lacks:
    whether a boundary event or event subprocess start interrupts, and which subprocesses
    are event subprocesses (drawn dotted)."""
    state = state or DiagramState()
    if not diagram.shapes:
        return Markup('<p class="no-diagram">This diagram has no layout (BPMNDI) to draw.</p>')
    info = _GraphInfo.collect(graphs)
    prefix = f"d{next(_ids)}"
    out = _Canvas(prefix)
    shapes = diagram.shapes
    ordered = sorted(shapes.values(), key=lambda s: _layer(diagram.kinds.get(s.element_id, ""),
                                                           s))
    for shape in ordered:
        kind = diagram.kinds.get(shape.element_id, "")
        if _layer(kind, shape)[0] <= 1:
            out.shape(shape, kind, diagram, state, info)
    for edge in diagram.edges.values():
        out.edge(edge.element_id, edge.waypoints, diagram.kinds.get(edge.element_id, ""),
                 diagram.names.get(edge.element_id), edge.element_id in state.taken)
    for shape in ordered:
        kind = diagram.kinds.get(shape.element_id, "")
        if _layer(kind, shape)[0] > 1:
            out.shape(shape, kind, diagram, state, info)
    x0, y0, x1, y1 = out.bounds()
    width, height = x1 - x0, y1 - y0
    label = escape(title or "BPMN diagram")
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="bpmn" role="img" '
            f'aria-labelledby="{prefix}-title" viewBox="{_n(x0)} {_n(y0)} {_n(width)} '
            f'{_n(height)}" width="{_n(width)}" height="{_n(height)}">'
            f'<title id="{prefix}-title">{label}</title><style>{STYLE}</style>'
            f'<defs>{out.defs()}</defs>')
    return Markup(head + "".join(out.parts) + "</svg>")


@dataclass(slots=True)
class _GraphInfo:
    non_interrupting: set[str] = field(default_factory=set)
    event_subprocesses: set[str] = field(default_factory=set)

    @classmethod
    def collect(cls, graphs: Iterable[ProcessGraph]) -> _GraphInfo:
        info = cls()
        for graph in graphs:
            for node in graph.nodes:
                if node.kind in ("boundaryEvent", "startEvent") and not node.interrupting:
                    info.non_interrupting.add(node.id)
                elif node.kind == "eventSubProcess":
                    info.event_subprocesses.add(node.id)
        return info


def _layer(kind: str, shape: Shape) -> tuple[int, float]:
    """Drawing order: pools, lanes and expanded subprocesses (largest first) under the flows;
    everything else over them, boundary events last so they sit on their task's border."""
    area = -shape.width * shape.height
    if kind == "participant":
        return (0, area)
    if kind == "lane" or kind == "group":
        return (1, area)
    if kind in CONTAINER_TAGS and shape.expanded is not False and shape.width > 150:
        return (1, area)
    if kind == "boundaryEvent":
        return (4, area)
    return (3, area)


class _Canvas:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.parts: list[str] = []
        self.xs: list[float] = []
        self.ys: list[float] = []

    # ------------------------------------------------------------------ bookkeeping
    def extend(self, x: float, y: float, w: float = 0.0, h: float = 0.0) -> None:
        self.xs += (x, x + w)
        self.ys += (y, y + h)

    def bounds(self) -> tuple[float, float, float, float]:
        return (min(self.xs) - MARGIN, min(self.ys) - MARGIN,
                max(self.xs) + MARGIN, max(self.ys) + MARGIN)

    def defs(self) -> str:
        p = self.prefix
        return (f'<marker id="{p}-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
                'markerWidth="9" markerHeight="9" orient="auto-start-reverse">'
                '<path class="arrow" d="M0,0 L10,5 L0,10 z"/></marker>'
                f'<marker id="{p}-arrow-taken" viewBox="0 0 10 10" refX="10" refY="5" '
                'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
                '<path d="M0,0 L10,5 L0,10 z" fill="#1f7a3d"/></marker>'
                f'<marker id="{p}-arrow-open" viewBox="0 0 10 10" refX="10" refY="5" '
                'markerWidth="9" markerHeight="9" orient="auto-start-reverse">'
                '<path class="arrow-open" d="M0,0 L10,5 L0,10 z"/></marker>'
                f'<marker id="{p}-dot" viewBox="0 0 10 10" refX="5" refY="5" '
                'markerWidth="7" markerHeight="7">'
                '<circle cx="5" cy="5" r="4" fill="#fff" stroke="#1f2933"/></marker>')

    # ------------------------------------------------------------------ shapes
    def shape(self, shape: Shape, kind: str, diagram: Diagram, state: DiagramState,
              info: _GraphInfo) -> None:
        eid = shape.element_id
        name = diagram.names.get(eid)
        classes = ["shape", kind or "unknown"]
        tokens = state.active.get(eid, 0)
        if tokens:
            classes.append("active")
        if eid in state.highlight:
            classes.append("highlight")
        if eid in state.done and not tokens:
            classes.append("done")
        x, y, w, h = shape.x, shape.y, shape.width, shape.height
        self.extend(x, y, w, h)
        body: list[str] = []
        tip = f"{name} ({kind})" if name else f"{eid} ({kind})"
        if kind in EVENT_TAGS:
            classes.append("event")
            body.append(_event(shape, kind, diagram.event_types.get(eid, "none"),
                               eid in info.non_interrupting))
            body.append(self._outer_label(shape, name, below=True))
        elif kind in GATEWAY_TAGS:
            classes.append("gateway")
            body.append(_gateway(shape, kind))
            body.append(self._outer_label(shape, name, below=False))
        elif kind == "participant" or kind == "lane":
            classes.append("container")
            body.append(f'<rect class="outline" x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" '
                        f'height="{_n(h)}"/>')
            if name:
                band = 30.0 if w > 60 else 0.0
                if kind == "participant" and band:
                    body.append(f'<line class="band" x1="{_n(x + band)}" y1="{_n(y)}" '
                                f'x2="{_n(x + band)}" y2="{_n(y + h)}"/>')
                cx, cy = x + 15, y + h / 2
                body.append(_text_lines(_wrap(name, h - 10), cx, cy,
                                        transform=f"rotate(-90 {_n(cx)} {_n(cy)})"))
        elif kind in CONTAINER_TAGS and shape.expanded is not False and w > 150:
            classes.append("container")
            dash = ' stroke-dasharray="2 4"' if eid in info.event_subprocesses else ""
            body.append(f'<rect class="outline" x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" '
                        f'height="{_n(h)}" rx="10"{dash}/>')
            if kind == "transaction":
                body.append(f'<rect class="outline" x="{_n(x + 4)}" y="{_n(y + 4)}" '
                            f'width="{_n(w - 8)}" height="{_n(h - 8)}" rx="7"/>')
            if name:
                body.append(_text_lines(_wrap(name, w - 20), x + 10, y + 8 + FONT,
                                        anchor="start", middle=False))
        elif kind in TASK_TAGS or kind in CONTAINER_TAGS:
            classes.append("activity")
            thick = ' style="stroke-width:4"' if kind == "callActivity" else ""
            dash = ' stroke-dasharray="2 4"' if eid in info.event_subprocesses else ""
            body.append(f'<rect class="outline" x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" '
                        f'height="{_n(h)}" rx="10"{thick}{dash}/>')
            body.append(_task_marker(kind, x, y))
            if kind in CONTAINER_TAGS or kind == "callActivity" and w <= 150:
                body.append(_collapsed_marker(x, y, w, h))
            if name:
                body.append(_text_lines(_wrap(name, w - 12), x + w / 2, y + h / 2))
        elif kind == "textAnnotation":
            classes.append("annotation")
            body.append(f'<path class="annotation-bracket" d="M{_n(x + 12)},{_n(y)} '
                        f'L{_n(x)},{_n(y)} L{_n(x)},{_n(y + h)} L{_n(x + 12)},{_n(y + h)}"/>')
            if name:
                body.append(_text_lines(_wrap(name, w - 8), x + 6, y + 6 + FONT, anchor="start",
                                        middle=False))
        elif kind == "group":
            body.append(f'<rect class="outline" x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" '
                        f'height="{_n(h)}" rx="8"/>')
            if name:
                body.append(_text_lines(_wrap(name, w), x + w / 2, y + FONT + 4))
        elif kind in DATA_TAGS:
            fold = min(12.0, w / 3)
            body.append(f'<path class="outline" d="M{_n(x)},{_n(y)} L{_n(x + w - fold)},{_n(y)} '
                        f'L{_n(x + w)},{_n(y + fold)} L{_n(x + w)},{_n(y + h)} L{_n(x)},'
                        f'{_n(y + h)} Z"/>')
            body.append(self._outer_label(shape, name, below=True))
        elif kind == "dataStoreReference":
            ry = min(8.0, h / 5)
            body.append(f'<path class="outline" d="M{_n(x)},{_n(y + ry)} '
                        f'A{_n(w / 2)},{_n(ry)} 0 0 1 {_n(x + w)},{_n(y + ry)} '
                        f'L{_n(x + w)},{_n(y + h - ry)} A{_n(w / 2)},{_n(ry)} 0 0 1 '
                        f'{_n(x)},{_n(y + h - ry)} Z M{_n(x)},{_n(y + ry)} '
                        f'A{_n(w / 2)},{_n(ry)} 0 0 0 {_n(x + w)},{_n(y + ry)}"/>')
            body.append(self._outer_label(shape, name, below=True))
        else:
            body.append(f'<rect class="outline" x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" '
                        f'height="{_n(h)}" rx="4"/>')
            if name:
                body.append(_text_lines(_wrap(name, w - 8), x + w / 2, y + h / 2))
        if tokens:
            body.append(_badge(x, y + h, tokens))
        self.parts.append(f'<g class="{" ".join(classes)}" data-element-id="{escape(eid)}">'
                          f'<title>{escape(tip)}</title>{"".join(body)}</g>')

    def _outer_label(self, shape: Shape, name: str | None, below: bool) -> str:
        """Events, gateways and data: the name goes in its DI label bounds, else under the
        shape (gateways: above, where modelers put it by default)."""
        if not name:
            return ""
        if shape.label is not None:
            lx, ly, lw, lh = shape.label
            lines = _wrap(name, max(lw, 90.0))
            self.extend(lx, ly, lw, lh)
            return _text_lines(lines, lx + lw / 2, ly + FONT - 1, middle=False)
        lines = _wrap(name, max(shape.width * 2.2, 90.0))
        cx = shape.x + shape.width / 2
        if below:
            top = shape.y + shape.height + 4 + FONT - 1
        else:
            top = shape.y - 6 - LINE_HEIGHT * (len(lines) - 1)
        half = max(len(line) for line in lines) * CHAR_WIDTH / 2
        self.extend(cx - half, top - FONT, 2 * half, LINE_HEIGHT * len(lines))
        return _text_lines(lines, cx, top, middle=False)

    # ------------------------------------------------------------------ edges
    def edge(self, eid: str, points: tuple[tuple[float, float], ...], kind: str,
             name: str | None, taken: bool) -> None:
        if len(points) < 2:
            return
        for px, py in points:
            self.extend(px, py)
        d = "M" + " L".join(f"{_n(px)},{_n(py)}" for px, py in points)
        p = self.prefix
        end = ""
        start = ""
        if kind in ("sequenceFlow", "") or kind.endswith("Association") and kind != "association":
            end = f' marker-end="url(#{p}-arrow{"-taken" if taken else ""})"'
        elif kind == "messageFlow":
            start = f' marker-start="url(#{p}-dot)"'
            end = f' marker-end="url(#{p}-arrow-open)"'
        classes = f"flow {kind}" + (" taken" if taken else "")
        label = ""
        if name:
            (ax, ay), (bx, by) = _middle_segment(points)
            mx, my = (ax + bx) / 2, (ay + by) / 2
            vertical = abs(bx - ax) < abs(by - ay)
            lx, ly = (mx + 6, my + 4) if vertical else (mx, my - 6)
            lines = _wrap(name, 120)
            label = _text_lines(lines, lx, ly, anchor="start" if vertical else "middle",
                                middle=False)
            self.extend(lx, ly - FONT, max(len(line) for line in lines) * CHAR_WIDTH, FONT)
        self.parts.append(f'<g class="{classes}" data-element-id="{escape(eid)}">'
                          f'<title>{escape(name or eid)}</title>'
                          f'<path d="{d}"{start}{end}/>{label}</g>')


# ---------------------------------------------------------------------- pieces


def _event(shape: Shape, kind: str, event_type: str, non_interrupting: bool) -> str:
    cx, cy = shape.x + shape.width / 2, shape.y + shape.height / 2
    r = min(shape.width, shape.height) / 2
    dash = ' stroke-dasharray="5 3"' if non_interrupting else ""
    parts = []
    if kind == "endEvent":
        parts.append(f'<circle class="outline" cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r)}" '
                     f'style="stroke-width:4"/>')
    elif kind == "startEvent":
        parts.append(f'<circle class="outline" cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r)}"{dash}/>')
    else:
        parts.append(f'<circle class="outline" cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r)}"{dash}/>')
        parts.append(f'<circle class="marker" cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r - 3)}"'
                     f'{dash}/>')
    parts.append(_event_symbol(event_type, cx, cy, r, kind in THROW_TAGS))
    return "".join(parts)


def _event_symbol(event_type: str, cx: float, cy: float, r: float, throw: bool) -> str:
    s = r / 18.0                      # symbols are drawn for an 18 px radius and scaled
    fill = "marker filled" if throw else "marker"

    def pts(coords: Iterable[tuple[float, float]]) -> str:
        return " ".join(f"{_n(cx + dx * s)},{_n(cy + dy * s)}" for dx, dy in coords)

    if event_type == "message":
        rect = (f'<rect class="{fill}" x="{_n(cx - 9 * s)}" y="{_n(cy - 6 * s)}" '
                f'width="{_n(18 * s)}" height="{_n(12 * s)}"/>')
        flap_color = ' stroke="#fff"' if throw else ""
        return rect + f'<polyline class="marker" points="{pts([(-9, -6), (0, 1), (9, -6)])}"' \
                      f'{flap_color}/>'
    if event_type == "timer":
        hands = pts([(0, -7), (0, 0), (5, 3)])
        ticks = "".join(
            f'<line class="marker" style="stroke-width:1" x1="{_n(cx + math.cos(a) * 8 * s)}" '
            f'y1="{_n(cy + math.sin(a) * 8 * s)}" x2="{_n(cx + math.cos(a) * 10 * s)}" '
            f'y2="{_n(cy + math.sin(a) * 10 * s)}"/>'
            for a in (i * math.pi / 6 for i in range(12)))
        return (f'<circle class="marker" cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(11 * s)}"/>'
                + ticks + f'<polyline class="marker" points="{hands}"/>')
    if event_type == "signal":
        return f'<polygon class="{fill}" points="{pts([(0, -10), (9, 6), (-9, 6)])}"/>'
    if event_type == "error":
        return (f'<polygon class="{fill}" points="'
                f'{pts([(-8, 9), (-3, -8), (2, 2), (8, -9), (3, 8), (-2, -2)])}"/>')
    if event_type == "escalation":
        return f'<polygon class="{fill}" points="{pts([(0, -10), (7, 9), (0, 2), (-7, 9)])}"/>'
    if event_type == "terminate":
        return f'<circle class="marker filled" cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(10 * s)}"/>'
    if event_type == "conditional":
        lines = "".join(f'<line class="marker" style="stroke-width:1" x1="{_n(cx - 5 * s)}" '
                        f'y1="{_n(cy + dy * s)}" x2="{_n(cx + 5 * s)}" y2="{_n(cy + dy * s)}"/>'
                        for dy in (-5, -1.5, 2, 5.5))
        return (f'<rect class="marker" x="{_n(cx - 8 * s)}" y="{_n(cy - 9 * s)}" '
                f'width="{_n(16 * s)}" height="{_n(18 * s)}"/>' + lines)
    if event_type == "link":
        return (f'<polygon class="{fill}" points="'
                f'{pts([(-9, -3), (2, -3), (2, -8), (10, 0), (2, 8), (2, 3), (-9, 3)])}"/>')
    if event_type == "compensate":
        return (f'<polygon class="{fill}" points="{pts([(-1, -7), (-1, 7), (-10, 0)])}"/>'
                f'<polygon class="{fill}" points="{pts([(9, -7), (9, 7), (0, 0)])}"/>')
    if event_type == "cancel":
        return (f'<polyline class="marker" style="stroke-width:3" points="{pts([(-7, -7), (7, 7)])}"/>'
                f'<polyline class="marker" style="stroke-width:3" points="{pts([(7, -7), (-7, 7)])}"/>')
    if event_type == "multiple":
        return (f'<polygon class="{fill}" points="'
                f'{pts([(0, -10), (9.5, -3), (6, 8), (-6, 8), (-9.5, -3)])}"/>')
    return ""


def _gateway(shape: Shape, kind: str) -> str:
    x, y, w, h = shape.x, shape.y, shape.width, shape.height
    cx, cy = x + w / 2, y + h / 2
    diamond = (f'<polygon class="outline" points="{_n(cx)},{_n(y)} {_n(x + w)},{_n(cy)} '
               f'{_n(cx)},{_n(y + h)} {_n(x)},{_n(cy)}"/>')
    s = min(w, h) / 50.0
    if kind == "exclusiveGateway":
        d = 9 * s
        mark = (f'<path class="marker" style="stroke-width:4" d="M{_n(cx - d)},{_n(cy - d)} '
                f'L{_n(cx + d)},{_n(cy + d)} M{_n(cx + d)},{_n(cy - d)} '
                f'L{_n(cx - d)},{_n(cy + d)}"/>')
    elif kind == "parallelGateway":
        d = 12 * s
        mark = (f'<path class="marker" style="stroke-width:4" d="M{_n(cx)},{_n(cy - d)} '
                f'L{_n(cx)},{_n(cy + d)} M{_n(cx - d)},{_n(cy)} L{_n(cx + d)},{_n(cy)}"/>')
    elif kind == "inclusiveGateway":
        mark = (f'<circle class="marker" style="stroke-width:3" cx="{_n(cx)}" cy="{_n(cy)}" '
                f'r="{_n(11 * s)}"/>')
    elif kind == "eventBasedGateway":
        pent = " ".join(f"{_n(cx + dx * s)},{_n(cy + dy * s)}"
                        for dx, dy in ((0, -7), (7, -2), (4.5, 6), (-4.5, 6), (-7, -2)))
        mark = (f'<circle class="marker" cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(13 * s)}"/>'
                f'<circle class="marker" cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(10.5 * s)}"/>'
                f'<polygon class="marker" points="{pent}"/>')
    else:   # complexGateway
        d = 11 * s
        e = d * 0.7
        mark = (f'<path class="marker" style="stroke-width:3" d="M{_n(cx)},{_n(cy - d)} '
                f'L{_n(cx)},{_n(cy + d)} M{_n(cx - d)},{_n(cy)} L{_n(cx + d)},{_n(cy)} '
                f'M{_n(cx - e)},{_n(cy - e)} L{_n(cx + e)},{_n(cy + e)} '
                f'M{_n(cx + e)},{_n(cy - e)} L{_n(cx - e)},{_n(cy + e)}"/>')
    return diamond + mark


def _task_marker(kind: str, x: float, y: float) -> str:
    """The small type symbol in a task's top-left corner."""
    ox, oy = x + 8, y + 8
    if kind == "userTask":
        return (f'<circle class="marker" cx="{_n(ox + 7)}" cy="{_n(oy + 4)}" r="3.5"/>'
                f'<path class="marker" d="M{_n(ox)},{_n(oy + 15)} C{_n(ox)},{_n(oy + 8)} '
                f'{_n(ox + 14)},{_n(oy + 8)} {_n(ox + 14)},{_n(oy + 15)} Z"/>')
    if kind == "serviceTask":
        cx, cy = ox + 7, oy + 7
        teeth = "".join(
            f'<line class="marker" style="stroke-width:3" x1="{_n(cx + math.cos(a) * 5)}" '
            f'y1="{_n(cy + math.sin(a) * 5)}" x2="{_n(cx + math.cos(a) * 8)}" '
            f'y2="{_n(cy + math.sin(a) * 8)}"/>'
            for a in (i * math.pi / 4 for i in range(8)))
        return teeth + (f'<circle class="outline" cx="{_n(cx)}" cy="{_n(cy)}" r="5"/>'
                        f'<circle class="marker" cx="{_n(cx)}" cy="{_n(cy)}" r="2"/>')
    if kind == "scriptTask":
        lines = "".join(f'<line class="marker" style="stroke-width:1" x1="{_n(ox + 4)}" '
                        f'y1="{_n(oy + dy)}" x2="{_n(ox + 11)}" y2="{_n(oy + dy)}"/>'
                        for dy in (4, 7.5, 11))
        return (f'<path class="marker" d="M{_n(ox + 2)},{_n(oy)} L{_n(ox + 14)},{_n(oy)} '
                f'C{_n(ox + 11)},{_n(oy + 5)} {_n(ox + 16)},{_n(oy + 10)} {_n(ox + 13)},'
                f'{_n(oy + 15)} L{_n(ox + 1)},{_n(oy + 15)} C{_n(ox + 4)},{_n(oy + 10)} '
                f'{_n(ox - 1)},{_n(oy + 5)} {_n(ox + 2)},{_n(oy)} Z"/>' + lines)
    if kind in ("sendTask", "receiveTask"):
        fill = "marker filled" if kind == "sendTask" else "marker"
        stroke = ' stroke="#fff"' if kind == "sendTask" else ""
        return (f'<rect class="{fill}" x="{_n(ox)}" y="{_n(oy + 2)}" width="16" height="11"/>'
                f'<polyline class="marker" points="{_n(ox)},{_n(oy + 2)} {_n(ox + 8)},'
                f'{_n(oy + 8)} {_n(ox + 16)},{_n(oy + 2)}"{stroke}/>')
    if kind == "businessRuleTask":
        return (f'<rect class="marker" x="{_n(ox)}" y="{_n(oy + 1)}" width="17" height="12"/>'
                f'<rect class="marker filled" x="{_n(ox)}" y="{_n(oy + 1)}" width="17" '
                f'height="3.5"/><line class="marker" style="stroke-width:1" x1="{_n(ox)}" '
                f'y1="{_n(oy + 8.5)}" x2="{_n(ox + 17)}" y2="{_n(oy + 8.5)}"/>'
                f'<line class="marker" style="stroke-width:1" x1="{_n(ox + 5)}" y1="{_n(oy + 4.5)}" '
                f'x2="{_n(ox + 5)}" y2="{_n(oy + 13)}"/>')
    if kind == "manualTask":
        return (f'<path class="marker" style="stroke-width:1" d="M{_n(ox)},{_n(oy + 5)} '
                f'L{_n(ox + 13)},{_n(oy + 5)} M{_n(ox)},{_n(oy + 5)} L{_n(ox)},{_n(oy + 13)} '
                f'L{_n(ox + 11)},{_n(oy + 13)} M{_n(ox + 4)},{_n(oy + 8)} L{_n(ox + 14)},'
                f'{_n(oy + 8)} M{_n(ox + 4)},{_n(oy + 10.5)} L{_n(ox + 13)},{_n(oy + 10.5)}"/>')
    return ""


def _collapsed_marker(x: float, y: float, w: float, h: float) -> str:
    cx, by = x + w / 2, y + h - 4
    return (f'<rect class="marker" x="{_n(cx - 7)}" y="{_n(by - 14)}" width="14" height="14"/>'
            f'<path class="marker" d="M{_n(cx - 4)},{_n(by - 7)} L{_n(cx + 4)},{_n(by - 7)} '
            f'M{_n(cx)},{_n(by - 11)} L{_n(cx)},{_n(by - 3)}"/>')


def _badge(x: float, y: float, count: int) -> str:
    return (f'<g class="badge"><circle cx="{_n(x)}" cy="{_n(y)}" r="9"/>'
            f'<text x="{_n(x)}" y="{_n(y + 4)}" text-anchor="middle">{count}</text></g>')


def _middle_segment(points: tuple[tuple[float, float], ...]
                    ) -> tuple[tuple[float, float], tuple[float, float]]:
    """The longest segment of a flow: where its label reads best."""
    best = max(range(len(points) - 1),
               key=lambda i: math.dist(points[i], points[i + 1]))
    return points[best], points[best + 1]


def _wrap(text: str, width: float) -> list[str]:
    """Greedy word wrap by an estimated glyph width (no font metrics on the server)."""
    per_line = max(4, int(width / CHAR_WIDTH))
    lines: list[str] = []
    for paragraph in text.replace("\r", "").split("\n"):
        current = ""
        for word in paragraph.split():
            while len(word) > per_line:
                if current:
                    lines.append(current)
                    current = ""
                lines.append(word[:per_line])
                word = word[per_line:]
            candidate = f"{current} {word}".strip()
            if len(candidate) <= per_line:
                current = candidate
            else:
                lines.append(current)
                current = word
        if current:
            lines.append(current)
    return lines[:8] or [""]


def _text_lines(lines: list[str], x: float, y: float, *, anchor: str = "middle",
                middle: bool = True, transform: str | None = None) -> str:
    """`y` is the centre of the block when `middle`, else the first baseline."""
    first = y - (len(lines) - 1) * LINE_HEIGHT / 2 + FONT / 3 if middle else y
    spans = "".join(
        f'<tspan x="{_n(x)}" y="{_n(first + i * LINE_HEIGHT)}">{escape(line)}</tspan>'
        for i, line in enumerate(lines))
    extra = f' transform="{transform}"' if transform else ""
    return f'<text text-anchor="{anchor}"{extra}>{spans}</text>'


def _n(value: float) -> str:
    """Short numbers keep the SVG small: 120 not 120.0, 12.35 not 12.345678."""
    rounded = round(value, 2)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:g}"
