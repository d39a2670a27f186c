"""The server-side diagram renderer, the form field views and the diagram state, without a
web server."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from engine import Engine
from engine.bpmn import compile_bpmn
from engine.graph import Diagram, Edge, FormField, Shape
from engine.testing import ManualClock
from tasklist_ui.diagram_state import instance_diagram_state
from tasklist_ui.form_render import field_views, form_template_name
from tasklist_ui.start_forms import start_form_fields
from tasklist_ui.svg import DiagramState, render_svg

ROOT = Path(__file__).resolve().parents[2]
CLAIM = ROOT / "bpmn_models" / "insurance_claim.bpmn"
CORPUS = ROOT.parent / "shared" / "corpus"
SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> etree._Element:
    return etree.fromstring(str(markup).encode())


def groups(svg: etree._Element, cls: str) -> dict[str, etree._Element]:
    return {g.get("data-element-id"): g for g in svg.iter(f"{SVG}g")
            if cls in (g.get("class") or "").split()}


def test_claim_diagram_draws_every_element() -> None:
    defs = compile_bpmn(CLAIM.read_bytes())
    svg = parse(render_svg(defs.diagram, graphs=defs.processes.values(), title="Claim"))
    shapes = groups(svg, "shape")
    flows = groups(svg, "flow")
    assert set(shapes) == set(defs.diagram.shapes)
    assert set(flows) == set(defs.diagram.edges)
    assert "userTask" in shapes["Task_adjuster_review"].get("class")
    assert "exclusiveGateway" in shapes["Gateway_valid"].get("class")
    timer = shapes["Timer_review_48h"]
    assert len(timer.findall(f"{SVG}circle")) >= 3                 # double ring + clock face
    end = shapes["End_paid"].find(f"{SVG}circle")
    assert "stroke-width:4" in end.get("style")                    # thick end event
    assert svg.find(f"{SVG}title").text == "Claim"
    # every sequence flow ends in an arrowhead defined in this drawing
    markers = {m.get("id") for m in svg.iter(f"{SVG}marker")}
    for g in flows.values():
        ref = g.find(f"{SVG}path").get("marker-end")
        assert ref and ref[5:-1] in markers
    # the view box contains every shape
    x0, y0, w, h = (float(v) for v in svg.get("viewBox").split())
    for s in defs.diagram.shapes.values():
        assert x0 <= s.x and s.x + s.width <= x0 + w
        assert y0 <= s.y and s.y + s.height <= y0 + h


def test_labels_are_escaped_and_wrapped() -> None:
    diagram = Diagram(
        shapes={"t": Shape(element_id="t", x=0, y=0, width=100, height=80)},
        kinds={"t": "userTask"},
        names={"t": "<script>alert(1)</script> review the very long claim description"},
    )
    markup = str(render_svg(diagram))
    assert "<script>" not in markup and "&lt;script&gt;" in markup
    svg = parse(markup)
    text = [t for t in svg.iter(f"{SVG}text")][0]
    assert len(text.findall(f"{SVG}tspan")) >= 3


def test_states_mark_active_done_taken_and_highlight() -> None:
    defs = compile_bpmn(CLAIM.read_bytes())
    state = DiagramState(active={"Task_adjuster_review": 2}, done={"Task_validate"},
                         taken={"Flow_to_validate"}, highlight={"Task_fraud_score"})
    svg = parse(render_svg(defs.diagram, state))
    shapes = groups(svg, "shape")
    assert "active" in shapes["Task_adjuster_review"].get("class")
    badge = shapes["Task_adjuster_review"].find(f".//{SVG}g[@class='badge']")
    assert badge.find(f"{SVG}text").text == "2"
    assert "done" in shapes["Task_validate"].get("class")
    assert "highlight" in shapes["Task_fraud_score"].get("class")
    assert "taken" in groups(svg, "flow")["Flow_to_validate"].get("class")
    assert "taken" not in groups(svg, "flow")["Flow_valid_no"].get("class")


def test_pools_lanes_and_message_flows() -> None:
    data = (CORPUS / "miwg" / "reference" / "C.1.0.bpmn").read_bytes()
    defs = compile_bpmn(data)
    svg = parse(render_svg(defs.diagram, graphs=defs.processes.values()))
    shapes = groups(svg, "shape")
    kinds = {k for g in shapes.values() for k in g.get("class").split()}
    assert {"participant", "lane", "userTask", "serviceTask", "eventBasedGateway"} <= kinds
    lane_texts = [t for g in shapes.values() if "lane" in g.get("class").split()
                  for t in g.iter(f"{SVG}text")]
    assert lane_texts and all("rotate(-90" in t.get("transform") for t in lane_texts)
    message_flows = [g for g in groups(svg, "flow").values() if "messageFlow" in g.get("class")]
    assert message_flows
    path = message_flows[0].find(f"{SVG}path")
    assert path.get("marker-start") and "arrow-open" in path.get("marker-end")


def test_event_subprocess_and_non_interrupting_events_are_dashed() -> None:
    path = CORPUS / "camunda" / "event" / "timer" / \
        "BoundaryTimerNonInterruptingEventTest.testTimerOnEmbeddedSubprocess.bpmn20.xml"
    defs = compile_bpmn(path.read_bytes())
    svg = parse(render_svg(defs.diagram, graphs=defs.processes.values()))
    boundaries = [g for g in groups(svg, "shape").values() if "boundaryEvent" in g.get("class")]
    assert boundaries
    assert all(g.find(f"{SVG}circle").get("stroke-dasharray") for g in boundaries)


def test_diagram_without_layout_says_so() -> None:
    assert "no layout" in render_svg(Diagram())


def test_edge_without_points_is_skipped() -> None:
    diagram = Diagram(shapes={"a": Shape(element_id="a", x=0, y=0, width=36, height=36)},
                      edges={"f": Edge(element_id="f", waypoints=((1.0, 1.0),))},
                      kinds={"a": "startEvent", "f": "sequenceFlow"})
    svg = parse(render_svg(diagram))
    assert groups(svg, "flow") == {}


def test_path_taken_follows_the_history() -> None:
    clock = ManualClock()
    engine = Engine(clock=clock)
    engine.deploy(CLAIM)
    iid = engine.start("insurance_claim", {"amount": 0, "claimant": "Nobody"})   # invalid
    view = engine.instance(iid)
    assert view.status == "completed"
    state = instance_diagram_state(engine.graph(view.definition_id), view.tokens,
                                   engine.history(iid))
    assert {"Flow_to_validate", "Flow_to_valid_gw", "Flow_valid_no", "Flow_to_reject",
            "Flow_to_rejected"} == set(state.taken)
    assert "End_rejected" in state.done and "Task_fraud_score" not in state.done
    assert state.active == {}


def test_path_taken_with_a_waiting_task() -> None:
    engine = Engine(clock=ManualClock())
    engine.deploy(CLAIM)
    iid = engine.start("insurance_claim", {"amount": 10, "claimant": "Jo"})
    view = engine.instance(iid)
    state = instance_diagram_state(engine.graph(view.definition_id), view.tokens,
                                   engine.history(iid), highlight=["Task_fraud_score"])
    assert state.active == {"Task_fraud_score": 1}
    assert "Flow_valid_yes" in state.taken and "Flow_valid_no" not in state.taken


# ---------------------------------------------------------------------- forms


@pytest.mark.parametrize(("key", "expected"), [
    ("app:forms/supervisor_review.html", "forms/supervisor_review.html"),
    ("embedded:app:forms/claim.html", "forms/claim.html"),
    ("claim.html", "forms/claim.html"),
    ("forms/../base.html", None),
    ("../templates/base.html", None),
    ("forms/claim.txt", None),
    ("camunda-forms:deployment:claim.form", None),
    ("", None),
    (None, None),
])
def test_form_key_names_only_templates_under_forms(key: str | None,
                                                   expected: str | None) -> None:
    assert form_template_name(key) == expected


def test_field_views_pick_inputs_and_keep_posted_values() -> None:
    fields = [
        FormField(id="approved", label="Approve", type="boolean", required=True),
        FormField(id="payout", type="long", constraints={"min": 0}),
        FormField(id="remarks", type="string", constraints={"maxlength": 500}),
        FormField(id="kind", type="enum", enum_values=(("car", "Car"), ("home", "Home"))),
        FormField(id="when", type="date"),
    ]
    views = {v.id: v for v in field_views(fields, {"approved": True, "payout": 10})}
    assert views["approved"].widget == "checkbox" and views["approved"].checked
    assert views["payout"].widget == "number" and views["payout"].attrs["min"] == "0"
    assert views["payout"].value == "10" and views["payout"].hint == "at least 0"
    assert views["remarks"].widget == "textarea" and views["remarks"].attrs["maxlength"] == "500"
    assert views["kind"].options == [("car", "Car"), ("home", "Home")]
    assert views["when"].widget == "date"
    after = {v.id: v for v in field_views(fields, {"approved": True}, posted={"payout": "-5"},
                                          errors={"payout": "must be at least 0"})}
    assert after["payout"].value == "-5" and after["payout"].error == "must be at least 0"
    assert not after["approved"].checked             # unchecked box: not posted


def test_start_form_fields_come_from_the_start_event() -> None:
    engine = Engine()
    engine.deploy(CLAIM)
    fields = start_form_fields(engine.definition("insurance_claim"))
    assert [(f.id, f.type, f.required) for f in fields] == [
        ("claimant", "string", True), ("amount", "long", True)]
    assert fields[1].constraints["min"] == 1
