"""The machinery of the race suite: diagrams, the two-thread race, a snapshot of an
instance after a round, the expected outcome of each serial order, and the tally.

Why judge against serial orders: two commands racing on one instance are correct exactly
when the result equals running them one after the other in SOME order (serialisability).
For most pairs here no order lets both succeed: whichever runs second finds its task or
token gone (or taken) and must be refused. Each round therefore asks: who won, did
the loser get an engine refusal of a sensible kind, and does the instance (open tasks,
the token's place, variables, history) look exactly like "the winner ran alone"? A second
completion applied to whatever the token waits at next shows up as a completed `t2`.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine import Engine
from engine.errors import EngineError
from tests.runtime.conftest import bpmn, flows

ROUNDS = int(os.environ.get("BATON_RACE_ROUNDS", "200"))
EXAMPLES = 3   # detailed reports kept per scenario (the counts tell the rest)

# Two user tasks in a row, so a completion applied twice visibly completes `t2`; `t1` has an
# interrupting message boundary event leading to `h`, which is also where modification
# moves the token (so "message won" / "modify won" is told apart from "complete won").
TWO_TASKS = bpmn(
    '<startEvent id="s"/>'
    '<userTask id="t1" camunda:candidateGroups="g"/>'
    '<userTask id="t2" camunda:candidateGroups="g"/><endEvent id="e"/>'
    '<boundaryEvent id="b" attachedToRef="t1"><messageEventDefinition messageRef="m"/>'
    '</boundaryEvent>'
    '<userTask id="h" camunda:candidateGroups="g"/><endEvent id="e2"/>'
    + flows("s>t1", "t1>t2", "t2>e", "b>h", "h>e2"),
    pid="race", extra='<message id="m" name="race-stop"/>')
# Two external tasks in a row (the second on another topic, so it never competes with the
# next round's first task).
EXTERNAL = bpmn(
    '<startEvent id="s"/>'
    '<serviceTask id="x1" camunda:type="external" camunda:topic="race-work"/>'
    '<serviceTask id="x2" camunda:type="external" camunda:topic="race-after"/>'
    '<endEvent id="e"/>' + flows("s>x1", "x1>x2", "x2>e"),
    pid="race_ext")
DIAGRAMS = (TWO_TASKS, EXTERNAL)


@dataclass
class Pair:
    """Two engines sharing nothing but the database (as two processes would)."""

    database: str
    a: Engine
    b: Engine


class Hung:
    """Stands for the result of a call that did not return within the race's timeout."""

    def __repr__(self) -> str:
        return "<hung>"


@dataclass(frozen=True)
class Pace:
    """How one round's two threads leave the barrier: `flip` starts the second call's
    thread first, `delays` holds each call back that many seconds after the barrier."""

    flip: bool = False
    delays: tuple[float, float] = (0.0, 0.0)

    def __str__(self) -> str:
        return f"flip={self.flip} delays_ms={[round(d * 1000, 2) for d in self.delays]}"


