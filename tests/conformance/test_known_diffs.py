"""The known differences and their pinned failures stay one list, and a pin tells a
different failure from the expected one."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

import pytest

from engine.service import Engine
from engine.testing import ManualClock

from . import spiff  # noqa: F401  (registers the scenarios)
from .harness import CORPUS, KNOWN_DIFFS, Ctx
from .known_diffs import DEFAULT_MODE_PINS, PINS, Pin, failing_line
from .spiff.drivers import REGISTERED, BatonDriver, Spec, baton_xml


def test_every_known_diff_is_pinned_and_every_pin_is_listed() -> None:
    assert sorted(set(KNOWN_DIFFS) - set(PINS)) == [], "known diffs without a pin"
    assert sorted(set(PINS) - set(KNOWN_DIFFS)) == [], "pins of no listed known diff"
    for pin in PINS.values():
        re.compile(pin.match)


def raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as e:  # noqa: BLE001 - the exception itself is the test value
        return e


class StepFailed(Exception):
    """Named like the drivers' error: pins compare class names."""


def test_a_pin_accepts_only_its_own_failure() -> None:
    """A known diff that starts failing another way (another class, another message, another
    line) is a new failure, not the known one."""
    pin = Pin("StepFailed", r"^deploy: scriptTask 'x' .*def/lambda")
    assert pin.explain(raised(StepFailed("deploy: scriptTask 'x' (line 2): no def/lambda"))) is None
    assert "expected StepFailed, got KeyError" in pin.explain(raised(KeyError("x")))
    assert "does not match" in pin.explain(raised(StepFailed("deploy: userTask 'y': boom")))
    at = Pin("KeyError", r"'y'", at="never this line")
    err = raised(KeyError("y"))
    assert failing_line(err) == "raise exc"
    assert "expected the failure at `never this line`" in at.explain(err)


def test_the_remedy_named_for_correlation_two_conversations_holds() -> None:
    """KNOWN_DIFFS.md says that Baton, like Camunda 7, keeps `task_num` per multi-instance
    instance once the diagram declares it local (an input parameter on the subprocess): then
    each instance opens its second conversation with its own value, as in SpiffWorkflow."""
    path = CORPUS / "spiff/bpmn/data/correlation_two_conversations.bpmn"
    if not path.is_file():
        pytest.skip(f"corpus not found at {CORPUS}")
    xml = baton_xml(path, False).decode()
    xml = xml.replace("<bpmn:definitions ", '<bpmn:definitions xmlns:camunda='
                      '"http://camunda.org/schema/1.0/bpmn" ', 1)
    xml = xml.replace('<bpmn:subProcess id="subprocess" name="Subprocess">',
                      '<bpmn:subProcess id="subprocess" name="Subprocess"><bpmn:extensionElements>'
                      '<camunda:inputOutput><camunda:inputParameter name="task_num"/>'
                      "</camunda:inputOutput></bpmn:extensionElements>", 1)
    engine = Engine(clock=ManualClock())
    engine.deploy(xml.encode())
    iid = engine.start("proc_1", {})

    def tasks(name: str) -> list[Any]:
        return [t for t in engine.tasks() if t.name == name]

    def task_num(task: Any) -> Any:
        return engine.token_variables(task.instance_id, task.token)["task_num"]

    for value in (0, 1):
        engine.complete_task(tasks("Configure Data")[0].id, {"task_num": value})
    for task in tasks("Rename Id"):
        engine.complete_task(task.id, {"init_id": task_num(task)})
    for task in tasks("Wait"):
        engine.complete_task(task.id, {})
    assert sorted(task_num(t) for t in tasks("Remane Id")) == [0, 1]
    for task in tasks("Remane Id"):
        engine.complete_task(task.id, {"subprocess": task_num(task)})
    assert engine.instance(iid).status == "completed"


@dataclass(frozen=True)
class DefaultModeSpec(Spec):
    """A scenario's spec deployed in Baton's default (Camunda 7) reading."""

    @property
    def compat(self) -> str | None:
        return None


def test_only_the_camunda_dialect_diagrams_deploy_in_the_spiffworkflow_mode() -> None:
    assert Spec("camunda/data/x.bpmn").compat == "spiffworkflow"
    assert Spec("bpmn/data/x.bpmn").compat is None


@pytest.mark.parametrize("path", sorted(DEFAULT_MODE_PINS))
def test_the_mode_diagrams_keep_camunda_semantics_by_default(path: str) -> None:
    """KNOWN_DIFFS.md: three `spiff/camunda/` diagrams pass only because the harness
    deploys them in the SpiffWorkflow migration mode; deployed in the default they still
    fail as Camunda 7 and BPMN 2.0.2 10.3.8 say (the pins of DEFAULT_MODE_PINS), so the
    mode changed nothing for anyone who does not ask for it."""
    if not (CORPUS / path).is_file():
        pytest.skip(f"corpus not found at {CORPUS}")
    (spec, body), = [(s, b) for s, b in REGISTERED if "spiff/" + s.path == path]
    assert spec.compat == "spiffworkflow"
    default = DefaultModeSpec(**{f.name: getattr(spec, f.name) for f in fields(spec)})
    try:
        body(BatonDriver(default, Ctx(path)))
    except Exception as e:  # noqa: BLE001 - the failure itself is compared with the pin
        wrong = DEFAULT_MODE_PINS[path].explain(e)
        assert wrong is None, wrong
    else:
        pytest.fail(f"{path} passes in the default mode: its known difference is gone")
