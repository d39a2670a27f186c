"""Compatibility with the real Camunda 7 Python client (PyPI
`camunda-external-task-client-python3`, import name `camunda`), unpatched, over HTTP.

A threaded werkzeug server runs the engine-rest blueprint on 127.0.0.1. The client's
`ExternalTaskWorker` fetches and executes tasks of diagrams from Camunda's own test corpus
(`../shared/corpus/camunda/api/externaltask/`): it completes tasks, reports failures until
an incident opens, and throws a BPMN error; the instances must move exactly as the diagrams
say. Its `EngineClient` starts instances, reads variables and correlates messages.
(`ExternalTaskWorker.subscribe` loops forever, so the test drives the same worker one round
at a time with its `fetch_and_execute`.)
"""

from __future__ import annotations

import base64
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from engine import Engine
from tests.databases import STORE_KINDS
from tests.engine_rest.conftest import WORKER, LiveServer, create_app
from tests.engine_rest.diagrams import CORPUS, EXTERNAL_CORPUS

camunda = pytest.importorskip("camunda", reason="camunda-external-task-client-python3 is a "
                                                "test dependency (setup.cfg [test])")
with warnings.catch_warnings():
    # the client still uses pydantic v1-style validators; not ours to fix
    warnings.simplefilter("ignore", DeprecationWarning)
    from camunda.client.engine_client import EngineClient
    from camunda.external_task.external_task_worker import (
        ExternalTaskWorker,
        NoExternalTaskFound,
    )
    from camunda.process_definition.process_definition_client import (
        ProcessDefinitionClient,
    )

if not EXTERNAL_CORPUS.is_dir():
    pytest.skip(f"the Camunda corpus is not at {EXTERNAL_CORPUS}", allow_module_level=True)

AUTH = {"auth_basic": {"username": WORKER[0], "password": WORKER[1]}}
WORKER_CONFIG = {**AUTH, "maxTasks": 1, "lockDuration": 10_000, "asyncResponseTimeout": 300,
                 "retries": 2, "retryTimeout": 0, "sleepSeconds": 0}
TOPIC = "externalTaskTopic"
MESSAGE_CATCH = CORPUS / "event/message/MessageIntermediateEventTest.testSingleIntermediateMessageEvent.bpmn20.xml"
MESSAGE_START = CORPUS / "event/message/MessageStartEventTest.testSingleMessageStartEvent.bpmn20.xml"


@pytest.fixture(params=STORE_KINDS)
def engine(request: pytest.FixtureRequest, new_store: Callable[[str], Any]) -> Engine:
    """The real client against Baton on every store: its worker threads and our request
    threads share the store, which each database locks its own way."""
    eng = Engine(store=new_store(request.param))
    eng.add_user(WORKER[0], "Worker", WORKER[1], roles=["analyst"])
    return eng


@pytest.fixture
def server(engine: Engine) -> Iterator[LiveServer]:
    srv = LiveServer(create_app(engine)).start()
    try:
        yield srv
    finally:
        srv.stop()


