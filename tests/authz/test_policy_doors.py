"""One table, every door: who may do what, asked through the Python API, /api, /engine-rest
and the web pages, must get the answer engine.policy.POLICY gives.

Why: Baton's doors used to decide permissions themselves and disagreed. Now every door
only names the acting user and the command asks the policy. This suite holds them to it:

- ACTIONS lists what can be done, each with the policy row that guards it, the state it
  acts on, and how each door that offers it does it;
- a cell is (action, kind of user); its expected answer is `engine.policy.allows` for that
  user on that row (and the task acted on, for rows about a task's people), computed from
  the policy table at run time, so the table cannot drift from the policy;
- every door runs the cell on a fresh engine: allowed means 2xx (or the web's 303) and the
  change is there; refused means 403 (404 where /engine-rest hides a task one may not see,
  as Camunda does) and the whole store is as it was. All doors must agree.

A refused caller gets the same refusal whatever body they send: for rows that do not
depend on a task, each HTTP refusal is repeated with a body that is not even JSON.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine import Engine
from engine.errors import Forbidden
from engine.policy import POLICY, Actor, allows, matrix_markdown
from tests.authz import diagrams
from tests.authz.conftest import KINDS, PASSWORD, UNKNOWN, World, new_world, state_of

Ids = dict[str, str]
SECRET = "for adjusters only"         # a variable of the work instance
NOTE = "NOTE-7731"                    # a comment dave left on the work task
DOORS = ("python", "api", "engine-rest", "web")


# ================================================================================= setups
# Each prepares, as the trusted caller, the state an action acts on; returns the ids.

def work(e: Engine) -> Ids:
    e.deploy(diagrams.WORK.encode())
    iid = e.start("work", {"secret": SECRET})
    (task,) = e.tasks(instance_id=iid)
    return {"iid": iid, "tid": task.id, "def_id": e.definition("work").id}


def work_claimed(e: Engine) -> Ids:
    ids = work(e)
    e.claim(ids["tid"], "alice")
    return ids


def work_delegated(e: Engine) -> Ids:
    """dave claimed the task and handed it to alice: dave owns it, alice holds it."""
    ids = work(e)
    e.claim(ids["tid"], "dave")
    e.delegate(ids["tid"], "alice", by="dave")
    return ids


def work_commented(e: Engine) -> Ids:
    ids = work(e)
    e.comment(ids["tid"], "dave", NOTE)
    return ids


def started(xml: str, key: str) -> Callable[[Engine], Ids]:
    def setup(e: Engine) -> Ids:
        e.deploy(xml.encode())
        return {"iid": e.start(key)}
    return setup


def timer(e: Engine) -> Ids:
    ids = started(diagrams.CLOCK, "clock")(e)
    (job,) = e.jobs(instance_id=ids["iid"])
    return {**ids, "job": job.id}


def external(e: Engine) -> Ids:
    ids = started(diagrams.EXTERNAL, "ext")(e)
    (task,) = e.external_tasks("jobs")
    return {**ids, "ext": task.id}


def external_locked(e: Engine) -> Ids:
    ids = external(e)
    e.fetch_and_lock("w1", {"jobs": 600})
    return ids


def incident(e: Engine) -> Ids:
    ids = external_locked(e)
    e.fail_external(ids["ext"], "service down", retries=0, worker_id="w1")
    (inc,) = e.incidents()
    return {**ids, "inc": inc.id}


def decision(e: Engine) -> Ids:
    e.deploy(("rate.dmn", diagrams.DECISION.encode()))
    return {}


# ================================================================================= table

@dataclass(frozen=True)
class Req:
    """One HTTP request of a door."""

    method: str
    url: str
    json: Any = None
    data: Any = None
    content_type: str | None = None


HttpWay = Callable[[Ids, str], Req]


@dataclass(frozen=True)
class Action:
    """Something a user asks for, the policy row that decides it, and each door's way to
    ask. `done` says (reading as the trusted caller) that a write happened; `shows` is text
    an allowed read answers with and a refused one must not."""

    name: str
    row: tuple[str, str]
    setup: Callable[[Engine], Ids]
    python: Callable[[Engine, Ids, str], Any]
    api: HttpWay | None = None
    rest: HttpWay | None = None
    web: HttpWay | None = None
    done: Callable[[Engine, Ids, str], bool] | None = None
    shows: Callable[[Ids], str] | None = None
    rest_hides: bool = False           # /engine-rest answers a refusal 404 (Camunda's way)

    @property
    def on_task(self) -> bool:
        """Rows about a task's people are asked with the task acted on."""
        return self.row[0] == "task" and self.row[1] != "list-all"

    def way(self, door: str) -> Any:
        return {"python": self.python, "api": self.api, "engine-rest": self.rest,
                "web": self.web}[door]


