"""The remaining Camunda 7 REST differences of issue 10, each driven through the Flask app in
Camunda's wire format (and, where the real Python client `camunda-external-task-client-
python3` can say it, through that client over HTTP), on every store of the suite:

- version tags: a process's camunda:versionTag is stored with its definition, shown on
  every definition answer and on external tasks (`processDefinitionVersionTag`), filtered by
  (`versionTag`, `versionTagLike`, `withoutVersionTag`), fetched by (the fetchAndLock topic
  filter), and read back from the XML of definitions deployed before it was stored;
- the external task query in both forms (GET with parameters, POST with a body) with
  Camunda's filters, sorting and paging; `POST /external-task/{id}/lock`;
- `/history/process-instance`, `/version`, `/task/{id}/form` and `/form-variables`,
  tenants on jobs, incidents and tasks.

Bad input answers 400 with Camunda's `{"type", "message"}`, the message naming the field.
"""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from engine import Engine
from tests.engine_rest.conftest import WORKER, Api, LiveServer, create_app

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" targetNamespace="tests">
"""
LOCK = 60_000


def tagged(tag: str | None, key: str = "billing", topic: str = "bill",
           note: str = "") -> bytes:
    """start -> external task (`topic`) -> user task with a form -> end; `tag` is the
    process's camunda:versionTag (none when None); `note` makes files of one tag differ."""
    attr = f' camunda:versionTag="{tag}"' if tag is not None else ""
    return (HEAD + f"""
  <process id="{key}" name="Billing {note}" isExecutable="true"{attr}>
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="charge"/>
    <serviceTask id="charge" camunda:type="external" camunda:topic="{topic}"/>
    <sequenceFlow id="f2" sourceRef="charge" targetRef="review"/>
    <userTask id="review" name="Review" camunda:formKey="embedded:app:forms/review.html">
      <extensionElements>
        <camunda:formData>
          <camunda:formField id="verdict" type="string" defaultValue="pending"/>
          <camunda:formField id="amount" type="long"/>
        </camunda:formData>
      </extensionElements>
    </userTask>
    <sequenceFlow id="f3" sourceRef="review" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>""").encode()


def deploy(api: Api, files: dict[str, bytes], **fields: str) -> tuple[int, Any]:
    data: dict[str, Any] = dict(fields)
    for name, content in files.items():
        data[name] = (io.BytesIO(content), name)
    resp = api.client.post("/engine-rest/deployment/create", headers=api.headers, data=data,
                           content_type="multipart/form-data")
    return resp.status_code, resp.get_json()


def start(api: Api, path: str, variables: dict[str, Any] | None = None, **body: Any) -> str:
    status, got = api.post(f"/process-definition/{path}/start",
                           {"variables": variables or {}, **body})
    assert status == 200, got
    return got["id"]


def fetch(api: Api, worker: str = "w", topic: str = "bill", **filters: Any) -> list[dict]:
    status, got = api.post("/external-task/fetchAndLock", {
        "workerId": worker, "maxTasks": 10,
        "topics": [{"topicName": topic, "lockDuration": LOCK, **filters}]})
    assert status == 200, got
    return got


def bad(status_and_body: tuple[int, Any], *words: str) -> None:
    """A 400 in Camunda's error shape whose message names each of `words`."""
    status, err = status_and_body
    assert status == 400, (status, err)
    assert set(err) >= {"type", "message"} and err["type"], err
    for word in words:
        assert word in err["message"], (word, err["message"])


def three_versions(api: Api) -> dict[str, dict[str, Any]]:
    """billing v1.0 (version 1), v2.0 (version 2), and an untagged version 3."""
    out = {}
    for tag, note in (("v1.0", "a"), ("v2.0", "b"), (None, "c")):
        status, got = deploy(api, {"billing.bpmn": tagged(tag, note=note)})
        assert status == 200, got
        (d,) = got["deployedProcessDefinitions"].values()
        assert d["versionTag"] == tag
        out[str(tag)] = d
    return out


# =========================================================================== version tags


