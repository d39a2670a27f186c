"""The rest of `/engine-rest`: deployments, definitions, starting, instances and their
variables, messages, jobs, incidents, and user tasks."""

from __future__ import annotations

import io
from typing import Any

import pytest

from connectors import ConnectorPolicy, Registry
from engine import Engine
from engine.testing import ManualClock
from tests.engine_rest.conftest import CLERK, OTHER, WORKER, Api, create_app
from tests.engine_rest.diagrams import CONNECTOR, EXTERNAL_CORPUS, MESSAGES, PAYMENT


def multipart(files: dict[str, tuple[bytes, str]], **fields: str) -> dict[str, Any]:
    data: dict[str, Any] = dict(fields)
    for part, (content, name) in files.items():
        data[part] = (io.BytesIO(content), name)
    return data


def deploy(api: Api, files: dict[str, tuple[bytes, str]], **fields: str) -> tuple[int, Any]:
    resp = api.client.post("/engine-rest/deployment/create", headers=api.headers,
                           data=multipart(files, **fields), content_type="multipart/form-data")
    return resp.status_code, resp.get_json()


# --------------------------------------------------------------------------- deployments


def test_deploy_multipart_and_query_definitions(api: Api) -> None:
    status, dep = deploy(api, {"payment.bpmn": (PAYMENT.encode(), "payment.bpmn"),
                               "orders": (MESSAGES.encode(), "orders.bpmn")},
                         **{"deployment-name": "shop", "deployment-source": "tests"})
    assert status == 200, dep
    assert dep["name"] == "shop" and dep["source"] == "tests"
    defs = dep["deployedProcessDefinitions"]
    assert {d["key"] for d in defs.values()} == {"payment", "orders"}
    assert {d["resource"] for d in defs.values()} == {"payment.bpmn", "orders.bpmn"}
    # the same file again adds no version; a changed one does
    _, again = deploy(api, {"p": (PAYMENT.encode(), "payment.bpmn")})
    assert again["deployedProcessDefinitions"] is None
    changed = PAYMENT.replace('name="Payment"', 'name="Payment v2"').encode()
    deploy(api, {"p": (changed, "payment.bpmn")})
    _, rows = api.get("/process-definition?key=payment&sortBy=version&sortOrder=desc")
    assert [(d["version"], d["name"]) for d in rows] == [(2, "Payment v2"), (1, "Payment")]
    _, latest = api.get("/process-definition?latestVersion=true&sortBy=key&sortOrder=asc")
    assert [(d["key"], d["version"]) for d in latest] == [("orders", 1), ("payment", 2)]
    assert api.get("/process-definition/count?keyLike=pay%")[1] == {"count": 2}
    _, by_key = api.get("/process-definition/key/payment")
    assert by_key["version"] == 2
    _, by_id = api.get(f"/process-definition/{by_key['id']}")
    assert by_id == by_key
    _, xml = api.get(f"/process-definition/{by_key['id']}/xml")
    assert "Payment v2" in xml["bpmn20Xml"]


def test_bad_deployments_say_what_is_wrong(api: Api) -> None:
    status, err = deploy(api, {"x": (b"<definitions><oops", "broken.bpmn")})
    assert status == 400 and err["type"] == "ParseException"
    status, err = deploy(api, {"x": (b"rules", "rules.dmn")})
    assert status == 400 and "rules.dmn" in err["message"]
    resp = api.client.post("/engine-rest/deployment/create", headers=api.headers, json={})
    assert resp.status_code == 400 and "multipart" in resp.get_json()["message"]
    assert api.get("/process-definition")[1] == []             # nothing half-deployed


def test_unknown_definitions_are_404(api: Api) -> None:
    status, err = api.get("/process-definition/key/nope")
    assert status == 404 and err["type"] == "InvalidRequestException"
    assert api.post("/process-definition/key/nope/start", {})[0] == 404
    assert api.get("/process-definition/nope:1:x")[0] == 404


# --------------------------------------------------------------------------- instances