def get(url: str) -> HttpWay:
    return lambda ids, me: Req("GET", url.format(**ids, me=me))


def post(url: str, json: Any = None, method: str = "POST") -> HttpWay:
    def way(ids: Ids, me: str) -> Req:
        body = {k: v.format(**ids, me=me) if isinstance(v, str) else v
                for k, v in (json or {}).items()}
        return Req(method, url.format(**ids, me=me), json=body)
    return way


def form(url: str, **fields: str) -> HttpWay:
    return lambda ids, me: Req("POST", url.format(**ids, me=me), data=dict(fields))


def upload(url: str, field: str) -> HttpWay:
    return lambda ids, me: Req("POST", url, data={field: (io.BytesIO(diagrams.FRESH.encode()),
                                                         "fresh.bpmn")},
                               content_type="multipart/form-data")


def task_of(e: Engine, ids: Ids) -> Any:
    got = e.tasks(id=ids["tid"])
    return got[0] if got else None


def waiting(e: Engine, ids: Ids) -> list[str]:
    return e.instance(ids["iid"]).waiting


MODIFY_API = [{"type": "cancel", "activityId": "review"},
              {"type": "start_before", "activityId": "check"}]
MODIFY_REST = [{"type": "cancel", "activityId": "review"},
               {"type": "startBeforeActivity", "activityId": "check"}]
FIVE = {"value": 5, "type": "Integer"}