def test_definitions_carry_their_version_tag_and_queries_filter_by_it(api: Api) -> None:
    defs = three_versions(api)
    v1, v2 = defs["v1.0"], defs["v2.0"]
    assert api.get(f"/process-definition/{v1['id']}")[1]["versionTag"] == "v1.0"
    assert api.get("/process-definition/key/billing")[1]["versionTag"] is None   # version 3
    status, rows = api.get("/process-definition?key=billing&sortBy=version&sortOrder=asc")
    assert status == 200 and [d["versionTag"] for d in rows] == ["v1.0", "v2.0", None]
    assert [d["id"] for d in api.get("/process-definition?versionTag=v2.0")[1]] == [v2["id"]]
    assert [d["version"] for d in api.get("/process-definition?versionTagLike=v%25"
                                          "&sortBy=versionTag&sortOrder=desc")[1]] == [2, 1]
    assert [d["version"] for d in api.get("/process-definition?withoutVersionTag=true")[1]] \
        == [3]
    assert api.get("/process-definition/count?versionTagLike=v1.%25")[1] == {"count": 1}
    # the latest version has no tag: "latest with tag v2.0" is nothing, as in Camunda
    assert api.get("/process-definition?latestVersion=true&versionTag=v2.0")[1] == []


def test_the_python_client_starts_the_version_with_a_tag(engine: Engine, app: Any) -> None:
    """ProcessDefinitionClient.start_process_by_version asks for the newest definition whose
    tag is LIKE '<tag>%' and starts that one, though a newer untagged version exists."""
    client_module = pytest.importorskip(
        "camunda.process_definition.process_definition_client",
        reason="camunda-external-task-client-python3 is a test dependency")
    three_versions(Api(app))
    srv = LiveServer(app).start()
    try:
        client = client_module.ProcessDefinitionClient(srv.url, config={
            "auth_basic": {"username": WORKER[0], "password": WORKER[1]}})
        iid = client.start_process_by_version("billing", "v1", {"n": 1})["id"]
    finally:
        srv.stop()
    assert engine.instance(iid).version == 1


def test_fetch_and_lock_filters_by_version_tag_and_tells_it(api: Api) -> None:
    defs = three_versions(api)
    by_version = {start(api, d["id"]): tag for tag, d in defs.items()}
    (task,) = fetch(api, processDefinitionVersionTag="v2.0")
    assert by_version[task["processInstanceId"]] == "v2.0"
    assert task["processDefinitionVersionTag"] == "v2.0"
    assert fetch(api, processDefinitionVersionTag="v9") == []
    rest = fetch(api)                               # no filter: the other two
    assert sorted(str(t["processDefinitionVersionTag"]) for t in rest) == ["None", "v1.0"]
    status, got = api.get(f"/external-task/{task['id']}")
    assert status == 200 and got["processDefinitionVersionTag"] == "v2.0"
    listed = {t["id"]: t["processDefinitionVersionTag"] for t in api.get("/external-task")[1]}
    assert listed[task["id"]] == "v2.0"
    bad(api.post("/external-task/fetchAndLock", {"workerId": "w", "topics": [
        {"topicName": "bill", "lockDuration": LOCK, "processDefinitionVersionTag": ["v1"]}]}),
        "topics[0].processDefinitionVersionTag")


def test_a_version_tag_longer_than_an_id_is_refused_naming_the_process(api: Api) -> None:
    bad(deploy(api, {"billing.bpmn": tagged("v" * 256)}), "billing", "versionTag", "255")
    assert api.get("/process-definition/count")[1] == {"count": 0}


def test_definitions_deployed_before_the_column_get_their_tag_from_the_xml(
        tmp_path: Path) -> None:
    """Migration 0007 reads the tag of each stored definition from its XML (SQLite here; the
    migration is dialect-neutral SQLAlchemy Core)."""
    from engine.store import migrate
    from engine.store.sql import SqlStore

    url = f"sqlite:///{tmp_path}/old.db"
    eng = sa.create_engine(url)
    try:
        migrate.upgrade(eng, "0006")
        with eng.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO deployments (id, name, time, resources) "
                "VALUES ('dep1', NULL, '2026-01-01 00:00:00.000000', '[]')"))
            for def_id, key, xml in (("billing:1:dep1", "billing", tagged("v7")),
                                     ("other:1:dep1", "other", tagged(None, key="other")),
                                     ("broken:1:dep1", "broken", b"<not xml")):
                conn.execute(sa.text(
                    "INSERT INTO definitions (id, key, version, name, xml, checksum, "
                    "deployment_id, resource, deployed_at, executable, has_start_form) "
                    "VALUES (:id, :key, 1, NULL, :xml, :sum, 'dep1', NULL, "
                    "'2026-01-01 00:00:00.000000', 1, 0)"),
                    {"id": def_id, "key": key, "xml": xml, "sum": def_id})
        migrate.upgrade(eng)
    finally:
        eng.dispose()
    store = SqlStore(url, auto_upgrade=False)
    try:
        with store.transaction() as tx:
            tags = {d.id: d.version_tag for d in tx.definitions()}
    finally:
        store.close()
    assert tags == {"billing:1:dep1": "v7", "other:1:dep1": None, "broken:1:dep1": None}


