"""Crash and scale tests with real `baton worker` processes (PostgreSQL and MariaDB, the
databases several workers share; the timer test on SQLite too).

- Crash: instances of a diagram with a timer, a connector call and an async step; two
  workers; one is killed with SIGKILL at random moments and restarted, several times. At the
  end every instance has completed, no activity ran twice (a connector may have been called
  again after a crash, but only with the idempotency key of the same job), and no job is
  left, locked or not.
- Timers: many timers due at once, two workers: each fires exactly once.

Sizes (defaults keep the suite quick; the issue's full sizes in parentheses):
BATON_CRASH_INSTANCES=300 (2000), BATON_CRASH_KILLS=4, BATON_TIMER_INSTANCES=1000 (10000).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from engine.service import Engine
from tests.databases import MARIADB
from tests.jobs.workers import CRASH, creator_registry, spawn_worker, wait_for, worker_env
from tests.runtime.conftest import bpmn, flows
from tests.store.conftest import SQL_KINDS

pytestmark = pytest.mark.slow
SHARED = [pytest.param("postgres", marks=pytest.mark.postgres), MARIADB]

CRASH_INSTANCES = int(os.environ.get("BATON_CRASH_INSTANCES", "300"))
CRASH_KILLS = int(os.environ.get("BATON_CRASH_KILLS", "4"))
TIMER_INSTANCES = int(os.environ.get("BATON_TIMER_INSTANCES", "1000"))

TIMERS = bpmn('<startEvent id="s"/><intermediateCatchEvent id="at"><timerEventDefinition>'
              '<timeDate>2020-01-01T00:00:00Z</timeDate></timerEventDefinition>'
              '</intermediateCatchEvent><endEvent id="e"/>' + flows("s>at", "at>e"),
              pid="timers")


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.store.transaction() as tx:
        running = len(tx.find_instances(status="running"))
        jobs = len(tx.find_jobs())
    return running, jobs


def _stop(*procs: subprocess.Popen) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()


def _assert_each_activity_ran_once(engine: Engine, ids: list[str]) -> None:
    for iid in ids:
        events = Counter((h.type, h.activity_id) for h in engine.history(iid)
                         if h.type in ("activity_started", "activity_completed"))
        twice = {k: n for k, n in events.items() if n != 1}
        assert not twice, f"instance {iid}: {twice}"


@pytest.mark.parametrize("store_kind", SHARED, indirect=True)
def test_killed_workers_lose_nothing_and_repeat_nothing(db_url: str, store: Any,
                                                        tmp_path: Path) -> None:
    engine = Engine(store=store, connectors=creator_registry())
    engine.deploy(CRASH.encode())
    ids = [engine.start("crash", {"n": i}) for i in range(CRASH_INSTANCES)]
    calls = tmp_path / "calls.txt"
    env = worker_env(calls, delay=0.05)
    args = ("--concurrency", "2", "--lease", "2", "--batch", "5")
    logs = [open(tmp_path / f"worker-{n}.log", "a") for n in "ab"]  # noqa: SIM115
    rnd = random.Random(int(os.environ.get("BATON_CRASH_SEED", "20260101")))
    victim = spawn_worker(db_url, logs[0], env, *args)
    steady = spawn_worker(db_url, logs[1], env, *args)
    kills = 0
    try:
        for _ in range(CRASH_KILLS):
            time.sleep(rnd.uniform(0.5, 2.0))
            if _counts(engine)[0] == 0:
                break
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=30)
            kills += 1
            victim = spawn_worker(db_url, logs[0], env, *args)
        wait_for(lambda: _counts(engine) == (0, 0), 600, "every instance to complete")
    finally:
        _stop(victim, steady)
        for log in logs:
            log.close()
    assert kills >= 1, "the work ended before any kill: raise BATON_CRASH_INSTANCES"
    assert all(v.status == "completed" for v in engine.instances(key="crash"))
    assert len(engine.instances(key="crash")) == CRASH_INSTANCES
    assert [engine.variables(i)["seen"] for i in ids[:5]] == [0, 1, 2, 3, 4]
    _assert_each_activity_ran_once(engine, ids)
    lines = [line.split() for line in calls.read_text().splitlines()]
    keys = Counter(key for key, _pid in lines)
    assert len(keys) == CRASH_INSTANCES      # one job (one key) per connector activity
    assert {k.split(":")[0] for k in keys} == set(ids)
    with engine.store.transaction() as tx:
        assert tx.find_jobs() == []          # nothing left, so nothing left locked
    assert engine.incidents() == []
    print(f"\ncrash test: {CRASH_INSTANCES} instances, {kills} SIGKILLs, "
          f"{len(lines)} connector calls for {len(keys)} keys "
          f"({sum(n - 1 for n in keys.values())} repeated after a crash)")


@pytest.mark.parametrize("store_kind", SQL_KINDS, indirect=True)
def test_many_timers_due_at_once_fire_exactly_once_across_two_workers(
        db_url: str, store: Any, tmp_path: Path) -> None:
    engine = Engine(store=store)
    engine.deploy(TIMERS.encode())
    ids = [engine.start("timers") for _ in range(TIMER_INSTANCES)]
    assert _counts(engine) == (TIMER_INSTANCES, TIMER_INSTANCES)
    env = worker_env()
    logs = [open(tmp_path / f"timer-{n}.log", "a") for n in "ab"]  # noqa: SIM115
    started = time.monotonic()
    workers = [spawn_worker(db_url, log, env, "--concurrency", "2", "--batch", "20")
               for log in logs]
    try:
        wait_for(lambda: _counts(engine) == (0, 0), 900, "every timer to fire")
    finally:
        _stop(*workers)
        for log in logs:
            log.close()
    elapsed = time.monotonic() - started
    _assert_each_activity_ran_once(engine, ids)
    fired = sum(1 for i in ids for h in engine.history(i)
                if h.type == "activity_completed" and h.activity_id == "at")
    assert fired == TIMER_INSTANCES
    print(f"\ntimer test ({engine.store.dialect}): {TIMER_INSTANCES} timers fired once each "
          f"in {elapsed:.1f}s by two workers")