ACTIONS: tuple[Action, ...] = (
    # ------------------------------------------------------------------ definitions
    Action("deploy", ("definition", "deploy"), work,
           lambda e, ids, me: e.deploy(diagrams.FRESH.encode(), user=me),
           api=lambda ids, me: Req("POST", "/api/deployments", data=diagrams.FRESH.encode(),
                                   content_type="application/xml"),
           rest=upload("/engine-rest/deployment/create", "data"),
           web=upload("/processes/upload", "diagram"),
           done=lambda e, ids, me: any(d.key == "fresh" for d in e.definitions())),
    Action("read definition", ("definition", "read"), work,
           lambda e, ids, me: e.definition_by_id(ids["def_id"], user=me),
           api=get("/api/definitions/{def_id}"),
           rest=get("/engine-rest/process-definition/{def_id}"),
           web=get("/processes/work"),
           shows=lambda ids: "Work for adjusters"),
    Action("read definition xml", ("definition", "read"), work,
           lambda e, ids, me: e.definition("work", user=me).xml.decode(),
           api=get("/api/definitions/{def_id}/xml"),
           rest=get("/engine-rest/process-definition/{def_id}/xml"),
           web=get("/processes/work/1/source.bpmn"),
           shows=lambda ids: "Check the payout"),
    Action("evaluate decision", ("decision", "evaluate"), decision,
           lambda e, ids, me: e.evaluate_decision("rate", {"amount": 3}, user=me),
           shows=lambda ids: "RATE-42"),
    # ------------------------------------------------------------------ instances
    Action("start", ("instance", "start"), work,
           lambda e, ids, me: e.start("work", user=me),
           api=post("/api/processes/work/start"),
           rest=post("/engine-rest/process-definition/key/work/start"),
           web=form("/processes/work/start"),
           done=lambda e, ids, me: e.count_instances() == 2),
    Action("read instance", ("instance", "read"), work,
           lambda e, ids, me: e.instance(ids["iid"], user=me),
           api=get("/api/instances/{iid}"),
           rest=get("/engine-rest/process-instance/{iid}/variables"),
           web=get("/instances/{iid}"),
           shows=lambda ids: SECRET),
    Action("list instances", ("instance", "read"), work,
           lambda e, ids, me: e.instances(user=me),
           api=get("/api/instances"),
           rest=get("/engine-rest/process-instance"),
           web=get("/instances"),
           shows=lambda ids: ids["iid"]),
    Action("list historic instances", ("instance", "read"), work,
           lambda e, ids, me: e.instances(user=me),
           rest=get("/engine-rest/history/process-instance"),
           shows=lambda ids: ids["iid"]),
    Action("instance history", ("instance", "read"), work,
           lambda e, ids, me: e.history(ids["iid"], user=me),
           api=get("/api/instances/{iid}/history"),
           shows=lambda ids: "Review the claim"),
    Action("cancel", ("instance", "cancel"), work,
           lambda e, ids, me: e.cancel(ids["iid"], user=me),
           api=post("/api/instances/{iid}/cancel"),
           rest=lambda ids, me: Req("DELETE", f"/engine-rest/process-instance/{ids['iid']}"),
           web=form("/instances/{iid}/cancel"),
           done=lambda e, ids, me: e.instance(ids["iid"]).status != "running"),
    Action("modify", ("instance", "modify"), work,
           lambda e, ids, me: e.modify(ids["iid"], cancel=["review"], start_before=["check"],
                                       user=me),
           api=post("/api/instances/{iid}/modify", {"instructions": MODIFY_API}),
           rest=post("/engine-rest/process-instance/{iid}/modification",
                     {"instructions": MODIFY_REST}),
           done=lambda e, ids, me: waiting(e, ids) == ["check"]),
    Action("set a variable", ("instance", "variables"), work,
           lambda e, ids, me: e.set_variables(ids["iid"], {"x": 5}, user=me),
           rest=post("/engine-rest/process-instance/{iid}/variables/x", FIVE, method="PUT"),
           done=lambda e, ids, me: e.variables(ids["iid"]).get("x") == 5),
    Action("set variables", ("instance", "variables"), work,
           lambda e, ids, me: e.set_variables(ids["iid"], {"x": 5}, user=me),
           rest=post("/engine-rest/process-instance/{iid}/variables",
                     {"modifications": {"x": FIVE}}),
           done=lambda e, ids, me: e.variables(ids["iid"]).get("x") == 5),
    Action("correlate message", ("message", "correlate"), started(diagrams.MAIL, "mail"),
           lambda e, ids, me: e.correlate_message("docs", instance_id=ids["iid"], user=me),
           api=post("/api/messages", {"name": "docs", "instanceId": "{iid}"}),
           rest=post("/engine-rest/message", {"messageName": "docs",
                                              "processInstanceId": "{iid}"}),
           done=lambda e, ids, me: waiting(e, ids) == ["after"]),
    Action("broadcast signal", ("signal", "broadcast"), started(diagrams.BEACON, "beacon"),
           lambda e, ids, me: e.broadcast_signal("go", user=me),
           api=post("/api/signals", {"name": "go"}),
           done=lambda e, ids, me: waiting(e, ids) == ["after"]),
    # ------------------------------------------------------------------ user tasks
    Action("claim", ("task", "claim"), work,
           lambda e, ids, me: e.claim(ids["tid"], me),
           api=post("/api/tasks/{tid}/claim"),
           rest=post("/engine-rest/task/{tid}/claim", {"userId": "{me}"}),
           web=form("/tasks/{tid}/claim"),
           done=lambda e, ids, me: task_of(e, ids).assignee == me),
    Action("unclaim", ("task", "manage"), work_claimed,
           lambda e, ids, me: e.unclaim(ids["tid"], me),
           api=post("/api/tasks/{tid}/unclaim"),
           rest=post("/engine-rest/task/{tid}/unclaim"),
           web=form("/tasks/{tid}/unclaim"),
           done=lambda e, ids, me: task_of(e, ids).assignee is None),
    Action("complete an unclaimed task", ("task", "complete"), work,
           lambda e, ids, me: e.complete_task(ids["tid"], {}, user=me),
           api=post("/api/tasks/{tid}/complete"),
           rest=post("/engine-rest/task/{tid}/complete"),
           web=form("/tasks/{tid}/complete"),
           done=lambda e, ids, me: task_of(e, ids) is None),
    Action("complete a claimed task", ("task", "complete"), work_claimed,
           lambda e, ids, me: e.complete_task(ids["tid"], {}, user=me),
           api=post("/api/tasks/{tid}/complete"),
           rest=post("/engine-rest/task/{tid}/complete"),
           web=form("/tasks/{tid}/complete"),
           done=lambda e, ids, me: task_of(e, ids) is None),
    Action("comment", ("task", "comment"), work,
           lambda e, ids, me: e.comment(ids["tid"], me, "hello"),
           api=post("/api/tasks/{tid}/comments", {"text": "hello"}),
           web=form("/tasks/{tid}/comment", text="hello"),
           done=lambda e, ids, me: len(e.comments(task_id=ids["tid"])) == 1),
    Action("read task", ("task", "read"), work,
           lambda e, ids, me: e.task(ids["tid"], user=me),
           api=get("/api/tasks/{tid}"),
           rest=get("/engine-rest/task/{tid}"),
           web=get("/tasks/{tid}"),
           shows=lambda ids: "Review the claim", rest_hides=True),
    Action("read task variables", ("task", "read"), work,
           lambda e, ids, me: e.task_variables(ids["tid"], user=me),
           api=get("/api/tasks/{tid}"),
           rest=get("/engine-rest/task/{tid}/variables"),
           web=get("/tasks/{tid}"),
           shows=lambda ids: SECRET, rest_hides=True),
    Action("read task form variables", ("task", "read"), work,
           lambda e, ids, me: (e.task_form(ids["tid"], user=me),
                               e.task_variables(ids["tid"], user=me)),
           rest=get("/engine-rest/task/{tid}/form-variables"),
           shows=lambda ids: SECRET, rest_hides=True),
    Action("read task comments", ("task", "read"), work_commented,
           lambda e, ids, me: e.comments(task_id=ids["tid"], user=me),
           api=get("/api/tasks/{tid}/comments"),
           web=get("/tasks/{tid}"),
           shows=lambda ids: NOTE),
    Action("list all tasks", ("task", "list-all"), work,
           lambda e, ids, me: e.task_list(me, "all").items,
           api=get("/api/tasks?view=all"),
           shows=lambda ids: ids["tid"]),
    Action("delegate", ("task", "manage"), work_claimed,
           lambda e, ids, me: e.delegate(ids["tid"], "dave", by=me),
           api=post("/api/tasks/{tid}/delegate", {"user": "dave"}),
           web=form("/tasks/{tid}/delegate", to="dave"),
           done=lambda e, ids, me: task_of(e, ids).assignee == "dave"),
    Action("reassign", ("task", "manage"), work_claimed,
           lambda e, ids, me: e.reassign(ids["tid"], to_user="dave", by=me),
           api=post("/api/tasks/{tid}/assign", {"user": "dave"}),
           rest=post("/engine-rest/task/{tid}/claim", {"userId": "dave"}),
           done=lambda e, ids, me: task_of(e, ids).assignee == "dave"),
    Action("set priority", ("task", "manage"), work_claimed,
           lambda e, ids, me: e.update_task(ids["tid"], {"priority": 77}, by=me),
           api=post("/api/tasks/{tid}", {"priority": 77}, method="PATCH"),
           done=lambda e, ids, me: task_of(e, ids).priority == 77),
    Action("resolve a delegated task", ("task", "resolve"), work_delegated,
           lambda e, ids, me: e.resolve(ids["tid"], me),
           api=post("/api/tasks/{tid}/resolve"),
           web=form("/tasks/{tid}/resolve"),
           done=lambda e, ids, me: task_of(e, ids).assignee == "dave"),
    # ------------------------------------------------------------------ jobs, incidents
    Action("list incidents", ("incident", "read"), incident,
           lambda e, ids, me: e.incidents(user=me),
           api=get("/api/incidents"),
           rest=get("/engine-rest/incident"),
           web=get("/incidents"),
           shows=lambda ids: "service down"),
    Action("retry incident", ("incident", "resolve"), incident,
           lambda e, ids, me: e.retry_incident(ids["inc"], user=me),
           api=post("/api/incidents/{inc}/retry"),
           web=form("/incidents/{inc}/retry"),
           done=lambda e, ids, me: e.incidents() == []),
    Action("read job", ("job", "read"), timer,
           lambda e, ids, me: e.jobs(id=ids["job"], user=me),
           rest=get("/engine-rest/job/{job}"),
           shows=lambda ids: ids["job"]),
    Action("list jobs", ("job", "read"), timer,
           lambda e, ids, me: e.jobs(user=me),
           rest=get("/engine-rest/job"),
           shows=lambda ids: ids["job"]),
    Action("set job retries", ("job", "manage"), timer,
           lambda e, ids, me: e.set_job_retries(ids["job"], 7, user=me),
           rest=post("/engine-rest/job/{job}/retries", {"retries": 7}, method="PUT"),
           done=lambda e, ids, me: e.jobs(id=ids["job"])[0].retries == 7),
    # ------------------------------------------------------------------ external tasks
    Action("fetch and lock", ("external_task", "work"), external,
           lambda e, ids, me: e.fetch_and_lock("w9", {"jobs": 60}, user=me),
           rest=post("/engine-rest/external-task/fetchAndLock",
                     {"workerId": "w9", "topics": [{"topicName": "jobs",
                                                    "lockDuration": 60000}]}),
           done=lambda e, ids, me: e.external_tasks(id=ids["ext"])[0].worker_id == "w9"),
    Action("complete external task", ("external_task", "work"), external_locked,
           lambda e, ids, me: e.complete_external(ids["ext"], worker_id="w1", user=me),
           rest=post("/engine-rest/external-task/{ext}/complete", {"workerId": "w1"}),
           done=lambda e, ids, me: e.external_tasks(id=ids["ext"]) == []),
    Action("report external failure", ("external_task", "work"), external_locked,
           lambda e, ids, me: e.fail_external(ids["ext"], "oops", retries=0, worker_id="w1",
                                              user=me),
           rest=post("/engine-rest/external-task/{ext}/failure",
                     {"workerId": "w1", "errorMessage": "oops", "retries": 0}),
           done=lambda e, ids, me: len(e.incidents()) == 1),
    Action("lock external task by id", ("external_task", "work"), external,
           lambda e, ids, me: e.lock_external(ids["ext"], 60, "w9", user=me),
           rest=post("/engine-rest/external-task/{ext}/lock",
                     {"workerId": "w9", "lockDuration": 60000}),
           done=lambda e, ids, me: e.external_tasks(id=ids["ext"])[0].worker_id == "w9"),
    Action("unlock external task", ("external_task", "work"), external_locked,
           lambda e, ids, me: e.unlock_external(ids["ext"], user=me),
           rest=post("/engine-rest/external-task/{ext}/unlock"),
           done=lambda e, ids, me: e.external_tasks(id=ids["ext"])[0].worker_id is None),
    Action("set external retries", ("external_task", "retries"), incident,
           lambda e, ids, me: e.set_external_retries(ids["ext"], 7, user=me),
           rest=post("/engine-rest/external-task/{ext}/retries", {"retries": 7},
                     method="PUT"),
           done=lambda e, ids, me: e.external_tasks(id=ids["ext"])[0].retries == 7),
    Action("read external task", ("external_task", "read"), external,
           lambda e, ids, me: e.external_tasks(id=ids["ext"], user=me),
           rest=get("/engine-rest/external-task/{ext}"),
           shows=lambda ids: ids["ext"]),
    Action("query external tasks", ("external_task", "read"), external,
           lambda e, ids, me: e.external_tasks("jobs", user=me),
           rest=post("/engine-rest/external-task", {"topicName": "jobs"}),
           shows=lambda ids: ids["ext"]),
    # ------------------------------------------------------------------ identity
    Action("add a user", ("identity", "manage"), lambda e: {},
           lambda e, ids, me: e.add_user("newbie", None, PASSWORD, by=me),
           done=lambda e, ids, me: e.get_user("newbie") is not None),
)

