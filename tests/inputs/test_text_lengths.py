"""Over-long text gets the same answer on every store and every door.

MariaDB keeps indexed text in VARCHAR(255) columns (engine/store/schema.py), SQLite,
PostgreSQL and the memory store would keep longer values: without the engine's own checks
(engine.limits.check_text, the BPMN rule stored-text-length) a 256-character business key,
assignee, candidate, message name, topic or worker id would work on three stores and be a
database error, an HTTP 500, on the fourth. Each field here is refused at 256 characters
(an EngineError through the Python API, a 400 naming it through /api and /engine-rest)
with nothing stored, and kept at 255 characters, read back equal, on every store.
"""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import Any

import pytest

from engine import Engine, EngineError
from engine.bpmn import BpmnValidationError
from engine.limits import MAX_KEY_LEN
from engine.store.dialects import value_too_long
from tests.databases import MARIADB, SQL_KINDS, STORE_KINDS
from tests.inputs.conftest import USER, Client, new_app

# 255 characters with a two-byte one among them: MariaDB counts characters, not bytes
KEPT = "é" + "k" * (MAX_KEY_LEN - 1)
LONG = "x" * (MAX_KEY_LEN + 1)
assert len(KEPT) == MAX_KEY_LEN and len(LONG) == 256

NS = ('xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
      'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
      'targetNamespace="http://baton.dev/inputs"')


def diagram(pid: str, body: str, extra: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<definitions {NS}>\n{extra}\n'
            f'<process id="{pid}" isExecutable="true">\n{body}\n</process>\n'
            '</definitions>').encode()


def line(*ids: str) -> str:
    """start -> ids... -> end, as sequence flows."""
    chain = ["start", *ids, "end"]
    return "".join(f'<sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
                   for i, (a, b) in enumerate(zip(chain, chain[1:], strict=False)))


START_END = '<startEvent id="start"/><endEvent id="end"/>'
PLAIN = diagram("plain", START_END + '<userTask id="do"/>' + line("do"))
# who works the task comes from variables: known only when the task is created
PEOPLE = diagram("people", START_END + '<userTask id="review" camunda:assignee="${who}" '
                 'camunda:candidateUsers="${users}" camunda:candidateGroups="${groups}"/>'
                 + line("review"))
ORDERS = diagram("orders", '<startEvent id="start"><messageEventDefinition messageRef="m"/>'
                 '</startEvent><endEvent id="end"/><userTask id="ship"/>' + line("ship"),
                 '<message id="m" name="order"/>')
NAMED_WAIT = diagram("named_wait", START_END + '<intermediateCatchEvent id="wait">'
                     '<messageEventDefinition messageRef="m"/></intermediateCatchEvent>'
                     + line("wait"), '<message id="m" name="${msg}"/>')
CALLER = diagram("caller", START_END + '<callActivity id="call" calledElement="plain">'
                 '<extensionElements><camunda:in businessKey="${bk}"/></extensionElements>'
                 '</callActivity>' + line("call"))
PEOPLE_VARS = {"who": "ann", "users": "bob", "groups": "clerks"}
FIELDS = [("who", "the assignee"), ("users", "the candidate user"),
          ("groups", "the candidate group")]


def waiting_for(message: str) -> bytes:
    return diagram("waits", START_END + '<intermediateCatchEvent id="wait">'
                   '<messageEventDefinition messageRef="m"/></intermediateCatchEvent>'
                   + line("wait"), f'<message id="m" name="{message}"/>')


def external(topic: str) -> bytes:
    return diagram("ext", START_END + '<serviceTask id="pay" camunda:type="external" '
                   f'camunda:topic="{topic}"/>' + line("pay"))


def in_lane(lane: str) -> bytes:
    return diagram("sorting", f'<laneSet id="ls"><lane id="lane" name="{lane}">'
                   '<flowNodeRef>sort</flowNodeRef></lane></laneSet>'
                   + START_END + '<userTask id="sort"/>' + line("sort"))