# =========================================================================== external task query


@pytest.fixture
def four_tasks(engine: Engine, api: Api) -> dict[str, Any]:
    """Two tenants' definitions and one without; four tasks, one locked by w1, one by w2,
    priorities 0; one with retries 0 (an incident)."""
    assert deploy(api, {"a.bpmn": tagged("t", key="acmeBill")}, **{"tenant-id": "acme"})[0] \
        == 200
    assert deploy(api, {"g.bpmn": tagged("t", key="globexBill")},
                  **{"tenant-id": "globex"})[0] == 200
    assert deploy(api, {"p.bpmn": tagged(None, key="plainBill")})[0] == 200
    ids = {"acme": start(api, "key/acmeBill"), "globex": start(api, "key/globexBill"),
           "plain": start(api, "key/plainBill"), "plain2": start(api, "key/plainBill")}
    tasks = {name: engine.external_tasks(instance_id=iid)[0] for name, iid in ids.items()}
    engine.lock_external(tasks["acme"].id, 60, "w1")
    engine.lock_external(tasks["globex"].id, 60, "w2")
    engine.lock_external(tasks["plain2"].id, 60, "w1")
    engine.fail_external(tasks["plain2"].id, "down", retries=0, worker_id="w1")
    return {"iids": ids, "tasks": {n: t.id for n, t in tasks.items()}}


def ids_of(rows: list[dict]) -> set[str]:
    return {r["id"] for r in rows}


def test_the_external_task_query_with_camunda_filters(api: Api,
                                                      four_tasks: dict[str, Any]) -> None:
    t, iids = four_tasks["tasks"], four_tasks["iids"]

    def get(query: str) -> set[str]:
        status, rows = api.get(f"/external-task?{query}")
        assert status == 200, rows
        count = api.get(f"/external-task/count?{query}")[1]["count"]
        assert count == len(rows), query
        return ids_of(rows)

    assert get("tenantIdIn=acme,globex") == {t["acme"], t["globex"]}
    assert get("withoutTenantId=true") == {t["plain"], t["plain2"]}
    assert get("locked=true") == {t["acme"], t["globex"]}
    assert get("notLocked=true") == {t["plain"], t["plain2"]}
    assert get("locked=false") == set(t.values())          # false filters nothing
    assert get("workerId=w1") == {t["acme"]}
    assert get("noRetriesLeft=true") == {t["plain2"]}
    assert get("withRetriesLeft=true") == {t["acme"], t["globex"], t["plain"]}
    assert get(f"externalTaskIdIn={t['acme']},{t['plain']}") == {t["acme"], t["plain"]}
    assert get(f"processInstanceIdIn={iids['globex']}") == {t["globex"]}
    assert get("activityIdIn=charge,other&topicName=bill") == set(t.values())
    assert get("priorityHigherThanOrEquals=0&priorityLowerThanOrEquals=0") == set(t.values())
    assert get("priorityHigherThanOrEquals=1") == set()
    assert get("suspended=true") == set() and get("active=true") == set(t.values())
    (acme,) = api.get(f"/external-task?externalTaskId={t['acme']}")[1]
    assert acme["tenantId"] == "acme" and acme["workerId"] == "w1"
    assert get(f"executionId={acme['executionId']}") == {t["acme"]}
    assert get(f"processDefinitionId={acme['processDefinitionId']}") == {t["acme"]}
    expiry = acme["lockExpirationTime"]      # milliseconds: before the lock's own instant
    assert get(f"lockExpirationBefore={expiry.replace('+', '%2B')}") == set()
    assert get("lockExpirationAfter=2000-01-01T00:00:00.000%2B0000") \
        == {t["acme"], t["globex"]}
    # an unescaped '+' of the offset arrives as a space: read as the '+' it was
    assert get("lockExpirationBefore=2999-01-01T00:00:00.000+0000") \
        == {t["acme"], t["globex"]}
    # sorting and paging
    rows = api.get("/external-task?sortBy=tenantId&sortOrder=asc")[1]
    assert [r["tenantId"] for r in rows] == ["acme", "globex", None, None]
    rows = api.get("/external-task?sortBy=processDefinitionKey&sortOrder=desc"
                   "&firstResult=1&maxResults=2")[1]
    assert [r["processDefinitionKey"] for r in rows] == ["plainBill", "globexBill"]


