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
from engine.limits import MAX_LOCK_MS, MAX_RETRIES, check_text, check_variables
from engine.runtime import triggers as tr
from engine.store.predicates import compiled, sort_records
from engine.store.records import DefinitionRecord, ExternalTaskRecord, IncidentRecord
from engine.store.rules import EXTERNAL_FETCHABLE, EXTERNAL_ORDER, EXTERNAL_PRIORITY_ORDER

MAX_LOCK_SECONDS = MAX_LOCK_MS / 1000   # a lock longer than a year is a client's mistake
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


TOPIC_FILTERS = frozenset({"business_key", "definition_ids", "definition_keys", "tenant_ids",
                           "without_tenant", "variables", "version_tag"})
_FETCHABLE = compiled(EXTERNAL_FETCHABLE)


@dataclass(frozen=True, slots=True)
class TopicFilter:
    """What else a task of one topic must match to be fetched (Camunda's per-topic fetch
    filters): the instance's business key, the definition's id or key, its tenant (one of
    `tenant_ids`, or none with `without_tenant`), its version tag (camunda:versionTag), and
    process variables, of which ANY must hold its value (Camunda 7 ORs them:
    ExternalTask.xml, `filterVariables`)."""

    business_key: str | None = None
    definition_ids: frozenset[str] | None = None
    definition_keys: frozenset[str] | None = None
    tenant_ids: frozenset[str] | None = None
    without_tenant: bool = False
    variables: Mapping[str, Any] | None = None
    version_tag: str | None = None

    @classmethod
    def of(cls, topic: str, given: Mapping[str, Any]) -> TopicFilter:
        unknown = set(given) - TOPIC_FILTERS
        if unknown:
            raise EngineError(f"topic '{topic}': unknown fetch filter(s) "
                              f"{', '.join(sorted(unknown))} (known: "
                              f"{', '.join(sorted(TOPIC_FILTERS))})")
        sets = {k: frozenset(given[k]) if given.get(k) is not None else None
                for k in ("definition_ids", "definition_keys", "tenant_ids")}
        variables = given.get("variables") or None
        check_variables(variables, where=f"topic '{topic}': variables")
        tag = given.get("version_tag")
        if tag is not None and not isinstance(tag, str):
            raise EngineError(f"topic '{topic}': the version tag must be a string, "
                              f"not {type(tag).__name__}")
        return cls(given.get("business_key"), sets["definition_ids"], sets["definition_keys"],
                   sets["tenant_ids"], bool(given.get("without_tenant")), variables, tag)

    @property
    def needs_definition(self) -> bool:
        """Whether the task's definition must be read to decide (tenant, version tag)."""
        return self.tenant_ids is not None or self.without_tenant \
            or self.version_tag is not None

    def matches_task(self, task: ExternalTaskRecord) -> bool:
        """The filters the task row answers by itself."""
        return (self.business_key is None or task.business_key == self.business_key) \
            and (self.definition_ids is None or task.definition_id in self.definition_ids) \
            and (self.definition_keys is None or task.definition_key in self.definition_keys)

    def matches_tenant(self, tenant_id: str | None) -> bool:
        if self.without_tenant and tenant_id is not None:
            return False
        return self.tenant_ids is None or tenant_id in self.tenant_ids

    def matches_definition(self, rec: DefinitionRecord | None) -> bool:
        """The filters the task's definition answers: its tenant and version tag."""
        if self.version_tag is not None \
                and (rec is None or rec.version_tag != self.version_tag):
            return False
        return self.matches_tenant(rec.tenant_id if rec is not None else None)

    def matches_variables(self, variables: Mapping[str, Any]) -> bool:
        if not self.variables:
            return True
        return any(name in variables and variables[name] == value
                   for name, value in self.variables.items())