CELLS = [(action, kind) for action in ACTIONS for kind in KINDS]


def cell_id(cell: tuple[Action, str]) -> str:
    action, kind = cell
    return f"{action.name} / {kind}".replace(" ", "-")


# ================================================================================= doors

@dataclass(frozen=True)
class Answer:
    """What a door said: allowed (True), refused (False) or something else (None)."""

    allowed: bool | None
    status: str
    text: str


def doors_of(action: Action, kind: str) -> list[str]:
    """The doors that offer the action; a user the directory does not know cannot log in,
    so only the Python API can name them."""
    offered = [d for d in DOORS if action.way(d) is not None]
    return ["python"] if KINDS[kind] == UNKNOWN else offered


def expected(world: World, action: Action, user: str) -> bool:
    """The policy's answer for this user, this row and (for task rows) the task as it is."""
    e = world.engine
    task = task_of(e, world.ids) if action.on_task else None
    return allows(Actor(user, e.get_user(user)), *action.row, task)


def ask_python(world: World, action: Action, user: str) -> Answer:
    try:
        result = action.python(world.engine, world.ids, user)
    except Forbidden as e:
        return Answer(False, "Forbidden", str(e))
    return Answer(True, "returned", result if isinstance(result, str) else repr(result))


def send(client: FlaskClient, headers: dict[str, str], req: Req, refusal: int) -> Answer:
    r = client.open(req.url, method=req.method, json=req.json, data=req.data,
                    content_type=req.content_type, headers=headers)
    status = r.status_code
    allowed = True if 200 <= status < 300 or status == 303 else (
        False if status == refusal else None)
    return Answer(allowed, str(status), r.get_data(as_text=True))