def test_the_external_task_query_in_a_body(api: Api, four_tasks: dict[str, Any]) -> None:
    t = four_tasks["tasks"]
    status, rows = api.post("/external-task?maxResults=3", {
        "tenantIdIn": ["acme", "globex"], "withRetriesLeft": True,
        "externalTaskIdIn": list(t.values()),
        "sorting": [{"sortBy": "tenantId", "sortOrder": "desc"}]})
    assert status == 200 and [r["id"] for r in rows] == [t["globex"], t["acme"]]
    status, rows = api.post("/external-task", {
        "sorting": [{"sortBy": "processDefinitionKey", "sortOrder": "asc"},
                    {"sortBy": "lockExpirationTime", "sortOrder": "desc"}]})
    assert status == 200
    assert [r["processDefinitionKey"] for r in rows] == \
        ["acmeBill", "globexBill", "plainBill", "plainBill"]
    assert api.post("/external-task/count", {"notLocked": True})[1] == {"count": 2}
    assert api.post("/external-task/count")[1] == {"count": 4}     # no body: everything


@pytest.mark.parametrize("method, url, payload, words", [
    ("GET", "/external-task?tenantIdIn=a&withoutTenantId=true", None,
     ["tenantIdIn and withoutTenantId"]),
    ("GET", "/external-task?lockExpirationAfter=yesterday", None,
     ["lockExpirationAfter", "yesterday"]),
    ("GET", "/external-task?priorityHigherThanOrEquals=high", None,
     ["priorityHigherThanOrEquals"]),
    ("GET", "/external-task?sortBy=color&sortOrder=asc", None, ["sortBy", "color"]),
    ("GET", "/external-task?sortBy=id", None, ["sortOrder"]),
    ("GET", "/external-task?locked=maybe", None, ["locked", "maybe"]),
    ("POST", "/external-task", {"color": "red"}, ["'color'", "supported"]),
    ("POST", "/external-task", {"locked": "yes"}, ["'locked'", "true or false"]),
    ("POST", "/external-task", {"tenantIdIn": "acme"}, ["'tenantIdIn'", "list"]),
    ("POST", "/external-task", {"priorityLowerThanOrEquals": 2 ** 63},
     ["priorityLowerThanOrEquals"]),
    ("POST", "/external-task", {"sorting": [{"sortBy": "id", "sortOrder": "up"}]},
     ["sortOrder", "up"]),
    ("POST", "/external-task", {"sorting": {"sortBy": "id"}}, ["'sorting'"]),
    ("POST", "/external-task/count", [1, 2], ["JSON object"]),
    ("POST", "/external-task/count?topicName=x", {}, ["topicName"]),
])
def test_bad_external_task_queries_are_400_naming_what(api: Api, method: str, url: str,
                                                       payload: Any, words: list[str]) -> None:
    bad(api.call(method, url, payload), *words)


def test_locked_means_a_lock_that_has_not_expired(manual_engine: Engine) -> None:
    api = Api(create_app(manual_engine))
    manual_engine.deploy(tagged(None))
    manual_engine.start("billing")
    (task,) = fetch(api, "w1")
    assert ids_of(api.get("/external-task?locked=true")[1]) == {task["id"]}
    manual_engine.clock.advance(timedelta(milliseconds=LOCK + 1))
    assert api.get("/external-task?locked=true")[1] == []
    assert ids_of(api.get("/external-task?notLocked=true")[1]) == {task["id"]}


# =========================================================================== lock by id


