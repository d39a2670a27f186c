"""The task list page when counting stopped at the cap (engine.services.tasks.COUNT_CAP):
it says "More than N tasks" and still offers the next page; the instance list pages in
the database, newest first."""

from __future__ import annotations

import pytest
from lxml import html

from engine.services import tasks as task_service
from tasklist_ui.demo import DEMO_CLAIMS


def doc(response) -> html.HtmlElement:  # noqa: ANN001
    return html.fromstring(response.get_data(as_text=True))


def test_a_capped_count_says_more_than_and_keeps_the_next_link(
        app, as_user, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    app.config["TASKS_PER_PAGE"] = 1
    monkeypatch.setattr(task_service, "COUNT_CAP", 2)
    alice = as_user("alice")                      # four reviews in her group
    first = doc(alice.get("/tasks?view=claimable"))
    assert first.get_element_by_id("task-count").text_content() == "More than 2 tasks."
    assert "Page 1 of 2+" in first.text_content()
    assert len(first.xpath("//a[@class='task-link']")) == 1
    last = doc(alice.get("/tasks?view=claimable&page=4"))
    assert last.get_element_by_id("task-count").text_content() == "4 tasks."
    assert "Page 4 of 4" in last.text_content() and last.xpath("//a[@rel='next']") == []
    assert first.xpath("//a[@rel='next']/@href") != []


def test_the_instance_list_pages_newest_first(app, as_user, engine,  # noqa: ANN001
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from tasklist_ui.views import instances

    monkeypatch.setattr(instances, "PAGE_SIZE", 2)
    running = engine.instances(status="running", newest_first=True)
    assert len(running) == len(DEMO_CLAIMS) == engine.count_instances(status="running")
    ann = as_user("ann")                          # analyst
    pages = -(-len(running) // 2)
    first = doc(ann.get("/instances"))
    assert f"{len(running)} instances" in first.text_content()
    assert f"Page 1 of {pages}" in first.text_content()
    shown = [a.get("href").rsplit("/", 1)[1]
             for a in first.xpath("//a[starts-with(@href, '/instances/')]")]
    assert shown == [v.id for v in running[:2]]
    second = doc(ann.get("/instances?page=2"))
    shown = [a.get("href").rsplit("/", 1)[1]
             for a in second.xpath("//a[starts-with(@href, '/instances/')]")]
    assert shown == [v.id for v in running[2:4]]