def refusal_status(action: Action, door: str) -> int:
    return 404 if door == "engine-rest" and action.rest_hides else 403


@dataclass(frozen=True)
class Outcome:
    """One door's run of one cell: its answer and what was wrong with it."""

    door: str
    allowed: bool | None
    problems: list[str]


def run_door(action: Action, door: str, user: str, store: Any = None,
             app: Flask | None = None) -> Outcome:
    """Run one cell through one door on a fresh world. No problems: the door gave the
    policy's answer and did exactly what that answer means."""
    world = new_world(store, app if door != "python" else None)
    world.ids = action.setup(world.engine)
    want = expected(world, action, user)
    what = "allowed" if want else "refused"
    req: Req | None = None
    if door == "python":
        before = state_of(world.engine)
        answer = ask_python(world, action, user)
    else:
        client, headers = world.client(door, user)
        req = action.way(door)(world.ids, user)
        before = state_of(world.engine)
        answer = send(client, headers, req, refusal_status(action, door))
    after = state_of(world.engine)
    if answer.allowed is None:
        return Outcome(door, None, [f"{door}: policy says {what}, the door answered "
                                    f"{answer.status}: {answer.text[:300]}"])
    if answer.allowed != want:
        return Outcome(door, answer.allowed, [
            f"{door}: policy says {what}, the door {'allowed' if answer.allowed else 'refused'}"
            f" ({answer.status}): {answer.text[:200]}"])
    problems = []
    if action.shows is not None:
        marker = action.shows(world.ids)
        if (marker in answer.text) != want:
            problems.append(f"{door}: {what}, yet {marker!r} is "
                            f"{'missing from' if want else 'in'} the answer")
    if (not want or action.done is None) and after != before:
        problems.append(f"{door}: {what} {'read' if want else 'request'} changed the store")
    if want and action.done is not None and not action.done(world.engine, world.ids, user):
        problems.append(f"{door}: allowed ({answer.status}) but the change did not happen")
    if not want and req is not None and req.method != "GET" and not action.on_task:
        # refused whatever the body: the door asks the policy before it reads the body
        # (a task row needs the task, which the command reads, so there the body may come
        # first)
        junk = Req(req.method, req.url, data=b"{not json", content_type="application/json")
        again = send(client, headers, junk, refusal_status(action, door))
        if again.allowed is not False:
            problems.append(f"{door}: refused with a good body, but a bad body gets "
                            f"{again.status}: {again.text[:200]}")
        if state_of(world.engine) != before:
            problems.append(f"{door}: a refused request with a bad body changed the store")
    return Outcome(door, answer.allowed, problems)