@dataclass(slots=True)
class FetchAndLock(BaseCommand):
    """Lock fetchable tasks of the topics. Topics without filters are leased by the store in
    one statement (`lock_external`: SKIP LOCKED on PostgreSQL). Topics with filters are read,
    filtered here and leased by updating each row: the store's revision check makes a
    task another worker leased meanwhile a conflict, and the command is retried."""

    permission: ClassVar[tuple[str, str] | None] = ("external_task", "work")
    worker_id: str
    topics: Mapping[str, float]
    max_tasks: int = 10
    use_priority: bool = False
    local_topics: frozenset[str] | None = None      # None: no variables wanted
    user: str | None = None
    topic_filters: Mapping[str, Mapping[str, Any]] | None = None

    def execute(self, c: CommandContext) -> list[tuple[ExternalTaskRecord, dict[str, Any]]]:
        if not isinstance(self.worker_id, str) or not self.worker_id:
            raise EngineError("a worker needs an id")
        check_text(self.worker_id, "the worker id")
        for topic in self.topics or ():
            check_text(topic, "the topic name")
        if isinstance(self.max_tasks, bool) or not isinstance(self.max_tasks, int) \
                or not 0 <= self.max_tasks <= MAX_FETCH:
            raise EngineError(f"maxTasks must be a whole number from 0 to {MAX_FETCH}")
        if not self.topics or not self.max_tasks:
            return []
        until = {t: c.now + timedelta(seconds=lock_seconds(s, f"lockDuration of topic '{t}'"))
                 for t, s in self.topics.items()}
        filters = {t: TopicFilter.of(t, f) for t, f in (self.topic_filters or {}).items()
                   if t in until and f}
        plain = {t: when for t, when in until.items() if t not in filters}
        locked = c.tx.lock_external(list(plain), self.worker_id, c.now, plain,
                                    self.max_tasks, self.use_priority) if plain else []
        if filters and len(locked) < self.max_tasks:
            locked += self._lock_filtered(c, filters, until, self.max_tasks - len(locked))
        if self.local_topics is None:
            return [(task, {}) for task in locked]
        return [(task, token_variables(c.tx, task.instance_id, task.token,
                                       task.topic in self.local_topics)) for task in locked]

    def _lock_filtered(self, c: CommandContext, filters: Mapping[str, TopicFilter],
                       until: Mapping[str, Any], room: int) -> list[ExternalTaskRecord]:
        params = {"now": c.now, "topics": filters}
        candidates: list[ExternalTaskRecord] = []
        for topic, f in filters.items():
            found = c.tx.find_external(topic=topic, **({"business_key": f.business_key}
                                                       if f.business_key is not None else {}))
            candidates += [t for t in found if _FETCHABLE(t, params) and f.matches_task(t)]
        sort_records(candidates, EXTERNAL_PRIORITY_ORDER if self.use_priority
                     else EXTERNAL_ORDER)
        definitions: dict[str, DefinitionRecord | None] = {}
        out: list[ExternalTaskRecord] = []
        for task in candidates:
            f = filters[task.topic]
            if f.needs_definition:
                if task.definition_id not in definitions:
                    definitions[task.definition_id] = c.tx.get_definition(task.definition_id)
                if not f.matches_definition(definitions[task.definition_id]):
                    continue
            if f.variables:
                instance = c.tx.get_instance(task.instance_id)
                if instance is None or not f.matches_variables(instance.variables):
                    continue
            task.worker_id = self.worker_id
            task.lock_expires = until[task.topic]
            c.tx.update_external(task)
            out.append(task)
            if len(out) >= room:
                break
        return out


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
class LockExternal(BaseCommand):
    """Lock one task by id for a worker (Camunda 7.17's `POST /external-task/{id}/lock`):
    a worker that learned of a task some other way (a query, a message) takes it without
    fetching. As in Camunda, the lock holder may lock again (a new duration from now), and
    an expired lock may be taken over; a live lock of another worker is refused."""

    permission: ClassVar[tuple[str, str] | None] = ("external_task", "work")
    task_id: str
    seconds: float
    worker_id: str
    user: str | None = None

    def execute(self, c: CommandContext) -> None:
        if not isinstance(self.worker_id, str) or not self.worker_id:
            raise EngineError("a worker needs an id")
        check_text(self.worker_id, "the worker id")
        seconds = lock_seconds(self.seconds, "lockDuration")
        task = locked_external(c, self.task_id, None)
        held = task.worker_id is not None and task.lock_expires is not None \
            and task.lock_expires > c.now
        if held and task.worker_id != self.worker_id:
            raise EngineError(f"external task '{self.task_id}' cannot be locked by worker "
                              f"'{self.worker_id}': it is locked by worker '{task.worker_id}'")
        task.worker_id = self.worker_id
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