def make_engine(store: Any) -> Engine:
    eng = Engine(store=store)
    eng.add_user(USER, "Ada", "correct horse battery", roles=["admin"])
    eng.deploy(PLAIN, PEOPLE, ORDERS, NAMED_WAIT, CALLER, external("pay"))
    return eng


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("engine.identity.PASSWORD_METHOD", "pbkdf2:sha256:1")


@pytest.fixture(params=STORE_KINDS)
def engine(request: pytest.FixtureRequest, new_store: Callable[[str], Any]) -> Engine:
    return make_engine(new_store(request.param))


def refused(fn: Callable[[], Any], *words: str) -> str:
    with pytest.raises(EngineError) as e:
        fn()
    for word in words:
        assert word in str(e.value), str(e.value)
    return str(e.value)


def nothing_started(eng: Engine) -> None:
    assert eng.count_instances() == 0
    assert eng.tasks() == []


# =========================================================================== Python API


def test_business_key(engine: Engine) -> None:
    refused(lambda: engine.start("plain", business_key=LONG),
            "the business key is 256 characters long", "at most 255")
    refused(lambda: engine.correlate_message("order", business_key=LONG), "the business key")
    nothing_started(engine)
    iid = engine.start("plain", business_key=KEPT)
    (by_message,) = engine.correlate_message("order", business_key=KEPT)
    for instance_id in (iid, by_message):
        assert engine.instance(instance_id).business_key == KEPT
        (task,) = engine.tasks(instance_id=instance_id)
        assert task.business_key == KEPT
    assert [i.id for i in engine.instances(business_key=KEPT)] != []


@pytest.mark.parametrize("key, words", [
    ("a\x00b", "the business key: the string holds a NUL character"),
    ("a\ud800b", "the business key: the string holds a lone surrogate"),
    (42, "the business key must be text, not int"),
])
def test_business_key_no_store_could_keep(engine: Engine, key: Any, words: str) -> None:
    """PostgreSQL's text cannot hold U+0000, no database a lone surrogate: refused before
    any store sees them."""
    refused(lambda: engine.start("plain", business_key=key), words)
    nothing_started(engine)


def test_business_key_of_a_called_instance(engine: Engine) -> None:
    refused(lambda: engine.start("caller", {"bk": LONG}),
            "callActivity 'call': the business key is 256 characters long")
    nothing_started(engine)
    parent = engine.start("caller", {"bk": KEPT})
    (child,) = engine.instances(parent_id=parent)
    assert child.business_key == KEPT


@pytest.mark.parametrize("variable, what", FIELDS)
def test_assignee_and_candidates_from_expressions(engine: Engine, variable: str,
                                                  what: str) -> None:
    refused(lambda: engine.start("people", {**PEOPLE_VARS, variable: LONG}),
            f"userTask 'review': {what} is 256 characters long")
    nothing_started(engine)
    iid = engine.start("people", {**PEOPLE_VARS, variable: KEPT})
    (task,) = engine.tasks(instance_id=iid)
    got = {"who": task.assignee, "users": task.candidate_users,
           "groups": task.candidate_groups}[variable]
    assert got == (KEPT if variable == "who" else [KEPT])


def test_a_lane_standing_for_a_group(engine: Engine) -> None:
    engine.deploy(in_lane(LONG))
    refused(lambda: engine.start("sorting"), "userTask 'sort': the candidate group is 256")
    nothing_started(engine)
    engine.deploy(in_lane(KEPT))
    (task,) = engine.tasks(instance_id=engine.start("sorting"))
    assert task.candidate_groups == [KEPT]


def test_literal_names_in_a_diagram_are_refused_at_upload(engine: Engine) -> None:
    before = len(engine.definitions())
    for source, what in ((waiting_for(LONG), "the message name"),
                         (external(LONG), "the topic")):
        with pytest.raises(BpmnValidationError) as e:
            engine.deploy(source)
        (problem,) = e.value.problems
        assert problem.rule == "stored-text-length" and problem.line == 5  # the body
        assert problem.message.startswith(f"{what} is 256 characters long")
    long_people = PEOPLE.replace(b"${who}", LONG.encode())
    with pytest.raises(BpmnValidationError, match="the assignee is 256"):
        engine.deploy(long_people)
    assert len(engine.definitions()) == before


