"""The human task service: who may do what with a user task, and how tasks are created.

Permission rules (Camunda's, made explicit):
- claim: a candidate (named in candidateUsers, or member of a candidate group) or a
  supervisor, and only while the task is unassigned;
- complete: the assignee (or, while it is unassigned, any candidate directly);
- unclaim, delegate, reassign, change priority or dates: the assignee, the owner who
  delegated it, or a supervisor;
- comment and read: anyone involved (assignee, owner, candidate) or a supervisor.
A supervisor is a user with role "supervisor" or "admin", or in group "supervisors"
(see `engine.identity.is_supervisor`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.errors import Conflict, Forbidden
from engine.ids import new_id
from engine.limits import check_text
from engine.policy import Actor, allows, audience
from engine.store.records import HistoryRecord, JobRecord, TaskRecord, UserRecord

if TYPE_CHECKING:
    from engine.commands.context import CommandContext
    from engine.graph import ProcessGraph
    from engine.runtime.effects import UserTaskCreated
    from engine.store.records import InstanceRecord

MAX_DEPUTY_HOPS = 5


def is_candidate(task: TaskRecord, user: str, groups: list[str]) -> bool:
    return user in task.candidate_users or bool(set(groups) & set(task.candidate_groups))


def actor_of(user: str, u: UserRecord | None) -> Actor:
    return Actor(user, u)


def check_may_complete(task: TaskRecord, actor: Actor | None) -> None:
    """Policy row ("task", "complete"): the assignee, or a candidate while unassigned."""
    if allows(actor, "task", "complete", task):
        return
    assert actor is not None
    if task.assignee is not None:
        raise Forbidden(f"task '{task.id}' is assigned to '{task.assignee}', not to "
                        f"'{actor.id}'")
    raise Forbidden(f"user '{actor.id}' is not a candidate for task '{task.id}': it is for "
                    + audience(task))


def may_see(task: TaskRecord, actor: Actor | None) -> bool:
    """Policy row ("task", "read"): involved in the task or a supervisor."""
    return allows(actor, "task", "read", task)


def check_may_see(task: TaskRecord, actor: Actor | None) -> None:
    if not may_see(task, actor):
        assert actor is not None
        raise Forbidden(f"user '{actor.id}' is not involved in task '{task.id}'")


def check_may_comment(task: TaskRecord, actor: Actor | None) -> None:
    """Policy row ("task", "comment")."""
    if not allows(actor, "task", "comment", task):
        assert actor is not None
        raise Forbidden(f"user '{actor.id}' is not involved in task '{task.id}'")


def check_may_resolve(task: TaskRecord, actor: Actor | None) -> None:
    """Policy row ("task", "resolve"): the delegate (its assignee now) or a supervisor."""
    if not allows(actor, "task", "resolve", task):
        assert actor is not None
        raise Forbidden(f"only the delegate '{task.assignee}' may resolve task '{task.id}'")


def check_may_claim(task: TaskRecord, actor: Actor | None) -> None:
    """Policy row ("task", "claim"); a task held by someone else is a Conflict."""
    if actor is not None and task.assignee == actor.id:
        return
    if task.assignee is not None:
        raise Conflict(f"task '{task.id}' is already claimed by '{task.assignee}'")
    if not allows(actor, "task", "claim", task):
        assert actor is not None
        raise Forbidden(f"user '{actor.id}' is not a candidate for task '{task.id}': it is "
                        f"for {audience(task)}")


def check_may_manage(task: TaskRecord, actor: Actor | None, action: str) -> None:
    """Policy row ("task", "manage"): unclaim, delegate, reassign, set priority/dates."""
    if allows(actor, "task", "manage", task):
        return
    assert actor is not None
    holder = f"assigned to '{task.assignee}'" if task.assignee else "not assigned to you"
    raise Forbidden(f"user '{actor.id}' may not {action} task '{task.id}': it is {holder} "
                    "(only its assignee or a supervisor may)")


def route_to_deputy(c: CommandContext, assignee: str) -> tuple[str, str | None]:
    """The user who should get a task meant for `assignee` now, and the note saying why.

    Follows a chain of deputies who are away themselves (at most MAX_DEPUTY_HOPS; a loop
    leaves the task with the last user before the loop)."""
    get_user = c.tx.get_user
    current, seen = assignee, {assignee}
    chain = []
    for _ in range(MAX_DEPUTY_HOPS):
        u = get_user(current)
        if u is None or not u.deputy or not _away(u, c.now) or u.deputy in seen:
            break
        chain.append(f"{u.deputy} as deputy of {current}")
        current = u.deputy
        seen.add(current)
    if current == assignee:
        return assignee, None
    return current, "assigned to " + ", ".join(chain) + " (out of office)"


def _slug(text: str) -> str:
    return "-".join(text.lower().replace("_", " ").replace("-", " ").split())


def lane_group(c: CommandContext, lane: str) -> str:
    """The group a lane stands for: a group whose id or display name is the lane's name,
    compared ignoring case and spaces/dashes/underscores ("Claims Adjusters" finds group
    "claims-adjusters"); the lane's name itself when no group matches."""
    known: dict[str, str] = c.tx.groups()
    if lane in known:
        return lane
    wanted = _slug(lane)
    for group_id, name in known.items():
        if _slug(group_id) == wanted or _slug(name or "") == wanted:
            return group_id
    return lane


