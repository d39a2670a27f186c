"""The tasklist's pages and permissions through Flask's test client, on a SQLite engine
holding the demo data (alice, carol: adjusters; bob: supervisor; ann: analyst; admin)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from lxml import html

from connectors.registry import ConnectorPolicy
from engine import Engine
from engine.testing import ManualClock
from tasklist_ui.demo import DEMO_CLAIMS

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "camunda"
COMPENSATION = CORPUS / "event/compensate/CompensateEventTest.testCompensationEventSubProcess.bpmn20.xml"
TERMINATE = CORPUS / "event/end/TerminateEndEventTest.testProcessTerminate.bpmn"


def review_tasks(engine: Engine) -> list:
    return engine.tasks(activity_id="Task_adjuster_review")


def doc(response) -> html.HtmlElement:  # noqa: ANN001
    return html.fromstring(response.get_data(as_text=True))


def broken_diagram() -> bytes:
    data = TERMINATE.read_bytes()
    return data.replace(b'sourceRef="ParallelGateway_1" targetRef="preTerminateTask"',
                        b'sourceRef="ParallelGateway_1" targetRef="noSuchTask"')


# ---------------------------------------------------------------------- login


def test_anonymous_requests_go_to_login(app) -> None:  # noqa: ANN001
    client = app.test_client()
    for url in ("/tasks", "/processes", "/processes/upload", "/incidents", "/me"):
        r = client.get(url)
        assert r.status_code == 302, url
        assert r.location.startswith("/login?next="), url
    r = client.post("/tasks/anything/claim")
    assert r.status_code in (302, 400)   # no session: CSRF or login stops it first


def test_login_checks_the_password(visitor) -> None:  # noqa: ANN001
    page = visitor.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    r = visitor.client.post("/login", data={"username": "alice", "password": "wrong-one",
                                            "csrf_token": token})
    assert r.status_code == 401
    assert "wrong password" in r.get_data(as_text=True)
    assert visitor.get("/tasks").status_code == 302


def test_login_does_not_redirect_off_site(visitor) -> None:  # noqa: ANN001
    page = visitor.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    r = visitor.client.post("/login?next=https://evil.example/", data={
        "username": "alice", "password": "baton-demo", "csrf_token": token})
    assert r.status_code == 302
    assert r.location == "/tasks"


def test_logout_needs_a_post_with_token(as_user) -> None:  # noqa: ANN001
    alice = as_user("alice")
    assert alice.client.post("/logout").status_code == 400        # no CSRF token
    assert alice.get("/tasks").status_code == 200
    assert alice.post("/logout").status_code == 302
    assert alice.get("/tasks").status_code == 302


def test_forms_without_csrf_token_are_refused(as_user, engine) -> None:  # noqa: ANN001
    alice = as_user("alice")
    task = review_tasks(engine)[0]
    r = alice.client.post(f"/tasks/{task.id}/claim")
    assert r.status_code == 400
    assert "security token" in r.get_data(as_text=True)
    assert engine.task(task.id).assignee is None


# ---------------------------------------------------------------------- task list


def test_task_list_views(as_user, engine) -> None:  # noqa: ANN001
    alice = as_user("alice")
    mine = doc(alice.get("/tasks"))
    assert mine.xpath("//table[contains(@class,'tasks')]") == []
    assert "Nothing is assigned to you" in mine.text_content()
    groups = doc(alice.get("/tasks?view=claimable"))
    links = groups.xpath("//a[@class='task-link']/text()")
    assert links == ["Review claim"] * 4
    assert "All open" not in groups.text_content()          # supervisors only

    task = review_tasks(engine)[0]
    assert alice.post(f"/tasks/{task.id}/claim").status_code == 303
    mine = doc(alice.get("/tasks?view=mine"))
    assert [a.get("href") for a in mine.xpath("//a[@class='task-link']")] == [
        f"/tasks/{task.id}"]
    assert len(doc(alice.get("/tasks?view=claimable")).xpath("//a[@class='task-link']")) == 3
    # asking for "all" without being a supervisor falls back to "mine"
    assert len(doc(alice.get("/tasks?view=all")).xpath("//a[@class='task-link']")) == 1

    bob = as_user("bob")
    all_open = doc(bob.get("/tasks?view=all"))
    assert len(all_open.xpath("//a[@class='task-link']")) == 4
    assert doc(bob.get("/tasks?view=claimable")).xpath("//a[@class='task-link']") == []


def test_task_list_filters_sorting_and_pages(app, as_user, engine, clock: ManualClock) -> None:  # noqa: ANN001
    app.config["TASKS_PER_PAGE"] = 3
    alice = as_user("alice")
    first = doc(alice.get("/tasks?view=claimable&sort=created"))
    assert len(first.xpath("//a[@class='task-link']")) == 3
    assert "Page 1 of 2" in first.text_content()
    nxt = first.xpath("//a[@rel='next']/@href")[0]
    assert "page=2" in nxt and "view=claimable" in nxt
    second = doc(alice.get(nxt))
    assert len(second.xpath("//a[@class='task-link']")) == 1

    assert "0 tasks match" in alice.get("/tasks?view=claimable&name=approve").get_data(True)
    assert "4 tasks match" in alice.get("/tasks?view=claimable&name=REVIEW").get_data(True)
    assert "0 tasks match" in alice.get("/tasks?view=claimable&priority=51").get_data(True)
    assert "4 tasks match" in alice.get(
        "/tasks?view=claimable&process=insurance_claim").get_data(True)
    assert "0 tasks match" in alice.get("/tasks?view=claimable&overdue=1").get_data(True)
    assert "0 tasks match" in alice.get(
        "/tasks?view=claimable&due_by=2026-01-01").get_data(True)
    assert "4 tasks match" in alice.get(
        "/tasks?view=claimable&due_by=2026-01-02").get_data(True)

    top = review_tasks(engine)[2]
    engine.set_priority(top.id, 80, by="bob")
    ordered = doc(alice.get("/tasks?view=claimable&sort=-priority"))
    assert ordered.xpath("//a[@class='task-link']/@href")[0] == f"/tasks/{top.id}"
    assert ordered.xpath("//table[contains(@class,'tasks')]/tbody/tr[1]/td[5]/text()") == ["80"]

    clock.advance(timedelta(hours=25))          # due P1D: every review is overdue now
    page = doc(alice.get("/tasks?view=claimable&overdue=1"))
    assert "4 tasks match" in page.text_content()
    rows = page.xpath("//table[contains(@class,'tasks')]/tbody/tr")
    assert all("overdue" in row.get("class") for row in rows)
    assert page.xpath("//span[@class='badge danger']/text()")[0] == "Overdue"


def test_escalated_task_stands_out(as_user, engine) -> None:  # noqa: ANN001
    task = review_tasks(engine)[0]
    with engine.store.transaction() as tx:       # as an escalation policy would leave it
        rec = tx.get_task(task.id)
        rec.escalated = 1
        rec.note = "escalated: priority raised to 90"
        tx.update_task(rec)
    page = doc(as_user("alice").get("/tasks?view=claimable"))
    row = page.xpath(f"//tr[.//a[@href='/tasks/{task.id}']]")[0]
    assert "escalated" in row.get("class")
    assert row.xpath(".//span[@class='badge warn']/@title") == [
        "escalated: priority raised to 90"]


# ---------------------------------------------------------------------- task page


def test_task_page_shows_form_facts_and_diagram(as_user, engine) -> None:  # noqa: ANN001
    task = review_tasks(engine)[0]
    page = doc(as_user("alice").get(f"/tasks/{task.id}"))
    assert page.xpath("//h1/text()")[0].strip() == "Review claim"
    assert page.xpath("//button[@id='claim']")
    assert not page.xpath("//button[@id='complete']")          # claim first
    ids = page.xpath("//form[@id='task-form']//*[@name]/@name")
    assert {"approved", "payout", "remarks"} <= set(ids)
    assert page.xpath("//textarea[@name='remarks']/@maxlength") == ["500"]
    assert page.xpath("//input[@name='payout']/@min") == ["0"]
    facts = dict(zip(page.xpath("//dl[@class='vars']//dt/text()"),
                     page.xpath("//dl[@class='vars']//dd/text()"), strict=True))
    assert "fraudScore" in facts and "claimant" in facts
    highlighted = page.xpath("//svg//g[contains(@class,'highlight')]/@data-element-id")
    assert highlighted == ["Task_adjuster_review"]
    taken = set(page.xpath("//svg//g[contains(@class,'taken')]/@data-element-id"))
    assert {"Flow_to_validate", "Flow_valid_yes", "Flow_to_adjuster"} <= taken
    assert "Flow_valid_no" not in taken


def test_only_people_involved_see_a_task(as_user, engine) -> None:  # noqa: ANN001
    task = review_tasks(engine)[0]
    assert as_user("carol").get(f"/tasks/{task.id}").status_code == 200   # adjusters
    assert as_user("bob").get(f"/tasks/{task.id}").status_code == 200     # supervisor
    r = as_user("ann").get(f"/tasks/{task.id}")                           # analyst
    assert r.status_code == 403
    assert as_user("alice").get("/tasks/no-such-task").status_code == 404


def test_claim_comment_invalid_form_then_complete(as_user, engine) -> None:  # noqa: ANN001
    alice = as_user("alice")
    task = review_tasks(engine)[0]
    assert alice.post(f"/tasks/{task.id}/claim").status_code == 303
    assert engine.task(task.id).assignee == "alice"
    r = alice.post(f"/tasks/{task.id}/comment", {"text": "Photos of the damage attached."})
    assert r.status_code == 303
    page = doc(alice.get(f"/tasks/{task.id}"))
    assert "Photos of the damage attached." in page.xpath("//ol[@class='comments']")[0] \
        .text_content()

    r = alice.post(f"/tasks/{task.id}/complete", {"approved": "true", "payout": "-5",
                                                  "remarks": "ok"})
    assert r.status_code == 422
    page = doc(r)
    field = page.xpath("//div[@data-field='payout']")[0]
    assert field.xpath(".//p[@class='field-error']/text()") == ["Payout (EUR) must be at least 0"]
    assert field.xpath(".//input/@value") == ["-5"]               # what was typed stays
    assert field.xpath(".//input/@aria-invalid") == ["true"]
    assert page.xpath("//input[@name='approved']/@checked")       # other input kept too
    assert engine.task(task.id).assignee == "alice"               # nothing completed

    r = alice.post(f"/tasks/{task.id}/complete", {"approved": "true", "payout": "900",
                                                  "remarks": "ok"})
    assert r.status_code == 303 and r.location == "/tasks"
    instance = engine.instance(task.instance_id)
    assert instance.waiting == ["Task_supervisor_review"]
    assert instance.variables["payout"] == 900 and instance.variables["approved"] is True
    assert [c.text for c in engine.comments(instance_id=task.instance_id)] == [
        "Photos of the damage attached."]


def test_staff_cannot_complete_or_unclaim_anothers_task(as_user, engine) -> None:  # noqa: ANN001
    task = review_tasks(engine)[0]
    as_user("alice").post(f"/tasks/{task.id}/claim")
    carol = as_user("carol")
    page = doc(carol.get(f"/tasks/{task.id}"))
    assert not page.xpath("//button[@id='complete']") and not page.xpath("//button[@id='claim']")
    assert carol.post(f"/tasks/{task.id}/complete", {"approved": "true"}).status_code == 403
    assert carol.post(f"/tasks/{task.id}/unclaim").status_code == 403
    assert engine.task(task.id).assignee == "alice"


def test_claim_twice_is_refused_with_a_message(as_user, engine) -> None:  # noqa: ANN001
    task = review_tasks(engine)[0]
    as_user("alice").post(f"/tasks/{task.id}/claim")
    carol = as_user("carol")
    r = carol.post(f"/tasks/{task.id}/claim", follow_redirects=True)
    assert "already claimed by &#39;alice&#39;" in r.get_data(as_text=True)
    assert engine.task(task.id).assignee == "alice"


def test_delegate_and_unclaim(as_user, engine) -> None:  # noqa: ANN001
    task = review_tasks(engine)[0]
    alice = as_user("alice")
    alice.post(f"/tasks/{task.id}/claim")
    assert alice.post(f"/tasks/{task.id}/delegate", {"to": "carol"}).status_code == 303
    rec = engine.task(task.id)
    assert (rec.assignee, rec.owner, rec.delegation) == ("carol", "alice", "pending")
    carol = as_user("carol")
    assert carol.post(f"/tasks/{task.id}/resolve").status_code == 303
    assert engine.task(task.id).assignee == "alice"
    assert alice.post(f"/tasks/{task.id}/unclaim").status_code == 303
    assert engine.task(task.id).assignee is None


def test_form_key_template_is_rendered(as_user, engine) -> None:  # noqa: ANN001
    task = review_tasks(engine)[0]
    engine.claim(task.id, "alice")
    engine.submit_form(task.id, "alice", {"approved": "true", "payout": "700"})
    review = engine.tasks(activity_id="Task_supervisor_review")[0]
    page = doc(as_user("bob").get(f"/tasks/{review.id}"))
    summary = page.xpath("//div[@class='review-summary']")[0].text_content()
    assert "The adjuster approved it" in summary
    assert page.xpath("//input[@name='payout']/@value") == ["700"]
    assert page.xpath("//input[@name='supervisorApproved']")


def test_review_timer_escalates_to_supervisors_only(as_user, engine, clock) -> None:  # noqa: ANN001
    waiting = review_tasks(engine)
    assert len(waiting) == len(DEMO_CLAIMS)           # one review per demo claim
    instance_id = waiting[0].instance_id
    clock.advance(timedelta(hours=48, minutes=1))
    assert engine.run_due_jobs() == len(waiting)      # each review's 48-hour timer, once
    assert review_tasks(engine) == []
    escalated = engine.tasks(instance_id=instance_id)
    assert [t.activity_id for t in escalated] == ["Task_supervisor_review"]
    bob = as_user("bob")
    links = doc(bob.get("/tasks?view=claimable")).xpath("//a[@class='task-link']/@href")
    assert f"/tasks/{escalated[0].id}" in links
    alice = as_user("alice")
    assert doc(alice.get("/tasks?view=claimable")).xpath("//a[@class='task-link']") == []
    assert alice.get(f"/tasks/{escalated[0].id}").status_code == 403
    page = doc(bob.get(f"/tasks/{escalated[0].id}"))
    assert "came to you after 48 hours" in page.text_content()


# ---------------------------------------------------------------------- processes


def test_staff_cannot_upload(as_user, engine) -> None:  # noqa: ANN001
    alice = as_user("alice")
    assert alice.get("/processes/upload").status_code == 403
    r = alice.post("/processes/upload", {"diagram": (COMPENSATION.open("rb"), "c.bpmn")},
                   content_type="multipart/form-data")
    assert r.status_code == 403
    assert [d.key for d in engine.definitions()] == ["insurance_claim"]
    assert not doc(alice.get("/processes")).xpath("//a[contains(@href,'/upload')]")


def test_analyst_uploads_a_diagram_and_sees_its_svg(as_user, engine) -> None:  # noqa: ANN001
    ann = as_user("ann")
    r = ann.post("/processes/upload", {"diagram": (COMPENSATION.open("rb"), COMPENSATION.name)},
                 content_type="multipart/form-data")
    assert r.status_code == 303
    assert r.location == "/processes/bookingProcess?version=1"
    page = doc(ann.get(r.location))
    shapes = page.xpath("//div[@class='diagram']/svg//g[contains(@class,'shape')]")
    assert len(shapes) == 22
    assert "Deployed" in page.text_content()
    # the same file again is no new version
    ann.post("/processes/upload", {"diagram": (COMPENSATION.open("rb"), COMPENSATION.name)},
             content_type="multipart/form-data")
    assert [d.version for d in engine.definitions("bookingProcess")] == [1]
    svg = ann.get("/processes/bookingProcess/1/diagram.svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data


def test_broken_upload_lists_problems_and_deploys_nothing(as_user, engine) -> None:  # noqa: ANN001
    import io

    ann = as_user("ann")
    r = ann.post("/processes/upload", {"diagram": (io.BytesIO(broken_diagram()), "broken.bpmn")},
                 content_type="multipart/form-data")
    assert r.status_code == 422
    rows = doc(r).xpath("//table[@class='problems']/tbody/tr")
    cells = [[c.text_content().strip() for c in row.xpath("td")] for row in rows]
    assert cells == [["sequenceFlow", "SequenceFlow_4", "17",
                      "targetRef 'noSuchTask' does not name a flow node of process "
                      "'terminateEndEventExample'"]]
    assert [d.key for d in engine.definitions()] == ["insurance_claim"]


def test_upload_refuses_other_file_types(as_user) -> None:  # noqa: ANN001
    import io

    r = as_user("ann").post("/processes/upload", {"diagram": (io.BytesIO(b"x"), "notes.txt")},
                            content_type="multipart/form-data")
    assert r.status_code == 422
    assert "Only .bpmn" in r.get_data(as_text=True)


# camunda:collection + elementVariable, no output: SpiffWorkflow writes each element back
WRITE_BACK = (Path(__file__).parents[1] / "fixtures" / "mi_write_back.bpmn").read_bytes()


def test_upload_form_offers_the_execution_semantics(as_user) -> None:  # noqa: ANN001
    page = doc(as_user("ann").get("/processes/upload"))
    (select,) = page.xpath("//form//select[@id='compat']")
    assert page.xpath("//label[@for='compat']")[0].text_content() == "Execution semantics"
    options = [(o.get("value"), o.text_content(), o.get("selected") is not None)
               for o in select.xpath("option")]
    assert options == [("", "Camunda 7 (default)", True),
                       ("spiffworkflow", "SpiffWorkflow migration", False)]


def test_upload_in_the_spiffworkflow_mode_shows_it_where_definitions_are_listed(
        as_user, engine) -> None:  # noqa: ANN001
    import io

    ann = as_user("ann")
    r = ann.post("/processes/upload", {"diagram": (io.BytesIO(WRITE_BACK), "mi.bpmn"),
                                       "compat": "spiffworkflow"},
                 content_type="multipart/form-data")
    assert r.status_code == 303, r.get_data(as_text=True)
    (d,) = engine.definitions("mi")
    assert d.compat == "spiffworkflow"
    detail = doc(ann.get(r.location))
    assert "Deployed Items as version 1 (SpiffWorkflow migration)." in detail.text_content()
    assert "SpiffWorkflow migration" in detail.xpath("//*[@id='semantics']")[0].text_content()
    # the same file with the default semantics: a new version, listed with its own mode
    ann.post("/processes/upload", {"diagram": (io.BytesIO(WRITE_BACK), "mi.bpmn"),
                                   "compat": ""}, content_type="multipart/form-data")
    assert [v.compat for v in engine.definitions("mi")] == ["spiffworkflow", None]
    rows = doc(ann.get("/processes/mi")).xpath("//section[@aria-labelledby='versions-h']"
                                               "//tbody/tr")
    assert [[c.text_content().strip() for c in row.xpath("td")][:2] for row in rows] == [
        ["2", "Camunda 7"], ["1", "SpiffWorkflow migration"]]
    listed = doc(ann.get("/processes"))
    cells = {row.xpath("td")[1].text_content(): row.xpath("td[@class='semantics']")[0]
             .text_content() for row in listed.xpath("//tbody/tr")}
    assert cells == {"mi": "Camunda 7", "insurance_claim": "Camunda 7"}
    # instances of version 1 run with SpiffWorkflow's rule: items written back
    iid = engine.start("mi", {"items": [1, 2]}, version=1)
    for value in ("a", "b"):
        (task,) = engine.tasks(instance_id=iid)
        engine.complete_task(task.id, {"item": value})
    assert engine.instance(iid).variables["items"] == ["a", "b"]


def test_upload_with_an_unknown_semantics_names_the_allowed_ones(as_user, engine) -> None:  # noqa: ANN001
    import io

    r = as_user("ann").post("/processes/upload",
                            {"diagram": (io.BytesIO(WRITE_BACK), "mi.bpmn"),
                             "compat": "spiff"}, content_type="multipart/form-data")
    assert r.status_code == 422
    page = doc(r)
    assert "is not a migration mode: use 'spiffworkflow'" in \
        page.xpath("//p[@role='alert']")[0].text_content()
    assert page.xpath("//select[@id='compat']/option[@selected]") == []
    assert engine.definitions("mi") == []


def test_start_form_validates_then_starts(as_user, engine) -> None:  # noqa: ANN001
    alice = as_user("alice")
    page = doc(alice.get("/processes/insurance_claim/start"))
    assert page.xpath("//form[@id='start-form']//input/@name")[1:] == [
        "claimant", "amount", "business_key"]
    before = len(engine.instances(key="insurance_claim"))
    r = alice.post("/processes/insurance_claim/start", {"claimant": "", "amount": "lots"})
    assert r.status_code == 422
    errors = doc(r).xpath("//p[@class='field-error']/text()")
    assert errors == ["Claimant is required", "Claimed amount (EUR) must be a whole number"]
    assert len(engine.instances(key="insurance_claim")) == before
    r = alice.post("/processes/insurance_claim/start", {"claimant": "Eve", "amount": "250",
                                                        "business_key": "CLM-9"})
    assert r.status_code == 303
    started = engine.instances(business_key="CLM-9")
    assert len(started) == 1 and started[0].variables["amount"] == 250


def test_process_page_lists_versions(as_user, engine) -> None:  # noqa: ANN001
    xml = (Path(__file__).resolve().parents[2] / "bpmn_models/insurance_claim.bpmn").read_bytes()
    engine.deploy(xml.replace(b'name="Review claim"', b'name="Check claim"'))
    page = doc(as_user("alice").get("/processes/insurance_claim"))
    assert page.xpath("//h1/span/text()") == ["version 2"]
    assert page.xpath("//section[@aria-labelledby='versions-h']//tbody/tr/td[1]/a/text()") == [
        "2", "1"]
    old = doc(as_user("alice").get("/processes/insurance_claim?version=1"))
    assert old.xpath("//h1/span/text()") == ["version 1"]
    assert "Review claim" in old.xpath("//svg")[0].text_content()


# ---------------------------------------------------------------------- instances, incidents


def test_instance_page_for_analysts(as_user, engine) -> None:  # noqa: ANN001
    task = review_tasks(engine)[0]
    assert as_user("alice").get(f"/instances/{task.instance_id}").status_code == 403
    ann = as_user("ann")
    listing = doc(ann.get("/instances"))
    assert "4 instances" in listing.text_content()
    page = doc(ann.get(f"/instances/{task.instance_id}"))
    assert page.xpath("//span[@id='instance-state']/text()") == ["running"]
    active = page.xpath("//svg//g[contains(@class,'active')]/@data-element-id")
    assert active == ["Task_adjuster_review"]
    done = set(page.xpath("//svg//g[contains(@class,'done')]/@data-element-id"))
    assert {"StartEvent_claim", "Task_validate", "Task_fraud_score"} <= done
    timeline = page.xpath("//ol[@class='timeline']/li")
    assert len(timeline) == len(engine.history(task.instance_id))


FAILING = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" targetNamespace="t">
  <process id="flaky" isExecutable="true">
    <startEvent id="s"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="call"/>
    <serviceTask id="call" name="Call the bank" camunda:type="external" camunda:topic="bank"/>
    <sequenceFlow id="f2" sourceRef="call" targetRef="e"/>
    <endEvent id="e"/>
  </process>
</definitions>"""