def test_message_and_signal_names(engine: Engine) -> None:
    refused(lambda: engine.correlate_message(LONG), "the message name is 256 characters")
    refused(lambda: engine.broadcast_signal(LONG), "the signal name is 256 characters")
    refused(lambda: engine.start("named_wait", {"msg": LONG}),
            "'wait': the message name is 256 characters long")
    nothing_started(engine)
    engine.deploy(waiting_for(KEPT))
    for iid in (engine.start("waits"), engine.start("named_wait", {"msg": KEPT})):
        assert engine.message_waits(KEPT, instance_id=iid)
        assert engine.correlate_message(KEPT, instance_id=iid) == [iid]
        assert engine.instance(iid).status == "completed"


def test_topic_and_worker_id(engine: Engine) -> None:
    engine.start("ext")
    refused(lambda: engine.fetch_and_lock(LONG, {"pay": 60}), "the worker id is 256")
    refused(lambda: engine.fetch_and_lock("w", {LONG: 60}), "the topic name is 256")
    (task,) = engine.external_tasks("pay")
    refused(lambda: engine.lock_external(task.id, 60, LONG), "the worker id is 256")
    assert engine.external_tasks("pay")[0].worker_id is None
    engine.deploy(external(KEPT))
    iid = engine.start("ext")
    (locked,) = engine.fetch_and_lock(KEPT, {KEPT: 60})
    assert (locked.topic, locked.worker_id, locked.instance_id) == (KEPT, KEPT, iid)
    (stored,) = engine.external_tasks(KEPT)
    assert (stored.topic, stored.worker_id) == (KEPT, KEPT)
    engine.complete_external(locked.id, worker_id=KEPT)
    assert engine.instance(iid).status == "completed"


def test_tenant_user_and_group_ids_keep_their_own_tighter_bounds(engine: Engine) -> None:
    """Tenant, user and group ids are names of at most 64 characters (their own rules,
    engine.commands.deployment and engine.identity): 256 is refused everywhere too."""
    before = len(engine.definitions())
    refused(lambda: engine.deploy(external("t"), tenant_id=LONG), "tenant id")
    assert len(engine.definitions()) == before
    refused(lambda: engine.add_user(LONG, "Long", "correct horse battery"), "user")
    refused(lambda: engine.add_group(LONG), "group")
    assert engine.get_user(LONG) is None and LONG not in engine.groups()
    tenant, user, group = "t" * 64, "u" * 64, "g" * 64
    (d,) = engine.deploy(external("t"), tenant_id=tenant)
    assert engine.definition_by_id(d.id).tenant_id == tenant
    engine.add_user(user, "U", "correct horse battery", groups=[group])
    assert engine.user(user).groups == [group]


# =========================================================================== doors


@pytest.fixture(params=SQL_KINDS)
def door(request: pytest.FixtureRequest, new_store: Callable[[str], Any]
         ) -> tuple[Engine, Client]:
    """/api and /engine-rest around an engine on each SQL database (MariaDB is the one
    whose columns are bounded)."""
    eng = make_engine(new_store(request.param))
    return eng, Client(new_app(eng), eng.new_api_token(USER))


def api_refusal(r: Any, *words: str) -> str:
    assert r.status_code == 400, r.get_data(as_text=True)
    message = r.get_json()["error"]["message"]
    for word in words:
        assert word in message, message
    return message


def rest_refusal(r: Any, *words: str) -> str:
    assert r.status_code == 400, r.get_data(as_text=True)
    body = r.get_json()
    for word in words:
        assert word in body["message"], body
    return body["type"]


def rest_vars(values: dict[str, str]) -> dict[str, Any]:
    return {k: {"value": v, "type": "String"} for k, v in values.items()}


