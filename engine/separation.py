"""Separation of duties (the four-eyes principle), as a diagram declares it.

An analyst writes on a user task which other user tasks of the same process its worker must
not have completed in the same instance:

    <bpmn:userTask id="approve_payout" baton:separateFrom="review_claim">

(a space- or comma-separated list of activity ids; Camunda 7 and zeebe modelers can say the
same with an extension property named `baton:separateFrom`). Whoever completed one of those
tasks in this instance may then neither claim nor complete this one: the claim and complete
commands call `check_separation` inside their transaction, after locking the instance, so
two concurrent requests cannot both slip past it.

The rule lives in the diagram, not in group memberships, because it is about one case: the
adjuster who reviewed claim 17 may approve claim 18 reviewed by a colleague. It is checked
against the instance's history (who completed what), which is what an auditor would look at
too. The declaration is one-way, as written: declare it on both tasks if either may run
first (a loop back to the review, say).

The parser stores the ids on the compiled node (`node.ext[EXT_KEY]`, a tuple), so the check
costs a dictionary lookup on every complete and reads history only for separated tasks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from engine.errors import Forbidden

if TYPE_CHECKING:
    from engine.graph import ProcessGraph
    from engine.store.records import HistoryRecord, TaskRecord

# Key of the compiled user task's `Node.ext` that holds the ids (written by engine.bpmn).
EXT_KEY = "separate_from"

# The history event that says "user X completed user task Y": the runtime emits it when a
# user task's token leaves, and the complete command stamps the completing user on it.
COMPLETED = "activity_completed"
USER_TASK = "userTask"


def separate_from(graph: ProcessGraph, activity_id: str) -> tuple[str, ...]:
    """The activity ids the task at `activity_id` must be separated from; () when none.

    Two dictionary lookups, no history read: it runs on every claim and complete, and only
    a non-empty answer makes the caller load the instance's history for `check_separation`.
    An id the graph does not know (a task of an older version after migration, say) has no
    separation rather than an error: the commands report unknown tasks their own way.
    """
    position = graph.index.get(activity_id)
    if position is None:
        return ()
    ext = graph.nodes[position].ext
    return ext.get(EXT_KEY, ()) if ext else ()


def check_separation(task: TaskRecord, user: str, others: tuple[str, ...],
                     history: Sequence[HistoryRecord], action: str) -> None:
    """Refuse (`Forbidden`) when `user` completed any activity of `others` in `task`'s
    instance; `action` is the verb refused ("claim", "complete").

    Only completions count, and only by the user who actually completed: a task delegated
    to a colleague or routed to a deputy binds whoever finished it, not its owner; a task
    cancelled by a timer or completed without a user (an unattended API call) binds nobody.
    Every completion counts, so after a loop back to the review each reviewer is excluded.
    """
    if not others or not user:
        return
    wanted = frozenset(others)
    for event in history:
        if (event.type == COMPLETED and event.kind == USER_TASK and event.user == user
                and event.activity_id in wanted
                and event.instance_id in (None, task.instance_id)):
            raise Forbidden(
                f"user '{user}' completed {_label(event.name, event.activity_id)} of this "
                f"instance and may not {action} {_label(task.name, task.activity_id)}: the "
                "diagram separates these duties")


def _label(name: str | None, activity_id: str | None) -> str:
    """"'Review claim' (review_claim)", or just "'review_claim'" for an unnamed task."""
    return f"'{name}' ({activity_id})" if name else f"'{activity_id}'"


__all__ = ["EXT_KEY", "check_separation", "separate_from"]
