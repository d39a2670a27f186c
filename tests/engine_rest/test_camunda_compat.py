"""The Camunda 7 REST differences of issue 10, each checked through the Flask test client and,
where the real Camunda Python client (`camunda-external-task-client-python3`) can say it,
through that client over HTTP:

- a malformed or invalid deployment is 400 ParseException with the problems per file;
- a variable keeps the type its client sent (Long, Short, Double, Date, Json, Object);
- `GET /task?candidateGroup=x` leaves out claimed tasks unless `includeAssignedTasks=true`;
- tenants: `tenant-id` on deployments, tenant filters of definitions and instances, starting
  by key and tenant;
- fetchAndLock per-topic filters: businessKey, tenantIdIn, withoutTenantId, processVariables
  (any of them matching, as Camunda 7), processDefinitionKey.
"""

from __future__ import annotations

import io
import json
import threading
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from engine import Engine
from engine.store import open_store
from tests.engine_rest.conftest import CLERK, WORKER, Api, LiveServer, create_app

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" targetNamespace="tests">
"""
# start -> external task (topic "work") -> user task for clerks -> end
WORK = HEAD + """
  <process id="work" name="Work" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="job"/>
    <serviceTask id="job" camunda:type="external" camunda:topic="work"/>
    <sequenceFlow id="f2" sourceRef="job" targetRef="review"/>
    <userTask id="review" name="Review" camunda:candidateGroups="clerks"/>
    <sequenceFlow id="f3" sourceRef="review" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>"""
LOCK = 60_000


def deploy(api: Api, files: dict[str, bytes], **fields: str) -> tuple[int, Any]:
    data: dict[str, Any] = dict(fields)
    for name, content in files.items():
        data[name] = (io.BytesIO(content), name)
    resp = api.client.post("/engine-rest/deployment/create", headers=api.headers, data=data,
                           content_type="multipart/form-data")
    return resp.status_code, resp.get_json()


def start(api: Api, variables: dict[str, Any] | None = None, path: str = "key/work",
          **body: Any) -> str:
    status, got = api.post(f"/process-definition/{path}/start",
                           {"variables": variables or {}, **body})
    assert status == 200, got
    return got["id"]


def fetch(api: Api, worker: str = "w", max_tasks: int = 10, **topic: Any) -> list[dict]:
    status, got = api.post("/external-task/fetchAndLock", {
        "workerId": worker, "maxTasks": max_tasks,
        "topics": [{"topicName": "work", "lockDuration": LOCK, **topic}]})
    assert status == 200, got
    return got


# =========================================================================== deployments


def test_malformed_and_invalid_deployments_are_400_with_the_problems_per_file(
        api: Api) -> None:
    broken = b'<?xml version="1.0"?>\n<definitions><process id="p">\n<oops'
    invalid = WORK.replace('<sequenceFlow id="f3" sourceRef="review" targetRef="end"/>',
                           '<sequenceFlow id="f3" sourceRef="review" targetRef="nowhere"/>')
    status, err = deploy(api, {"broken.bpmn": broken, "invalid.bpmn": invalid.encode()})
    assert status == 400 and err["type"] == "ParseException"
    assert "broken.bpmn" in err["message"]
    (problem,) = err["details"]["broken.bpmn"]["errors"]
    assert problem["line"] == 3 and "not well-formed XML" in problem["message"]
    assert problem["mainElementId"] is None and problem["elementIds"] == []
    assert err["details"]["broken.bpmn"]["warnings"] == []
    # one file that does not parse stops the deployment: nothing else is read or stored
    assert api.get("/process-definition")[1] == []
    status, err = deploy(api, {"invalid.bpmn": invalid.encode()})
    assert status == 400 and err["type"] == "ParseException"
    (problem,) = err["details"]["invalid.bpmn"]["errors"]
    assert problem["mainElementId"] == "f3" and problem["elementIds"] == ["f3"]
    assert problem["batonRule"] == "sequence-flow-ends" and problem["line"] == 11
    assert api.get("/process-definition")[1] == []


def test_xinclude_and_overlong_names_are_parse_problems_too(api: Api) -> None:
    xinclude = WORK.replace('<startEvent id="start"/>', '<startEvent id="start">'
                            '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
                            'href="/etc/passwd"/></startEvent>')
    status, err = deploy(api, {"x.bpmn": xinclude.encode()})
    assert status == 400 and "XInclude" in err["details"]["x.bpmn"]["errors"][0]["message"]
    long_name = WORK.replace('name="Review"', f'name="{"r" * 100_000}"')
    status, err = deploy(api, {"n.bpmn": long_name.encode()})
    (problem,) = err["details"]["n.bpmn"]["errors"]
    assert status == 400 and problem["mainElementId"] == "review"
    assert "100,000 characters" in problem["message"] and len(problem["message"]) < 300


# =========================================================================== typed variables

TYPED = {
    "big": {"value": 5000, "type": "Long"},
    "small": {"value": 7, "type": "Short"},
    "plain": {"value": 3, "type": "Integer"},
    "ratio": {"value": 5, "type": "Double"},
    "due": {"value": "2026-03-01T09:30:00.000+0100", "type": "Date"},
    "order": {"value": '{"lines":[1,2]}', "type": "Json"},
    "customer": {"value": '{"name":"Ann"}', "type": "Object",
                 "valueInfo": {"objectTypeName": "com.acme.Customer",
                               "serializationDataFormat": "application/json"}},
    "items": {"value": "[1,2]", "type": "Object",
              "valueInfo": {"objectTypeName": "java.util.ArrayList",
                            "serializationDataFormat": "application/json"}},
}


def check_types(variables: dict[str, Any], deserialized: bool = True) -> None:
    assert {k: v["type"] for k, v in variables.items() if k in TYPED} == {
        k: t["type"] for k, t in TYPED.items()}
    assert variables["big"]["value"] == 5000 and variables["small"]["value"] == 7
    assert variables["ratio"]["value"] == 5.0
    assert datetime.strptime(variables["due"]["value"], "%Y-%m-%dT%H:%M:%S.%f%z") \
        == datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    assert json.loads(variables["order"]["value"]) == {"lines": [1, 2]}
    customer = variables["customer"]
    assert customer["valueInfo"] == {"objectTypeName": "com.acme.Customer",
                                     "serializationDataFormat": "application/json"}
    assert (customer["value"] if deserialized else json.loads(customer["value"])) \
        == {"name": "Ann"}


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'typed.db'}"


def test_variables_keep_the_type_the_client_sent_on_every_read(api: Api,
                                                               engine: Engine) -> None:
    deploy(api, {"work.bpmn": WORK.encode()})
    iid = start(api, TYPED)
    check_types(api.get(f"/process-instance/{iid}/variables")[1])
    check_types(api.get(f"/process-instance/{iid}/variables?deserializeValues=false")[1],
                deserialized=False)
    assert api.get(f"/process-instance/{iid}/variables/big")[1]["type"] == "Long"
    (task,) = fetch(api)
    check_types(task["variables"], deserialized=False)      # fetchAndLock's default
    # the worker answers with types of its own
    status, _ = api.post(f"/external-task/{task['id']}/complete", {
        "workerId": "w", "variables": {"count": {"value": 12, "type": "Short"},
                                       "total": {"value": 9, "type": "Long"}}})
    assert status == 204
    (user_task,) = api.get(f"/task?processInstanceId={iid}")[1]
    seen = api.get(f"/task/{user_task['id']}/variables")[1]
    check_types(seen)
    assert (seen["count"]["type"], seen["total"]["type"]) == ("Short", "Long")
    # other doors see plain numbers, dicts and lists
    values = engine.instance(iid).variables
    assert values["big"] == 5000 and isinstance(values["big"], int)
    assert values["customer"] == {"name": "Ann"} and values["items"] == [1, 2]
    # a value computed anew is an ordinary value again: Camunda infers its type
    engine.set_variables(iid, {"big": values["big"] + 1})
    assert api.get(f"/process-instance/{iid}/variables/big")[1]["type"] == "Integer"


def test_typed_variables_survive_a_restart_on_sqlite(sqlite_url: str) -> None:
    first = Engine(store=open_store(sqlite_url))
    first.add_user(WORKER[0], "Worker", WORKER[1], roles=["admin"])
    api = Api(create_app(first))
    deploy(api, {"work.bpmn": WORK.encode()})
    iid = start(api, TYPED)
    first.store.close()
    again = Engine(store=open_store(sqlite_url))
    check_types(Api(create_app(again)).get(f"/process-instance/{iid}/variables")[1])
    again.store.close()


# =========================================================================== user tasks


def test_candidate_queries_leave_out_claimed_tasks_unless_asked(api: Api) -> None:
    deploy(api, {"work.bpmn": WORK.encode()})
    for _ in range(2):
        start(api)
    for task in fetch(api):
        api.post(f"/external-task/{task['id']}/complete", {"workerId": "w"})
    first, second = api.get("/task?sortBy=created&sortOrder=asc")[1]
    assert api.as_(CLERK).post(f"/task/{first['id']}/claim", {"userId": "clerk"})[0] == 204
    for query in ("candidateGroup=clerks", "candidateGroups=clerks,others"):
        assert [t["id"] for t in api.get(f"/task?{query}")[1]] == [second["id"]], query
        assert api.get(f"/task/count?{query}")[1] == {"count": 1}
        both = api.get(f"/task?{query}&includeAssignedTasks=true")[1]
        assert {t["id"] for t in both} == {first["id"], second["id"]}, query
    assert len(api.get("/task")[1]) == 2                 # no candidate filter: all


# =========================================================================== tenants


def test_deployments_carry_a_tenant_and_queries_filter_by_it(api: Api) -> None:
    status, acme = deploy(api, {"work.bpmn": WORK.encode()}, **{"tenant-id": "acme"})
    assert status == 200 and acme["tenantId"] == "acme"
    (acme_def,) = acme["deployedProcessDefinitions"].values()
    assert acme_def["tenantId"] == "acme"
    # the same file for another tenant is a new definition, not "unchanged"
    _, globex = deploy(api, {"work.bpmn": WORK.encode()}, **{"tenant-id": "globex"})
    (globex_def,) = globex["deployedProcessDefinitions"].values()
    deploy(api, {"work.bpmn": WORK.replace('name="Work"', 'name="Shared"').encode()})
    assert [d["tenantId"] for d in api.get("/process-definition?tenantIdIn=acme")[1]] \
        == ["acme"]
    assert [d["name"] for d in api.get("/process-definition?withoutTenantId=true")[1]] \
        == ["Shared"]
    both = api.get("/process-definition?tenantIdIn=acme"
                   "&includeProcessDefinitionsWithoutTenantId=true")[1]
    assert sorted(str(d["tenantId"]) for d in both) == ["None", "acme"]
    assert api.get("/process-definition/key/work/tenant-id/globex")[1]["id"] \
        == globex_def["id"]
    assert api.get("/process-definition/key/work/tenant-id/nobody")[0] == 404
    iid = start(api, path="key/work/tenant-id/acme")
    status, got = api.get(f"/process-instance/{iid}")
    assert got["definitionId"] == acme_def["id"] and got["tenantId"] == "acme"
    start(api)                                          # the latest: no tenant
    assert [i["id"] for i in api.get("/process-instance?tenantIdIn=acme")[1]] == [iid]
    assert len(api.get("/process-instance?withoutTenantId=true")[1]) == 1


@pytest.mark.parametrize("tenant", ["x" * 65, "a b", "ünï"])
def test_a_malformed_tenant_id_is_refused(api: Api, tenant: str) -> None:
    status, err = deploy(api, {"work.bpmn": WORK.encode()}, **{"tenant-id": tenant})
    assert status == 400 and "tenant id" in err["message"]
    assert api.get("/process-definition")[1] == []


# =========================================================================== fetchAndLock


@pytest.fixture
def three_tenants(api: Api) -> dict[str, str]:
    """Instances of "work" for tenants acme and globex and for no tenant, each with a
    business key and a `region` variable."""
    ids = {}
    for tenant, region in (("acme", "north"), ("globex", "south"), (None, "east")):
        fields = {"tenant-id": tenant} if tenant else {}
        status, dep = deploy(api, {"work.bpmn": WORK.encode()}, **fields)
        assert status == 200, dep
        (definition,) = dep["deployedProcessDefinitions"].values()
        ids[tenant or "none"] = start(api, {"region": {"value": region}},
                                      path=definition["id"], businessKey=f"bk-{region}")
    return ids


def instances_of(tasks: list[dict]) -> set[str]:
    return {t["processInstanceId"] for t in tasks}


def test_fetch_filters_by_tenant(api: Api, three_tenants: dict[str, str]) -> None:
    got = fetch(api, tenantIdIn=["acme", "globex"])
    assert instances_of(got) == {three_tenants["acme"], three_tenants["globex"]}
    assert {t["tenantId"] for t in got} == {"acme", "globex"}
    got = fetch(api, worker="w2", withoutTenantId=True)
    assert instances_of(got) == {three_tenants["none"]} and got[0]["tenantId"] is None
    assert fetch(api, worker="w3") == []                 # all three are locked now


def test_fetch_filters_by_business_key_definition_and_variables(
        api: Api, three_tenants: dict[str, str]) -> None:
    assert instances_of(fetch(api, businessKey="bk-south")) == {three_tenants["globex"]}
    assert fetch(api, worker="w2", processDefinitionKey="other") == []
    # Camunda 7 ORs the variables: an instance matching any of them is fetched
    got = fetch(api, worker="w3", processVariables={"region": "north", "missing": 1})
    assert instances_of(got) == {three_tenants["acme"]}
    got = fetch(api, worker="w4", processDefinitionKeyIn=["work"], maxTasks=5)
    assert instances_of(got) == {three_tenants["none"]}         # the one still free
    assert fetch(api, worker="w5", processVariables={"region": "nowhere"}) == []


def test_filtered_and_plain_topics_in_one_fetch_share_max_tasks(
        api: Api, three_tenants: dict[str, str]) -> None:
    status, got = api.post("/external-task/fetchAndLock", {
        "workerId": "w", "maxTasks": 2,
        "topics": [{"topicName": "work", "lockDuration": LOCK, "tenantIdIn": ["globex"]},
                   {"topicName": "other", "lockDuration": LOCK}]})
    assert status == 200 and instances_of(got) == {three_tenants["globex"]}


# =========================================================================== the real client

camunda = pytest.importorskip("camunda", reason="camunda-external-task-client-python3 is a "
                                                "test dependency (setup.cfg [test])")
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from camunda.client.engine_client import EngineClient
    from camunda.client.external_task_client import ExternalTaskClient
    from camunda.external_task.external_task_worker import (
        ExternalTaskWorker,
        NoExternalTaskFound,
    )

AUTH = {"auth_basic": {"username": WORKER[0], "password": WORKER[1]}}
CONFIG = {**AUTH, "maxTasks": 10, "lockDuration": LOCK, "asyncResponseTimeout": 0,
          "sleepSeconds": 0}


class FilteringClient(ExternalTaskClient):
    """The client's own fetch request, with topic filters it has no parameter for."""

    def __init__(self, *args: Any, topic_filters: dict[str, Any], **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.topic_filters = topic_filters

    def _get_topics(self, topic_names: Any, process_variables: Any, variables: Any) -> Any:
        return [{**topic, **self.topic_filters}
                for topic in super()._get_topics(topic_names, process_variables, variables)]


def worker(server: LiveServer, name: str, **topic_filters: Any) -> ExternalTaskWorker:
    w = ExternalTaskWorker(name, server.url, CONFIG)
    if topic_filters:
        w.client = FilteringClient(name, server.url, CONFIG, topic_filters=topic_filters)
        w.executor.external_task_client = w.client
    return w


def run(w: ExternalTaskWorker, handler: Any, **kw: Any) -> list[Any]:
    seen: list[Any] = []

    def wrapped(task: Any) -> Any:
        seen.append(task)
        return handler(task)

    try:
        w.fetch_and_execute("work", wrapped, **kw)
    except NoExternalTaskFound:
        pass
    return seen


def http_deploy(server: LiveServer, xml: str, **fields: str) -> dict[str, Any]:
    resp = requests.post(f"{server.url}/deployment/create", auth=WORKER, timeout=30,
                         data=fields, files={"work.bpmn": ("work.bpmn", xml.encode(),
                                                           "application/xml")})
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_client_typed_variables_round_trip(live: LiveServer, engine: Engine) -> None:
    http_deploy(live, WORK)
    client = EngineClient(live.url, config=AUTH)
    iid = client.start_process("work", {k: v for k, v in TYPED.items()})["id"]
    seen = run(worker(live, "typed"), lambda task: task.complete({
        "total": {"value": 9, "type": "Long"}, "count": {"value": 12, "type": "Short"},
        "receipt": {"value": '{"ok":true}', "type": "Object",
                    "valueInfo": {"objectTypeName": "com.acme.Receipt",
                                  "serializationDataFormat": "application/json"}}}))
    (task,) = seen
    assert task.get_variable("big", with_meta=True)["type"] == "Long"
    assert task.get_variable("small", with_meta=True)["type"] == "Short"
    assert engine.instance(iid).waiting == ["review"]
    for name, kind in (("total", "Long"), ("count", "Short"), ("big", "Long"),
                       ("receipt", "Object"), ("ratio", "Double"), ("due", "Date")):
        assert client.get_process_instance_variable(iid, name, with_meta=True)["type"] \
            == kind, name
    meta = client.get_process_instance_variable(iid, "receipt", with_meta=True)
    assert meta["valueInfo"]["objectTypeName"] == "com.acme.Receipt"


def test_client_tenants_business_keys_and_process_variables(live: LiveServer,
                                                           engine: Engine) -> None:
    http_deploy(live, WORK, **{"tenant-id": "acme"})
    http_deploy(live, WORK, **{"tenant-id": "globex"})
    client = EngineClient(live.url, config=AUTH)
    acme = client.start_process("work", {"region": "north"}, tenant_id="acme",
                                business_key="bk-1")["id"]
    globex = client.start_process("work", {"region": "south"}, tenant_id="globex",
                                  business_key="bk-2")["id"]
    assert [p["id"] for p in client.get_process_instance("work", tenant_ids=["acme"])] \
        == [acme]
    done = lambda task: task.complete({})  # noqa: E731
    got = run(worker(live, "acme-only", tenantIdIn=["acme"]), done)
    assert [(t.get_process_instance_id(), t.get_tenant_id()) for t in got] == [(acme, "acme")]
    assert run(worker(live, "nobody", withoutTenantId=True), done) == []
    got = run(worker(live, "by-key", businessKey="bk-2"), done)
    assert [t.get_business_key() for t in got] == ["bk-2"]
    assert engine.instance(globex).waiting == ["review"]
    # the client's own processVariables filter
    third = client.start_process("work", {"region": "west"}, tenant_id="acme")["id"]
    fourth = client.start_process("work", {"region": "east"}, tenant_id="acme")["id"]
    got = run(worker(live, "west"), done, process_variables={"region": "west"})
    assert [t.get_process_instance_id() for t in got] == [third]
    assert engine.instance(fourth).waiting == ["job"]


def test_client_sees_parse_problems_candidate_filters_and_the_openapi_document(
        live: LiveServer) -> None:
    resp = requests.post(f"{live.url}/deployment/create", auth=WORKER, timeout=30,
                         files={"bad.bpmn": ("bad.bpmn", b"<definitions><oops",
                                             "application/xml")})
    assert resp.status_code == 400
    body = resp.json()
    assert body["type"] == "ParseException" and body["details"]["bad.bpmn"]["errors"]
    http_deploy(live, WORK)
    EngineClient(live.url, config=AUTH).start_process("work", {})
    run(worker(live, "w"), lambda task: task.complete({}))
    tasks = requests.get(f"{live.url}/task?candidateGroup=clerks", auth=WORKER,
                         timeout=10).json()
    (task,) = tasks
    requests.post(f"{live.url}/task/{task['id']}/claim", json={"userId": "clerk"},
                  auth=CLERK, timeout=10).raise_for_status()
    assert requests.get(f"{live.url}/task?candidateGroup=clerks", auth=WORKER,
                        timeout=10).json() == []
    doc = requests.get(f"{live.url}/openapi.json", timeout=10).json()
    assert "/engine-rest/external-task/fetchAndLock" in doc["paths"]


def test_workers_racing_on_a_filtered_topic_never_get_the_same_task(api: Api) -> None:
    """Filtered topics are leased row by row under the store's revision check: a task another
    worker leased meanwhile makes the fetch retry, never a second lease."""
    status, dep = deploy(api, {"work.bpmn": WORK.encode()}, **{"tenant-id": "acme"})
    (definition,) = dep["deployedProcessDefinitions"].values()
    started = {start(api, path=definition["id"]) for _ in range(12)}
    got: list[tuple[str, str]] = []
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            while True:
                tasks = fetch(api, worker=name, max_tasks=2, tenantIdIn=["acme"])
                if not tasks:
                    return
                got.extend((name, t["processInstanceId"]) for t in tasks)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    instances = [iid for _, iid in got]
    assert sorted(instances) == sorted(started)          # each exactly once