@pytest.mark.parametrize("variable, what", FIELDS)
def test_doors_refuse_an_over_long_assignee_or_candidate(door: tuple[Engine, Client],
                                                         variable: str, what: str) -> None:
    eng, client = door
    values = {**PEOPLE_VARS, variable: LONG}
    api_refusal(client.post("/api/processes/people/start", json={"variables": values}),
                f"userTask 'review': {what} is 256 characters long")
    assert rest_refusal(client.post("/engine-rest/process-definition/key/people/start",
                                    json={"variables": rest_vars(values)}),
                        what) == "BadUserRequestException"
    nothing_started(eng)
    r = client.post("/api/processes/people/start",
                    json={"variables": {**PEOPLE_VARS, variable: KEPT}})
    assert r.status_code == 201, r.get_data(as_text=True)
    (task,) = eng.tasks(instance_id=r.get_json()["id"])
    shown = client.get(f"/api/tasks/{task.id}").get_json()
    assert {"who": shown["assignee"], "users": task.candidate_users,
            "groups": task.candidate_groups}[variable] in (KEPT, [KEPT])


def test_doors_refuse_an_over_long_business_key(door: tuple[Engine, Client]) -> None:
    eng, client = door
    api_refusal(client.post("/api/processes/plain/start", json={"businessKey": LONG}),
                "businessKey")
    api_refusal(client.post("/api/messages", json={"name": "order", "businessKey": LONG}),
                "businessKey")
    rest_refusal(client.post("/engine-rest/process-definition/key/plain/start",
                             json={"businessKey": LONG}), "businessKey")
    rest_refusal(client.post("/engine-rest/message",
                             json={"messageName": "order", "businessKey": LONG}),
                 "businessKey")
    nothing_started(eng)
    r = client.post("/api/processes/plain/start", json={"businessKey": KEPT})
    assert r.status_code == 201 and r.get_json()["businessKey"] == KEPT
    r = client.post("/engine-rest/message", json={"messageName": "order",
                                                  "businessKey": KEPT,
                                                  "resultEnabled": True})
    assert r.status_code == 200, r.get_data(as_text=True)
    started = r.get_json()[0]["processInstance"]
    assert started["businessKey"] == KEPT
    assert eng.instance(started["id"]).business_key == KEPT


def test_doors_refuse_over_long_message_and_signal_names(door: tuple[Engine, Client]
                                                         ) -> None:
    eng, client = door
    api_refusal(client.post("/api/messages", json={"name": LONG}), "name")
    api_refusal(client.post("/api/signals", json={"name": LONG}), "name")
    rest_refusal(client.post("/engine-rest/message", json={"messageName": LONG}),
                 "messageName")
    api_refusal(client.post("/api/processes/named_wait/start",
                            json={"variables": {"msg": LONG}}), "the message name is 256")
    rest_refusal(client.post("/engine-rest/process-definition/key/named_wait/start",
                             json={"variables": rest_vars({"msg": LONG})}),
                 "the message name is 256")
    nothing_started(eng)
    r = client.post("/api/processes/named_wait/start", json={"variables": {"msg": KEPT}})
    assert r.status_code == 201
    iid = r.get_json()["id"]
    r = client.post("/engine-rest/message", json={"messageName": KEPT})
    assert r.status_code == 204, r.get_data(as_text=True)
    assert eng.instance(iid).status == "completed"


def test_doors_refuse_a_diagram_with_an_over_long_name(door: tuple[Engine, Client]) -> None:
    eng, client = door
    before = len(eng.definitions())
    r = client.post("/api/deployments",
                    data={"file": (BytesIO(external(LONG)), "long.bpmn")},
                    content_type="multipart/form-data")
    assert r.status_code == 400
    (problem,) = r.get_json()["error"]["problems"]
    assert problem["rule"] == "stored-text-length" and problem["elementId"] == "pay"
    assert problem["message"].startswith("the topic is 256 characters long")
    r = client.post("/engine-rest/deployment/create",
                    data={"data": (BytesIO(waiting_for(LONG)), "long.bpmn")},
                    content_type="multipart/form-data")
    assert r.status_code == 400 and r.get_json()["type"] == "ParseException"
    assert "the message name is 256 characters long" in r.get_json()["message"]
    r = client.post("/engine-rest/deployment/create",
                    data={"data": (BytesIO(external("t")), "t.bpmn"), "tenant-id": LONG},
                    content_type="multipart/form-data")
    rest_refusal(r, "tenant id")
    assert len(eng.definitions()) == before


