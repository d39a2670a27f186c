"""Commands racing on one instance, from two threads with their own engine and connection
pool (as two processes would): one wins, the other is retried on the new state or refused;
nothing is lost or applied twice."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from engine.errors import Conflict, EngineError, Forbidden, NotFound
from engine.service import Engine
from engine.testing import ManualClock
from tests.runtime.conftest import bpmn, flows
from tests.store.conftest import SQL_KINDS

ONE_TASK = bpmn('<startEvent id="s"/><userTask id="t" camunda:candidateGroups="g"/>'
                '<scriptTask id="count"><script>runs = runs + 1</script></scriptTask>'
                '<endEvent id="e"/>' + flows("s>t", "t>count", "count>e"), pid="one")
FORK = bpmn('<startEvent id="s"/><parallelGateway id="fork"/>'
            + "".join(f'<userTask id="u{i}"/>' for i in range(4))
            + '<parallelGateway id="join"/><userTask id="after"/>'
            + flows("s>fork", *[f"fork>u{i}" for i in range(4)], *[f"u{i}>join" for i in range(4)],
                    "join>after"), pid="forked")


@pytest.fixture(params=SQL_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at the same moment in threads; each result or the exception raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, fn: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[i] = fn()
        except Exception as e:  # noqa: BLE001 - the race's loser is part of the result
            results[i] = e

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def two_engines(open_store: Any) -> tuple[Engine, Engine]:
    clock = ManualClock()
    return Engine(store=open_store(), clock=clock), Engine(store=open_store(), clock=clock)


def test_completing_one_task_from_two_threads_lets_exactly_one_win(open_store: Any) -> None:
    a, b = two_engines(open_store)
    a.deploy(ONE_TASK.encode())
    for _ in range(6):
        iid = a.start("one", {"runs": 0})
        (task,) = a.tasks(instance_id=iid)
        results = race(lambda t=task.id: a.complete_task(t, {"by": "a"}),
                       lambda t=task.id: b.complete_task(t, {"by": "b"}))
        errors = [r for r in results if isinstance(r, Exception)]
        assert len(errors) == 1, results
        assert isinstance(errors[0], NotFound | Conflict), errors
        assert a.variables(iid)["runs"] == 1
        assert a.instance(iid).status == "completed"
        done = [h.activity_id for h in a.history(iid) if h.type == "activity_completed"]
        assert done.count("t") == 1 and done.count("count") == 1


def test_two_users_claiming_one_task_leave_one_assignee(open_store: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("engine.identity.PASSWORD_METHOD", "pbkdf2:sha256:1")
    a, b = two_engines(open_store)
    a.add_user("ann", "Ann", "password1", ["staff"], ["g"])
    a.add_user("bob", "Bob", "password1", ["staff"], ["g"])
    a.deploy(ONE_TASK.encode())
    for _ in range(6):
        iid = a.start("one", {"runs": 0})
        (task,) = a.tasks(instance_id=iid)
        results = race(lambda t=task.id: a.claim(t, "ann"), lambda t=task.id: b.claim(t, "bob"))
        winners = [r for r in results if not isinstance(r, Exception)]
        assert len(winners) == 1, results
        assert all(isinstance(r, EngineError) for r in results if isinstance(r, Exception))
        assert a.task(task.id).assignee == winners[0].assignee


def test_parallel_branches_completed_at_once_join_exactly_once(open_store: Any) -> None:
    a, b = two_engines(open_store)
    a.deploy(FORK.encode())
    iid = a.start("forked")
    tasks = a.tasks(instance_id=iid)
    assert len(tasks) == 4
    engines = [a, b, a, b]
    results = race(*[lambda e=e, t=t.id: e.complete_task(t) for e, t in zip(engines, tasks,
                                                                           strict=True)])
    assert [r for r in results if isinstance(r, Exception)] == []
    assert [t.activity_id for t in a.tasks(instance_id=iid)] == ["after"]
    done = [h.activity_id for h in a.history(iid) if h.type == "activity_completed"]
    assert done.count("join") == 1


def test_variables_set_concurrently_are_all_kept(open_store: Any) -> None:
    a, b = two_engines(open_store)
    a.deploy(ONE_TASK.encode())
    iid = a.start("one", {"runs": 0})

    def writer(engine: Engine, prefix: str) -> None:
        for i in range(15):
            engine.set_variables(iid, {f"{prefix}{i}": i})

    assert race(lambda: writer(a, "a"), lambda: writer(b, "b")) == [None, None]
    got = a.variables(iid)
    assert all(got[f"a{i}"] == i and got[f"b{i}"] == i for i in range(15))
    with a.store.transaction() as tx:
        assert tx.get_instance(iid).revision == 30


def test_forbidden_is_not_retried_as_a_conflict(open_store: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("engine.identity.PASSWORD_METHOD", "pbkdf2:sha256:1")
    a, _ = two_engines(open_store)
    a.add_user("cat", "Cat", "password1", ["staff"], ["other"])
    a.deploy(ONE_TASK.encode())
    iid = a.start("one", {"runs": 0})
    (task,) = a.tasks(instance_id=iid)
    with pytest.raises(Forbidden):
        a.claim(task.id, "cat")


@pytest.mark.parametrize("store_kind", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
def test_a_connection_the_server_dropped_is_replaced(store: Any) -> None:
    import psycopg

    with store.transaction() as tx:
        (pid,), = tx.raw.execute("SELECT pg_backend_pid()").fetchall()
    with psycopg.connect(store.url.replace("postgresql+psycopg", "postgresql"),
                         autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    failures = 0
    for _ in range(3):
        try:
            with store.transaction() as tx:
                assert tx.get_instance("nope") is None
            break
        except psycopg.OperationalError:
            failures += 1
    assert failures == 1          # the dead connection failed once, then was replaced
    with store.transaction() as tx:
        assert tx.find_instances() == []
