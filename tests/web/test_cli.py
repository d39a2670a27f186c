"""The `baton` command's tasklist parts: user add, group add, demo, and `serve --demo` as a
real process answering on a free port with its job worker running."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from connectors.registry import Registry
from engine import Engine
from engine.store import open_store
from tasklist_ui.cli import build_parser, main
from tasklist_ui.demo import DEMO_PASSWORD, register_demo_connectors

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def open_db(url: str) -> Engine:
    return Engine(store=open_store(url))


def test_user_and_group_add(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["user", "add", "zoe", "--db", db, "--name", "Zoe Z", "--password",
                 "correct-horse", "--role", "analyst", "--group", "auditors"]) == 0
    assert "added user zoe" in capsys.readouterr().out
    assert main(["group", "add", "reviewers", "--db", db, "--name", "Reviewers",
                 "--member", "zoe"]) == 0
    engine = open_db(db)
    rec = engine.check_password("zoe", "correct-horse")
    assert rec is not None and rec.roles == ["analyst"]
    assert rec.groups == ["auditors", "reviewers"]
    assert rec.password_hash != "correct-horse"
    assert engine.groups()["reviewers"] == "Reviewers"
    engine.store.close()


def test_user_add_refuses_bad_input(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["user", "add", "zoe", "--db", db, "--password", "short"]) == 1
    assert "8 to 256 characters" in capsys.readouterr().err
    assert main(["user", "add", "zoe", "--db", db, "--password", "long-enough",
                 "--role", "wizard"]) == 1
    assert "unknown role 'wizard'" in capsys.readouterr().err
    assert main(["user", "add", "zoe", "--db", db, "--password", "long-enough"]) == 0
    assert main(["user", "add", "zoe", "--db", db, "--password", "long-enough"]) == 1
    assert "already exists" in capsys.readouterr().err


def test_demo_is_idempotent(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--db", db]) == 0
    first = capsys.readouterr().out
    assert "demo users: alice" in first and "started 4 insurance claims" in first
    assert main(["demo", "--db", db]) == 0
    assert "demo data already loaded" in capsys.readouterr().out
    engine = open_db(db)
    assert len(engine.instances(key="insurance_claim")) == 4
    assert [d.version for d in engine.definitions("insurance_claim")] == [1]
    engine.store.close()


def test_parser_has_every_command() -> None:
    commands = set(build_parser()._subparsers._group_actions[0].choices)
    assert {"serve", "demo", "user", "group"} <= commands
    assert {"deploy", "worker", "tasks"} <= commands            # from engine.cli
    assert main([]) == 2


def test_serve_demo_answers_and_runs_jobs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tasklist_ui.cli", "serve", "--demo", "--db", url,
         "--port", "0", "--interval", "0.2"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            found = re.search(r"running on (http://127\.0\.0\.1:\d+)/", line)
            if found:
                base = found.group(1)
                break
        assert base, "".join(lines)
        with urllib.request.urlopen(base + "/login") as r:
            assert r.status == 200
            assert b"Log in to Baton" in r.read()
        # a claim started from another process: its fraud-score job runs in the server
        registry = Registry()           # not the process-wide one: other tests use it
        register_demo_connectors(registry)
        engine = Engine(store=open_store(url), connectors=registry)
        iid = engine.start("insurance_claim", {"amount": 300, "claimant": "Pat"})
        assert engine.instance(iid).waiting == ["Task_fraud_score"]
        deadline = time.monotonic() + 30
        while engine.instance(iid).waiting != ["Task_adjuster_review"]:
            assert time.monotonic() < deadline, "the server's job worker did not run the job"
            time.sleep(0.1)
        assert engine.check_password("alice", DEMO_PASSWORD) is not None
        engine.store.close()
    finally:
        proc.terminate()
        proc.wait(10)


# ---------------------------------------------------------------------- in this process
# The subprocess test above is what a person runs; coverage does not follow it. These run
# the same code through main(argv) in this process.
TIMER = ('<?xml version="1.0" encoding="UTF-8"?>\n'
         '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" '
         'targetNamespace="http://baton.test"><process id="tick" isExecutable="true">'
         '<startEvent id="s"/><intermediateCatchEvent id="wait"><timerEventDefinition>'
         '<timeDuration>PT0S</timeDuration></timerEventDefinition></intermediateCatchEvent>'
         '<userTask id="after"/><endEvent id="e"/>'
         '<sequenceFlow id="f1" sourceRef="s" targetRef="wait"/>'
         '<sequenceFlow id="f2" sourceRef="wait" targetRef="after"/>'
         '<sequenceFlow id="f3" sourceRef="after" targetRef="e"/></process></definitions>')


def test_serve_in_process_answers_runs_jobs_and_stops(db: str, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """`baton serve` with its job worker thread: the page answers, a timer started from
    another engine fires in the server's worker, and shutting the server down returns 0."""
    import threading

    import werkzeug.serving

    servers: list[Any] = []
    real = werkzeug.serving.make_server

    def recording(*args: Any, **kw: Any) -> Any:
        servers.append(real(*args, **kw))
        return servers[-1]

    monkeypatch.setattr(werkzeug.serving, "make_server", recording)
    engine = open_db(db)
    engine.deploy(TIMER.encode())
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(main(
        ["serve", "--db", db, "--port", "0", "--interval", "0.05"])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not servers:
        assert time.monotonic() < deadline and thread.is_alive(), capsys.readouterr()
        time.sleep(0.02)
    server = servers[0]
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/login") as r:
            assert r.status == 200 and b"Log in to Baton" in r.read()
        iid = engine.start("tick")
        while engine.instance(iid).waiting != ["after"]:
            assert time.monotonic() < deadline, "the server's job worker did not fire the timer"
            time.sleep(0.05)
    finally:
        server.shutdown()
        thread.join(20)
        engine.store.close()
    assert result == [0]
    assert f"running on http://127.0.0.1:{server.server_port}/" in capsys.readouterr().out


def test_user_add_asks_for_the_password_twice(db: str, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("BATON_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    answers = iter(["first-password", "other-password", "same-password", "same-password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["user", "add", "zoe", "--db", db]) == 2
    assert "the passwords differ" in capsys.readouterr().err
    assert main(["user", "add", "zoe", "--db", db]) == 0
    assert open_db(db).check_password("zoe", "same-password") is not None


def test_user_add_without_a_terminal_needs_a_password(db: str,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("BATON_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["user", "add", "zoe", "--db", db]) == 2
    assert "give a password with --password or $BATON_PASSWORD" in capsys.readouterr().err
    monkeypatch.setenv("BATON_PASSWORD", "from-the-environment")
    assert main(["user", "add", "zoe", "--db", db]) == 0
    assert open_db(db).check_password("zoe", "from-the-environment") is not None


def test_an_engine_refusal_is_one_line_and_exit_1(db: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["group", "add", "auditors", "--db", db, "--member", "nobody"]) == 1
    assert capsys.readouterr().err == "baton: user 'nobody' not found\n"


def test_serve_on_a_port_in_use_says_so_and_starts_no_worker(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import socket
    import threading

    from tasklist_ui.cli import main as baton_main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        before = {t.name for t in threading.enumerate()}
        rc = baton_main(["serve", "--db", f"sqlite:///{tmp_path / 'p.db'}", "--port", str(port)])
    assert rc == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
    assert {t.name for t in threading.enumerate()} <= before     # no worker left running
