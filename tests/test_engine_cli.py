"""The engine's `baton` sub-commands (engine/cli.py), run in this process.

Why in-process: tests/jobs runs real `baton worker` processes, which coverage does not
follow, so the commands' own code (argument checks, tables, JSON lines, error lines and
exit codes) was 60% unseen. Here each command is called through `main(argv)` on a SQLite
file, its output read from capsys and its effect from an Engine on the same file: a person
at a shell sees exactly this text and these exit codes (0 done, 1 refused, 2 usage).
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import Engine
from engine.cli import main, parse_var
from engine.store import open_store
from tests.runtime.conftest import bpmn, flows

REVIEW = bpmn(
    '<startEvent id="s"/><userTask id="review" name="Review claim" '
    'camunda:candidateGroups="adjusters"/><endEvent id="e"/>' + flows("s>review", "review>e"),
    pid="claim")
TIMER = bpmn(
    '<startEvent id="s"/><intermediateCatchEvent id="wait"><timerEventDefinition>'
    '<timeDuration>PT0S</timeDuration></timerEventDefinition></intermediateCatchEvent>'
    '<userTask id="after"/><endEvent id="e"/>' + flows("s>wait", "wait>after", "after>e"),
    pid="timer")
FAILING = bpmn(
    '<startEvent id="s"/><scriptTask id="boom" name="Divide" camunda:asyncBefore="true">'
    '<extensionElements><camunda:failedJobRetryTimeCycle>R1/PT0.05S'
    '</camunda:failedJobRetryTimeCycle></extensionElements>'
    '<script>x = 1 / zero</script></scriptTask><endEvent id="e"/>' + flows("s>boom", "boom>e"),
    pid="failing")
WARNS = bpmn(   # two unconditioned flows out of an exclusive gateway: a warning, not an error
    '<startEvent id="s"/><exclusiveGateway id="g"/><endEvent id="e1"/><endEvent id="e2"/>'
    + flows("s>g", "g>e1", "g>e2"), pid="warns")


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["db", "upgrade", "--db", url]) == 0
    return url


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    out = {}
    for name, xml in (("claim", REVIEW), ("timer", TIMER), ("failing", FAILING),
                      ("warns", WARNS)):
        path = tmp_path / f"{name}.bpmn"
        path.write_text(xml)
        out[name] = str(path)
    return out


@pytest.fixture
def engine(db: str) -> Iterator[Engine]:
    """The same database as the commands see, as another process would open it."""
    e = Engine(store=open_store(db))
    yield e
    e.store.close()


@pytest.fixture(autouse=True)
def keep_signal_handlers() -> Iterator[None]:
    """`baton worker` installs SIGTERM/SIGINT handlers; put pytest's back afterwards."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)


