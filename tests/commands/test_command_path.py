"""The one command path: the effect table covers every effect, the interceptors run in
order and retry conflicts, listeners hear only of committed work, and a task form's rules
hold for every door (Python API, /api, /engine-rest) with the same answer."""

from __future__ import annotations

import base64
import dataclasses
import inspect
from typing import Any

import pytest

import engine.identity as identity
from engine import Engine, EngineError, Forbidden
from engine.commands import effects as handlers
from engine.commands.executor import (
    DEFAULT_CHAIN,
    CommandExecutor,
    authorization_interceptor,
    retry_interceptor,
    run_default_chain,
    script_functions_interceptor,
    transaction_interceptor,
)
from engine.errors import Conflict
from engine.forms import FormInvalid
from engine.runtime import effects as fx
from engine.store.records import ConcurrentModification
from tasklist_ui.app import create_app
from tests.runtime.conftest import bpmn, flows

FORM_TASK = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="payout" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="rate"/>
    <bpmn:userTask id="rate" name="Rate the claim" camunda:candidateGroups="adjusters">
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="score" type="long" label="Score">
            <camunda:validation>
              <camunda:constraint name="required"/>
              <camunda:constraint name="min" config="0"/>
              <camunda:constraint name="max" config="10"/>
            </camunda:validation>
          </camunda:formField>
          <camunda:formField id="urgent" type="boolean"/>
        </camunda:formData>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="rate" targetRef="next"/>
    <bpmn:userTask id="next" name="Next" camunda:candidateGroups="adjusters"/>
    <bpmn:sequenceFlow id="f3" sourceRef="next" targetRef="e"/>
    <bpmn:endEvent id="e"/>
  </bpmn:process>