def test_start_query_and_read_variables(api: Api, engine: Engine) -> None:
    engine.deploy(PAYMENT)
    status, inst = api.post("/process-definition/key/payment/start", {
        "businessKey": "order-7", "withVariablesInReturn": True,
        "variables": {"price": {"value": 12.5, "type": "Double"},
                      "quantity": {"value": 2}, "note": {"value": "gift"}}})
    assert status == 200
    iid = inst["id"]
    assert inst["businessKey"] == "order-7" and inst["ended"] is False
    assert inst["variables"]["price"] == {"value": 12.5, "type": "Double", "valueInfo": {}}
    assert inst["links"][0]["href"].endswith(f"/engine-rest/process-instance/{iid}")
    other = api.post("/process-definition/key/payment/start",
                     {"variables": {"price": {"value": 1}, "quantity": {"value": 1}}})[1]["id"]
    _, rows = api.get("/process-instance?processDefinitionKey=payment&businessKey=order-7")
    assert [r["id"] for r in rows] == [iid]
    _, rows = api.get("/process-instance?variables=price_gt_10,note_eq_gift")
    assert [r["id"] for r in rows] == [iid]
    assert api.get("/process-instance/count")[1] == {"count": 2}
    assert api.get(f"/process-instance/{other}")[1]["id"] == other
    _, variables = api.get(f"/process-instance/{iid}/variables")
    assert variables["quantity"] == {"value": 2, "type": "Integer", "valueInfo": {}}
    _, note = api.get(f"/process-instance/{iid}/variables/note")
    assert note["value"] == "gift"
    resp = api.client.get(f"/engine-rest/process-instance/{iid}/variables/note/data",
                          headers=api.headers)
    assert resp.data == b"gift"
    status, err = api.get(f"/process-instance/{iid}/variables/missing")
    assert status == 404 and "missing" in err["message"]
    assert api.put(f"/process-instance/{iid}/variables/note",
                   {"value": "rush", "type": "String"})[0] == 204
    assert api.post(f"/process-instance/{iid}/variables",
                    {"modifications": {"count": {"value": "3", "type": "Long"}}})[0] == 204
    assert engine.variables(iid)["note"] == "rush" and engine.variables(iid)["count"] == 3


def test_start_by_id_and_delete(api: Api, engine: Engine) -> None:
    (d,) = engine.deploy(PAYMENT)
    status, inst = api.post(f"/process-definition/{d.id}/start",
                            {"variables": {"price": {"value": 1}, "quantity": {"value": 1}}})
    assert status == 200 and inst["definitionId"] == d.id
    assert api.delete(f"/process-instance/{inst['id']}")[0] == 204
    assert engine.instance(inst["id"]).status != "running"
    assert api.get(f"/process-instance/{inst['id']}")[0] == 404


def test_a_failing_start_rolls_back_and_says_why(api: Api, engine: Engine) -> None:
    engine.deploy(PAYMENT)
    status, err = api.post("/process-definition/key/payment/start", {"variables": {}})
    assert status in (400, 500) and err["message"]
    assert engine.instances() == []


# --------------------------------------------------------------------------- messages


def test_messages_start_instances_and_reach_waiting_ones(api: Api, engine: Engine) -> None:
    engine.deploy(MESSAGES)
    status, started = api.post("/message", {
        "messageName": "newOrder", "businessKey": "o-1", "resultEnabled": True,
        "processVariables": {"total": {"value": 99}}})
    assert status == 200
    (result,) = started
    assert result["resultType"] == "ProcessDefinition"
    iid = result["processInstance"]["id"]
    assert engine.instance(iid).waiting == ["waitPaid"] and engine.variables(iid)["total"] == 99
    status, delivered = api.post("/message", {
        "messageName": "paymentReceived", "businessKey": "o-1", "resultEnabled": True,
        "variablesInResultEnabled": True})
    assert status == 200
    (result,) = delivered
    assert result["resultType"] == "Execution" and result["execution"]["processInstanceId"] == iid
    assert result["variables"]["total"]["value"] == 99
    assert engine.instance(iid).waiting == ["pack"]
    assert api.post("/message", {"messageName": "newOrder"})[0] == 204


def test_a_message_nobody_waits_for_is_400(api: Api, engine: Engine) -> None:
    engine.deploy(MESSAGES)
    status, err = api.post("/message", {"messageName": "paymentReceived", "businessKey": "x"})
    assert status == 400 and err["type"] == "RestException"
    assert "paymentReceived" in err["message"]
    status, err = api.post("/message", {"messageName": "x", "correlationKeys": {"a": {}}})
    assert status == 400 and "correlationKeys" in err["message"]


# --------------------------------------------------------------------------- jobs, incidents


@pytest.fixture
def flaky_engine() -> tuple[Engine, dict[str, bool]]:
    state = {"up": False}

    def flaky(ctx: Any) -> dict[str, bool]:
        if not state["up"]:
            raise ConnectionError("flaky service is down")
        return {"done": True}

    reg = Registry()
    reg.register("flaky", flaky, ConnectorPolicy(timeout=None, retries=1))
    eng = Engine(clock=ManualClock(), connectors=reg)
    eng.add_user(WORKER[0], "Worker", WORKER[1], roles=["admin"])
    return eng, state