def test_incidents_retry_is_for_admins_only(as_user, engine) -> None:  # noqa: ANN001
    calls = []

    def bank(ctx):  # noqa: ANN001, ANN202
        calls.append(ctx.attempt)
        if len(calls) == 1:
            raise RuntimeError("bank is down")
        return {"paid": True}

    engine.connectors.register("bank", bank, ConnectorPolicy(retries=1))
    engine.deploy(FAILING)
    instance_id = engine.start("flaky")
    engine.run_due_jobs()
    incidents = engine.incidents()
    assert len(incidents) == 1
    ann = as_user("ann")
    page = doc(ann.get("/incidents"))
    assert "bank is down" in page.text_content()
    assert not page.xpath("//button[text()='Retry']")
    assert ann.post(f"/incidents/{incidents[0].id}/retry").status_code == 403
    assert as_user("alice").get("/incidents").status_code == 403

    admin = as_user("admin")
    assert doc(admin.get("/incidents")).xpath("//button[text()='Retry']")
    assert admin.post(f"/incidents/{incidents[0].id}/retry").status_code == 303
    assert engine.incidents() == []
    engine.run_due_jobs()
    assert engine.instance(instance_id).status == "completed"


# ---------------------------------------------------------------------- settings


def test_user_names_a_deputy(as_user, engine) -> None:  # noqa: ANN001
    alice = as_user("alice")
    r = alice.post("/me", {"deputy": "carol", "away_from": "2026-01-01T00:00",
                           "away_until": "2026-01-10T00:00"})
    assert r.status_code == 303
    rec = engine.get_user("alice")
    assert rec.deputy == "carol" and rec.away_until.day == 10
    r = alice.post("/me", {"deputy": "carol", "away_from": "2026-01-10T00:00",
                           "away_until": "2026-01-01T00:00"}, follow_redirects=True)
    assert "ends before it starts" in r.get_data(as_text=True)


def test_admin_user_list(as_user) -> None:  # noqa: ANN001
    assert as_user("alice").get("/admin/users").status_code == 403
    page = doc(as_user("admin").get("/admin/users"))
    assert page.xpath("//tbody/tr/td[1]/code/text()") == ["admin", "alice", "ann", "bob",
                                                          "carol"]


@pytest.mark.parametrize("url", ["/tasks", "/processes", "/processes/insurance_claim",
                                 "/processes/insurance_claim/start", "/instances",
                                 "/incidents", "/me", "/admin/users"])
def test_pages_render_for_admin(as_user, url: str) -> None:  # noqa: ANN001
    r = as_user("admin").get(url)
    assert r.status_code == 200
    assert "script-src 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY"
    page = doc(r)
    assert page.xpath("//main[@id='main']") and page.xpath("//h1")