def create_task(c: CommandContext, rec: InstanceRecord, graph: ProcessGraph, e: UserTaskCreated,
                hist: list[HistoryRecord]) -> TaskRecord:
    """Store a new user task, routing it to a deputy when its assignee is away.

    Names evaluated from the diagram's expressions (or a lane's name standing for a group)
    are checked here, where they become indexed columns: an over-long one refuses the
    command that reached the task, with the same words on every store."""
    assignee = e.assignee
    note = None
    groups = list(e.candidate_groups)
    if not groups and e.lane and not e.candidate_users and assignee is None:
        groups = [lane_group(c, e.lane)]
    where = f"userTask '{e.activity_id}'"
    check_text(assignee, f"{where}: the assignee")
    for name in e.candidate_users:
        check_text(name, f"{where}: the candidate user")
    for name in groups:
        check_text(name, f"{where}: the candidate group")
    if assignee is not None:
        assignee, note = route_to_deputy(c, assignee)
    task = TaskRecord(
        new_id(), rec.id, e.token, e.activity_id, e.name, rec.key, rec.definition_id,
        assignee, list(e.candidate_users), groups, e.due, e.follow_up, e.priority, e.form_key,
        e.created, rec.business_key, graph.name, note=note, lane=e.lane,
        owner=e.assignee if note else None,
    )
    c.tx.add_task(task)
    if note:
        hist.append(HistoryRecord(rec.id, "task_delegated", e.activity_id, c.now, "userTask",
                                  e.name, None, {"task_id": task.id, "to": assignee,
                                                 "from": e.assignee, "reason": "out_of_office",
                                                 "note": note}))
    for listener_id, when in e.timeouts:
        c.tx.add_job(JobRecord(new_id(), "timeout", rec.id, when, token=e.token,
                               activity_id=e.activity_id, definition_id=rec.definition_id,
                               created=c.now,
                               payload={"task_id": task.id, "listener": listener_id}))
    for i, pol in enumerate(e.escalations):
        from engine.timers import TimerError, add_duration

        try:
            when = add_duration(c.now, pol.after)
        except TimerError:
            continue
        c.tx.add_job(JobRecord(new_id(), "escalation", rec.id, when, token=e.token,
                               activity_id=e.activity_id, definition_id=rec.definition_id,
                               created=c.now, payload={"task_id": task.id, "policy": i}))
    c.notifications.append(("task_created", task))
    return task


def _away(u: Any, now: datetime) -> bool:
    if u.away_from is None and u.away_until is None:
        return False
    if u.away_from is not None and now < u.away_from:
        return False
    return not (u.away_until is not None and now >= u.away_until)


def task_actions(task: TaskRecord, actor: Actor) -> dict[str, bool]:
    """What the actor may do with the task now, by the policy table (the buttons a page
    shows; the commands check again when they run)."""
    def ok(check: Any, *args: Any) -> bool:
        try:
            check(*args)
        except (Forbidden, Conflict):
            return False
        return True

    return {
        "claim": task.assignee is None and ok(check_may_claim, task, actor),
        "unclaim": task.assignee is not None and ok(check_may_manage, task, actor, "unclaim"),
        "complete": ok(check_may_complete, task, actor),
        "delegate": ok(check_may_manage, task, actor, "delegate"),
        "manage": ok(check_may_manage, task, actor, "manage"),
        "comment": allows(actor, "task", "comment", task),
    }
