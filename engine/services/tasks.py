"""Human tasks: the tasklist's queries, claim, unclaim, delegate, resolve, reassign,
comment, change priority and dates, complete (with or without a form).

Users are named by id; an id the user directory does not know has no groups and no roles,
so it may only act on tasks that name it directly."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.commands import tasks as cmd
from engine.commands.context import CommandContext
from engine.commands.instances import checked_variables
from engine.errors import EngineError, Forbidden
from engine.forms import form_fields, initial_values
from engine.policy import allows
from engine.services.base import Service
from engine.store.records import CommentRecord, TaskRecord

if TYPE_CHECKING:
    from engine.forms import TaskForm

MAX_COMMENT = cmd.MAX_COMMENT
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


class TaskService(Service):
    # ------------------------------------------------------------------ reading
    def tasks(self, *, sort: str = "created", limit: int | None = None, offset: int = 0,
              user: str | None = None, **filters: Any) -> list[TaskRecord]:
        """Tasks matching the filters. With `user`: only the tasks that user may see (every
        task for a supervisor; the tasks of one instance for those who may read instances)."""
        if user is None:            # the trusted caller's query: one transaction, no more
            with self.env.store.transaction(True) as tx:
                if sort == "created" and limit is None and not offset:
                    return tx.find_tasks(**filters)
                return tx.find_tasks(sort=sort, limit=limit, offset=offset, **filters)

        def read(c: CommandContext) -> list[TaskRecord]:
            actor = c.actor
            if actor is not None and not allows(actor, "task", "read") and not (
                    filters.get("instance_id") and allows(actor, "instance", "read")):
                filters["involving"] = (actor.id, actor.groups)
            return c.tx.find_tasks(sort=sort, limit=limit, offset=offset, **filters)

        return self.read(read, user)

    def task(self, task_id: str, *, user: str | None = None) -> TaskRecord:
        return self.executor.execute(cmd.ReadTask(task_id, user))

    def task_for(self, task_id: str, user: str) -> TaskRecord:
        """The task, if `user` is involved in it or a supervisor (else Forbidden)."""
        return self.task(task_id, user=user)

    def task_form(self, task_id: str, *, user: str | None = None) -> TaskForm:
        """The task's form fields with initial values (variables, else defaults)."""
        from engine.forms import TaskForm

        def read(c: CommandContext) -> TaskForm:
            task = cmd.ReadTask(task_id, user).execute(c)
            fields = form_fields(c, task)
            rec = c.tx.get_instance(task.instance_id)
            variables = rec.variables if rec is not None else {}
            return TaskForm(fields, initial_values(fields, variables), task.form_key)

        return self.read(read, user)

    def task_actions(self, task_id: str, user: str) -> dict[str, bool]:
        """What `user` may do with the task now (claim, unclaim, complete, delegate, manage,
        comment), by the same policy the commands apply."""
        from engine.tasks import task_actions

        def read(c: CommandContext) -> dict[str, bool]:
            task = cmd.ReadTask(task_id, user).execute(c)
            assert c.actor is not None
            return task_actions(task, c.actor)

        return self.read(read, user)

    def task_variables(self, task_id: str, *, user: str | None = None,
                       local_only: bool = False) -> dict[str, Any]:
        """The variables the task's token sees, for those who may see the task."""
        return self.executor.execute(cmd.TaskVariables(task_id, user, local_only))

    def comments(self, task_id: str | None = None, instance_id: str | None = None, *,
                 user: str | None = None) -> list[CommentRecord]:
        """Comments on a task, or on every task of an instance, oldest first."""
        return self.executor.execute(cmd.TaskComments(task_id, instance_id, user))

    def task_list(self, user: str, view: str = "involved", *, process: str | None = None,
                  name_like: str | None = None, overdue: bool = False,
                  due_before: datetime | None = None, priority_min: int | None = None,
                  business_key: str | None = None, sort: str = "created", page: int = 1,
                  page_size: int = 25, exact_count: bool = False) -> TaskPage:
        """The tasklist's query. Views: "mine" (assigned to the user), "claimable"
        (unassigned, for the user or their groups), "involved" (both), "all" (every open
        task: supervisors only). Filters narrow any view. The count stops at `COUNT_CAP`
        (see TaskPage) unless `exact_count`."""
        if view not in TASK_VIEWS:
            raise EngineError(f"unknown task view '{view}': use one of {', '.join(TASK_VIEWS)}")
        if sort not in TASK_SORTS:
            raise EngineError(f"cannot sort tasks by '{sort}': use one of "
                              f"{', '.join(TASK_SORTS)}")
        if isinstance(page, bool) or not isinstance(page, int) or not 1 <= page <= 1_000_000:
            raise EngineError("page must be a whole number from 1 to 1000000")
        if isinstance(page_size, bool) or not isinstance(page_size, int) \
                or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise EngineError(f"page size must be a whole number from 1 to {MAX_PAGE_SIZE}")
        if priority_min is not None and (isinstance(priority_min, bool)
                                         or not isinstance(priority_min, int)
                                         or not -(2 ** 31) <= priority_min < 2 ** 31):
            raise EngineError("priority_min must be a whole number")

        def read(c: CommandContext) -> TaskPage:
            actor = c.actor
            assert actor is not None
            filters: dict[str, Any] = {
                "definition_key": process or None, "name_like": name_like or None,
                "overdue_at": c.now if overdue else None, "due_before": due_before,
                "priority_min": priority_min, "business_key": business_key or None,
            }
            if view == "mine":
                filters["assignee"] = actor.id
            elif view == "claimable":
                filters["claimable_by"] = (actor.id, actor.groups)
            elif view == "involved":
                filters["involving"] = (actor.id, actor.groups)
            elif not allows(actor, "task", "list-all"):
                raise Forbidden(f"user '{actor.id}' may not see all open tasks "
                                "(supervisors only)")
            offset = (page - 1) * page_size
            cap = None if exact_count else max(COUNT_CAP, offset + page_size)
            total = c.tx.count_tasks(limit=None if cap is None else cap + 1, **filters)
            # nothing to show (a name nobody has, a page past the end): no page query, which
            # would walk the whole sort index looking for matches that the count has not found
            items = c.tx.find_tasks(sort=sort, limit=page_size, offset=offset,
                                    **filters) if total > offset else []
            if cap is not None and total > cap:
                return TaskPage(items, cap, page, page_size, capped=True)
            return TaskPage(items, total, page, page_size)

        if not isinstance(user, str) or not user:
            raise EngineError("a task list is always some user's")
        return self.read(read, user)

    # ------------------------------------------------------------------ changing
    def claim(self, task_id: str, user: str) -> TaskRecord:
        """Take an unassigned task: only a candidate or a supervisor. Claiming one's own
        task again changes nothing."""
        return self.executor.execute(cmd.Claim(task_id, user))

    def unclaim(self, task_id: str, user: str, *, idempotent: bool = False) -> TaskRecord:
        """Give a task back to its candidates: the assignee or a supervisor."""
        return self.executor.execute(cmd.Unclaim(task_id, user, idempotent))

    def delegate(self, task_id: str, to_user: str, by: str) -> TaskRecord:
        """Hand a task to another user for now: the assignee (or a supervisor) stays its
        owner and may take it back; the delegate may complete it or `resolve` it."""
        return self.executor.execute(cmd.Delegate(task_id, to_user, by))

    def resolve(self, task_id: str, user: str) -> TaskRecord:
        """The delegate gives a delegated task back to its owner."""
        return self.executor.execute(cmd.Resolve(task_id, user))

    def reassign(self, task_id: str, to_user: str | None = None, to_group: str | None = None,
                 *, by: str) -> TaskRecord:
        """Route a task elsewhere: to a user (assigned to them), to a group (unassigned,
        that group its only candidate), or both. The assignee or a supervisor."""
        return self.executor.execute(cmd.Reassign(task_id, to_user, to_group, by))

    def comment(self, task_id: str, user: str, text: str) -> CommentRecord:
        """Add a comment to a task (anyone involved or a supervisor). It stays with the
        instance after the task ends, and is a `task_commented` history event."""
        return self.executor.execute(cmd.Comment(task_id, text, user))

    def update_task(self, task_id: str, changes: Mapping[str, Any], *, by: str) -> TaskRecord:
        """Change priority (0-100), due and follow-up dates (aware date-times or None)
        together: every change applies, or none."""
        if not changes:
            raise EngineError("nothing to change")
        return self.executor.execute(cmd.UpdateTask(task_id, dict(changes), by))

    def set_priority(self, task_id: str, priority: int, by: str) -> TaskRecord:
        return self.update_task(task_id, {"priority": priority}, by=by)

    def set_due(self, task_id: str, due: datetime | None, by: str) -> TaskRecord:
        """Change (or clear, with None) a task's due date; pending "overdue" escalations
        move with it."""
        return self.update_task(task_id, {"due": due}, by=by)

    def set_follow_up(self, task_id: str, follow_up: datetime | None, by: str) -> TaskRecord:
        return self.update_task(task_id, {"follow_up": follow_up}, by=by)

    def complete_task(self, task_id: str, variables: Mapping[str, Any] | None = None,
                      user: str | None = None) -> dict[str, Any]:
        """Complete a user task. With `user`, only its assignee (or, when unassigned, a
        candidate) may complete it; a task with a form takes only values its form accepts.
        Returns the variables stored (typed as the form types them)."""
        return self.executor.execute(cmd.CompleteTask(task_id, checked_variables(variables),
                                                      user))

    def submit_form(self, task_id: str, user: str, raw_form: Mapping[str, Any]) -> dict[str, Any]:
        """Complete a task with its form (see engine.commands.tasks.SubmitForm); returns
        the stored values."""
        if not isinstance(raw_form, Mapping):
            raise EngineError("the form must be a mapping of field ids to values")
        return self.executor.execute(cmd.SubmitForm(task_id, raw_form, user))
