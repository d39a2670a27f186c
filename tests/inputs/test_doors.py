"""Numbers, dates and redirect targets from outside answer 400 (or are ignored, on pages)
on every door, never 500, and a refused request changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from engine import Engine
from engine.limits import MAX_LOCK_MS
from tests.inputs.conftest import PASSWORD, USER, Client

HUGE = 10 ** 30
Y9999 = "9999-12-31T23:00:00-05:00"          # parses, but its UTC form is past year 9999


def rest_error(r: Any, status: int = 400) -> dict[str, Any]:
    """Camunda's error shape: {"type", "message"}."""
    assert r.status_code == status, r.get_data(as_text=True)
    body = r.get_json()
    assert set(body) == {"type", "message"}
    return body


def api_error(r: Any, status: int = 400) -> dict[str, Any]:
    assert r.status_code == status, r.get_data(as_text=True)
    return r.get_json()["error"]


def locked_task(client: Client, engine: Engine) -> Any:
    engine.start("external")
    r = client.post("/engine-rest/external-task/fetchAndLock", json={
        "workerId": "w", "maxTasks": 1, "topics": [{"topicName": "pay", "lockDuration": 1000}]})
    assert r.status_code == 200 and len(r.get_json()) == 1
    return engine.external_tasks("pay")[0]


def user_task(engine: Engine) -> Any:
    iid = engine.start("work")
    return engine.tasks(instance_id=iid)[0]


# =========================================================================== /engine-rest


@pytest.mark.parametrize("lock", [1e16, 10 ** 16, MAX_LOCK_MS + 1, HUGE, 0, -5])
def test_fetch_and_lock_refuses_a_lock_beyond_a_year(client: Client, engine: Engine,
                                                     lock: Any) -> None:
    engine.start("external")
    r = client.post("/engine-rest/external-task/fetchAndLock", json={
        "workerId": "w", "topics": [{"topicName": "pay", "lockDuration": lock}]})
    assert rest_error(r)["type"] == "InvalidRequestException"
    assert "lockDuration" in r.get_json()["message"]
    assert engine.external_tasks("pay")[0].worker_id is None


def test_fetch_and_lock_takes_a_lock_of_a_year(client: Client, engine: Engine) -> None:
    engine.start("external")
    r = client.post("/engine-rest/external-task/fetchAndLock", json={
        "workerId": "w", "topics": [{"topicName": "pay", "lockDuration": MAX_LOCK_MS}]})
    assert r.status_code == 200 and len(r.get_json()) == 1


@pytest.mark.parametrize("duration", [1e16, MAX_LOCK_MS + 1, HUGE, 2 ** 63])
def test_extend_lock_refuses_a_lock_beyond_a_year(client: Client, engine: Engine,
                                                  duration: Any) -> None:
    before = locked_task(client, engine)
    r = client.post(f"/engine-rest/external-task/{before.id}/extendLock",
                    json={"workerId": "w", "newDuration": duration})
    assert rest_error(r)["type"] == "InvalidRequestException"
    assert engine.external_tasks("pay")[0].lock_expires == before.lock_expires


@pytest.mark.parametrize("body", [
    {"retries": 2 ** 63}, {"retries": 10_001}, {"retries": -1}, {"retries": 1.5},
    {"retries": 1, "retryTimeout": 1e16}, {"retries": 1, "retryTimeout": 2 ** 63},
])
def test_failure_refuses_out_of_range_numbers(client: Client, engine: Engine,
                                              body: dict[str, Any]) -> None:
    task = locked_task(client, engine)
    r = client.post(f"/engine-rest/external-task/{task.id}/failure",
                    json={"workerId": "w", "errorMessage": "boom", **body})
    rest_error(r)
    after = engine.external_tasks("pay")[0]
    assert (after.worker_id, after.retries, after.error_message) == ("w", task.retries, None)


@pytest.mark.parametrize("path", ["/engine-rest/external-task/{id}/retries",
                                  "/engine-rest/job/{id}/retries"])
