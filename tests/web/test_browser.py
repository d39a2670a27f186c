"""The tasklist in a real browser: Playwright driving Debian's headless Chromium against the
app served by werkzeug on a free port, over an engine with a manual clock on SQLite.

One browser per session; each test gets a fresh server and database. Screenshots of the
main pages go to tests/artifacts/ (not committed) so a person can look at them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import Engine
from engine.testing import ManualClock
from tasklist_ui.app import create_app
from tasklist_ui.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "camunda"
COMPENSATION = CORPUS / "event/compensate/CompensateEventTest.testCompensationEventSubProcess.bpmn20.xml"
TERMINATE = CORPUS / "event/end/TerminateEndEventTest.testProcessTerminate.bpmn"


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium "
                    "(scripts/setup-env.sh --test installs it when run as root)")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright is not installed (pip install -e '.[test]')")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield browser
        browser.close()


class LiveServer:
    def __init__(self, engine: Engine, clock: ManualClock) -> None:
        from werkzeug.serving import make_server

        self.engine = engine
        self.clock = clock
        self.app = create_app(engine, {"SECRET_KEY": "browser-test"})
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)
        self.server.server_close()


@pytest.fixture
def live(engine: Engine, clock: ManualClock) -> Iterator[LiveServer]:
    server = LiveServer(engine, clock)
    yield server
    server.stop()


@pytest.fixture
def page(chromium: object) -> Iterator[object]:
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(10_000)
    pg = context.new_page()
    yield pg
    context.close()


def shot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def login(page: object, live: LiveServer, user: str) -> None:
    page.goto(live.url + "/login")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_label("Password").press("Enter")        # the keyboard is enough
    page.wait_for_url(live.url + "/tasks")


def test_adjuster_claims_comments_and_completes(page, live: LiveServer) -> None:  # noqa: ANN001
    from playwright.sync_api import expect

    page.goto(live.url + "/tasks")
    page.wait_for_url("**/login?next=*")
    shot(page, "01-login")
    login(page, live, "alice")
    page.get_by_role("link", name="My groups").click()
    expect(page.locator("a.task-link")).to_have_count(4)
    shot(page, "02-task-list-my-groups")

    page.locator("a.task-link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Review claim")
    task_id = page.url.rsplit("/", 1)[1]
    instance_id = live.engine.task(task_id).instance_id
    page.get_by_role("button", name="Claim", exact=True).click()
    expect(page.locator(".flash.success")).to_have_text("You claimed the task.")
    expect(page.locator("#assignee")).to_have_text("alice")

    page.get_by_label("Add a comment").fill("Called the claimant; photos are on file.")
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator("ol.comments")).to_contain_text("photos are on file")

    page.get_by_label("Approve the claim").check()
    page.get_by_label("Payout (EUR)").fill("-5")
    page.get_by_label("Remarks").fill("Windscreen damage, covered.")
    page.get_by_role("button", name="Complete").click()
    payout = page.locator("div.field[data-field=payout]")
    expect(payout.locator(".field-error")).to_have_text("Payout (EUR) must be at least 0")
    expect(page.get_by_label("Payout (EUR)")).to_have_value("-5")
    expect(page.get_by_label("Remarks")).to_have_value("Windscreen damage, covered.")
    shot(page, "03-task-form-error")
    assert live.engine.instance(instance_id).waiting == ["Task_adjuster_review"]

    page.get_by_label("Payout (EUR)").fill("900")
    page.get_by_role("button", name="Complete").click()
    page.wait_for_url(live.url + "/tasks")
    expect(page.locator(".flash.success")).to_have_text("Task completed.")
    instance = live.engine.instance(instance_id)
    assert instance.waiting == ["Task_supervisor_review"]
    assert instance.variables["payout"] == 900

    # the supervisor finds it, with the adjuster's decision in the formKey template
    page.get_by_role("button", name="Log out").click()
    login(page, live, "bob")
    page.get_by_role("link", name="My groups").click()
    page.get_by_role("link", name="Approve payout").click()
    expect(page.locator(".review-summary")).to_contain_text("The adjuster approved it")
    shot(page, "04-supervisor-task")


def test_analyst_uploads_diagrams(page, live: LiveServer, tmp_path: Path) -> None:  # noqa: ANN001
    from playwright.sync_api import expect

    login(page, live, "ann")
    page.get_by_role("link", name="Processes").click()
    expect(page.get_by_role("link", name="Insurance claim")).to_be_visible()
    shot(page, "08-processes")
    page.get_by_role("link", name="Upload a diagram").click()
    page.get_by_label("BPMN file").set_input_files(str(COMPENSATION))
    page.get_by_role("button", name="Validate and deploy").click()
    page.wait_for_url("**/processes/bookingProcess?version=1")
    diagram = page.locator("div.diagram svg")
    expect(diagram).to_be_visible()
    expect(diagram.locator("g.shape")).to_have_count(22)
    expect(diagram.locator("g.shape[data-element-id=bookFlight]")).to_contain_text("Book Flight")
    shot(page, "05-process-diagram")

    broken = tmp_path / "broken.bpmn"
    broken.write_bytes(TERMINATE.read_bytes().replace(
        b'sourceRef="ParallelGateway_1" targetRef="preTerminateTask"',
        b'sourceRef="ParallelGateway_1" targetRef="noSuchTask"'))
    page.goto(live.url + "/processes/upload")
    page.get_by_label("BPMN file").set_input_files(str(broken))
    page.get_by_role("button", name="Validate and deploy").click()
    problems = page.locator("table.problems tbody tr")
    expect(problems).to_have_count(1)
    expect(problems.first).to_contain_text("SequenceFlow_4")
    expect(problems.first.locator("td").nth(2)).to_have_text("17")
    expect(page.locator("#problems h2")).to_contain_text("broken.bpmn was not deployed")
    shot(page, "06-upload-errors")
    assert {d.key for d in live.engine.definitions()} == {"insurance_claim", "bookingProcess"}

    claim = live.engine.tasks(activity_id="Task_adjuster_review")[0]
    page.goto(f"{live.url}/instances/{claim.instance_id}")
    expect(page.locator("g.shape.active")).to_have_attribute("data-element-id",
                                                             "Task_adjuster_review")
    shot(page, "07-instance")


def test_analyst_chooses_the_spiffworkflow_semantics(page, live: LiveServer,  # noqa: ANN001
                                                     tmp_path: Path) -> None:
    from playwright.sync_api import expect

    from tests.web.test_pages import WRITE_BACK

    diagram = tmp_path / "items.bpmn"
    diagram.write_bytes(WRITE_BACK)
    login(page, live, "ann")
    page.goto(live.url + "/processes/upload")
    semantics = page.get_by_label("Execution semantics")
    expect(semantics).to_have_value("")
    page.get_by_label("BPMN file").set_input_files(str(diagram))
    semantics.select_option(label="SpiffWorkflow migration")
    page.get_by_role("button", name="Validate and deploy").click()
    page.wait_for_url("**/processes/mi?version=1")
    expect(page.locator("#semantics")).to_contain_text("SpiffWorkflow migration")
    expect(page.locator("tr.current td.semantics")).to_have_text("SpiffWorkflow migration")
    page.get_by_role("link", name="← Processes").click()
    row = page.get_by_role("row").filter(has_text="Items")
    expect(row.locator("td.semantics")).to_have_text("SpiffWorkflow migration")
    assert [d.compat for d in live.engine.definitions("mi")] == ["spiffworkflow"]


def test_keyboard_reaches_skip_link_and_focus_is_visible(page, live: LiveServer) -> None:  # noqa: ANN001
    login(page, live, "alice")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to content"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"


PHONE = {"width": 390, "height": 844}


def page_overflow(page: object) -> int:
    """How many CSS pixels the page is wider than the window (0: nothing to scroll
    sideways)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_the_task_list_fits_a_phone(chromium, live: LiveServer) -> None:  # noqa: ANN001
    """At 390 px the task list is one card per task: no sideways scrolling of the page, each
    task's name, its values under their column names, and its Claim button in view."""
    from playwright.sync_api import expect

    context = chromium.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        login(page, live, "alice")
        page.get_by_role("link", name="My groups").click()
        expect(page.locator("a.task-link")).to_have_count(4)
        shot(page, "09-task-list-phone")
        assert page_overflow(page) <= 0
        first = page.locator("table.tasks tbody tr").first
        box = first.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        label = first.locator("td").nth(1).evaluate(
            "td => getComputedStyle(td, '::before').content")
        assert label == '"Process: "'
        claim = first.get_by_role("button", name="Claim")
        claim_box = claim.bounding_box()
        assert claim_box is not None and claim_box["x"] + claim_box["width"] <= PHONE["width"]
        claim.click()
        expect(page.locator(".flash.success")).to_be_visible()
        assert page_overflow(page) <= 0
    finally:
        context.close()