# ================================================================================= tests

@pytest.mark.parametrize("cell", CELLS, ids=[cell_id(c) for c in CELLS])
def test_every_door_gives_the_policy_answer(cell: tuple[Action, str], door_app: Flask) -> None:
    action, kind = cell
    outcomes = [run_door(action, door, KINDS[kind], app=door_app)
                for door in doors_of(action, kind)]
    answers = {o.door: o.allowed for o in outcomes}
    problems = [p for o in outcomes for p in o.problems]
    assert not problems and len(set(answers.values())) == 1, (
        f"{action.name} as {kind} ({KINDS[kind]}), row {action.row}, answers {answers}:\n"
        + "\n".join(problems))


@pytest.mark.parametrize("cell", CELLS, ids=[cell_id(c) for c in CELLS])
def test_the_python_api_gives_the_policy_answer_on_sqlite(cell: tuple[Action, str],
                                                           sqlite_stores: Any) -> None:
    """The same column on the SQL store: the policy is asked inside the command's
    transaction, whichever store holds the users."""
    action, kind = cell
    outcome = run_door(action, "python", KINDS[kind], store=sqlite_stores())
    assert not outcome.problems, "\n".join(outcome.problems)


def test_every_policy_row_has_an_action_and_every_door_is_driven() -> None:
    """A new policy row needs a line in ACTIONS: a row nobody asks is a row nobody tests."""
    asked = {a.row for a in ACTIONS}
    assert set(POLICY) - asked == set(), "add actions for these rows"
    assert asked <= set(POLICY)
    assert {d for a in ACTIONS for d in DOORS if a.way(d) is not None} == set(DOORS)


