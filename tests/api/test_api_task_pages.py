"""Paging through /api: the task list's count stops at the cap and says so (`totalCapped`,
`hasMore`); instances page in the database, newest first."""

from __future__ import annotations

from datetime import timedelta

from engine.services import tasks as task_service

from .diagrams import CLAIM


def test_task_totals_are_capped_and_say_so(as_user, engine, clock, monkeypatch):
    engine.deploy(CLAIM)
    for i in range(3):
        engine.start("claim", {"amount": i}, business_key=f"C-{i}")
        clock.advance(timedelta(minutes=1))
    monkeypatch.setattr(task_service, "COUNT_CAP", 1)
    ann = as_user("ann")
    body = ann.get("/api/tasks?view=claimable&pageSize=1").get_json()
    assert (body["total"], body["totalCapped"], body["hasMore"]) == (1, True, True)
    assert len(body["items"]) == 1
    body = ann.get("/api/tasks?view=claimable&pageSize=1&page=3").get_json()
    assert (body["total"], body["totalCapped"], body["hasMore"]) == (3, False, False)
    monkeypatch.setattr(task_service, "COUNT_CAP", 1000)
    body = ann.get("/api/tasks?view=claimable&pageSize=2").get_json()
    assert (body["total"], body["totalCapped"], body["hasMore"]) == (3, False, True)


def test_instances_page_newest_first(as_user, engine, clock):
    engine.deploy(CLAIM)
    ids = []
    for i in range(5):
        ids.append(engine.start("claim", {"amount": i}))
        clock.advance(timedelta(minutes=1))
    ana = as_user("ana")
    body = ana.get("/api/instances?key=claim&pageSize=2&page=2").get_json()
    assert body["total"] == 5 and [v["id"] for v in body["items"]] == ids[::-1][2:4]
