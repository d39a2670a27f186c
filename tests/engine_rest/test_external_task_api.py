"""`/engine-rest/external-task`: fetch and lock, complete, failure, bpmnError, extendLock,
unlock, long polling, typed variables, lock ownership, and authentication."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from engine import Engine
from tests.engine_rest.conftest import CLERK, WORKER, Api, create_app
from tests.engine_rest.diagrams import PAYMENT

LOCK = 60_000


def fetch(api: Api, worker: str = "w1", topic: str = "payment", max_tasks: int = 10,
          **topic_extra: Any) -> list[dict[str, Any]]:
    status, data = api.post("/external-task/fetchAndLock", {
        "workerId": worker, "maxTasks": max_tasks,
        "topics": [{"topicName": topic, "lockDuration": LOCK, **topic_extra}]})
    assert status == 200, data
    return data


@pytest.fixture
def started(engine: Engine) -> str:
    engine.deploy(PAYMENT)
    return engine.start("payment", {"price": 10, "quantity": 3, "customer": "Ann"},
                        business_key="order-1")


def test_fetch_and_lock_returns_the_task_with_typed_variables(api: Api, started: str) -> None:
    (task,) = fetch(api, includeExtensionProperties=True)
    assert task["topicName"] == "payment" and task["workerId"] == "w1"
    assert task["processInstanceId"] == started and task["activityId"] == "charge"
    assert task["processDefinitionKey"] == "payment" and task["businessKey"] == "order-1"
    assert task["lockExpirationTime"] is not None
    assert task["variables"]["amount"] == {"value": 30, "type": "Integer", "valueInfo": {}}
    assert task["variables"]["customer"] == {"value": "Ann", "type": "String", "valueInfo": {}}
    assert task["extensionProperties"] == {"currency": "EUR"}
    assert fetch(api, worker="w2") == []                 # locked: nobody else gets it


def test_fetch_only_the_named_variables(api: Api, started: str) -> None:
    (task,) = fetch(api, variables=["amount"])
    assert set(task["variables"]) == {"amount"}


def test_complete_moves_the_instance_on_with_typed_and_inferred_variables(
        api: Api, engine: Engine, started: str) -> None:
    (task,) = fetch(api)
    status, _ = api.post(f"/external-task/{task['id']}/complete", {
        "workerId": "w1",
        "variables": {"receipt": {"value": "R-9", "type": "String"},
                      "fee": {"value": "2", "type": "Integer"},
                      "when": {"value": "2026-03-01T10:00:00.000+0100", "type": "Date"},
                      "details": {"value": '{"card": "visa"}', "type": "Json"},
                      "flags": {"value": ["a", "b"]},
                      "ok": {"value": True}}})
    assert status == 204
    view = engine.instance(started)
    assert view.waiting == ["ship"]
    v = view.variables
    assert v["receipt"] == "R-9" and v["fee"] == 2 and v["ok"] is True
    assert v["details"] == {"card": "visa"} and v["flags"] == ["a", "b"]
    assert v["when"].isoformat() == "2026-03-01T10:00:00+01:00"


def test_completing_a_task_locked_by_another_worker_is_400(api: Api, started: str) -> None:
    (task,) = fetch(api, worker="w1")
    status, err = api.post(f"/external-task/{task['id']}/complete", {"workerId": "w2"})
    assert status == 400 and err["type"] == "BadUserRequestException"
    assert "w1" in err["message"]


def test_a_task_cancelled_by_a_boundary_event_is_404(api: Api, engine: Engine,
                                                     started: str) -> None:
    (task,) = fetch(api)
    engine.correlate_message("orderCancelled", business_key="order-1")
    assert engine.instance(started).status == "completed"
    status, err = api.post(f"/external-task/{task['id']}/complete", {"workerId": "w1"})
    assert status == 404 and err["type"] == "NotFoundException"
    assert api.post(f"/external-task/{task['id']}/unlock")[0] == 404


def test_bpmn_error_takes_the_error_boundary(api: Api, engine: Engine, started: str) -> None:
    (task,) = fetch(api)
    status, _ = api.post(f"/external-task/{task['id']}/bpmnError", {
        "workerId": "w1", "errorCode": "PAYMENT_DECLINED", "errorMessage": "card expired",
        "variables": {"declineReason": {"value": "expired"}}})
    assert status == 204
    view = engine.instance(started)
    assert view.waiting == ["callCustomer"] and view.variables["declineReason"] == "expired"


def test_failure_with_retries_makes_it_fetchable_after_the_retry_timeout(
        manual_engine: Engine) -> None:
    api = Api(create_app(manual_engine))
    manual_engine.deploy(PAYMENT)
    iid = manual_engine.start("payment", {"price": 1, "quantity": 1})
    (task,) = fetch(api)
    status, _ = api.post(f"/external-task/{task['id']}/failure", {
        "workerId": "w1", "errorMessage": "gateway down", "errorDetails": "trace...",
        "retries": 2, "retryTimeout": 30_000})
    assert status == 204
    assert fetch(api) == []                                   # waits out the timeout
    manual_engine.clock.advance(timedelta(seconds=30))        # type: ignore[attr-defined]
    (again,) = fetch(api, worker="w2")
    assert again["id"] == task["id"] and again["retries"] == 2
    assert again["errorMessage"] == "gateway down" and again["errorDetails"] == "trace..."
    assert manual_engine.instance(iid).waiting == ["charge"]


def test_failure_with_no_retries_left_opens_an_incident_until_retries_are_set(
        api: Api, engine: Engine, started: str) -> None:
    (task,) = fetch(api)
    api.post(f"/external-task/{task['id']}/failure",
             {"workerId": "w1", "errorMessage": "bad data", "retries": 0, "retryTimeout": 0})
    assert fetch(api) == []
    status, incidents = api.get(f"/incident?processInstanceId={started}")
    assert status == 200
    (inc,) = incidents
    assert inc["incidentType"] == "failedExternalTask" and inc["activityId"] == "charge"
    assert inc["configuration"] == task["id"] and inc["incidentMessage"] == "bad data"
    assert api.put(f"/external-task/{task['id']}/retries", {"retries": 1})[0] == 204
    assert api.get("/incident")[1] == []
    (again,) = fetch(api)
    assert again["id"] == task["id"]


def test_extend_lock_and_unlock(api: Api, started: str) -> None:
    (task,) = fetch(api)
    assert api.post(f"/external-task/{task['id']}/extendLock",
                    {"workerId": "w2", "newDuration": 1000})[0] == 400
    status, _ = api.post(f"/external-task/{task['id']}/extendLock",
                         {"workerId": "w1", "newDuration": 3_600_000})
    assert status == 204
    _, got = api.get(f"/external-task/{task['id']}")
    assert got["lockExpirationTime"] > task["lockExpirationTime"]
    assert api.post(f"/external-task/{task['id']}/unlock")[0] == 204
    (again,) = fetch(api, worker="w2")
    assert again["workerId"] == "w2"


def test_long_polling_answers_when_a_task_appears(api: Api, engine: Engine) -> None:
    engine.deploy(PAYMENT)
    result: dict[str, Any] = {}

    def worker() -> None:
        result["reply"] = api.post("/external-task/fetchAndLock", {
            "workerId": "poller", "maxTasks": 1, "asyncResponseTimeout": 20_000,
            "topics": [{"topicName": "payment", "lockDuration": LOCK}]})

    thread = threading.Thread(target=worker)
    thread.start()
    iid = engine.start("payment", {"price": 2, "quantity": 2})
    thread.join(timeout=20)
    assert not thread.is_alive()
    status, tasks = result["reply"]
    assert status == 200 and [t["processInstanceId"] for t in tasks] == [iid]


def test_long_polling_gives_up_after_the_timeout_with_an_empty_list(api: Api) -> None:
    status, tasks = api.post("/external-task/fetchAndLock", {
        "workerId": "w", "maxTasks": 1, "asyncResponseTimeout": 100,
        "topics": [{"topicName": "nothing-here", "lockDuration": LOCK}]})
    assert (status, tasks) == (200, [])


@pytest.mark.parametrize("payload, message", [
    ({"maxTasks": 1, "topics": []}, "'workerId' is required"),
    ({"workerId": "w", "topics": [{"topicName": "t"}]}, "lockDuration is required"),
    ({"workerId": "w", "topics": [{"lockDuration": 5}]}, "topicName is required"),
    ({"workerId": "w", "asyncResponseTimeout": 1_800_001, "topics": []},
     "greater than 1800000"),
    ({"workerId": "w", "topics": [{"topicName": "t", "lockDuration": 5,
                                   "processDefinitionVersionTag": 1}]},
     "topics[0].processDefinitionVersionTag must be a string"),
    ({"workerId": "w", "topics": [{"topicName": "t", "lockDuration": 5,
                                   "tenantIdIn": ["a"], "withoutTenantId": True}]},
     "tenantIdIn and withoutTenantId exclude each other"),
    ({"workerId": "w", "topics": [{"topicName": "t", "lockDuration": 5,
                                   "tenantIdIn": "a"}]}, "tenantIdIn must be a list"),
    ({"workerId": "w", "topics": "payment"}, "'topics' must be a list"),
])
def test_bad_fetch_requests_are_400_naming_the_field(api: Api, payload: dict,
                                                     message: str) -> None:
    status, err = api.post("/external-task/fetchAndLock", payload)
    assert status == 400 and err["type"] == "InvalidRequestException"
    assert message in err["message"]


def test_bad_variables_are_400_naming_the_variable(api: Api, started: str) -> None:
    (task,) = fetch(api)
    status, err = api.post(f"/external-task/{task['id']}/complete", {
        "workerId": "w1", "variables": {"fee": {"value": "two", "type": "Integer"}}})
    assert status == 400 and "variables.fee" in err["message"]
    status, err = api.post(f"/external-task/{task['id']}/complete", {
        "workerId": "w1", "variables": {"_hidden": {"value": 1}}})
    assert status == 400 and "'_hidden'" in err["message"]
    status, err = api.post(f"/external-task/{task['id']}/complete", data="{not json",
                           headers={"Content-Type": "application/json"})
    assert status == 400 and "not valid JSON" in err["message"]


def test_queries_and_counts(api: Api, started: str) -> None:
    fetch(api)
    status, rows = api.get("/external-task?topicName=payment&locked=true")
    assert status == 200 and [r["processInstanceId"] for r in rows] == [started]
    assert api.get("/external-task?notLocked=true")[1] == []
    assert api.get("/external-task/count?workerId=w1")[1] == {"count": 1}
    status, err = api.get("/external-task?candidateUser=a")
    assert status == 400 and "candidateUser" in err["message"]


def test_authentication_is_required(app, started: str) -> None:
    anonymous = Api(app, user=None)
    resp = anonymous.client.post("/engine-rest/external-task/fetchAndLock", json={})
    assert resp.status_code == 401 and "Basic" in resp.headers["WWW-Authenticate"]
    assert resp.get_json()["type"] == "AuthenticationException"
    status, _ = Api(app, ("worker", "wrong-password")).post(
        "/external-task/fetchAndLock", {"workerId": "w", "topics": []})
    assert status == 401
    status, err = Api(app, CLERK).post("/external-task/fetchAndLock",
                                       {"workerId": "w", "topics": []})
    assert status == 403 and err["type"] == "AuthorizationException"


def test_bearer_tokens_authenticate(app, engine: Engine, started: str) -> None:
    token = engine.new_api_token(WORKER[0])
    client = app.test_client()
    ok = client.get("/engine-rest/external-task/count",
                    headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and ok.get_json() == {"count": 1}
    bad = client.get("/engine-rest/external-task/count",
                     headers={"Authorization": f"Bearer {token}x"})
    assert bad.status_code == 401
    engine.revoke_api_token(WORKER[0])
    gone = client.get("/engine-rest/external-task/count",
                      headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 401


def test_a_changed_password_ends_a_cached_login(app, engine: Engine) -> None:
    api = Api(app)
    assert api.get("/external-task/count")[0] == 200
    engine.update_user(WORKER[0], password="a-new-password")
    assert api.get("/external-task/count")[0] == 401
    assert Api(app, (WORKER[0], "a-new-password")).get("/external-task/count")[0] == 200


def test_authentication_can_be_turned_off_for_development(engine: Engine, started: str) -> None:
    api = Api(create_app(engine, auth=False), user=None)
    assert len(fetch(api)) == 1