def test_a_worker_locks_a_task_by_id_and_completes_it(api: Api, engine: Engine) -> None:
    engine.deploy(tagged(None))
    iid = engine.start("billing")
    (task,) = engine.external_tasks(instance_id=iid)
    url = f"/external-task/{task.id}/lock"
    assert api.post(url, {"workerId": "w1", "lockDuration": LOCK})[0] == 204
    (got,) = api.get("/external-task?workerId=w1&locked=true")[1]
    assert got["id"] == task.id and got["lockExpirationTime"] is not None
    assert fetch(api, "w2") == []                          # locked: not fetchable
    bad(api.post(url, {"workerId": "w2", "lockDuration": LOCK}), "locked by worker 'w1'")
    assert api.post(url, {"workerId": "w1", "lockDuration": 2 * LOCK})[0] == 204  # again
    bad(api.post(f"/external-task/{task.id}/complete", {"workerId": "w2"}), "w1")
    assert api.post(f"/external-task/{task.id}/complete", {"workerId": "w1"})[0] == 204
    assert engine.instance(iid).waiting == ["review"]
    status, err = api.post(url, {"workerId": "w1", "lockDuration": LOCK})
    assert status == 404 and err["type"] == "NotFoundException"


@pytest.mark.parametrize("payload, words", [
    ({"lockDuration": LOCK}, ["'workerId' is required"]),
    ({"workerId": "w1"}, ["'lockDuration' is required"]),
    ({"workerId": "w1", "lockDuration": -1}, ["'lockDuration' must be at least 0"]),
    ({"workerId": "w1", "lockDuration": "long"}, ["'lockDuration' must be an integer"]),
    ({"workerId": 7, "lockDuration": LOCK}, ["'workerId' must be a string"]),
])
def test_bad_lock_requests_are_400(api: Api, engine: Engine, payload: dict,
                                   words: list[str]) -> None:
    engine.deploy(tagged(None))
    (task,) = engine.external_tasks(instance_id=engine.start("billing"))
    bad(api.post(f"/external-task/{task.id}/lock", payload), *words)
    assert engine.external_tasks(id=task.id)[0].worker_id is None


def test_an_expired_lock_may_be_taken_over(manual_engine: Engine) -> None:
    api = Api(create_app(manual_engine))
    manual_engine.deploy(tagged(None))
    (task,) = manual_engine.external_tasks(instance_id=manual_engine.start("billing"))
    url = f"/external-task/{task.id}/lock"
    assert api.post(url, {"workerId": "w1", "lockDuration": 1000})[0] == 204
    bad(api.post(url, {"workerId": "w2", "lockDuration": 1000}), "w1")
    manual_engine.clock.advance(timedelta(seconds=2))
    assert api.post(url, {"workerId": "w2", "lockDuration": 1000})[0] == 204
    assert manual_engine.external_tasks(id=task.id)[0].worker_id == "w2"


# =========================================================================== history, version


def test_historic_process_instances_running_and_ended(api: Api, engine: Engine) -> None:
    engine.deploy(tagged("v1"), tenant_id="acme")
    running = engine.start("billing", business_key="r-1")
    done = engine.start("billing", business_key="d-1")
    (task,) = engine.external_tasks(instance_id=done)
    engine.lock_external(task.id, 60, "w")
    engine.complete_external(task.id, worker_id="w")
    (review,) = engine.tasks(instance_id=done)
    engine.complete_task(review.id, {})
    cancelled = engine.start("billing")
    engine.cancel(cancelled)
    status, rows = api.get("/history/process-instance?sortBy=businessKey&sortOrder=asc")
    assert status == 200 and len(rows) == 3
    by_id = {r["id"]: r for r in rows}
    assert by_id[running]["state"] == "ACTIVE" and by_id[running]["endTime"] is None
    assert by_id[done]["state"] == "COMPLETED" and by_id[done]["durationInMillis"] >= 0
    assert by_id[cancelled]["state"] == "EXTERNALLY_TERMINATED"
    assert by_id[done]["processDefinitionKey"] == "billing"
    assert by_id[done]["processDefinitionName"] == "Billing "
    assert by_id[done]["tenantId"] == "acme" and by_id[done]["rootProcessInstanceId"] == done

    def ids(query: str) -> set[str]:
        status, rows = api.get(f"/history/process-instance?{query}")
        assert status == 200, rows
        assert api.get(f"/history/process-instance/count?{query}")[1]["count"] == len(rows)
        return {r["id"] for r in rows}

    assert ids("finished=true") == {done, cancelled}
    assert ids("unfinished=true") == {running}
    assert ids("completed=true") == {done}
    assert ids("externallyTerminated=true") == {cancelled}
    assert ids("processInstanceBusinessKeyLike=d-%25") == {done}
    assert ids(f"processInstanceIds={running},{done}") == {running, done}
    assert ids("tenantIdIn=acme") == {running, done, cancelled}
    assert ids("withoutTenantId=true") == set()
    assert ids("startedAfter=2000-01-01T00:00:00.000%2B0000&finishedBefore="
               "2999-01-01T00:00:00.000%2B0000") == {done, cancelled}
    assert ids("processDefinitionKeyNotIn=billing") == set()
    status, one = api.get(f"/history/process-instance/{done}")
    assert status == 200 and one["state"] == "COMPLETED" and one["businessKey"] == "d-1"
    status, err = api.get("/history/process-instance/nope")
    assert status == 404 and "nope" in err["message"]
    bad(api.get("/history/process-instance?startedBefore=soon"), "startedBefore", "soon")
    bad(api.get("/history/process-instance?sortBy=color&sortOrder=asc"), "sortBy")
    bad(api.get("/history/process-instance?variables=a_eq_1"), "variables")