def pacing(n: int) -> Pace:
    """The pace of round `n`. The thread that reaches the barrier last runs on at once while
    the other is still being woken, so a plain start favours one side, and a command that
    reads less before taking its lock wins nearly every time. Half the rounds start both
    calls at once (alternating which is favoured); the other half hold one call back 0.5
    to 2 ms - still inside the other command (a few ms), so they still overlap, but at
    other points - so both serial orders and the windows between them get exercised."""
    kind = n % 4
    held = 0.0005 * (1 + (n // 4) % 4)
    if kind == 0:
        return Pace()
    if kind == 1:
        return Pace(flip=True)
    if kind == 2:
        return Pace(delays=(held, 0.0))
    return Pace(flip=True, delays=(0.0, held))


def race(first: Callable[[], Any], second: Callable[[], Any], pace: Pace = Pace(),
         timeout: float = 60.0) -> list[Any]:
    """Run both calls in their own threads, released together by a barrier (see `Pace`);
    each call's result, the exception it raised, or a `Hung` when it did not return in
    time."""
    barrier = threading.Barrier(2)
    results: list[Any] = [Hung(), Hung()]

    def run(i: int, fn: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout)
            if pace.delays[i]:
                time.sleep(pace.delays[i])
            results[i] = fn()
        except Exception as e:  # noqa: BLE001 - the loser's refusal is part of the result
            results[i] = e

    threads = [threading.Thread(target=run, args=(i, fn), daemon=True)
               for i, fn in enumerate((first, second))]
    for t in reversed(threads) if pace.flip else threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return results


@dataclass
class Snapshot:
    """What one instance looks like after a round, read through one engine after both
    threads have finished (so it sees everything either committed)."""

    status: str
    waiting: list[str]
    open_tasks: list[tuple[str, str | None]]          # (activity, assignee)
    externals: list[tuple[str, str | None]]           # (activity, locking worker)
    variables: dict[str, Any]
    events: Counter[tuple[str, str | None]]           # (history type, activity) -> count
    users: dict[tuple[str, str | None], list[str | None]]

    @classmethod
    def take(cls, engine: Engine, iid: str) -> Snapshot:
        inst = engine.instance(iid)
        tasks = sorted((t.activity_id, t.assignee) for t in engine.tasks(instance_id=iid))
        externals = sorted((x.activity_id, x.worker_id)
                           for x in engine.external_tasks(instance_id=iid))
        events: Counter[tuple[str, str | None]] = Counter()
        users: dict[tuple[str, str | None], list[str | None]] = {}
        for h in engine.history(iid):
            events[(h.type, h.activity_id)] += 1
            users.setdefault((h.type, h.activity_id), []).append(h.user)
        return cls(inst.status, sorted(inst.waiting), tasks, externals, dict(inst.variables),
                   events, users)

    def brief(self) -> str:
        shown = {f"{t}:{a}": n for (t, a), n in sorted(self.events.items(),
                                                       key=lambda kv: str(kv[0]))
                 if t != "process_started"}
        return (f"status={self.status} waiting={self.waiting} tasks={self.open_tasks} "
                f"externals={self.externals} history={shown}")


@dataclass
class Expect:
    """The instance after one serial order of the two operations. `events` are exact
    counts of (history type, activity id); `users` the user of each such event."""

    open_tasks: Sequence[tuple[str, str | None]]
    events: Mapping[tuple[str, str], int]
    status: str = "running"
    users: Mapping[tuple[str, str], Sequence[str | None]] = field(default_factory=dict)
    variables: Mapping[str, Any] = field(default_factory=dict)
    externals: Sequence[tuple[str, str | None]] = ()

    def problems(self, snap: Snapshot, outcome: str) -> list[str]:
        out = []
        if snap.status != self.status:
            out.append(f"{outcome}: status {snap.status}, expected {self.status}")
        if snap.open_tasks != sorted(self.open_tasks):
            out.append(f"{outcome}: open tasks {snap.open_tasks}, expected "
                       f"{sorted(self.open_tasks)}")
        if snap.externals != sorted(self.externals):
            out.append(f"{outcome}: external tasks {snap.externals}, expected "
                       f"{sorted(self.externals)}")
        for key, n in self.events.items():
            if snap.events[key] != n:
                out.append(f"{outcome}: {n} x {key[0]} of {key[1]} expected in history, "
                           f"found {snap.events[key]}")
        for key, who in self.users.items():
            if snap.users.get(key, []) != list(who):
                out.append(f"{outcome}: {key[0]} of {key[1]} by {snap.users.get(key, [])}, "
                           f"expected by {list(who)}")
        for name, value in self.variables.items():
            if snap.variables.get(name) != value:
                out.append(f"{outcome}: variable {name}={snap.variables.get(name)!r}, "
                           f"expected {value!r} (the winner's)")
        waiting = sorted([a for a, _ in snap.open_tasks] + [a for a, _ in snap.externals])
        if snap.waiting != waiting:
            out.append(f"{outcome}: the instance waits at {snap.waiting} but the open task "
                       f"rows are at {waiting}")
        return out


@dataclass
class Tally:
    """Counts over the rounds of one scenario on one database."""

    scenario: str
    database: str
    rounds: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    loser_errors: Counter[str] = field(default_factory=Counter)
    violations: Counter[str] = field(default_factory=Counter)
    bad_rounds: int = 0
    examples: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0

    def record(self, outcome: str, losers: Sequence[str], problems: Sequence[str],
               detail: str) -> None:
        self.rounds += 1
        self.outcomes[outcome] += 1
        self.loser_errors.update(losers)
        self.violations.update(problems)
        if problems:
            self.bad_rounds += 1
            if len(self.examples) < EXAMPLES:
                self.examples.append(f"round {self.rounds}: {'; '.join(problems)}\n"
                                     f"        {detail}")
        self.seconds = time.monotonic() - self.started

    def summary(self) -> str:
        def counts(c: Counter[str]) -> str:
            return ", ".join(f"{k} x{n}" for k, n in c.most_common()) or "none"

        head = (f"{self.scenario} [{self.database}]: {self.rounds} rounds in "
                f"{self.seconds:.1f}s; {'FAILED' if self.bad_rounds else 'ok'}\n"
                f"    outcomes: {counts(self.outcomes)}\n"
                f"    losers raised: {counts(self.loser_errors)}")
        if not self.bad_rounds:
            return head
        lines = [head, f"    {self.bad_rounds} bad rounds; violations: "
                       f"{counts(self.violations)}"]
        lines += [f"    e.g. {ex}" for ex in self.examples]
        return "\n".join(lines)


def describe(result: Any) -> str:
    """A result for a report: the exception's class and message, or the value."""
    if isinstance(result, BaseException):
        return f"{type(result).__name__}({result})"
    if hasattr(result, "activity_id"):      # a task record: where, and whose
        return (f"{type(result).__name__}(activity={result.activity_id}, "
                f"assignee={getattr(result, 'assignee', None)})")
    return repr(result)


def judge(names: tuple[str, str], results: Sequence[Any],
          allowed: tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]],
          expect: Mapping[str, Expect], snap: Snapshot) -> tuple[str, list[str], list[str]]:
    """(outcome, loser error labels, problems) of one round. `expect` maps an outcome
    ("<name> won", or "both won" where a serial order lets both succeed) to the state it
    must leave; any other outcome is a problem in itself."""
    ok = [not isinstance(r, BaseException | Hung) for r in results]
    if all(ok):
        outcome = "both won"
    elif not any(ok):
        outcome = "neither won"
    else:
        outcome = f"{names[ok.index(True)]} won"
    losers, problems = [], []
    for name, result, kinds in zip(names, results, allowed, strict=True):
        if isinstance(result, Hung):
            problems.append(f"{name} hung")
        elif isinstance(result, BaseException):
            losers.append(f"{name}: {type(result).__name__}")
            if not isinstance(result, EngineError):
                problems.append(f"{name} raised {type(result).__name__}, not an engine error")
            elif not kinds:
                problems.append(f"{name} refused with {type(result).__name__}; no serial "
                                f"order refuses it")
            elif not isinstance(result, kinds):
                problems.append(f"{name} refused with {type(result).__name__}, expected "
                                f"{' or '.join(k.__name__ for k in kinds)}")
    want = expect.get(outcome)
    if want is not None:
        return outcome, losers, problems + want.problems(snap, outcome)
    problems.append(f"{outcome} (expected one of: {', '.join(expect)})")
    # what the instance looks like next to the nearest allowed outcome: tells "the second
    # command was applied to t2" from "it only wrote a stray row or history event"
    near = min(expect, key=lambda k: len(expect[k].problems(snap, k)))
    problems += [f"{outcome}, unlike {p}" for p in expect[near].problems(snap, near)]
    return outcome, losers, problems
