"""Text from uploaded diagrams, form input, comments, business keys and error messages is
escaped on every page, in the server-drawn SVG and in downloads."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from engine import Engine
from tests.security.conftest import bearer
from tests.security.diagrams import HOSTILE, PAYLOAD, RAW_MARKERS, drawn


def assert_escaped(response, where: str) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code == 200, f"{where}: {response.status_code}"
    for marker in RAW_MARKERS:
        assert marker not in body, f"{where} emits {marker!r} unescaped"


@pytest.fixture
def hostile(engine: Engine, browser):
    """The hostile diagram uploaded through the form, an instance started through the start
    form with the payload as input and business key, a comment, and an open incident whose
    message carries the payload."""
    ann, alice = browser("ann"), browser("alice")
    r = ann.post("/processes/upload", {"diagram": (io.BytesIO(HOSTILE.encode()), "h.bpmn")},
                 content_type="multipart/form-data")
    assert r.status_code == 303, r.get_data(as_text=True)
    r = alice.post("/processes/hostile/start", {"note": PAYLOAD, "business_key": PAYLOAD})
    assert r.status_code == 303
    (task,) = engine.tasks()
    assert alice.post(f"/tasks/{task.id}/comment", {"text": PAYLOAD}).status_code == 303
    assert alice.post(f"/tasks/{task.id}/claim").status_code == 303
    pages = {"task list": "/tasks", "task": f"/tasks/{task.id}", "processes": "/processes",
             "process": "/processes/hostile", "start form": "/processes/hostile/start"}
    return {"task": task, "instance": task.instance_id, "ann": ann, "alice": alice,
            "pages": pages}


def _fail_into_incident(engine: Engine, alice, task_id: str) -> None:
    r = alice.post(f"/tasks/{task_id}/complete", {"choice": "ok", "text": PAYLOAD})
    assert r.status_code == 303
    for _ in range(6):
        engine.run_due_jobs()
        engine.clock.advance(timedelta(hours=2))
    (incident,) = engine.incidents()
    assert "<script>alert(1)</script>" in incident.message   # kept raw; pages escape it


def test_every_page_escapes_diagram_text_input_and_comments(engine: Engine, hostile) -> None:
    for where, url in hostile["pages"].items():
        assert_escaped(hostile["alice"].get(url), where)
    inst = hostile["instance"]
    for where, url in {"instance": f"/instances/{inst}", "instances": "/instances?status=any",
                       "instances by key": "/instances?business_key=%3Cscript%3E"}.items():
        assert_escaped(hostile["ann"].get(url), where)
    page = hostile["alice"].get(f"/tasks/{hostile['task'].id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page      # shown, as text


def test_incident_messages_are_escaped_and_stacks_are_for_admins(engine: Engine, hostile,
                                                                browser) -> None:
    _fail_into_incident(engine, hostile["alice"], hostile["task"].id)
    inst = hostile["instance"]
    root = browser("root")
    for who in (hostile["ann"], root):
        assert_escaped(who.get("/incidents"), "incidents")
        assert_escaped(who.get(f"/instances/{inst}"), "instance with incident")
    # the stack names server files and lines: analysts see the message, not the trace
    assert "Traceback" not in hostile["ann"].get("/incidents").get_data(as_text=True)
    assert "Traceback" not in hostile["ann"].get(f"/instances/{inst}").get_data(as_text=True)
    assert "Traceback" in root.get("/incidents").get_data(as_text=True)


def test_drawing_escapes_names_and_download_cannot_run_script(hostile) -> None:
    r = hostile["alice"].get("/processes/hostile/1/diagram.svg")
    assert_escaped(r, "svg download")
    assert r.mimetype == "image/svg+xml"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    policy = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert r.headers["Content-Disposition"].startswith("inline; filename=")
    assert "<foreignObject" not in r.get_data(as_text=True)


def test_api_answers_are_json_and_sandboxed(engine: Engine, hostile, app) -> None:
    token = engine.new_api_token("alice")
    client = app.test_client()
    r = client.get(f"/api/tasks/{hostile['task'].id}", headers=bearer(token))
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.get_json()["variables"]["note"] == PAYLOAD
    assert r.headers["Content-Security-Policy"].endswith("sandbox")
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_deployed_xml_is_a_sandboxed_download(engine: Engine, hostile, app) -> None:
    # XML may hold <html:script> elements a browser would run if it rendered the document
    (definition,) = engine.definitions("hostile")
    token = engine.new_api_token("ann")
    r = app.test_client().get(f"/api/definitions/{definition.id}/xml", headers=bearer(token))
    assert r.status_code == 200
    assert r.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in r.headers["Content-Security-Policy"]
    r = hostile["ann"].get("/processes/hostile/1/source.bpmn")
    assert r.headers["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize("coordinates", ['x="NaN" y="80"', 'x="1e999" y="80"',
                                         'x="-1e308" y="1e308"'])
def test_unplaceable_coordinates_do_not_break_the_pages(engine: Engine, browser,
                                                        coordinates: str) -> None:
    engine.deploy(drawn(coordinates).encode())
    engine.start("drawn", {})
    (task,) = engine.tasks()
    alice = browser("alice")
    for url in ("/processes/drawn", "/processes/drawn/1/diagram.svg", f"/tasks/{task.id}"):
        assert alice.get(url).status_code == 200, url