def test_doors_refuse_an_over_long_worker_id_or_topic(door: tuple[Engine, Client]) -> None:
    eng, client = door
    eng.start("ext")
    fetch = "/engine-rest/external-task/fetchAndLock"
    rest_refusal(client.post(fetch, json={
        "workerId": LONG, "topics": [{"topicName": "pay", "lockDuration": 1000}]}),
        "workerId")
    rest_refusal(client.post(fetch, json={
        "workerId": "w", "topics": [{"topicName": LONG, "lockDuration": 1000}]}),
        "the topic name is 256 characters long")
    (task,) = eng.external_tasks("pay")
    rest_refusal(client.post(f"/engine-rest/external-task/{task.id}/lock",
                             json={"workerId": LONG, "lockDuration": 1000}), "worker")
    assert eng.external_tasks("pay")[0].worker_id is None
    eng.deploy(external(KEPT))
    eng.start("ext")
    r = client.post(fetch, json={"workerId": KEPT,
                                 "topics": [{"topicName": KEPT, "lockDuration": 60_000}]})
    assert r.status_code == 200, r.get_data(as_text=True)
    (locked,) = r.get_json()
    assert (locked["workerId"], locked["topicName"]) == (KEPT, KEPT)
    assert eng.external_tasks(KEPT)[0].worker_id == KEPT


# =========================================================================== the last line


@pytest.mark.parametrize("kind", [MARIADB])
def test_a_value_a_check_missed_is_a_400_naming_the_column(
        kind: str, new_store: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Should a check ever miss a value, MariaDB's "Data too long" is still a refusal
    naming the column (ValueTooLong, an EngineError: 400 on every door), the command
    rolled back - never a raw driver error and a 500."""
    monkeypatch.setattr("engine.tasks.check_text", lambda value, what, max_len=0: value)
    eng = make_engine(new_store(kind))
    message = refused(lambda: eng.start("people", {**PEOPLE_VARS, "who": LONG}),
                      "column 'assignee'", "Data too long")
    assert message.startswith("a value is too long for column 'assignee'")
    nothing_started(eng)
    client = Client(new_app(eng), eng.new_api_token(USER))
    api_refusal(client.post("/api/processes/people/start",
                            json={"variables": {**PEOPLE_VARS, "groups": LONG}}),
                "column 'name'")
    assert rest_refusal(client.post("/engine-rest/process-definition/key/people/start",
                                    json={"variables": rest_vars({**PEOPLE_VARS,
                                                                  "who": LONG})}),
                        "column 'assignee'") == "BadUserRequestException"
    nothing_started(eng)


def test_driver_errors_that_mean_too_long_and_only_those() -> None:
    """MariaDB's 1406 names the column; PostgreSQL's 22001 (a bounded VARCHAR) may not;
    a deadlock, a duplicate key or any other error is left alone."""
    pymysql = pytest.importorskip("pymysql")
    psycopg = pytest.importorskip("psycopg")
    maria = value_too_long(pymysql.err.DataError(
        1406, "Data too long for column 'business_key' at row 1"))
    assert maria is not None and maria.column == "business_key" and maria.status == 400
    assert str(maria) == ("a value is too long for column 'business_key': Data too long "
                          "for column 'business_key' at row 1")
    pg = value_too_long(psycopg.errors.StringDataRightTruncation(
        "value too long for type character varying(8)"))
    assert pg is not None and pg.column is None and "its column" in str(pg)
    for other in (pymysql.err.OperationalError(1213, "Deadlock found"),
                  pymysql.err.IntegrityError(1062, "Duplicate entry 'x'"),
                  psycopg.errors.UniqueViolation("duplicate key"), ValueError("1406")):
        assert value_too_long(other) is None


def test_the_engines_own_worker_id_leaves_room_for_its_threads() -> None:
    """Jobs are leased to "<worker id>#<thread>" (an indexed column)."""
    with pytest.raises(EngineError, match="the worker id is 240 characters long"):
        Engine(worker_id="w" * 240)
    assert Engine(worker_id="w" * 239).worker_id == "w" * 239