def out_of(capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    got = capsys.readouterr()
    return got.out, got.err


# --------------------------------------------------------------------------- db
def test_db_upgrade_and_current(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert main(["db", "current", "--db", url]) == 1           # empty: behind
    assert "empty (behind: this Baton needs" in out_of(capsys)[0]
    assert main(["db", "upgrade", "--db", url]) == 0
    assert "upgraded from empty to" in out_of(capsys)[0]
    assert main(["db", "upgrade", "--db", url]) == 0
    assert "(nothing to do)" in out_of(capsys)[0]
    assert main(["db", "current", "--db", url]) == 0
    assert "(up to date)" in out_of(capsys)[0]


def test_db_errors_are_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade", "--db", "mysql://nobody@nowhere/x"]) == 1
    assert out_of(capsys)[1].startswith("baton: ")
    assert main(["db"]) == 2                                   # no action: usage
    assert "upgrade" in out_of(capsys)[1]
    assert main([]) == 2


# --------------------------------------------------------------------------- deploy
def test_deploy_new_unchanged_and_warnings(db: str, files: dict[str, str],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy", "--db", db, files["claim"], files["timer"], "--name", "two"]) == 0
    out, _ = out_of(capsys)
    assert "deployed: claim version 1" in out and "deployed: timer version 1" in out
    assert main(["deploy", "--db", db, files["claim"]]) == 0
    assert "unchanged: claim version 1" in out_of(capsys)[0]
    assert main(["deploy", "--db", db, files["warns"]]) == 0
    out, err = out_of(capsys)
    assert "deployed: warns version 1" in out and err.startswith("warning: ")


def test_deploy_refusals(db: str, files: dict[str, str], tmp_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy", "--db", db, "--strict", files["warns"]]) == 1
    assert "baton: " in out_of(capsys)[1]
    assert main(["deploy", "--db", db, str(tmp_path / "missing.bpmn")]) == 1
    assert "cannot read BPMN file" in out_of(capsys)[1]
    broken = tmp_path / "broken.bpmn"
    broken.write_text("<definitions")
    assert main(["deploy", "--db", db, str(broken)]) == 1
    assert out_of(capsys)[1].startswith("baton: ")


def test_deploy_in_the_spiffworkflow_mode(db: str, tmp_path: Path, engine: Engine,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """`--compat spiffworkflow` deploys in the migration mode: stored with the definition,
    so an instance the engine runs later writes each element variable back; a wrong mode
    is refused with the engine's sentence naming the allowed ones, and nothing deployed."""
    path = tmp_path / "mi.bpmn"
    path.write_text(bpmn(
        '<startEvent id="s"/><userTask id="t"><multiInstanceLoopCharacteristics '
        'isSequential="true" camunda:collection="items" camunda:elementVariable="item"/>'
        '</userTask><endEvent id="e"/>' + flows("s>t", "t>e"), pid="mi"))
    assert main(["deploy", "--db", db, "--compat", "nope", str(path)]) == 1
    err = out_of(capsys)[1]
    assert err.startswith("baton: compat 'nope' is not a migration mode: use 'spiffworkflow'")
    assert engine.definitions() == []
    assert main(["deploy", "--db", db, "--compat", "spiffworkflow", str(path)]) == 0
    out = out_of(capsys)[0]
    assert "deployed: mi version 1" in out and out.rstrip().endswith("[compat spiffworkflow]")
    assert main(["deploy", "--db", db, "--compat", "spiffworkflow", str(path)]) == 0
    assert "unchanged: mi version 1" in out_of(capsys)[0]
    assert engine.definition("mi").compat == "spiffworkflow"
    iid = engine.start("mi", {"items": [1]})
    (task,) = engine.tasks(instance_id=iid)
    engine.complete_task(task.id, {"item": 5})
    assert engine.instance(iid).variables == {"items": [5]}


# --------------------------------------------------------------------------- start, lists
def test_start_with_variables_and_list_instances(db: str, files: dict[str, str],
                                                 engine: Engine,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    main(["deploy", "--db", db, files["claim"]])
    capsys.readouterr()
    assert main(["instances", "--db", db]) == 0
    assert out_of(capsys)[0] == "no instances\n"
    assert main(["start", "claim", "--db", db, "--var", "amount=5000", "--var", "ok=true",
                 "--var", "name=Ann", "--var", 'tags=["a"]', "--business-key", "CLM-1"]) == 0
    out, _ = out_of(capsys)
    assert "running, waiting at review" in out
    iid = out.split()[1].rstrip(":")
    assert engine.instance(iid).variables == {"amount": 5000, "ok": True, "name": "Ann",
                                              "tags": ["a"]}
    assert main(["instances", "--db", db, "--key", "claim", "--status", "running"]) == 0
    table = out_of(capsys)[0].splitlines()
    assert table[0].split() == ["ID", "PROCESS", "STATUS", "BUSINESS", "KEY", "STARTED",
                                "WAITING", "AT"]
    assert table[1].startswith(iid) and "claim:1" in table[1] and "CLM-1" in table[1]
    assert main(["instances", "--db", db, "--business-key", "other"]) == 0
    assert out_of(capsys)[0] == "no instances\n"


def test_start_refusals(db: str, files: dict[str, str],
                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["start", "nothing", "--db", db]) == 1
    assert "baton: " in out_of(capsys)[1]
    main(["deploy", "--db", db, files["claim"]])
    capsys.readouterr()
    assert main(["start", "claim", "--db", db, "--var", "novalue"]) == 1
    assert "expected NAME=VALUE" in out_of(capsys)[1]
    with pytest.raises(SystemExit) as bad:                     # argparse: usage error
        main(["start", "claim", "--db", db, "--version", "0"])
    assert bad.value.code == 2
    assert "must be positive" in out_of(capsys)[1]


@pytest.mark.parametrize(("text", "value"), [
    ("n=5000", 5000), ("ok=false", False), ("x=null", None), ("s=Ann", "Ann"),
    ('q="5"', "5"), ("l=[1, 2]", [1, 2]), ("e=", ""), (" spaced =1", 1), ("eq=a=b", "a=b")])
def test_parse_var(text: str, value: object) -> None:
    assert parse_var(text)[1] == value


# --------------------------------------------------------------------------- tasks
def test_tasks_table_json_filters_and_complete(db: str, files: dict[str, str],
                                               engine: Engine,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    main(["deploy", "--db", db, files["claim"]])
    assert main(["tasks", "--db", db]) == 0
    assert out_of(capsys)[0].endswith("no open tasks\n")
    engine.add_user("alice", "Alice", "a-long-password", ["staff"], ["adjusters"])
    engine.add_user("carol", "Carol", "a-long-password", ["staff"], ["underwriters"])
    iid = engine.start("claim", {"amount": 1})
    (task,) = engine.tasks(instance_id=iid)
    assert main(["tasks", "--db", db, "--group", "adjusters", "--unassigned"]) == 0
    table = out_of(capsys)[0].splitlines()
    assert table[0].split()[:3] == ["ID", "TASK", "PROCESS"]
    assert table[1].startswith(task.id) and "Review claim" in table[1]
    assert main(["tasks", "--db", db, "--json", "--user", "alice", "--sort=-priority"]) == 0
    (line,) = out_of(capsys)[0].splitlines()
    row = json.loads(line)
    assert row["id"] == task.id and row["candidate_groups"] == ["adjusters"]
    assert row["process"] == "claim" and row["due"] is None
    assert main(["tasks", "--db", db, "--user", "carol"]) == 0
    assert out_of(capsys)[0] == "no open tasks\n"
    assert main(["tasks", "--db", db, "--sort", "colour"]) == 1
    assert "baton: " in out_of(capsys)[1]
    assert main(["complete", task.id, "--db", db, "--user", "carol"]) == 1
    assert "carol" in out_of(capsys)[1]
    assert main(["complete", task.id, "--db", db, "--user", "alice",
                 "--var", "approved=true"]) == 0
    assert out_of(capsys)[0] == f"completed Review claim; instance {iid} is completed\n"
    assert engine.instance(iid).variables["approved"] is True
    assert main(["complete", task.id, "--db", db]) == 1
    assert "not found" in out_of(capsys)[1]


# --------------------------------------------------------------------------- jobs
def test_worker_once_runs_what_is_due(db: str, files: dict[str, str], engine: Engine,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    main(["deploy", "--db", db, files["timer"]])
    iid = engine.start("timer")
    assert engine.instance(iid).waiting == ["wait"]
    capsys.readouterr()
    assert main(["worker", "--db", db, "--once", "--poll", "0.05", "--concurrency", "2"]) == 0
    assert out_of(capsys)[0] == "ran 1 job(s), 0 failed\n"
    assert engine.instance(iid).waiting == ["after"]


def test_incidents_and_retry(db: str, files: dict[str, str], engine: Engine,
                             capsys: pytest.CaptureFixture[str]) -> None:
    main(["deploy", "--db", db, files["failing"]])
    assert main(["incidents", "--db", db]) == 0
    assert out_of(capsys)[0].endswith("no open incidents\n")
    iid = engine.start("failing", {"zero": 0})
    # R1/PT0.05S: the first failure leaves one retry, 0.05 s later; the second opens it
    assert main(["worker", "--db", db, "--once", "--poll", "0.05"]) == 0
    assert out_of(capsys)[0] == "ran 1 job(s), 1 failed\n"
    assert engine.incidents() == []
    time.sleep(0.1)
    assert main(["worker", "--db", db, "--once", "--poll", "0.05"]) == 0
    assert out_of(capsys)[0] == "ran 1 job(s), 1 failed\n"
    (incident,) = engine.incidents()
    assert main(["incidents", "--db", db, "--stack"]) == 0
    out = out_of(capsys)[0]
    assert incident.id in out and iid in out and "boom" in out and "open" in out
    assert "division by zero" in out and f"--- {incident.id}" in out
    assert main(["retry", incident.id, "--db", db, "--retries", "2"]) == 0
    assert f"incident {incident.id} resolved" in out_of(capsys)[0]
    assert main(["incidents", "--db", db]) == 0
    assert out_of(capsys)[0] == "no open incidents\n"
    assert main(["incidents", "--db", db, "--all"]) == 0
    assert "resolved" in out_of(capsys)[0]
    assert main(["retry", "no-such-incident", "--db", db]) == 1
    assert "baton: " in out_of(capsys)[1]
