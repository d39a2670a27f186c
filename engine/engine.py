"""`Engine`: the composition root. It builds the command executor and the services, and
keeps the flat API the README documents as one-line forwarders to them.

Why forwarders and not the old mixins: every behaviour now lives in a command (see
engine/commands/), reached through a thin service per area; the facade only assembles them,
so nothing here can decide differently from what the doors get through the same services.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from connectors.registry import Registry
from connectors.registry import registry as default_registry
from engine.commands.context import CommandContext
from engine.commands.deployment import ProcessDefinition
from engine.commands.executor import CommandEnvironment, CommandExecutor
from engine.definitions import DefinitionCache
from engine.dmn import DecisionResult
from engine.graph import Definitions, ProcessGraph
from engine.ids import new_id
from engine.limits import MAX_KEY_LEN, check_text
from engine.script_functions import checked_functions, script_functions
from engine.services.external import ExternalTaskService
from engine.services.identity import IdentityService
from engine.services.jobs import JobService
from engine.services.modification import Instruction, ModificationService
from engine.services.repository import RepositoryService
from engine.services.runtime import InstanceView, RuntimeService
from engine.services.tasks import TaskPage, TaskService
from engine.store.memory import MemoryStore
from engine.store.records import (
    CommentRecord,
    DefinitionRecord,
    ExternalTaskRecord,
    HistoryRecord,
    IncidentRecord,
    JobRecord,
    TaskRecord,
    UserRecord,
)
from engine.testing import utc_now

if TYPE_CHECKING:
    from engine.forms import TaskForm
    from engine.store.protocol import Store

__all__ = ["Engine", "InstanceView", "ProcessDefinition", "TaskPage"]

if default_registry.discover not in script_functions.discovery_hooks:
    script_functions.discovery_hooks.append(default_registry.discover)


class Engine:
    """Baton's public API. `store` defaults to the in-memory store, `clock` to UTC now;
    `script_functions` are trusted functions scripts may call (engine/script_functions.py).
    Every method takes the acting user where it matters (`user=`, or `by=` for changes
    made to someone else's task or account): the policy table (engine/policy.py) decides;
    without a user the caller is trusted."""

    def __init__(
        self,
        store: Store | None = None,
        clock: Callable[[], datetime] | None = None,
        connectors: Registry | None = None,
        worker_id: str | None = None,
        script_functions: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        self.env = CommandEnvironment(
            store=store if store is not None else MemoryStore(),
            clock=clock or utc_now,
            definitions=DefinitionCache(),
            connectors=connectors if connectors is not None else default_registry,
            script_functions=checked_functions(script_functions),
        )
        # the lease owner of this engine's jobs ("<worker id>#<thread>"): an indexed column
        check_text(worker_id, "the worker id", MAX_KEY_LEN - 16)
        self.worker_id = worker_id or f"{os.uname().nodename}:{os.getpid()}:{new_id()[:6]}"
        self.executor = CommandExecutor(self.env)
        self.runtime = RuntimeService(self.executor)
        self.repository = RepositoryService(self.executor)
        self.task_service = TaskService(self.executor)
        self.external = ExternalTaskService(self.executor)
        self.identity = IdentityService(self.executor)
        self.job_service = JobService(self.executor)
        self.modification = ModificationService(self.executor)
        # the hot calls bound to their services: a call costs what the service call costs
        # (the forwarders below document the same methods for readers and type checkers)
        self.start = self.runtime.start  # type: ignore[method-assign]
        self.tasks = self.task_service.tasks  # type: ignore[method-assign]
        self.complete_task = self.task_service.complete_task  # type: ignore[method-assign]
        self.instance = self.runtime.instance  # type: ignore[method-assign]

    # ------------------------------------------------------------ environment
    @property
    def store(self) -> Store:
        return self.env.store

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.env.clock

    @clock.setter
    def clock(self, clock: Callable[[], datetime]) -> None:
        self.env.clock = clock

    @property
    def connectors(self) -> Registry:
        return self.env.connectors

    @property
    def listeners(self) -> list[Callable[[str, Any], None]]:
        """Called with (event, subject) after a command commits (task_created, ...)."""
        return self.env.listeners

    @property
    def script_functions(self) -> dict[str, Callable[..., Any]]:
        return self.env.script_functions

    def run(self, fn: Callable[[CommandContext], Any], user: str | None = None) -> Any:
        """Run a function of the command context as one command (engine-internal steps
        such as the job executor's)."""
        return self.executor.run(fn, user)

    def run_due_jobs(self, limit: int = 10_000) -> int:
        """Run every job due by the clock (timers, async steps, connector calls), including
        jobs that those create and that are due too. Returns how many ran."""
        from engine.jobs import JobExecutor

        return JobExecutor(self).run_due(limit=limit)

    # ------------------------------------------------------------ runtime
    def start(
        self,
        key: str,
        variables: Mapping[str, Any] | None = None,
        business_key: str | None = None,
        version: int | None = None,
        start_event: str | None = None,
        *,
        user: str | None = None,
    ) -> str:
        return self.runtime.start(key, variables, business_key, version, start_event, user=user)

    def instance(self, instance_id: str, *, user: str | None = None) -> InstanceView:
        return self.runtime.instance(instance_id, user=user)

    def instances(
        self,
        *,
        newest_first: bool = False,
        limit: int | None = None,
        offset: int = 0,
        user: str | None = None,
        **filters: Any,
    ) -> list[InstanceView]:
        return self.runtime.instances(
            newest_first=newest_first, limit=limit, offset=offset, user=user, **filters
        )

    def count_instances(self, *, user: str | None = None, **filters: Any) -> int:
        return self.runtime.count_instances(user=user, **filters)

    def variables(self, instance_id: str, *, user: str | None = None) -> dict[str, Any]:
        return self.runtime.variables(instance_id, user=user)

    def set_variables(
        self, instance_id: str, variables: Mapping[str, Any], *, user: str | None = None
    ) -> None:
        return self.runtime.set_variables(instance_id, variables, user=user)

    def cancel(
        self, instance_id: str, reason: str = "cancelled", *, user: str | None = None
    ) -> None:
        return self.runtime.cancel(instance_id, reason, user=user)

    def history(self, instance_id: str, *, user: str | None = None) -> list[HistoryRecord]:
        return self.runtime.history(instance_id, user=user)

    def trigger(
        self,
        instance_id: str,
        activity_id: str,
        variables: Mapping[str, Any] | None = None,
        *,
        user: str | None = None,
    ) -> None:
        return self.runtime.trigger(instance_id, activity_id, variables, user=user)

    def start_adhoc_activity(self, instance_id: str, activity_id: str,
                             variables: Mapping[str, Any] | None = None, *,
                             user: str | None = None) -> None:
        return self.runtime.start_adhoc_activity(instance_id, activity_id, variables, user=user)

    def complete_adhoc(self, instance_id: str, adhoc_id: str, *,
                       user: str | None = None) -> None:
        return self.runtime.complete_adhoc(instance_id, adhoc_id, user=user)

    def adhoc_activities(self, instance_id: str, *,
                         user: str | None = None) -> list[dict[str, Any]]:
        return self.runtime.adhoc_activities(instance_id, user=user)

    def correlate_message(
        self,
        name: str,
        business_key: str | None = None,
        variables: Mapping[str, Any] | None = None,
        instance_id: str | None = None,
        all: bool = False,
        *,
        user: str | None = None,
    ) -> list[str]:
        return self.runtime.correlate_message(
            name, business_key, variables, instance_id, all, user=user
        )

    def broadcast_signal(
        self, name: str, variables: Mapping[str, Any] | None = None, *, user: str | None = None
    ) -> list[str]:
        return self.runtime.broadcast_signal(name, variables, user=user)

    def message_waits(
        self,
        name: str,
        business_key: str | None = None,
        instance_id: str | None = None,
        *,
        user: str | None = None,
    ) -> bool:
        return self.runtime.message_waits(name, business_key, instance_id, user=user)

    def token_variables(
        self, instance_id: str, token: int, local_only: bool = False, *, user: str | None = None
    ) -> dict[str, Any]:
        return self.runtime.token_variables(instance_id, token, local_only, user=user)

    # ------------------------------------------------------------ repository
    def deploy(
        self, source: Any, *more: Any, name: str | None = None, user: str | None = None,
        strict: bool = False, tenant_id: str | None = None, compat: str | None = None,
    ) -> list[ProcessDefinition]:
        """See RepositoryService.deploy; `compat="spiffworkflow"` deploys diagrams written
        for SpiffWorkflow with its multi-instance data rules (docs: migrating from
        SpiffWorkflow); the default reads them as Camunda 7 does."""
        return self.repository.deploy(source, *more, name=name, user=user, strict=strict,
                                      tenant_id=tenant_id, compat=compat)

    def graph(self, definition_id: str) -> ProcessGraph:
        return self.repository.graph(definition_id)

    def definitions(
        self, key: str | None = None, *, user: str | None = None
    ) -> list[DefinitionRecord]:
        return self.repository.definitions(key, user=user)

    def decisions(
        self, key: str | None = None, *, user: str | None = None
    ) -> list[DefinitionRecord]:
        return self.repository.decisions(key, user=user)

    def definition(
        self, key: str, version: int | None = None, *, user: str | None = None
    ) -> DefinitionRecord:
        return self.repository.definition(key, version, user=user)

    def definition_by_id(self, definition_id: str, *, user: str | None = None) -> DefinitionRecord:
        return self.repository.definition_by_id(definition_id, user=user)

    def compiled(self, definition_id: str, *, user: str | None = None) -> Definitions:
        return self.repository.compiled(definition_id, user=user)

    def evaluate_decision(
        self,
        decision_id: str,
        variables: Mapping[str, Any] | None = None,
        *,
        user: str | None = None,
    ) -> DecisionResult:
        return self.repository.evaluate_decision(decision_id, variables, user=user)

    # ------------------------------------------------------------ task_service
    def tasks(
        self,
        *,
        sort: str = "created",
        limit: int | None = None,
        offset: int = 0,
        user: str | None = None,
        **filters: Any,
    ) -> list[TaskRecord]:
        return self.task_service.tasks(sort=sort, limit=limit, offset=offset, user=user, **filters)

    def task(self, task_id: str, *, user: str | None = None) -> TaskRecord:
        return self.task_service.task(task_id, user=user)

    def task_for(self, task_id: str, user: str) -> TaskRecord:
        return self.task_service.task_for(task_id, user)

    def task_form(self, task_id: str, *, user: str | None = None) -> TaskForm:
        return self.task_service.task_form(task_id, user=user)

    def task_actions(self, task_id: str, user: str) -> dict[str, bool]:
        return self.task_service.task_actions(task_id, user)

    def task_variables(
        self, task_id: str, *, user: str | None = None, local_only: bool = False
    ) -> dict[str, Any]:
        return self.task_service.task_variables(task_id, user=user, local_only=local_only)

    def comments(
        self, task_id: str | None = None, instance_id: str | None = None, *, user: str | None = None
    ) -> list[CommentRecord]:
        return self.task_service.comments(task_id, instance_id, user=user)

    def task_list(
        self,
        user: str,
        view: str = "involved",
        *,
        process: str | None = None,
        name_like: str | None = None,
        overdue: bool = False,
        due_before: datetime | None = None,
        priority_min: int | None = None,
        business_key: str | None = None,
        sort: str = "created",
        page: int = 1,
        page_size: int = 25,
        exact_count: bool = False,
    ) -> TaskPage:
        return self.task_service.task_list(
            user,
            view,
            process=process,
            name_like=name_like,
            overdue=overdue,
            due_before=due_before,
            priority_min=priority_min,
            business_key=business_key,
            sort=sort,
            page=page,
            page_size=page_size,
            exact_count=exact_count,
        )

    def claim(self, task_id: str, user: str) -> TaskRecord:
        return self.task_service.claim(task_id, user)

    def unclaim(self, task_id: str, user: str, *, idempotent: bool = False) -> TaskRecord:
        return self.task_service.unclaim(task_id, user, idempotent=idempotent)

    def delegate(self, task_id: str, to_user: str, by: str) -> TaskRecord:
        return self.task_service.delegate(task_id, to_user, by)

    def resolve(self, task_id: str, user: str) -> TaskRecord:
        return self.task_service.resolve(task_id, user)

    def reassign(
        self, task_id: str, to_user: str | None = None, to_group: str | None = None, *, by: str
    ) -> TaskRecord:
        return self.task_service.reassign(task_id, to_user, to_group, by=by)

    def comment(self, task_id: str, user: str, text: str) -> CommentRecord:
        return self.task_service.comment(task_id, user, text)

    def update_task(self, task_id: str, changes: Mapping[str, Any], *, by: str) -> TaskRecord:
        return self.task_service.update_task(task_id, changes, by=by)

    def set_priority(self, task_id: str, priority: int, by: str) -> TaskRecord:
        return self.task_service.set_priority(task_id, priority, by)

    def set_due(self, task_id: str, due: datetime | None, by: str) -> TaskRecord:
        return self.task_service.set_due(task_id, due, by)

    def set_follow_up(self, task_id: str, follow_up: datetime | None, by: str) -> TaskRecord:
        return self.task_service.set_follow_up(task_id, follow_up, by)

    def complete_task(
        self, task_id: str, variables: Mapping[str, Any] | None = None, user: str | None = None
    ) -> dict[str, Any]:
        return self.task_service.complete_task(task_id, variables, user)

    def submit_form(self, task_id: str, user: str, raw_form: Mapping[str, Any]) -> dict[str, Any]:
        return self.task_service.submit_form(task_id, user, raw_form)

    # ------------------------------------------------------------ external
    def external_tasks(
        self, topic: str | None = None, *, user: str | None = None, **filters: Any
    ) -> list[ExternalTaskRecord]:
        return self.external.external_tasks(topic, user=user, **filters)

    def fetch_and_lock(
        self,
        worker_id: str,
        topics: Mapping[str, float],
        max_tasks: int = 10,
        use_priority: bool = False,
        *,
        user: str | None = None,
    ) -> list[ExternalTaskRecord]:
        return self.external.fetch_and_lock(worker_id, topics, max_tasks, use_priority, user=user)

    def fetch_and_lock_with_variables(
        self,
        worker_id: str,
        topics: Mapping[str, float],
        max_tasks: int = 10,
        use_priority: bool = False,
        local_topics: Collection[str] = (),
        *,
        user: str | None = None,
        topic_filters: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> list[tuple[ExternalTaskRecord, dict[str, Any]]]:
        return self.external.fetch_and_lock_with_variables(
            worker_id, topics, max_tasks, use_priority, local_topics, user=user,
            topic_filters=topic_filters,
        )

    def complete_external(
        self,
        task_id: str,
        variables: Mapping[str, Any] | None = None,
        worker_id: str | None = None,
        local_variables: Mapping[str, Any] | None = None,
        *,
        user: str | None = None,
    ) -> None:
        return self.external.complete_external(
            task_id, variables, worker_id, local_variables, user=user
        )

    def fail_external(
        self,
        task_id: str,
        error: str,
        retries: int | None = None,
        retry_timeout: float = 0.0,
        worker_id: str | None = None,
        details: str | None = None,
        *,
        user: str | None = None,
    ) -> None:
        return self.external.fail_external(
            task_id, error, retries, retry_timeout, worker_id, details, user=user
        )

    def set_external_retries(self, task_id: str, retries: int, *, user: str | None = None) -> None:
        return self.external.set_external_retries(task_id, retries, user=user)

    def throw_bpmn_error(
        self,
        task_id: str,
        code: str,
        message: str | None = None,
        variables: Mapping[str, Any] | None = None,
        worker_id: str | None = None,
        *,
        user: str | None = None,
    ) -> None:
        return self.external.throw_bpmn_error(
            task_id, code, message, variables, worker_id, user=user
        )

    def extend_lock(
        self, task_id: str, seconds: float, worker_id: str, *, user: str | None = None
    ) -> None:
        return self.external.extend_lock(task_id, seconds, worker_id, user=user)

    def lock_external(
        self, task_id: str, seconds: float, worker_id: str, *, user: str | None = None
    ) -> None:
        return self.external.lock_external(task_id, seconds, worker_id, user=user)

    def unlock_external(self, task_id: str, *, user: str | None = None) -> None:
        return self.external.unlock_external(task_id, user=user)

    # ------------------------------------------------------------ identity
    def add_user(
        self,
        user_id: str,
        name: str | None,
        password: str,
        roles: Iterable[str] = ("staff",),
        groups: Iterable[str] = (),
        email: str | None = None,
        *,
        by: str | None = None,
    ) -> UserRecord:
        return self.identity.add_user(user_id, name, password, roles, groups, email, by=by)

    def update_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        password: str | None = None,
        roles: Iterable[str] | None = None,
        groups: Iterable[str] | None = None,
        email: str | None = None,
        by: str | None = None,
    ) -> UserRecord:
        return self.identity.update_user(
            user_id, name=name, password=password, roles=roles, groups=groups, email=email, by=by
        )

    def get_user(self, user_id: str) -> UserRecord | None:
        return self.identity.get_user(user_id)

    def user(self, user_id: str) -> UserRecord:
        return self.identity.user(user_id)

    def users(self) -> list[UserRecord]:
        return self.identity.users()

    def check_password(self, user_id: str, password: str) -> UserRecord | None:
        return self.identity.check_password(user_id, password)

    def add_group(self, group_id: str, name: str | None = None, *, by: str | None = None) -> None:
        return self.identity.add_group(group_id, name, by=by)

    def groups(self) -> dict[str, str]:
        return self.identity.groups()

    def add_to_group(self, user_id: str, group_id: str, *, by: str | None = None) -> None:
        return self.identity.add_to_group(user_id, group_id, by=by)

    def remove_from_group(self, user_id: str, group_id: str, *, by: str | None = None) -> None:
        return self.identity.remove_from_group(user_id, group_id, by=by)

    def set_deputy(
        self,
        user_id: str,
        deputy: str | None,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        by: str | None = None,
    ) -> UserRecord:
        return self.identity.set_deputy(user_id, deputy, start, end, by=by)

    def new_api_token(self, user_id: str, *, by: str | None = None) -> str:
        return self.identity.new_api_token(user_id, by=by)

    def revoke_api_token(self, user_id: str, *, by: str | None = None) -> None:
        return self.identity.revoke_api_token(user_id, by=by)

    def user_for_token(self, token: str) -> UserRecord | None:
        return self.identity.user_for_token(token)

    def persistent_secret(self, name: str) -> str:
        return self.identity.persistent_secret(name)

    def authorize(self, user: str | None, resource: str, action: str) -> None:
        return self.identity.authorize(user, resource, action)

    # ------------------------------------------------------------ job_service
    def jobs(self, *, user: str | None = None, **filters: Any) -> list[JobRecord]:
        return self.job_service.jobs(user=user, **filters)

    def incidents(
        self, open_only: bool = True, *, user: str | None = None, **filters: Any
    ) -> list[IncidentRecord]:
        return self.job_service.incidents(open_only, user=user, **filters)

    def retry_incident(
        self, incident_id: str, retries: int = 1, *, user: str | None = None
    ) -> None:
        return self.job_service.retry_incident(incident_id, retries, user=user)

    def set_job_retries(self, job_id: str, retries: int, *, user: str | None = None) -> None:
        return self.job_service.set_job_retries(job_id, retries, user=user)

    # ------------------------------------------------------------ modification
    def modify(
        self,
        instance_id: str,
        *,
        cancel: Iterable[str] = (),
        start_before: Iterable[str] = (),
        start_after: Iterable[str] = (),
        cancel_tokens: Iterable[int] = (),
        variables: Mapping[str, Any] | None = None,
        reason: str | None = None,
        user: str | None = None,
    ) -> None:
        return self.modification.modify(
            instance_id,
            cancel=cancel,
            start_before=start_before,
            start_after=start_after,
            cancel_tokens=cancel_tokens,
            variables=variables,
            reason=reason,
            user=user,
        )

    def apply_modification(
        self,
        instance_id: str,
        instructions: Sequence[Instruction],
        *,
        variables: Mapping[str, Any] | None = None,
        reason: str | None = None,
        user: str | None = None,
    ) -> None:
        return self.modification.apply_modification(
            instance_id, instructions, variables=variables, reason=reason, user=user
        )

    def move_token(
        self,
        instance_id: str,
        from_activity: str,
        to_activity: str,
        *,
        variables: Mapping[str, Any] | None = None,
        reason: str | None = None,
        user: str | None = None,
    ) -> None:
        return self.modification.move_token(
            instance_id, from_activity, to_activity, variables=variables, reason=reason, user=user
        )

    def reset_to(
        self,
        instance_id: str,
        activity_id: str,
        *,
        variables: Mapping[str, Any] | None = None,
        reason: str | None = None,
        user: str | None = None,
    ) -> None:
        return self.modification.reset_to(
            instance_id, activity_id, variables=variables, reason=reason, user=user
        )

    def restart(
        self,
        instance_id: str,
        start_before: Iterable[str],
        *,
        variables: Mapping[str, Any] | None = None,
        reason: str | None = None,
        user: str | None = None,
    ) -> str:
        return self.modification.restart(
            instance_id, start_before, variables=variables, reason=reason, user=user
        )
