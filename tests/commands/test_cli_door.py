"""The command line is a door like the others: with --user the policy decides and a task's
form holds; without it the operator is trusted (and the form still holds)."""

from __future__ import annotations

from pathlib import Path

import pytest

import engine.identity as identity
from engine import Engine
from engine.cli import main
from engine.store import open_store
from tests.commands.test_command_path import FORM_TASK


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(identity, "PASSWORD_METHOD", "pbkdf2:sha256:1")
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    eng = Engine(store=open_store(url))
    eng.add_user("ann", "Ann", "password-123", ["staff"], ["adjusters"])
    eng.add_user("ana", "Ana", "password-123", ["analyst"], [])
    (tmp_path / "payout.bpmn").write_text(FORM_TASK)
    eng.store.close()
    return url


def engine_of(url: str) -> Engine:
    return Engine(store=open_store(url))


def test_deploy_as_staff_is_refused_as_analyst_allowed(db: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    bpmn = str(tmp_path / "payout.bpmn")
    assert main(["deploy", bpmn, "--db", db, "--user", "ann"]) != 0
    assert "may not deploy" in capsys.readouterr().err
    assert engine_of(db).definitions() == []
    assert main(["deploy", bpmn, "--db", db, "--user", "ana"]) == 0
    assert [d.key for d in engine_of(db).definitions()] == ["payout"]


def test_complete_keeps_the_form_rules_on_the_command_line(db: str, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    assert main(["deploy", str(tmp_path / "payout.bpmn"), "--db", db]) == 0
    assert main(["start", "payout", "--db", db, "--user", "ann"]) == 0
    eng = engine_of(db)
    (task,) = eng.tasks()
    assert main(["complete", task.id, "--db", db, "--var", "score=-5"]) != 0
    assert "score" in capsys.readouterr().err
    assert main(["complete", task.id, "--db", db, "--user", "ann", "--var", "score=5",
                 "--var", "payout=99999"]) != 0
    assert "payout" in capsys.readouterr().err
    assert engine_of(db).task(task.id).id == task.id          # nothing moved
    assert main(["complete", task.id, "--db", db, "--user", "ann", "--var", "score=5"]) == 0
    assert engine_of(db).instances()[0].waiting == ["next"]


def test_reading_instances_as_staff_is_refused(db: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["instances", "--db", db, "--user", "ann"]) != 0
    assert "may not read" in capsys.readouterr().err
    assert main(["instances", "--db", db, "--user", "ana"]) == 0