def test_version_answers_the_camunda_api_level(api: Api, app: Any) -> None:
    status, got = api.get("/version")
    assert status == 200 and got["version"].startswith("7.")
    assert Api(app, user=None).get("/version")[0] == 401


# =========================================================================== task forms, tenants


def test_task_form_and_form_variables(api: Api, engine: Engine) -> None:
    engine.deploy(tagged(None))
    iid = engine.start("billing", {"amount": 12, "customer": "Ann"})
    (ext,) = engine.external_tasks(instance_id=iid)
    engine.lock_external(ext.id, 60, "w")
    engine.complete_external(ext.id, worker_id="w")
    (task,) = engine.tasks(instance_id=iid)
    status, form = api.get(f"/task/{task.id}/form")
    assert status == 200 and form["key"] == "embedded:app:forms/review.html"
    status, values = api.get(f"/task/{task.id}/form-variables")
    assert status == 200
    assert values["verdict"]["value"] == "pending"          # the field's default
    assert values["amount"]["value"] == 12                  # the variable of that name
    assert values["customer"] == {"value": "Ann", "type": "String", "valueInfo": {}}
    status, values = api.get(f"/task/{task.id}/form-variables?variableNames=verdict")
    assert status == 200 and set(values) == {"verdict"}
    assert api.get("/task/nope/form-variables")[0] == 404
    assert api.get("/task/nope/form")[0] == 404
    bad(api.get(f"/task/{task.id}/form-variables?names=x"), "names")


def test_jobs_incidents_and_tasks_carry_their_definitions_tenant(api: Api,
                                                                 engine: Engine) -> None:
    engine.deploy(tagged(None).replace(b'camunda:type="external" camunda:topic="bill"',
                                       b'camunda:asyncBefore="true" camunda:type="external"'
                                       b' camunda:topic="bill"'), tenant_id="acme")
    iid = engine.start("billing")
    (job,) = engine.jobs(instance_id=iid)
    (row,) = api.get("/job?tenantIdIn=acme")[1]
    assert row["id"] == job.id and row["tenantId"] == "acme"
    assert api.get("/job?withoutTenantId=true")[1] == []
    assert api.get(f"/job/{job.id}")[1]["tenantId"] == "acme"
    bad(api.get("/job?tenantIdIn=acme&withoutTenantId=true"), "tenantIdIn")
    engine.run_due_jobs()
    (ext,) = engine.external_tasks(instance_id=iid)
    engine.lock_external(ext.id, 60, "w")
    engine.fail_external(ext.id, "down", retries=0, worker_id="w")
    (inc,) = api.get("/incident")[1]
    assert inc["tenantId"] == "acme"
    assert api.get(f"/incident/{inc['id']}")[1]["tenantId"] == "acme"
    engine.set_external_retries(ext.id, 1)
    engine.lock_external(ext.id, 60, "w")
    engine.complete_external(ext.id, worker_id="w")
    (task,) = api.get(f"/task?processInstanceId={iid}")[1]
    assert task["tenantId"] == "acme"
    assert api.get(f"/task/{task['id']}")[1]["tenantId"] == "acme"
