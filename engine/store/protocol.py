"""The contract between the engine and a store, as `typing.Protocol` classes.

The engine runs every command inside `store.transaction()` and talks to the transaction
only through the methods below, so the in-memory store (tests, embedding) and the SQL store
(SQLite, PostgreSQL) are interchangeable, and a third one needs nothing beyond this page.
Every method is part of the contract, including the ones that mean nothing to one store
(the memory store's `new_instance` is a no-op): callers call them directly instead of
probing with `getattr`, so a missing method is a failed conformance test, not a feature
that silently switches itself off.

Filters (`**filters`) are keyword equality tests on record fields unless the method says
otherwise; an unknown filter raises ValueError on every store.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from engine.store.records import (
    CommentRecord,
    DefinitionRecord,
    DeploymentRecord,
    ExternalTaskRecord,
    HistoryRecord,
    IncidentRecord,
    InstanceRecord,
    JobRecord,
    SubscriptionRecord,
    TaskRecord,
    UserRecord,
)


@runtime_checkable
class StoreTransaction(Protocol):
    """One transaction: everything written commits together when the `with` block ends,
    or nothing does when it raises. Records handed out are the caller's own copies: a
    change counts only once written back with `update_*`. A record handed in (`add_*`,
    `update_*`) belongs to the store from then on: the caller does not change it again
    (the memory store keeps it as it is, without a copy)."""

    # ---------------------------------------------------------------- capabilities
    # True when no other transaction can change what this one has read before it ends (the
    # memory store runs one transaction at a time): a command need not read a row again
    # after it has locked the instance the row belongs to.
    serializable: bool

    # ---------------------------------------------------------------- hints
    def new_instance(self, instance_id: str) -> None:
        """The instance is being created in this transaction, so it has no rows but those
        added here: a store may skip looking for its tasks, jobs and subscriptions."""

    # ---------------------------------------------------------------- definitions
    def add_deployment(self, rec: DeploymentRecord) -> None: ...

    def add_definition(self, rec: DefinitionRecord) -> None: ...

    def get_definition(self, def_id: str) -> DefinitionRecord | None: ...

    def definitions(self, key: str | None = None) -> list[DefinitionRecord]:
        """By key, then version."""

    def latest_definition(self, key: str, *, starting: bool = False) -> DefinitionRecord | None:
        """The newest version of `key`. `starting`: the caller starts an instance of it in
        this (writing) transaction, so a store may answer from a cache and check at commit
        that no newer version exists by then (failing the transaction with
        ConcurrentModification otherwise, so the command is retried on the new version)."""

    def definition_version(self, key: str, version: int) -> DefinitionRecord | None: ...

    # ---------------------------------------------------------------- instances
    def add_instance(self, rec: InstanceRecord) -> None: ...

    def get_instance(self, instance_id: str, lock: bool = False) -> InstanceRecord | None:
        """`lock`: hold the row until the transaction ends, so racing commands queue
        instead of failing on the revision check (where the database can lock rows)."""

    def update_instance(self, rec: InstanceRecord) -> None:
        """Write back a row read here; raises ConcurrentModification when another
        transaction changed it since (its `revision` moved on)."""

    def find_instances(self, *, newest_first: bool = False, limit: int | None = None,
                       offset: int = 0, **filters: Any) -> list[InstanceRecord]: ...

    def count_instances(self, **filters: Any) -> int: ...

    def child_instances(self, parent_id: str,
                        token: int | None = None) -> list[InstanceRecord]: ...

    # ---------------------------------------------------------------- user tasks
    def add_task(self, rec: TaskRecord) -> None: ...

    def get_task(self, task_id: str) -> TaskRecord | None: ...

    def lock_task(self, task_id: str) -> TaskRecord | None:
        """The task as read after its instance's row is locked for this transaction (what a
        command that acts on a task decides on), or None when it is gone. A store may take
        the lock, read the task and the instance row in one round trip; the instance's
        `get_instance(lock=True)` that follows is then answered from that read."""

    def update_task(self, rec: TaskRecord) -> None: ...

    def delete_task(self, task_id: str) -> None: ...

    def delete_wait_rows(self, instance_id: str) -> None:
        """Delete every task, job, external task and subscription row of an instance that
        ended (one call: the memory store walks its instance index, the SQL store asks only
        where its probe says rows may be)."""

    def task_by_token(self, instance_id: str, token: int) -> TaskRecord | None: ...

    def find_tasks(self, *, sort: str = "created", limit: int | None = None, offset: int = 0,
                   **filters: Any) -> list[TaskRecord]:
        """The filters of `engine.store.rules.TASK_FILTERS`; sort one of
        `rules.TASK_SORT_KEYS`, "-" in front for descending."""

    def count_tasks(self, *, limit: int | None = None, **filters: Any) -> int:
        """How many match, counting no further than `limit` when given."""

    # ---------------------------------------------------------------- jobs
    def add_job(self, rec: JobRecord) -> None: ...

    def get_job(self, job_id: str) -> JobRecord | None: ...

    def lock_job(self, job_id: str) -> JobRecord | None:
        """The job as read after its instance's row is locked for this transaction (a job
        of no instance is just read), or None when it is gone: what running or failing a
        job decides on. Like `lock_task`, one round trip where the store can."""

    def update_job(self, rec: JobRecord) -> None: ...

    def delete_job(self, job_id: str) -> None: ...

    def find_jobs(self, **filters: Any) -> list[JobRecord]: ...

    def acquire_jobs(self, now: datetime, owner: str, lease_until: datetime, limit: int,
                     exclusive: bool = True) -> list[JobRecord]:
        """Lease due jobs (see `rules.JOB_ACQUIRABLE`); `exclusive`: at most one leased
        job per instance at a time."""

    # ---------------------------------------------------------------- external tasks
    def add_external(self, rec: ExternalTaskRecord) -> None: ...

    def get_external(self, task_id: str) -> ExternalTaskRecord | None: ...

    def update_external(self, rec: ExternalTaskRecord) -> None: ...

    def delete_external(self, task_id: str) -> None: ...

    def external_by_token(self, instance_id: str, token: int) -> ExternalTaskRecord | None: ...

    def find_external(self, **filters: Any) -> list[ExternalTaskRecord]: ...

    def lock_external(self, topics: list[str], worker_id: str, now: datetime,
                      lock_until: dict[str, datetime], limit: int,
                      use_priority: bool = False) -> list[ExternalTaskRecord]:
        """Lease fetchable tasks of the topics (see `rules.EXTERNAL_FETCHABLE`), each
        until its topic's time in `lock_until`."""

    # ---------------------------------------------------------------- subscriptions
    def add_subscription(self, rec: SubscriptionRecord) -> None: ...

    def delete_subscription(self, sub_id: str) -> None: ...

    def find_subscriptions(self, **filters: Any) -> list[SubscriptionRecord]: ...

    # ---------------------------------------------------------------- incidents
    def add_incident(self, rec: IncidentRecord) -> None: ...

    def get_incident(self, incident_id: str) -> IncidentRecord | None: ...

    def update_incident(self, rec: IncidentRecord) -> None: ...

    def find_incidents(self, *, open_only: bool = True,
                       **filters: Any) -> list[IncidentRecord]: ...

    # ---------------------------------------------------------------- history
    def add_history(self, rows: list[HistoryRecord]) -> None: ...

    def history(self, instance_id: str) -> list[HistoryRecord]: ...

    # ---------------------------------------------------------------- comments
    def add_comment(self, rec: CommentRecord) -> None: ...

    def comments(self, *, instance_id: str | None = None,
                 task_id: str | None = None) -> list[CommentRecord]: ...

    # ---------------------------------------------------------------- users and groups
    def add_user(self, rec: UserRecord) -> None: ...

    def update_user(self, rec: UserRecord) -> None: ...

    def get_user(self, user_id: str) -> UserRecord | None: ...

    def users(self) -> list[UserRecord]: ...

    def add_group(self, group_id: str, name: str | None = None) -> None: ...

    def groups(self) -> dict[str, str]:
        """Group id -> display name."""

    # ---------------------------------------------------------------- secrets
    def set_secret(self, name: str, value: str) -> None: ...

    def get_secret(self, name: str) -> str | None: ...

    # ---------------------------------------------------------------- data stores
    def read_data_stores(self, names: Iterable[str] | None = None) -> dict[str, Any]:
        """Name -> value of the data stores named (all with None); a store never written
        is absent. Values are JSON-like data (engine.store.codec)."""

    def write_data_store(self, name: str, value: Any, updated: datetime) -> None:
        """Create or replace the data store `name` (last writer wins)."""