</bpmn:definitions>"""

PASSWORD = "password-123"
SCRIPTED = bpmn('<startEvent id="s"/><scriptTask id="calc" scriptFormat="python">'
                '<script>doubled = twice(n)</script></scriptTask><userTask id="wait"/>'
                '<endEvent id="e"/>' + flows("s>calc", "calc>wait", "wait>e"), pid="scripted")


# ------------------------------------------------------------------------- structure
def test_every_runtime_effect_has_a_handler() -> None:
    classes = {c for _, c in inspect.getmembers(fx, inspect.isclass)
               if dataclasses.is_dataclass(c) and c.__module__ == fx.__name__}
    assert classes, "no effect classes found"
    # history events travel as plain tuples (fx.event)
    assert classes | {tuple} == set(handlers.HANDLERS), classes ^ set(handlers.HANDLERS)


def test_the_chain_runs_retry_outside_the_transaction_and_authorization_inside() -> None:
    assert DEFAULT_CHAIN == (script_functions_interceptor, retry_interceptor,
                             transaction_interceptor, authorization_interceptor)


@pytest.fixture(params=["composed by hand", "composed from the interceptors"])
def chain_engine(request: pytest.FixtureRequest) -> Engine:
    """An engine whose commands take DEFAULT_CHAIN as the executor runs it (one function,
    `run_default_chain`), or composed link by link from the four interceptors: both must
    behave alike."""
    eng = Engine(script_functions={"twice": lambda x: 2 * x})
    if request.param != "composed by hand":
        eng.executor.call = CommandExecutor(eng.env, list(DEFAULT_CHAIN)).call
    else:
        assert eng.executor.call is run_default_chain
    return eng


def test_a_conflict_is_retried_on_the_new_state_then_given_up(chain_engine: Engine) -> None:
    eng = chain_engine
    calls = []

    def flaky(ctx: Any) -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConcurrentModification("i1")
        return "done"

    assert eng.run(flaky) == "done" and len(calls) == 3

    def always(ctx: Any) -> None:
        raise ConcurrentModification("i2")

    with pytest.raises(Conflict, match="kept changing"):
        eng.run(always)


def test_listeners_hear_only_of_committed_commands(chain_engine: Engine) -> None:
    eng = chain_engine
    heard: list[str] = []
    eng.listeners.append(lambda event, subject: heard.append(event))
    eng.deploy(FORM_TASK)

    def fails_after_the_task_is_created(ctx: Any) -> None:
        rec = ctx.tx.latest_definition("payout")
        ctx.start_instance(rec, {}, None, None, None, None)
        raise EngineError("refused after the fact")

    with pytest.raises(EngineError, match="^refused after the fact$"):
        eng.run(fails_after_the_task_is_created)
    assert heard == [] and eng.instances() == []      # rolled back, nothing announced
    eng.start("payout")
    assert heard == ["task_created"]


def test_the_chain_resolves_the_actor_checks_the_permission_row_and_scopes_functions(
        chain_engine: Engine) -> None:
    eng = chain_engine
    eng.deploy(SCRIPTED)
    with pytest.raises(EngineError, match="acting user must be a user id"):
        eng.start("scripted", user="")
    with pytest.raises(Forbidden):
        eng.start("scripted", user="nobody")         # no such user: no start permission
    eng.add_user("ann", "Ann", PASSWORD, ["staff"], [])
    iid = eng.start("scripted", {"n": 4}, user="ann")
    assert eng.instance(iid).variables["doubled"] == 8   # the engine's function, in scope


# ------------------------------------------------------------------------- doors
@pytest.fixture
def app_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> tuple[Any, Engine]:
    monkeypatch.setattr(identity, "PASSWORD_METHOD", "pbkdf2:sha256:1")
    eng = Engine()
    eng.add_user("ann", "Ann", PASSWORD, ["staff"], ["adjusters"])
    eng.add_user("bob", "Bob", PASSWORD, ["staff"], ["adjusters"])
    eng.deploy(FORM_TASK)
    app = create_app(eng, {"TESTING": True, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False})
    return app, eng


def python_door(eng: Engine, client: Any, task_id: str, variables: dict[str, Any]) -> int:
    try:
        eng.complete_task(task_id, variables, user="ann")
    except Forbidden:
        return 403
    except EngineError:
        return 400
    return 204


def api_door(eng: Engine, client: Any, task_id: str, variables: dict[str, Any]) -> int:
    token = eng.new_api_token("ann")
    r = client.post(f"/api/tasks/{task_id}/complete", json={"variables": variables},
                    headers={"Authorization": f"Bearer {token}"})
    return 204 if r.status_code == 200 else r.status_code


def rest_door(eng: Engine, client: Any, task_id: str, variables: dict[str, Any]) -> int:
    typed = {k: {"value": v, "type": {bool: "Boolean", int: "Long", str: "String"}[type(v)]}
             for k, v in variables.items()}
    auth = base64.b64encode(f"ann:{PASSWORD}".encode()).decode()
    r = client.post(f"/engine-rest/task/{task_id}/complete", json={"variables": typed},
                    headers={"Authorization": f"Basic {auth}"})
    return r.status_code


DOORS = {"python": python_door, "api": api_door, "engine-rest": rest_door}
CASES = [
    ({"score": 9999}, 400),                    # over the field's max
    ({"score": -1}, 400),                      # under its min
    ({"score": 5, "urgent": "yes please"}, 400),   # a string for a boolean
    ({"urgent": True}, 400),                   # the required field missing
    ({"score": 5, "payout": 99_999}, 400),     # a variable the form does not ask for
    ({"score": 7, "urgent": True}, 204),
]


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize(("variables", "expected"), CASES,
                         ids=[str(c[0]) for c in CASES])
def test_a_task_form_holds_on_every_door(app_engine, door: str, variables: dict[str, Any],
                                         expected: int) -> None:
    app, eng = app_engine
    iid = eng.start("payout")
    (task,) = eng.tasks(instance_id=iid)
    status = DOORS[door](eng, app.test_client(), task.id, variables)
    assert status == expected, (door, variables, status)
    view = eng.instance(iid)
    if expected == 204:
        assert view.waiting == ["next"]
        assert view.variables == {"score": 7, "urgent": True}
    else:                                       # refused: nothing stored, nothing moved
        assert view.waiting == ["rate"] and view.variables == {}
        assert eng.task(task.id).id == task.id


def test_form_errors_name_every_field(app_engine) -> None:
    _app, eng = app_engine
    iid = eng.start("payout")
    (task,) = eng.tasks(instance_id=iid)
    with pytest.raises(FormInvalid) as got:
        eng.complete_task(task.id, {"score": 11, "urgent": "maybe", "extra": 1}, user="ann")
    assert set(got.value.errors) == {"score", "urgent", "extra"}


def test_the_trusted_caller_may_add_variables_but_not_break_the_form(app_engine) -> None:
    _app, eng = app_engine
    iid = eng.start("payout")
    (task,) = eng.tasks(instance_id=iid)
    with pytest.raises(FormInvalid, match="score: must be at most 10"):
        eng.complete_task(task.id, {"score": 11})
    eng.complete_task(task.id, {"score": 3, "note": "from a script"})
    assert eng.instance(iid).variables == {"score": 3, "note": "from a script"}
