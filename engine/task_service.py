"""Human-task operations on the Engine facade (claim, unclaim, delegate, comment, ...).

Kept apart from `engine/service.py` so the task rules grow without touching the command
machinery; `Engine` inherits these methods. Each operation is one command (one
transaction): it loads the task's instance, which takes the instance's optimistic lock, so
two people claiming the same task at once cannot both succeed (the second command is
retried on the new state and gets a Conflict). Who may do what is decided in
`engine.tasks` (see its docstring); every change is a history event on the instance.

Users are named by id; an id the user directory does not know has no groups and no roles,
so it may only act on tasks that name it directly.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.identity import IdentityMixin, is_supervisor
from engine.store.records import CommentRecord, HistoryRecord, TaskRecord, UserRecord

if TYPE_CHECKING:
    from engine.forms import TaskForm
    from engine.service import _Command

MAX_COMMENT = 4000
MAX_PAGE_SIZE = 200
# a task list counts its matches up to here (or to the end of the page shown, if further):
# "more than 1,000 tasks" tells a person as much as "61,482 tasks" and costs far less
COUNT_CAP = 1000
TASK_VIEWS = ("involved", "mine", "claimable", "all")
TASK_SORTS = ("created", "-created", "due", "-due", "priority", "-priority", "name", "-name")


@dataclass(slots=True)
class TaskPage:
    """One page of a task query, with the count for the pager. The count is exact up to
    `COUNT_CAP` tasks (or up to the end of this page, when that is further); beyond, `total`
    is that cap and `capped` is true: there are more."""

    items: list[TaskRecord]
    total: int
    page: int
    page_size: int
    capped: bool = False

    @property
    def pages(self) -> int:
        """How many pages there are (at least, when capped)."""
        return max(1, -(-self.total // self.page_size))

    @property
    def has_next(self) -> bool:
        return self.capped or self.page * self.page_size < self.total


class TaskServiceMixin(IdentityMixin):
    """Claim, unclaim, delegate, reassign, comment, reprioritise, complete with a form, and
    the tasklist's queries."""

    store: Any
    clock: Callable[[], datetime]
    _execute: Callable[..., Any]     # provided by Engine

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _task_for_change(c: _Command, task_id: str) -> TaskRecord:
        from engine.errors import NotFound

        task = c.tx.get_task(task_id) if isinstance(task_id, str) else None
        if task is None:
            raise NotFound(f"task '{task_id}' not found (completed or cancelled?)")
        c.load(task.instance_id)      # the instance's optimistic lock serialises changes
        return task

    @staticmethod
    def _who(c: _Command, user: str) -> UserRecord | None:
        from engine.errors import EngineError

        if not isinstance(user, str) or not user:
            raise EngineError("a task operation needs the id of the user doing it")
        return c.tx.get_user(user)

    @staticmethod
    def _record(c: _Command, task: TaskRecord, kind: str, user: str | None,
                **detail: Any) -> None:
        c.tx.add_history([HistoryRecord(task.instance_id, kind, task.activity_id, c.now,
                                        "userTask", task.name, user,
                                        {"task_id": task.id, **detail})])
        c.notifications.append((kind, task))

    # ------------------------------------------------------------------ reading
    def task_for(self, task_id: str, user: str) -> TaskRecord:
        """The task, if `user` is involved in it or a supervisor (else Forbidden)."""
        from engine.tasks import check_may_see

        task = self.task(task_id)  # type: ignore[attr-defined]
        check_may_see(task, user, self.get_user(user))
        return task

    def task_form(self, task_id: str) -> TaskForm:
        """The task's form fields with initial values (variables, else defaults)."""
        from engine.forms import TaskForm, form_fields, initial_values

        task = self.task(task_id)  # type: ignore[attr-defined]
        fields = form_fields(self, task)
        variables = self.variables(task.instance_id)  # type: ignore[attr-defined]
        return TaskForm(fields, initial_values(fields, variables), task.form_key)

    def comments(self, task_id: str | None = None,
                 instance_id: str | None = None) -> list[CommentRecord]:
        """Comments on a task, or on every task of an instance, oldest first."""
        with self.store.transaction() as tx:
            return tx.comments(task_id=task_id, instance_id=instance_id)

    def task_list(self, user: str, view: str = "involved", *, process: str | None = None,
                  name_like: str | None = None, overdue: bool = False,
                  due_before: datetime | None = None, priority_min: int | None = None,
                  business_key: str | None = None, sort: str = "created", page: int = 1,
                  page_size: int = 25, exact_count: bool = False) -> TaskPage:
        """The tasklist's query. Views: "mine" (assigned to the user), "claimable"
        (unassigned, for the user or their groups), "involved" (both), "all" (every open
        task: supervisors only). Filters narrow any view. The count stops at `COUNT_CAP`
        (see TaskPage) unless `exact_count`."""
        from engine.errors import EngineError, Forbidden

        if view not in TASK_VIEWS:
            raise EngineError(f"unknown task view '{view}': use one of {', '.join(TASK_VIEWS)}")
        if sort not in TASK_SORTS:
            raise EngineError(f"cannot sort tasks by '{sort}': use one of "
                              f"{', '.join(TASK_SORTS)}")
        if not isinstance(page, int) or page < 1:
            raise EngineError("page must be a whole number from 1")
        if not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise EngineError(f"page size must be a whole number from 1 to {MAX_PAGE_SIZE}")
        u = self.get_user(user)
        groups = list(u.groups) if u is not None else []
        filters: dict[str, Any] = {
            "definition_key": process or None, "name_like": name_like or None,
            "overdue_at": self.clock() if overdue else None, "due_before": due_before,
            "priority_min": priority_min, "business_key": business_key or None,
        }
        if view == "mine":
            filters["assignee"] = user
        elif view == "claimable":
            filters["claimable_by"] = (user, groups)
        elif view == "involved":
            filters["involving"] = (user, groups)
        elif not is_supervisor(u):
            raise Forbidden(f"user '{user}' may not see all open tasks (supervisors only)")
        offset = (page - 1) * page_size
        cap = None if exact_count else max(COUNT_CAP, offset + page_size)
        with self.store.transaction() as tx:
            total = tx.count_tasks(limit=None if cap is None else cap + 1, **filters)
            # nothing to show (a name nobody has, a page past the end): no page query, which
            # would walk the whole sort index looking for matches that the count has not found
            items = tx.find_tasks(sort=sort, limit=page_size, offset=offset,
                                  **filters) if total > offset else []
        if cap is not None and total > cap:
            return TaskPage(items, cap, page, page_size, capped=True)
        return TaskPage(items, total, page, page_size)

    # ------------------------------------------------------------------ claiming
    def claim(self, task_id: str, user: str) -> TaskRecord:
        """Take an unassigned task: only a candidate or a supervisor. Claiming one's own
        task again changes nothing."""
        from engine.tasks import check_may_claim

        def cmd(c: _Command) -> TaskRecord:
            task = self._task_for_change(c, task_id)
            check_may_claim(task, user, self._who(c, user))
            if task.assignee == user:
                return task
            task.assignee = user
            task.claimed = c.now
            c.tx.update_task(task)
            self._record(c, task, "task_claimed", user)
            return task

        return self._execute(cmd)

    def unclaim(self, task_id: str, user: str) -> TaskRecord:
        """Give a task back to its candidates: the assignee or a supervisor."""
        from engine.errors import Conflict
        from engine.tasks import check_may_manage

        def cmd(c: _Command) -> TaskRecord:
            task = self._task_for_change(c, task_id)
            if task.assignee is None:
                raise Conflict(f"task '{task.id}' is not claimed by anyone")
            check_may_manage(task, user, self._who(c, user), "unclaim")
            previous = task.assignee
            task.assignee = None
            task.claimed = None
            task.delegation = None
            c.tx.update_task(task)
            self._record(c, task, "task_unclaimed", user, previous=previous)
            return task

        return self._execute(cmd)

    def delegate(self, task_id: str, to_user: str, by: str) -> TaskRecord:
        """Hand a task to another user for now: the assignee (or a supervisor) stays its
        owner and may take it back; the delegate may complete it or `resolve` it (give it
        back to the owner)."""
        from engine.errors import EngineError
        from engine.tasks import check_may_manage

        def cmd(c: _Command) -> TaskRecord:
            task = self._task_for_change(c, task_id)
            check_may_manage(task, by, self._who(c, by), "delegate")
            self._require_user(c, to_user)
            if to_user == task.assignee:
                raise EngineError(f"task '{task.id}' is already assigned to '{to_user}'")
            task.owner = task.owner or task.assignee or by
            task.assignee = to_user
            task.delegation = "pending"
            task.claimed = c.now
            c.tx.update_task(task)
            self._record(c, task, "task_delegated", by, to=to_user, owner=task.owner)
            return task

        return self._execute(cmd)

    def resolve(self, task_id: str, user: str) -> TaskRecord:
        """The delegate gives a delegated task back to its owner."""
        from engine.errors import Conflict, Forbidden

        def cmd(c: _Command) -> TaskRecord:
            task = self._task_for_change(c, task_id)
            if task.delegation != "pending" or task.owner is None:
                raise Conflict(f"task '{task.id}' is not delegated")
            if task.assignee != user and not is_supervisor(self._who(c, user)):
                raise Forbidden(f"only the delegate '{task.assignee}' may resolve task "
                                f"'{task.id}'")
            previous = task.assignee
            task.assignee = task.owner
            task.delegation = "resolved"
            c.tx.update_task(task)
            self._record(c, task, "task_assigned", user, to=task.assignee, previous=previous,
                         reason="resolved")
            return task

        return self._execute(cmd)

    def reassign(self, task_id: str, to_user: str | None = None, to_group: str | None = None,
                 *, by: str) -> TaskRecord:
        """Route a task elsewhere: to a user (assigned to them), to a group (unassigned,
        that group its only candidate), or both. The assignee or a supervisor."""
        from engine.errors import EngineError, NotFound
        from engine.tasks import check_may_manage

        if not to_user and not to_group:
            raise EngineError("reassign needs a user or a group to route the task to")

        def cmd(c: _Command) -> TaskRecord:
            task = self._task_for_change(c, task_id)
            check_may_manage(task, by, self._who(c, by), "reassign")
            if to_user:
                self._require_user(c, to_user)
            if to_group and to_group not in c.tx.groups():
                raise NotFound(f"group '{to_group}' not found")
            previous = task.assignee
            if to_group:
                task.candidate_groups = [to_group]
                task.candidate_users = []
            task.assignee = to_user or None
            task.claimed = c.now if to_user else None
            task.owner = None
            task.delegation = None
            c.tx.update_task(task)
            self._record(c, task, "task_assigned", by, to=to_user, group=to_group,
                         previous=previous)
            return task

        return self._execute(cmd)

    @staticmethod
    def _require_user(c: _Command, user_id: str) -> UserRecord:
        from engine.errors import NotFound

        rec = c.tx.get_user(user_id) if isinstance(user_id, str) else None
        if rec is None:
            raise NotFound(f"user '{user_id}' not found")
        return rec

    # ------------------------------------------------------------------ annotating
    def comment(self, task_id: str, user: str, text: str) -> CommentRecord:
        """Add a comment to a task (anyone involved or a supervisor). It stays with the
        instance after the task ends, and is a `task_commented` history event."""
        from engine.errors import EngineError
        from engine.tasks import check_may_see

        if not isinstance(text, str) or not text.strip():
            raise EngineError("a comment needs some text")
        text = text.strip()
        if len(text) > MAX_COMMENT:
            raise EngineError(f"a comment may have at most {MAX_COMMENT} characters "
                              f"(this one has {len(text)})")
        if "\x00" in text:
            raise EngineError("a comment may not contain NUL characters")

        def cmd(c: _Command) -> CommentRecord:
            task = self._task_for_change(c, task_id)
            check_may_see(task, user, self._who(c, user))
            rec = CommentRecord(uuid.uuid4().hex, task.instance_id, task.id, user, text, c.now)
            c.tx.add_comment(rec)
            self._record(c, task, "task_commented", user, comment_id=rec.id,
                         text=text if len(text) <= 200 else text[:199] + "…")
            return rec

        return self._execute(cmd)

    def set_priority(self, task_id: str, priority: int, by: str) -> TaskRecord:
        """Change a task's priority (0-100): the assignee or a supervisor."""
        from engine.errors import EngineError

        if isinstance(priority, bool) or not isinstance(priority, int) \
                or not 0 <= priority <= 100:
            raise EngineError(f"priority must be a whole number from 0 to 100, not {priority!r}")
        return self._update(task_id, by, "priority", priority)

    def set_due(self, task_id: str, due: datetime | None, by: str) -> TaskRecord:
        """Change (or clear, with None) a task's due date: the assignee or a supervisor.
        Pending "overdue" escalations move with it."""
        return self._update(task_id, by, "due", _aware(due, "due date"))

    def set_follow_up(self, task_id: str, follow_up: datetime | None, by: str) -> TaskRecord:
        return self._update(task_id, by, "follow_up", _aware(follow_up, "follow-up date"))

    def _update(self, task_id: str, by: str, field: str, value: Any) -> TaskRecord:
        from engine.escalation import rearm_overdue
        from engine.tasks import check_may_manage

        def cmd(c: _Command) -> TaskRecord:
            task = self._task_for_change(c, task_id)
            check_may_manage(task, by, self._who(c, by), f"change the {field} of")
            old = getattr(task, field)
            setattr(task, field, value)
            c.tx.update_task(task)
            if field == "due":
                rearm_overdue(c, task)
            self._record(c, task, "task_updated", by, field=field, old=_plain(old),
                         new=_plain(value))
            return task

        return self._execute(cmd)

    # ------------------------------------------------------------------ completing
    def submit_form(self, task_id: str, user: str, raw_form: Mapping[str, Any]) -> dict[str, Any]:
        """Complete a task with its form: values are validated against the task's form
        fields (FormInvalid lists every field's problem) and stored typed; fields the form
        does not define are ignored, fields not posted keep what the form would show.
        Returns the stored values."""
        from engine.forms import form_fields, initial_values, parse_or_raise
        from engine.runtime import triggers as tr
        from engine.tasks import check_may_complete

        def cmd(c: _Command) -> dict[str, Any]:
            task = self._task_for_change(c, task_id)
            u = self._who(c, user)
            check_may_complete(task, user, list(u.groups) if u else [])
            fields = form_fields(self, task)
            _rec, state, _graph = c.load(task.instance_id)
            values = parse_or_raise(fields, raw_form, initial_values(fields, state.variables))
            c.user = user
            c.trigger(task.instance_id, tr.Complete(task.token, dict(values)))
            return values

        return self._execute(cmd)


def _aware(when: datetime | None, what: str) -> datetime | None:
    from engine.errors import EngineError

    if when is None:
        return None
    if not isinstance(when, datetime) or when.tzinfo is None:
        raise EngineError(f"the {what} must be a date-time with a time zone")
    return when


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