@pytest.mark.parametrize("retries", [2 ** 63, HUGE, 10_001, -1, "3"])
def test_set_retries_refuses_out_of_range(client: Client, engine: Engine, path: str,
                                          retries: Any) -> None:
    task = locked_task(client, engine)
    r = client.put(path.format(id=task.id), json={"retries": retries})
    rest_error(r)
    assert engine.external_tasks("pay")[0].retries == task.retries


LISTS = ["/engine-rest/task", "/engine-rest/external-task", "/engine-rest/process-definition",
         "/engine-rest/process-instance", "/engine-rest/job", "/engine-rest/incident"]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("query", [f"firstResult={HUGE}", f"maxResults={HUGE}",
                                   "firstResult=-1", "maxResults=abc", "firstResult=" + "9" * 5000,
                                   "maxResults=2147483648"])
def test_list_paging_out_of_range_is_a_400(client: Client, engine: Engine, path: str,
                                           query: str) -> None:
    user_task(engine)
    r = client.get(f"{path}?{query}")
    assert rest_error(r)["type"] == "InvalidRequestException"
    assert len(r.get_json()["message"]) < 300


@pytest.mark.parametrize("path", LISTS)
def test_max_results_of_java_max_int_means_all(client: Client, engine: Engine,
                                               path: str) -> None:
    user_task(engine)
    r = client.get(f"{path}?firstResult=0&maxResults=2147483647")
    assert r.status_code == 200, r.get_data(as_text=True)
    r = client.get(f"{path}?firstResult=2147483647&maxResults=1")
    assert r.status_code == 200 and r.get_json() == []


@pytest.mark.parametrize("date", [Y9999, "9999-12-31T23:59:59.000+0000", "0001-01-01T00:00:00"])
def test_start_with_an_overflowing_date_variable_stores_nothing(client: Client, engine: Engine,
                                                                date: str) -> None:
    r = client.post("/engine-rest/process-definition/key/work/start",
                    json={"variables": {"due": {"value": date, "type": "Date"}}})
    assert "years 1900 to 9000" in rest_error(r)["message"]
    assert engine.count_instances() == 0


def test_complete_with_an_overflowing_date_variable_leaves_the_task_open(
        client: Client, engine: Engine) -> None:
    task = user_task(engine)
    r = client.post(f"/engine-rest/task/{task.id}/complete",
                    json={"variables": {"due": {"value": Y9999, "type": "Date"}}})
    rest_error(r)
    assert engine.task(task.id).id == task.id
    assert "due" not in engine.variables(task.instance_id)


@pytest.mark.parametrize("ref", ["task:²", "task:" + "1" * 5000, "task:-1"])
def test_modification_refuses_odd_activity_instance_ids(client: Client, engine: Engine,
                                                        ref: str) -> None:
    task = user_task(engine)
    r = client.post(f"/engine-rest/process-instance/{task.instance_id}/modification", json={
        "instructions": [{"type": "cancel", "activityInstanceId": ref}]})
    rest_error(r)
    assert engine.task(task.id).id == task.id


# =========================================================================== /api


@pytest.mark.parametrize("body", [
    {"priority": 80, "due": Y9999},
    {"priority": 80, "due": "2026-03-01T12:00:00Z", "followUp": Y9999},
    {"priority": 500, "due": "2026-03-01T12:00:00Z"},
    {"priority": 2 ** 63, "due": "2026-03-01T12:00:00Z"},
    {"priority": 80, "due": "1899-12-31T00:00:00Z"},
    {"priority": 80, "due": "2026-13-01"},
])
def test_task_patch_refusing_one_field_changes_none(client: Client, engine: Engine,
                                                    body: dict[str, Any]) -> None:
    task = user_task(engine)
    r = client.patch(f"/api/tasks/{task.id}", json=body)
    api_error(r)
    after = engine.task(task.id)
    assert (after.priority, after.due, after.follow_up) == (task.priority, task.due,
                                                           task.follow_up)


