"""Two engines (own store, own connection pool, same database) race one command each
against one instance, many rounds per pair of commands, on SQLite and PostgreSQL.

Why: a tasklist double-click, two staff opening the same task, a worker and an operator
acting at once - all of these reach the engine as two commands on one instance at the same
moment, from different processes. The design promises that a command loads and locks its
instance, re-reads what it acts on inside the lock, and only then decides; so exactly one
of two conflicting commands wins, the other is refused with an engine error, and the
instance moves on exactly once. A command that read its task before taking the lock would
apply to whatever the token waits at next (a second completion completing `t2`): each
round checks for precisely that, through the open tasks, the token's place, the
variables and the history.

Every round starts a fresh instance, so one bad round cannot spoil the next. The rounds all
run even after a failure: how often each invariant breaks, and what the losers raise, is
printed in the race summary at the end of the run and in the failure message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from engine.errors import Conflict, EngineError, Forbidden, MessageNotCorrelated, NotFound
from tests.concurrency.harness import (
    ROUNDS,
    Expect,
    Pair,
    Snapshot,
    Tally,
    describe,
    judge,
    pacing,
    race,
)

# the loser's task or token was taken by the winner: NotFound when it finds the row gone,
# Conflict when it finds the token moved on (or keeps losing the retry loop)
GONE = (NotFound, Conflict)
Ops = Callable[[Pair, str, str], tuple[Callable[[], Any], Callable[[], Any]]]


def completed_t1(user: str | None, **variables: Any) -> Expect:
    """`t1` was completed once (by `user`) and nothing else happened: the token waits at
    `t2`, which nobody completed, claimed, or moved."""
    return Expect(
        open_tasks=[("t2", None)],
        events={("activity_completed", "t1"): 1, ("activity_cancelled", "t1"): 0,
                ("activity_started", "t2"): 1, ("activity_completed", "t2"): 0,
                ("activity_started", "b"): 0, ("activity_started", "h"): 0,
                ("task_claimed", "t1"): 0, ("task_claimed", "t2"): 0,
                ("instance_modified", "race"): 0},
        users={("activity_completed", "t1"): [user]},
        variables=variables)


def left_t1_for_h(extra: Mapping[tuple[str, str], int]) -> Expect:
    """`t1` was cancelled (not completed) and the token went to `h` (by the message
    boundary event or by modification); `t2` never started."""
    return Expect(
        open_tasks=[("h", None)],
        events={("activity_completed", "t1"): 0, ("activity_cancelled", "t1"): 1,
                ("activity_started", "t2"): 0, ("activity_started", "h"): 1, **extra})


def claimed_t1(user: str) -> Expect:
    """`t1` is still open, assigned to `user`, claimed exactly once."""
    return Expect(
        open_tasks=[("t1", user)],
        events={("task_claimed", "t1"): 1, ("activity_completed", "t1"): 0,
                ("activity_started", "t2"): 0},
        users={("task_claimed", "t1"): [user]})


def play(pair: Pair, record_tally: Callable[[Tally], None], scenario: str,
         names: tuple[str, str], ops: Ops,
         allowed: tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]],
         expect: Mapping[str, Expect]) -> None:
    """ROUNDS rounds of one race on fresh instances of the two-task diagram; fails with the
    tally when any round broke an invariant."""
    tally = Tally(scenario, pair.database)
    record_tally(tally)
    for n in range(ROUNDS):
        iid = pair.a.start("race")
        (task,) = pair.a.tasks(instance_id=iid)
        first, second = ops(pair, iid, task.id)
        results = race(first, second, pacing(n))
        snap = Snapshot.take(pair.a, iid)
        outcome, losers, problems = judge(names, results, allowed, expect, snap)
        tally.record(outcome, losers, problems,
                     f"[{pacing(n)}] {names[0]} -> {describe(results[0])}; {names[1]} -> "
                     f"{describe(results[1])}; {snap.brief()}")
    assert tally.bad_rounds == 0, tally.summary()


def test_complete_complete_same_user(pair: Pair, record_tally: Callable[[Tally], None]) -> None:
    """A double submit: the same user completes one task from two processes."""
    names = ("A complete(ann)", "B complete(ann)")
    play(pair, record_tally, "complete/complete, same user", names,
         lambda p, iid, t: (lambda: p.a.complete_task(t, {"by": "A"}, user="ann"),
                            lambda: p.b.complete_task(t, {"by": "B"}, user="ann")),
         (GONE, GONE),
         {f"{names[0]} won": completed_t1("ann", by="A"),
          f"{names[1]} won": completed_t1("ann", by="B")})


def test_complete_complete_two_users(pair: Pair, record_tally: Callable[[Tally], None]) -> None:
    """Two candidates complete one unclaimed task at once: one completion, by the winner."""
    names = ("A complete(ann)", "B complete(bob)")
    play(pair, record_tally, "complete/complete, two users", names,
         lambda p, iid, t: (lambda: p.a.complete_task(t, {"by": "ann"}, user="ann"),
                            lambda: p.b.complete_task(t, {"by": "bob"}, user="bob")),
         (GONE, GONE),
         {f"{names[0]} won": completed_t1("ann", by="ann"),
          f"{names[1]} won": completed_t1("bob", by="bob")})


def test_complete_claim(pair: Pair, record_tally: Callable[[Tally], None]) -> None:
    """Ann completes the unclaimed task while Bob claims it. Completed first: Bob's claim
    finds no task (and must not claim `t2`). Claimed first: Ann is no longer allowed."""
    names = ("A complete(ann)", "B claim(bob)")
    play(pair, record_tally, "complete/claim", names,
         lambda p, iid, t: (lambda: p.a.complete_task(t, user="ann"),
                            lambda: p.b.claim(t, "bob")),
         ((Forbidden, Conflict), GONE),
         {f"{names[0]} won": completed_t1("ann"),
          f"{names[1]} won": claimed_t1("bob")})


def test_claim_claim_two_users(pair: Pair, record_tally: Callable[[Tally], None]) -> None:
    """Two candidates claim one task: one assignee, one `task_claimed` event, and the
    other told the task is taken (Conflict), not silently overwritten."""
    names = ("A claim(ann)", "B claim(bob)")
    play(pair, record_tally, "claim/claim, two users", names,
         lambda p, iid, t: (lambda: p.a.claim(t, "ann"), lambda: p.b.claim(t, "bob")),
         ((Conflict,), (Conflict,)),
         {f"{names[0]} won": claimed_t1("ann"),
          f"{names[1]} won": claimed_t1("bob")})


def test_complete_cancel(pair: Pair, record_tally: Callable[[Tally], None]) -> None:
    """Completing `t1` while an operator cancels the instance. Unlike the other pairs,
    one serial order lets BOTH succeed (complete, then cancel the instance waiting at
    `t2`), so the outcomes allowed are "both" (t1 completed once, t2 started and
    cancelled) and "cancel won" (t1 cancelled, never completed); "complete won" alone
    would mean the cancellation was lost."""
    names = ("A complete(ann)", "B cancel")
    both = Expect(
        open_tasks=[], status="terminated",
        events={("activity_completed", "t1"): 1, ("activity_cancelled", "t1"): 0,
                ("activity_started", "t2"): 1, ("activity_cancelled", "t2"): 1,
                ("activity_completed", "t2"): 0},
        users={("activity_completed", "t1"): ["ann"]})
    cancelled = Expect(
        open_tasks=[], status="terminated",
        events={("activity_completed", "t1"): 0, ("activity_cancelled", "t1"): 1,
                ("activity_started", "t2"): 0})
    play(pair, record_tally, "complete/cancel", names,
         lambda p, iid, t: (lambda: p.a.complete_task(t, user="ann"),
                            lambda: p.b.cancel(iid)),
         (GONE, ()),
         {"both won": both, f"{names[1]} won": cancelled})


def test_complete_message(pair: Pair, record_tally: Callable[[Tally], None]) -> None:
    """Completing `t1` while a message hits its interrupting boundary event: either the
    task is done (and the message finds no one waiting) or the boundary event took the
    token to `h` (and the task is gone) - never both, never the message "delivered" to a
    subscription that no longer exists."""
    names = ("A complete(ann)", "B message")
    play(pair, record_tally, "complete/message", names,
         lambda p, iid, t: (lambda: p.a.complete_task(t, user="ann"),
                            lambda: p.b.correlate_message("race-stop", instance_id=iid)),
         (GONE, (MessageNotCorrelated, *GONE)),
         {f"{names[0]} won": completed_t1("ann"),
          f"{names[1]} won": left_t1_for_h({("activity_completed", "b"): 1})})


def test_complete_modify(pair: Pair, record_tally: Callable[[Tally], None]) -> None:
    """Completing `t1` while an operator moves its token to `h`: the move cancels `t1`
    (then the completion finds nothing), or the completion comes first (then the move
    finds nothing active at `t1` and is refused as a plain EngineError)."""
    names = ("A complete(ann)", "B move_token(t1->h)")
    play(pair, record_tally, "complete/modify", names,
         lambda p, iid, t: (lambda: p.a.complete_task(t, user="ann"),
                            lambda: p.b.move_token(iid, "t1", "h", reason="race")),
         (GONE, (EngineError,)),
         {f"{names[0]} won": completed_t1("ann"),
          f"{names[1]} won": left_t1_for_h({("instance_modified", "race"): 1})})


def test_fetch_and_lock_two_workers(pair: Pair, record_tally: Callable[[Tally], None]) -> None:
    """Two external workers fetch the same topic at once: exactly one locks the task (the
    other gets nothing). Then both try to complete it, each with its own worker id: only
    the lock holder may, and the instance moves on to `x2` exactly once."""
    tally = Tally("fetchAndLock/fetchAndLock, then complete/complete", pair.database)
    record_tally(tally)
    workers = ("worker-a", "worker-b")
    engines = (pair.a, pair.b)
    for n in range(ROUNDS):
        iid = pair.a.start("race_ext")
        (x1,) = pair.a.external_tasks(instance_id=iid)
        fetched = race(
            *[lambda e=e, w=w: e.fetch_and_lock(w, {"race-work": 60.0}, max_tasks=5)
              for e, w in zip(engines, workers, strict=True)], pacing(n))
        problems: list[str] = []
        losers: list[str] = []
        holders = []
        for w, got in zip(workers, fetched, strict=True):
            if not isinstance(got, list):
                problems.append(f"{w} fetch raised {describe(got)}")
            elif [t.id for t in got] == [x1.id]:
                holders.append(w)
            elif got:
                problems.append(f"{w} fetched other tasks than this round's x1")
            else:
                losers.append(f"{w} fetch: got nothing")
        outcome = f"{holders[0]} locked it" if len(holders) == 1 else \
            f"{len(holders)} workers locked it"
        if len(holders) != 1:
            problems.append(f"{len(holders)} workers locked the one task (expected 1)")
        detail = f"[{pacing(n)}] fetch -> {[describe(r) for r in fetched]}"
        if len(holders) == 1:
            locked = Snapshot.take(pair.a, iid).externals
            if locked != [("x1", holders[0])]:
                problems.append(f"after the fetch the task row says {locked}, expected "
                                f"locked by the one worker that got it")
            names = (f"complete_external by {workers[0]}", f"complete_external by {workers[1]}")
            done = race(*[lambda e=e, w=w, x=x1.id: e.complete_external(x, {"by": w},
                                                                         worker_id=w)
                          for e, w in zip(engines, workers, strict=True)], pacing(n + 1))
            winner = names[workers.index(holders[0])]
            snap = Snapshot.take(pair.a, iid)
            after = Expect(open_tasks=[], externals=[("x2", None)],
                           events={("activity_completed", "x1"): 1,
                                   ("activity_started", "x2"): 1,
                                   ("activity_completed", "x2"): 0},
                           variables={"by": holders[0]})
            _, complete_losers, complete_problems = judge(
                names, done, ((EngineError,), (EngineError,)), {f"{winner} won": after}, snap)
            losers += complete_losers
            problems += complete_problems
            detail += f"; complete -> {[describe(r) for r in done]}; {snap.brief()}"
        tally.record(outcome, losers, problems, detail)
        if pair.a.instance(iid).status == "running":
            pair.a.cancel(iid)  # its x2 (or a stray lock) must not meet later rounds
    assert tally.bad_rounds == 0, tally.summary()


def test_lock_by_id_two_workers(pair: Pair, record_tally: Callable[[Tally], None]) -> None:
    """Two workers lock the same external task by its id at once (Camunda 7.17's
    `POST /external-task/{id}/lock`): exactly one holds the lock, the other is refused
    (another worker's live lock) and the row names the winner."""
    tally = Tally("lock/lock by id", pair.database)
    record_tally(tally)
    workers = ("worker-a", "worker-b")
    engines = (pair.a, pair.b)
    for n in range(ROUNDS):
        iid = pair.a.start("race_ext")
        (x1,) = pair.a.external_tasks(instance_id=iid)
        results = race(*[lambda e=e, w=w, x=x1.id: e.lock_external(x, 60.0, w)
                         for e, w in zip(engines, workers, strict=True)], pacing(n))
        problems: list[str] = []
        losers: list[str] = []
        holders = []
        for w, got in zip(workers, results, strict=True):
            if isinstance(got, EngineError):
                losers.append(f"{w} lock: {type(got).__name__}")
            elif isinstance(got, BaseException):
                problems.append(f"{w} lock raised {describe(got)}")
            else:
                holders.append(w)
        if len(holders) != 1:
            problems.append(f"{len(holders)} workers hold the lock (expected 1)")
        locked = Snapshot.take(pair.a, iid).externals
        if len(holders) == 1 and locked != [("x1", holders[0])]:
            problems.append(f"the task row says {locked}, expected locked by {holders[0]}")
        outcome = f"{holders[0]} locked it" if len(holders) == 1 else \
            f"{len(holders)} workers locked it"
        tally.record(outcome, losers, problems,
                     f"[{pacing(n)}] lock -> {[describe(r) for r in results]}; {locked}")
        pair.a.cancel(iid)
    assert tally.bad_rounds == 0, tally.summary()