@runtime_checkable
class JobWaiter(Protocol):
    """What an idle job worker sleeps on (`Store.job_waiter()`): woken when a job it can
    run may have been committed, so it need not wait for its next poll. A wake is a hint,
    never a promise (the worker acquires and may find nothing), and a missed one costs
    only the poll interval: waiting always ends by `timeout`."""

    def ticket(self) -> int:
        """Taken before looking for jobs; `wait(since=ticket)` returns at once when a wake
        came in after it (none is lost between "nothing due" and "start waiting")."""

    def wait(self, timeout: float, since: int | None = None) -> bool:
        """Sleep up to `timeout` seconds; True when woken, False when the time ran out."""

    def wake(self) -> None:
        """Wake every thread waiting on this waiter (`Worker.stop()` uses it too)."""


@runtime_checkable
class Store(Protocol):
    """Where the engine keeps its state. `dialect` names the backend ("memory", "sqlite",
    "postgresql", "mysql" for MariaDB and MySQL) for messages and for tests that compare
    them."""

    dialect: str

    def transaction(self, read_only: bool = False) -> AbstractContextManager[StoreTransaction]:
        """`with store.transaction() as tx:` one transaction. One opened inside another in
        the same thread must not wait for the outer one (a definition looked up mid-command).
        `read_only`: the block only reads (queries), so a store may begin it without a
        write lock; the SQL store refuses a write in it."""

    def job_waiter(self) -> JobWaiter:
        """The store's one waiter for idle job workers, shared by every worker thread of
        the process (created on first use). PostgreSQL: woken by NOTIFY from any process
        (engine/store/pg_wakeup.py); SQLite and MariaDB: by this process's own commits of
        due jobs (the memory store too)."""

    def close(self) -> None: ...


__all__ = ["JobWaiter", "Store", "StoreTransaction"]
