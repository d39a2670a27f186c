"""Two engines start activities of one Sequential ad-hoc subprocess at the same moment:
the ordering lets one run at a time, so exactly one start wins, and exactly one task
is open after the round, on SQLite and PostgreSQL.

Why: starting an ad-hoc activity is a state change like completing a task; it must decide
under the instance's lock, or both starts would pass the "nothing runs" check."""

from __future__ import annotations

from collections import Counter

from engine.errors import Conflict, EngineError
from tests.concurrency.harness import ROUNDS, Pair, describe, pacing, race
from tests.runtime.conftest import bpmn, flows

SEQUENTIAL_CASE = bpmn(
    '<startEvent id="s"/>'
    '<adHocSubProcess id="case" ordering="Sequential">'
    '<userTask id="research"/><userTask id="call"/>'
    '<completionCondition xsi:type="tFormalExpression">${done}</completionCondition>'
    '</adHocSubProcess><endEvent id="e"/>' + flows("s>case", "case>e"), pid="adhoc_race")


def test_two_starts_in_a_sequential_ad_hoc_subprocess(pair: Pair) -> None:
    pair.a.deploy(SEQUENTIAL_CASE)
    outcomes: Counter[str] = Counter()
    bad: list[str] = []
    for n in range(ROUNDS):
        iid = pair.a.start("adhoc_race", {"done": False})
        results = race(lambda i=iid: pair.a.start_adhoc_activity(i, "research"),
                       lambda i=iid: pair.b.start_adhoc_activity(i, "call"), pacing(n))
        won = [r for r in results if not isinstance(r, BaseException)]
        lost = [r for r in results if isinstance(r, BaseException)]
        open_tasks = sorted(t.activity_id for t in pair.a.tasks(instance_id=iid))
        outcomes[f"{len(won)} won: {open_tasks}"] += 1
        if len(won) != 1 or len(open_tasks) != 1 \
                or not all(isinstance(e, EngineError | Conflict) for e in lost):
            bad.append(f"round {n}: {[describe(r) for r in results]}; open {open_tasks}")
    assert not bad, f"{pair.database}: {dict(outcomes)}; first bad rounds: {bad[:3]}"
