"""`baton worker`: threads that drain due jobs, connectors loaded from
BATON_CONNECTOR_MODULES in the worker process, a graceful stop on SIGTERM, and the incident
commands."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from engine.service import Engine
from engine.worker import Worker
from tests.jobs.workers import (
    CRASH,
    FAILING,
    baton,
    creator_registry,
    spawn_worker,
    wait_for,
    worker_env,
)
from tests.runtime.conftest import bpmn, flows
from tests.store.conftest import SQL_KINDS

ASYNC = bpmn('<startEvent id="s"/><scriptTask id="a" camunda:asyncBefore="true"><script>x = 1'
             '</script></scriptTask><scriptTask id="b" camunda:asyncBefore="true"><script>'
             'y = x + 1</script></scriptTask><endEvent id="e"/>' + flows("s>a", "a>b", "b>e"),
             pid="asyncs")


@pytest.fixture(params=SQL_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


def test_worker_threads_drain_every_due_job(store: Any) -> None:
    engine = Engine(store=store)
    engine.deploy(ASYNC.encode())
    ids = [engine.start("asyncs") for _ in range(20)]
    stats = Worker(engine, concurrency=3, poll=0.01).run(until_idle=True)
    assert stats.ran == 40 and stats.failed == 0
    assert all(engine.instance(i).status == "completed" for i in ids)
    assert engine.variables(ids[0]) == {"x": 1, "y": 2} and engine.jobs() == []


def test_a_worker_process_runs_connectors_named_in_the_environment(
        db_url: str, store: Any, tmp_path: Path) -> None:
    engine = Engine(store=store, connectors=creator_registry())
    engine.deploy(CRASH.encode())
    ids = [engine.start("crash", {"n": i}) for i in range(3)]
    calls = tmp_path / "calls.txt"
    import time

    time.sleep(0.3)                                   # the PT0.2S timers fall due
    done = baton("worker", "--db", db_url, "--once", env=worker_env(calls))
    assert done.returncode == 0, done.stderr
    assert "ran 9 job(s), 0 failed" in done.stdout
    assert [engine.variables(i)["seen"] for i in ids] == [0, 1, 2]
    assert len(calls.read_text().splitlines()) == 3


def test_sigterm_stops_a_worker_gracefully_and_gives_back_its_leases(
        db_url: str, store: Any, tmp_path: Path) -> None:
    engine = Engine(store=store, connectors=creator_registry())
    engine.deploy(CRASH.encode())
    for i in range(12):
        engine.start("crash", {"n": i})
    calls = tmp_path / "calls.txt"
    with open(tmp_path / "worker.log", "w") as log:
        proc = spawn_worker(db_url, log, worker_env(calls, delay=0.3), "--batch", "20")
        try:
            wait_for(lambda: calls.exists() and calls.read_text().count("\n") >= 1, 60,
                     "the first connector call")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    left = engine.jobs()
    assert left, "the worker finished everything before the signal; nothing to check"
    assert all(j.lock_owner is None for j in left), (tmp_path / "worker.log").read_text()
    assert engine.incidents() == []


def test_incidents_are_listed_and_retried_from_the_command_line(db_url: str,
                                                                 store: Any) -> None:
    engine = Engine(store=store, connectors=creator_registry())
    engine.deploy(FAILING.encode())
    iid = engine.start("failing")
    ran = baton("worker", "--db", db_url, "--once")
    assert ran.returncode == 0 and "1 failed" in ran.stdout, ran.stderr
    listed = baton("incidents", "--db", db_url)
    assert listed.returncode == 0
    (incident,) = engine.incidents()
    assert incident.id in listed.stdout and "crash-fail refuses" in listed.stdout
    assert incident.instance_id == iid
    retried = baton("retry", incident.id, "--db", db_url)
    assert retried.returncode == 0 and engine.incidents() == []
    (job,) = engine.jobs(instance_id=iid)
    assert job.retries == 1 and not job.suspended
    again = baton("retry", incident.id, "--db", db_url)
    assert again.returncode == 1 and "not found" in again.stderr
