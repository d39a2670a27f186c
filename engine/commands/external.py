"""Commands of external-task workers (Camunda's fetch-and-lock protocol): lock, complete,
fail, throw a BPMN error, extend or drop a lock, set retries.

A worker acts on a task only while it holds the task's lock; the instance is locked before
the task row is re-read, so a completion racing a timeout, a cancellation or another worker
applies once or not at all."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar

from engine.commands.context import CommandContext
from engine.commands.executor import BaseCommand
from engine.commands.instances import token_variables
from engine.errors import EngineError, NotFound
from engine.ids import new_id
from engine.runtime import triggers as tr
from engine.store.records import ExternalTaskRecord, IncidentRecord

MAX_LOCK_SECONDS = 366 * 24 * 3600.0     # a lock longer than a year is a client's mistake
MAX_RETRIES = 10_000
MAX_FETCH = 1000


def lock_seconds(value: Any, what: str = "lock duration") -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not 0 <= value <= MAX_LOCK_SECONDS or value != value:
        raise EngineError(f"{what} must be a number of seconds from 0 to "
                          f"{MAX_LOCK_SECONDS:.0f} (a year), not {value!r}")
    return float(value)


def retries_count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_RETRIES:
        raise EngineError(f"retries must be a whole number from 0 to {MAX_RETRIES}, "
                          f"not {value!r}")
    return value


@dataclass(slots=True)
class FetchAndLock(BaseCommand):
    permission: ClassVar[tuple[str, str] | None] = ("external_task", "work")
    worker_id: str
    topics: Mapping[str, float]
    max_tasks: int = 10
    use_priority: bool = False
    local_topics: frozenset[str] | None = None      # None: no variables wanted
    user: str | None = None

    def execute(self, c: CommandContext) -> list[tuple[ExternalTaskRecord, dict[str, Any]]]:
        if not isinstance(self.worker_id, str) or not self.worker_id:
            raise EngineError("a worker needs an id")
        if isinstance(self.max_tasks, bool) or not isinstance(self.max_tasks, int) \
                or not 0 <= self.max_tasks <= MAX_FETCH:
            raise EngineError(f"maxTasks must be a whole number from 0 to {MAX_FETCH}")
        if not self.topics or not self.max_tasks:
            return []
        until = {t: c.now + timedelta(seconds=lock_seconds(s, f"lockDuration of topic '{t}'"))
                 for t, s in self.topics.items()}
        locked = c.tx.lock_external(list(self.topics), self.worker_id, c.now, until,
                                    self.max_tasks, self.use_priority)
        if self.local_topics is None:
            return [(task, {}) for task in locked]
        return [(task, token_variables(c.tx, task.instance_id, task.token,
                                       task.topic in self.local_topics)) for task in locked]


def locked_external(c: CommandContext, task_id: str, worker_id: str | None
                    ) -> ExternalTaskRecord:
    """The task, re-read after its instance is locked, if `worker_id` holds its lock."""
    task = c.tx.get_external(task_id) if isinstance(task_id, str) else None
    if task is None:
        raise NotFound(f"external task '{task_id}' not found (completed or cancelled?)")
    c.load(task.instance_id)
    fresh = c.tx.get_external(task_id)
    if fresh is None or fresh.token != task.token:
        raise NotFound(f"external task '{task_id}' not found (completed or cancelled?)")
    task = fresh
    if worker_id is not None:
        locked = task.worker_id is not None and task.lock_expires is not None \
            and task.lock_expires > c.now
        if not locked:
            raise EngineError(f"external task '{task_id}' is not locked by worker "
                              f"'{worker_id}' (its lock is missing or expired)")
        if task.worker_id != worker_id:
            raise EngineError(f"external task '{task_id}' is locked by worker "
                              f"'{task.worker_id}', not '{worker_id}'")
    c.externals[(task.instance_id, task.token)] = task
    return task


@dataclass(slots=True)
class CompleteExternal(BaseCommand):
    permission: ClassVar[tuple[str, str] | None] = ("external_task", "work")
    task_id: str
    variables: Mapping[str, Any] = field(default_factory=dict)
    worker_id: str | None = None
    local_variables: Mapping[str, Any] = field(default_factory=dict)
    user: str | None = None

    def execute(self, c: CommandContext) -> None:
        task = locked_external(c, self.task_id, self.worker_id)
        c.outside_variables = bool(self.variables)
        if self.local_variables:
            c.trigger(task.instance_id, tr.SetVariables({}))
        c.trigger(task.instance_id, tr.Complete(task.token, dict(self.variables)))


@dataclass(slots=True)
class FailExternal(BaseCommand):
    """A worker's failure: with retries left the task is fetchable again after
    `retry_timeout` seconds; at 0 retries an incident is opened."""

    permission: ClassVar[tuple[str, str] | None] = ("external_task", "work")
    task_id: str
    error: str
    retries: int | None = None
    retry_timeout: float = 0.0
    worker_id: str | None = None
    details: str | None = None
    user: str | None = None

    def execute(self, c: CommandContext) -> None:
        if self.retries is not None:
            retries_count(self.retries)
        timeout = lock_seconds(self.retry_timeout or 0, "retryTimeout")
        task = locked_external(c, self.task_id, self.worker_id)
        task.error_message = str(self.error)[:4000] if self.error is not None else None
        task.error_details = self.details
        task.retries = self.retries if self.retries is not None else (task.retries or 3) - 1
        task.worker_id = None
        task.lock_expires = None
        task.due = c.now + timedelta(seconds=timeout) if timeout else None
        c.tx.update_external(task)
        if task.retries is not None and task.retries <= 0:
            c.tx.add_incident(IncidentRecord(
                new_id(), "failedExternalTask", task.instance_id, task.activity_id,
                task.error_message or "", c.now, external_task_id=task.id, stack=self.details))


@dataclass(slots=True)
class SetExternalRetries(BaseCommand):
    permission: ClassVar[tuple[str, str] | None] = ("external_task", "retries")
    task_id: str
    retries: int
    user: str | None = None

    def execute(self, c: CommandContext) -> None:
        retries = retries_count(self.retries)
        task = locked_external(c, self.task_id, None)
        task.retries = retries
        c.tx.update_external(task)
        if retries > 0:
            for inc in c.tx.find_incidents(external_task_id=self.task_id):
                inc.resolved = c.now
                c.tx.update_incident(inc)


@dataclass(slots=True)
class ThrowBpmnError(BaseCommand):
    permission: ClassVar[tuple[str, str] | None] = ("external_task", "work")
    task_id: str
    code: str
    message: str | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)
    worker_id: str | None = None
    user: str | None = None

    def execute(self, c: CommandContext) -> None:
        task = locked_external(c, self.task_id, self.worker_id)
        c.outside_variables = bool(self.variables)
        c.trigger(task.instance_id, tr.Throw(task.token, self.code, self.message,
                                             dict(self.variables)))


@dataclass(slots=True)
class ExtendLock(BaseCommand):
    permission: ClassVar[tuple[str, str] | None] = ("external_task", "work")
    task_id: str
    seconds: float
    worker_id: str
    user: str | None = None

    def execute(self, c: CommandContext) -> None:
        seconds = lock_seconds(self.seconds, "newDuration")
        task = locked_external(c, self.task_id, self.worker_id)
        task.lock_expires = c.now + timedelta(seconds=seconds)
        c.tx.update_external(task)


@dataclass(slots=True)
class UnlockExternal(BaseCommand):
    permission: ClassVar[tuple[str, str] | None] = ("external_task", "work")
    task_id: str
    user: str | None = None

    def execute(self, c: CommandContext) -> None:
        task = locked_external(c, self.task_id, None)
        task.worker_id = None
        task.lock_expires = None
        c.tx.update_external(task)


@dataclass(slots=True)
class ExternalTasks(BaseCommand):
    permission: ClassVar[tuple[str, str] | None] = ("external_task", "read")
    writes: ClassVar[bool] = False
    topic: str | None = None
    filters: Mapping[str, Any] = field(default_factory=dict)
    user: str | None = None

    def execute(self, c: CommandContext) -> list[ExternalTaskRecord]:
        return c.tx.find_external(topic=self.topic, **self.filters)


def local_topic_set(topics: Collection[str]) -> frozenset[str]:
    return frozenset(topics)