def deploy_over_http(server: LiveServer, *paths: Path) -> dict[str, Any]:
    """Deploy with a plain multipart POST, as Camunda Modeler does."""
    files = [(p.name, (p.name, p.read_bytes(), "application/xml")) for p in paths]
    resp = requests.post(f"{server.url}/deployment/create", files=files,
                         data={"deployment-name": "compat"},
                         auth=(WORKER[0], WORKER[1]), timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()


def run_worker_round(worker: ExternalTaskWorker, handler: Any) -> bool:
    """One fetch-and-execute round of the client's own worker; False when no task came."""
    try:
        worker.fetch_and_execute(TOPIC, handler)
    except NoExternalTaskFound:
        return False
    return True


def test_the_worker_completes_fails_and_throws_as_the_diagram_says(
        engine: Engine, server: LiveServer) -> None:
    deploy_over_http(server, EXTERNAL_CORPUS / "twoExternalTaskProcess.bpmn20.xml")
    client = EngineClient(server.url, config=AUTH)
    ids = {mode: client.start_process("twoExternalTaskProcess", {"mode": mode},
                                      business_key=f"bk-{mode}")["id"]
           for mode in ("complete", "bpmn-error", "fail")}
    listed = client.get_process_instance(process_key="twoExternalTaskProcess")
    assert {p["id"] for p in listed} == set(ids.values())
    seen: list[tuple[str, Any]] = []

    def handler(task: Any) -> Any:
        mode = task.get_variable("mode")
        seen.append((mode, task.get_business_key()))
        if mode == "complete":
            return task.complete({"approved": True, "score": 7})
        if mode == "bpmn-error":
            return task.bpmn_error("ERROR-OCCURED", "business says no", {"why": "rules"})
        return task.failure("scoring service down", "stack trace here", max_retries=2,
                            retry_timeout=0)

    worker = ExternalTaskWorker("compat-worker", server.url, WORKER_CONFIG)
    rounds = 0
    while run_worker_round(worker, handler):
        rounds += 1
        assert rounds < 20, "the worker kept getting tasks"
    # complete -> the userTask after the external task
    done = engine.instance(ids["complete"])
    assert done.waiting == ["afterExternalTask"]
    assert done.variables["approved"] is True and done.variables["score"] == 7
    # BPMN error -> the error boundary's path
    caught = engine.instance(ids["bpmn-error"])
    assert caught.waiting == ["afterBpmnError"] and caught.variables["why"] == "rules"
    # failure: retries 2 -> 1 -> 0, then an incident; the task stays where it was
    failed = engine.instance(ids["fail"])
    assert failed.waiting == ["externalTask"]
    assert [m for m, _ in seen].count("fail") == 3
    assert ("complete", "bk-complete") in seen
    incidents = requests.get(f"{server.url}/incident", auth=(WORKER[0], WORKER[1]),
                             timeout=10).json()
    assert [(i["processInstanceId"], i["incidentType"], i["incidentMessage"])
            for i in incidents] == [(ids["fail"], "failedExternalTask", "scoring service down")]
    (ext,) = engine.external_tasks(instance_id=ids["fail"])
    assert ext.retries == 0 and ext.error_details == "stack trace here"


def test_the_worker_handles_the_corpus_one_task_process(engine: Engine,
                                                        server: LiveServer) -> None:
    deploy_over_http(server, EXTERNAL_CORPUS / "oneExternalTaskProcess.bpmn20.xml")
    client = ProcessDefinitionClient(server.url, config=AUTH)
    started = [client.start_process_by_version("oneExternalTaskProcess", None,
                                               {"n": n})["id"] for n in range(3)]
    worker = ExternalTaskWorker("w-one", server.url, WORKER_CONFIG)
    handled = []

    def handler(task: Any) -> Any:
        handled.append(task.get_variable("n"))
        return task.complete({"doubled": task.get_variable("n") * 2})

    while run_worker_round(worker, handler):
        pass
    assert sorted(handled) == [0, 1, 2]
    for n, iid in enumerate(started):
        view = engine.instance(iid)
        assert view.status == "completed" and view.variables["doubled"] == n * 2


def test_the_engine_client_correlates_messages_and_reads_variables(
        engine: Engine, server: LiveServer) -> None:
    for path in (MESSAGE_CATCH, MESSAGE_START):
        if not path.is_file():
            pytest.skip(f"corpus diagram missing: {path}")
    deploy_over_http(server, MESSAGE_CATCH, MESSAGE_START)
    client = EngineClient(server.url, config=AUTH)
    waiting = client.start_process("process", {"greeting": "hello"})["id"]
    assert engine.instance(waiting).waiting == ["messageCatch"]
    # to the instance that waits for it
    result = client.correlate_message("newInvoiceMessage", process_instance_id=waiting,
                                      process_variables={"invoice": 17})
    assert [r["resultType"] for r in result] == ["Execution"]
    assert engine.instance(waiting).waiting == ["task"]
    assert engine.variables(waiting)["invoice"] == 17
    # nobody waits any more: the message start event takes it
    result = client.correlate_message("newInvoiceMessage", business_key="inv-2")
    (started,) = result
    assert started["resultType"] == "ProcessDefinition"
    new_id = started["processInstance"]["id"]
    assert engine.instance(new_id).key == "singleMessageStartEvent"
    assert engine.instance(new_id).business_key == "inv-2"
    # a variable and its raw data, as the client reads them
    data = client.get_process_instance_variable(waiting, "greeting")
    assert base64.b64decode(data) == b"hello"
    meta = client.get_process_instance_variable(waiting, "greeting", with_meta=True)
    assert meta["type"] == "String"


def test_the_client_with_a_bearer_token_and_bad_credentials(engine: Engine,
                                                            server: LiveServer) -> None:
    deploy_over_http(server, EXTERNAL_CORPUS / "oneExternalTaskProcess.bpmn20.xml")
    token = engine.new_api_token(WORKER[0])
    client = EngineClient(server.url, config={"auth_bearer": {"access_token": token}})
    iid = client.start_process("oneExternalTaskProcess", {})["id"]
    assert engine.instance(iid).waiting == ["externalTask"]
    bad = EngineClient(server.url, config={"auth_basic": {"username": WORKER[0],
                                                          "password": "nope"}})
    # the client raises a bare Exception with Camunda's status and error type in it
    with pytest.raises(Exception, match="^received 401 : AuthenticationException"):
        bad.start_process("oneExternalTaskProcess", {})