def test_the_expected_answers_are_not_uniform() -> None:
    """A guard on the suite itself: were `expected` to answer the same for everyone, every
    door could agree with it and prove nothing. Every kind of user but admin (who may do
    nearly everything) is allowed somewhere and refused somewhere; the unknown user is
    refused everything."""
    for kind, user in KINDS.items():
        answers = set()
        for action in ACTIONS:
            world = new_world()
            world.ids = action.setup(world.engine)
            answers.add(expected(world, action, user))
        if user == UNKNOWN:
            assert answers == {False}, kind
        elif kind != "admin":
            assert answers == {True, False}, kind


def test_security_md_prints_the_current_policy() -> None:
    """SECURITY.md's "Who may do what" is `matrix_markdown()`, exactly: regenerate it when
    the policy changes."""
    text = (Path(__file__).resolve().parents[2] / "SECURITY.md").read_text(encoding="utf-8")
    head = "## Who may do what\n"
    assert head in text, "SECURITY.md lost its section 'Who may do what'"
    section = text.split(head, 1)[1].split("\n## ", 1)[0]
    table = [line for line in section.splitlines() if line.startswith("|")]
    assert table == matrix_markdown().splitlines(), (
        "SECURITY.md's matrix is stale; paste engine.policy.matrix_markdown() into it")