def test_task_patch_applies_every_field_when_all_are_good(client: Client,
                                                          engine: Engine) -> None:
    task = user_task(engine)
    r = client.patch(f"/api/tasks/{task.id}",
                     json={"priority": 80, "due": "2026-03-01T12:00:00+01:00"})
    assert r.status_code == 200, r.get_data(as_text=True)
    after = engine.task(task.id)
    assert after.priority == 80 and after.due.isoformat().startswith("2026-03-01T1")


@pytest.mark.parametrize("query", [f"dueBefore={Y9999}", f"page={HUGE}", f"pageSize={HUGE}",
                                   "page=" + "9" * 5000, f"priorityMin={HUGE}&x=1"])
def test_api_task_list_refuses_out_of_range_parameters(client: Client, engine: Engine,
                                                       query: str) -> None:
    user_task(engine)
    api_error(client.get(f"/api/tasks?{query}"))


@pytest.mark.parametrize("query", [f"page={HUGE}", f"pageSize={HUGE}", "page=0"])
def test_api_instance_list_refuses_out_of_range_paging(client: Client, query: str) -> None:
    api_error(client.get(f"/api/instances?{query}"))


@pytest.mark.parametrize("version", [2 ** 63, HUGE])
def test_api_start_refuses_a_version_out_of_range(client: Client, engine: Engine,
                                                  version: int) -> None:
    api_error(client.post("/api/processes/work/start", json={"version": version}))
    assert engine.count_instances() == 0


# =========================================================================== pages


def login(app_client: Any, next_url: str) -> Any:
    return app_client.post("/login", query_string={"next": next_url},
                           data={"username": USER, "password": PASSWORD})


@pytest.mark.parametrize("next_url", ["/tasks\r\nSet-Cookie: evil=1", "/tasks\n", "/\\evil.example",
                                      "//evil.example", "https://evil.example/", "/x\x00",
                                      "/" + "a" * 5000])
def test_login_ignores_an_unsafe_next(app: Any, next_url: str) -> None:
    r = login(app.test_client(), next_url)
    assert r.status_code == 302
    assert r.headers["Location"] == "/tasks"
    assert "evil" not in str(r.headers)


def test_login_follows_a_safe_next(app: Any) -> None:
    r = login(app.test_client(), "/instances?status=any")
    assert r.status_code == 302 and r.headers["Location"] == "/instances?status=any"


@pytest.fixture
def page_client(app: Any) -> Any:
    c = app.test_client()
    assert login(c, "/").status_code == 302
    return c


@pytest.mark.parametrize("path", [
    "/tasks?due_by=9999-12-31", "/tasks?due_by=0001-01-01", f"/tasks?page={HUGE}",
    f"/tasks?priority={HUGE}", "/tasks?page=" + "9" * 5000, f"/instances?page={HUGE}",
    "/instances?page=2147483648", "/processes/work?version=" + "9" * 5000,
    f"/processes/work?version={HUGE}",
])
def test_pages_ignore_out_of_range_filters(page_client: Any, engine: Engine, path: str) -> None:
    user_task(engine)
    r = page_client.get(path)
    assert r.status_code == 200, r.get_data(as_text=True)[:500]


@pytest.mark.parametrize("until", ["9999-12-31T23:00", "9999-12-31T23:00-05:00", "0001-01-01T00:00"])
def test_settings_refuse_an_out_of_range_absence(page_client: Any, engine: Engine,
                                                 until: str) -> None:
    engine.add_user("bob", "Bob", PASSWORD, roles=["staff"])
    r = page_client.post("/me", data={"deputy": "bob", "away_from": "2026-01-01T09:00",
                                      "away_until": until})
    assert r.status_code == 303
    assert "years 1900 to 9000" in page_client.get("/me").get_data(as_text=True)


@pytest.mark.parametrize("back", ["/instances/x\r\nSet-Cookie: a=1", "/instances/\\evil"])
def test_incident_retry_ignores_an_unsafe_back_link(page_client: Any, back: str) -> None:
    r = page_client.post("/incidents/nope/retry", data={"back": back})
    assert r.status_code == 303 and r.headers["Location"] == "/incidents"