def test_failed_jobs_incidents_and_job_retries(flaky_engine) -> None:
    eng, state = flaky_engine
    api = Api(create_app(eng))
    eng.deploy(CONNECTOR)
    iid = eng.start("withConnector")
    eng.run_due_jobs()
    _, jobs = api.get(f"/job?processInstanceId={iid}&withException=true")
    (job,) = jobs
    assert job["retries"] == 0 and "flaky service is down" in job["exceptionMessage"]
    assert job["failedActivityId"] == "call" and job["processDefinitionKey"] == "withConnector"
    assert api.get(f"/job/{job['id']}")[1]["id"] == job["id"]
    assert api.get("/job/count?noRetriesLeft=true")[1] == {"count": 1}
    _, incidents = api.get("/incident?incidentType=failedJob")
    (inc,) = incidents
    assert inc["configuration"] == job["id"] and inc["processInstanceId"] == iid
    assert api.get(f"/incident/{inc['id']}")[1]["id"] == inc["id"]
    state["up"] = True
    assert api.put(f"/job/{job['id']}/retries", {"retries": 2})[0] == 204
    assert api.get("/incident")[1] == []
    eng.run_due_jobs()
    assert eng.instance(iid).waiting == ["after"]
    assert api.get(f"/job/{job['id']}")[0] == 404
    assert api.put("/job/nope/retries", {"retries": 1})[0] == 404


# --------------------------------------------------------------------------- user tasks


@pytest.fixture
def shipping(engine: Engine) -> str:
    engine.deploy(PAYMENT)
    iid = engine.start("payment", {"price": 1, "quantity": 1})
    (ext,) = engine.fetch_and_lock("w", {"payment": 60})
    engine.complete_external(ext.id, {"paid": True}, worker_id="w")
    return iid


def test_task_claim_unclaim_complete(app, engine: Engine, shipping: str) -> None:
    clerk, other = Api(app, CLERK), Api(app, OTHER)
    _, tasks = clerk.get("/task?candidateGroup=clerks")
    (task,) = tasks
    assert task["taskDefinitionKey"] == "ship" and task["name"] == "Ship the order"
    assert task["processInstanceId"] == shipping and task["assignee"] is None
    tid = task["id"]
    status, err = clerk.post(f"/task/{tid}/claim", {"userId": "other"})
    assert status == 403
    assert clerk.post(f"/task/{tid}/claim", {"userId": "clerk"})[0] == 204
    status, err = other.post(f"/task/{tid}/claim", {"userId": "other"})
    assert status == 409 and err["type"] == "TaskAlreadyClaimedException"
    status, err = other.post(f"/task/{tid}/complete", {})
    assert status == 403 and err["type"] == "AuthorizationException"
    assert clerk.get("/task?assignee=clerk")[1][0]["id"] == tid
    assert clerk.post(f"/task/{tid}/unclaim")[0] == 204
    assert clerk.get(f"/task/{tid}")[1]["assignee"] is None
    assert clerk.post(f"/task/{tid}/claim", {"userId": "clerk"})[0] == 204
    _, variables = clerk.get(f"/task/{tid}/variables")
    assert variables["paid"]["value"] is True
    status, _ = clerk.post(f"/task/{tid}/complete",
                           {"variables": {"tracking": {"value": "TRK-1"}}})
    assert status == 204
    assert engine.instance(shipping).status == "completed"
    assert engine.variables(shipping)["tracking"] == "TRK-1"
    assert clerk.get(f"/task/{tid}")[0] == 404


def test_staff_see_only_tasks_they_may_work_on(app, engine: Engine, shipping: str) -> None:
    engine.add_user("outsider", "Outsider", "outsider-password", roles=["staff"])
    outsider = Api(app, ("outsider", "outsider-password"))
    assert outsider.get("/task")[1] == []
    assert outsider.get("/task/count")[1] == {"count": 0}
    (task,) = Api(app, WORKER).get("/task")[1]               # an analyst sees every task
    assert outsider.get(f"/task/{task['id']}")[0] == 404
    status, _ = Api(app, CLERK).get("/task?sortBy=dueDate&sortOrder=asc&maxResults=5")
    assert status == 200
    assert Api(app, CLERK).get("/task?sortBy=size&sortOrder=asc")[0] == 400
    assert Api(app, CLERK).get("/task?firstResult=x")[0] == 400


def test_engine_list(api: Api) -> None:
    assert api.get("/engine") == (200, [{"name": "default"}])


def test_corpus_diagrams_deploy_through_the_api(api: Api) -> None:
    if not EXTERNAL_CORPUS.is_dir():
        pytest.skip(f"corpus not found at {EXTERNAL_CORPUS}")
    files = {p.name: (p.read_bytes(), p.name)
             for p in sorted(EXTERNAL_CORPUS.glob("*Process.bpmn20.xml"))}
    status, dep = deploy(api, files)
    assert status == 200, dep
    keys = {d["key"] for d in dep["deployedProcessDefinitions"].values()}
    assert keys == {"oneExternalTaskProcess", "twoExternalTaskProcess"}
