"""The in-memory store: the same transaction API as the SQL store, for tests, embedding and
benchmarks of the runtime alone.

A transaction keeps an undo log, so a command that fails half-way leaves the store exactly
as it was (the rule that nothing already stored is lost holds here too). Writes keep, and
reads return, copies (`rules.clone`), so a caller that mutates a record changes nothing
until it writes it back, as with a database.

What an engine keeps in memory must cost Python's cycle collector nothing once it has seen
it: every full collection walks every object the collector tracks, and with the history of
10,000 instances kept that cost a quarter of a lifecycle's time. So history events are
kept as the runtime emits them, plain tuples (one of strings, numbers and datetimes is
untracked after its first collection; a tuple of a subclass, like History itself, never
is), one tuple of them per command and instance, linked to the instance's one before (an
instance costs one int in a dict); and the runtime hands over instance states made of
tuples (InstanceState.to_dict).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from datetime import datetime
from functools import partial
from itertools import chain, groupby
from operator import itemgetter
from typing import Any

from engine.store.pg_wakeup import Wakeup, draining, wakes_workers
from engine.store.predicates import compiled, sort_records
from engine.store.records import (
    CommentRecord,
    ConcurrentModification,
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
from engine.store.rules import (
    COMMENT_ORDER,
    EXTERNAL_FETCHABLE,
    EXTERNAL_ORDER,
    EXTERNAL_PRIORITY_ORDER,
    INCIDENT_OPEN,
    INCIDENT_ORDER,
    INSTANCE_NEWEST,
    INSTANCE_ORDER,
    JOB_ACQUIRABLE,
    JOB_LEASED,
    JOB_ORDER,
    clone,
    equality_filter,
    external_filter,
    instance_filter,
    parse_sort,
    sort_tasks,
    task_filter,
)

# the tables holding an instance's wait-state rows (in the instance index)
WAIT_TABLES = ("tasks", "jobs", "external", "subscriptions")
_ABSENT = object()      # in the undo log: the key had no row before
# in the undo log: (_HISTORY, instance id, the position of its last chunk before, or -1),
# and (_EVENTS, None, the number of chunks before)
_HISTORY = "history"
_EVENTS = "events"
NEW_TUPLE = tuple.__new__
FIRST_FIELD = itemgetter(0)     # a history event's instance id
_JOB_ACQUIRABLE = compiled(JOB_ACQUIRABLE)
_JOB_LEASED = compiled(JOB_LEASED)
_EXTERNAL_FETCHABLE = compiled(EXTERNAL_FETCHABLE)


class MemoryStore:
    """Thread-safe: one transaction at a time (a re-entrant lock)."""

    dialect = "memory"

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.tables: dict[str, dict[Any, Any]] = {
            name: {} for name in (
                "deployments", "definitions", "instances", "tasks", "jobs", "external",
                "subscriptions", "incidents", "comments", "users", "groups", "secrets",
                "data_stores",
            )
        }
        # history: the events of each add_history call and instance as one chunk, each
        # linked to its instance's chunk before it, and per instance the position of its
        # last chunk (see the module docstring)
        self.history_chunks: list[tuple[int, tuple[tuple[Any, ...], ...]]] = []
        self.last_chunk: dict[str | None, int] = {}
        # secondary index: table -> instance id -> keys of its rows (kept by _put/_del)
        self.by_instance: dict[str, dict[Any, set[Any]]] = {
            name: {} for name in WAIT_TABLES
        }
        self.transaction = partial(MemoryTx, self)  # type: ignore[method-assign]

    def transaction(self, read_only: bool = False) -> MemoryTx:
        """`with store.transaction() as tx:` holds the store's lock; an exception rolls
        everything the block wrote back. (Each store answers this with MemoryTx bound to
        itself, set in __init__: one call less for every command and read.)"""
        return MemoryTx(self, read_only)

    def close(self) -> None:
        return None

    waiter: Wakeup | None = None     # see job_waiter

    def job_waiter(self) -> Wakeup:
        """The `JobWaiter` idle workers sleep on, woken when a transaction here commits a
        job they can run now (and by `Worker.stop()`)."""
        with self.lock:
            if self.waiter is None:
                self.waiter = Wakeup()
            return self.waiter


class MemoryTx:
    """One transaction; its own context manager (a plain class: a generator-based one costs
    more than the small commands it wraps)."""

    __slots__ = ("s", "t", "undo", "wake")
    serializable = True         # one transaction at a time (the store's lock)

    def __init__(self, store: MemoryStore, read_only: bool = False) -> None:
        # read_only: one transaction at a time here, so nothing to gain from it
        self.s = store
        self.t = store.tables
        # (table, key, the row before or _ABSENT), or a history mark (_HISTORY, _EVENTS)
        self.undo: list[tuple[str, Any, Any]] = []
        self.wake = False       # a job a worker can run now was added or freed here

    def __enter__(self) -> MemoryTx:
        self.s.lock.acquire()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is not None:
                self.rollback()
        finally:
            self.s.lock.release()
        if self.wake and exc_type is None and self.s.waiter is not None:
            self.s.waiter.wake()

    def rollback(self) -> None:
        for table, key, before in reversed(self.undo):
            if table == _HISTORY:
                if before < 0:
                    self.s.last_chunk.pop(key, None)
                else:
                    self.s.last_chunk[key] = before
                continue
            if table == _EVENTS:
                del self.s.history_chunks[before:]
                continue
            tab = self.t[table]
            current = tab.pop(key, None)
            if current is not None:
                self._index(table, current, key, False)
            if before is not _ABSENT:
                tab[key] = before
                self._index(table, before, key, True)
        self.undo.clear()

    def new_instance(self, instance_id: str) -> None:
        """The SQL store's hint that an instance is new: every lookup here is a dict read
        already, so there is nothing to skip."""

    # ---------------------------------------------------------------- generic
    def _index(self, table: str, rec: Any, key: Any, add: bool) -> None:
        idx = self.s.by_instance.get(table)
        if idx is None:
            return
        iid = rec.instance_id
        if add:
            keys = idx.get(iid)
            if keys is None:
                idx[iid] = {key}
            else:
                keys.add(key)
        else:
            keys = idx.get(iid)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del idx[iid]

    def _put(self, table: str, key: Any, rec: Any) -> None:
        tab = self.t[table]
        old = tab.get(key)
        tab[key] = rec
        if old is None:
            self._index(table, rec, key, True)
            self.undo.append((table, key, _ABSENT))
        else:
            self.undo.append((table, key, old))

    def _del(self, table: str, key: Any) -> None:
        tab = self.t[table]
        old = tab.pop(key, None)
        if old is not None:
            self._index(table, old, key, False)
            self.undo.append((table, key, old))

    def _rows(self, table: str, filters: dict[str, Any]) -> Any:
        """Rows of a table, narrowed by the instance index when the filter names one."""
        iid = filters.get("instance_id")
        if iid is not None and table in self.s.by_instance:
            return self._of_instance(table, iid)
        return self.t[table].values()

    def _of_instance(self, table: str, instance_id: str) -> list[Any]:
        """The rows of one instance in an indexed table (most often none or one)."""
        keys = self.s.by_instance[table].get(instance_id)
        if not keys:
            return []
        tab = self.t[table]
        return [tab[k] for k in keys]

    def _instance_rows(self, table: str, instance_id: Any, order: Any) -> list[Any]:
        """Copies of an instance's rows in `order`: the commands' cleanup asks this of
        every table the index covers, most often for none or one row."""
        if instance_id is None:
            return self._no_instance_rows(table, order)
        rows = [clone(r) for r in self._of_instance(table, instance_id)]
        if len(rows) > 1:
            sort_records(rows, order)
        return rows

    def _no_instance_rows(self, table: str, order: Any) -> list[Any]:
        rows = [clone(r) for r in self.t[table].values() if r.instance_id is None]
        if len(rows) > 1:
            sort_records(rows, order)
        return rows

    def _get(self, table: str, key: Any) -> Any:
        rec = self.t[table].get(key)
        return clone(rec) if rec is not None else None

    # ---------------------------------------------------------------- definitions
    def add_deployment(self, rec: DeploymentRecord) -> None:
        self._put("deployments", rec.id, rec)

    def add_definition(self, rec: DefinitionRecord) -> None:
        self._put("definitions", rec.id, rec)

    def get_definition(self, def_id: str) -> DefinitionRecord | None:
        return self.t["definitions"].get(def_id)

    def definitions(self, key: str | None = None) -> list[DefinitionRecord]:
        rows = [d for d in self.t["definitions"].values() if key is None or d.key == key]
        return sorted(rows, key=lambda d: (d.key, d.version))

    def latest_definition(self, key: str, *, starting: bool = False) -> DefinitionRecord | None:
        latest = None
        for d in self.t["definitions"].values():
            if d.key == key and (latest is None or d.version > latest.version):
                latest = d
        return latest

    def definition_version(self, key: str, version: int) -> DefinitionRecord | None:
        for d in self.t["definitions"].values():
            if d.key == key and d.version == version:
                return d
        return None

    # ---------------------------------------------------------------- instances
    def add_instance(self, rec: InstanceRecord) -> None:
        self._put("instances", rec.id, rec)

    def get_instance(self, instance_id: str, lock: bool = False) -> InstanceRecord | None:
        """A shallow copy: its `state` is the stored one (InstanceState.from_dict copies what
        it keeps, so a command that fails leaves the stored state as it was)."""
        return self._get("instances", instance_id)

    def update_instance(self, rec: InstanceRecord) -> None:
        cur = self.t["instances"].get(rec.id)
        if cur is None or cur.revision != rec.revision:
            raise ConcurrentModification(rec.id)
        rec.revision += 1
        self._put("instances", rec.id, rec)

    def find_instances(self, *, newest_first: bool = False, limit: int | None = None,
                       offset: int = 0, **filters: Any) -> list[InstanceRecord]:
        f = instance_filter(filters)
        test = f.test
        rows = [r for r in self.t["instances"].values() if test(r, filters)]
        sort_records(rows, INSTANCE_NEWEST if newest_first else INSTANCE_ORDER)
        if offset or limit is not None:
            rows = rows[offset:None if limit is None else offset + limit]
        return [clone(r) for r in rows]

    def count_instances(self, **filters: Any) -> int:
        f = instance_filter(filters)
        test = f.test
        return sum(1 for r in self.t["instances"].values() if test(r, filters))

    def child_instances(self, parent_id: str, token: int | None = None) -> list[InstanceRecord]:
        return [clone(r) for r in self.t["instances"].values()
                if r.parent_id == parent_id and (token is None or r.parent_token == token)]

    # ---------------------------------------------------------------- user tasks
    def add_task(self, rec: TaskRecord) -> None:
        self._put("tasks", rec.id, rec)

    def get_task(self, task_id: str) -> TaskRecord | None:
        return self._get("tasks", task_id)

    def lock_task(self, task_id: str) -> TaskRecord | None:
        """One transaction at a time holds the store: every read is under the lock."""
        return self._get("tasks", task_id) if isinstance(task_id, str) else None

    def update_task(self, rec: TaskRecord) -> None:
        self._put("tasks", rec.id, rec)

    def delete_task(self, task_id: str) -> None:
        self._del("tasks", task_id)

    def delete_wait_rows(self, instance_id: str) -> None:
        index = self.s.by_instance
        for table in WAIT_TABLES:
            keys = index[table].get(instance_id)
            if keys:
                for key in list(keys):
                    self._del(table, key)

    def task_by_token(self, instance_id: str, token: int) -> TaskRecord | None:
        for r in self._of_instance("tasks", instance_id):
            if r.token == token:
                return clone(r)
        return None

    def find_tasks(self, *, sort: str = "created", limit: int | None = None, offset: int = 0,
                   **filters: Any) -> list[TaskRecord]:
        if len(filters) == 1 and sort == "created" and limit is None and not offset:
            iid = filters.get("instance_id")
            if iid is not None:         # the commands' own lookup: the index answers it
                keys = self.s.by_instance["tasks"].get(iid)
                if not keys:
                    return []
                tab = self.t["tasks"]
                rows = [clone(tab[k]) for k in keys]
                return sort_tasks(rows, sort) if len(rows) > 1 else rows
        parse_sort(sort)                    # refused even when nothing is left to sort
        f = task_filter(filters)
        test = f.test
        rows = [clone(r) for r in self._rows("tasks", filters) if test(r, filters)]
        if len(rows) > 1:
            rows = sort_tasks(rows, sort)
        if offset or limit is not None:
            end = None if limit is None else offset + limit
            rows = rows[offset:end]
        return rows

    def count_tasks(self, *, limit: int | None = None, **filters: Any) -> int:
        """How many tasks match, counting no further than `limit` (when given)."""
        f = task_filter(filters)
        test = f.test
        n = 0
        for r in self._rows("tasks", filters):
            if limit is not None and n >= limit:
                break
            if test(r, filters):
                n += 1
        return n

    # ---------------------------------------------------------------- jobs
    def add_job(self, rec: JobRecord) -> None:
        self._put("jobs", rec.id, rec)
        if not self.wake and wakes_workers(rec) and not draining():
            self.wake = True

    def get_job(self, job_id: str) -> JobRecord | None:
        return self._get("jobs", job_id)

    def lock_job(self, job_id: str) -> JobRecord | None:
        """One transaction at a time holds the store: every read is under the lock."""
        return self._get("jobs", job_id)

    def update_job(self, rec: JobRecord) -> None:
        self._put("jobs", rec.id, rec)
        if not self.wake and wakes_workers(rec) and not draining():   # given back, a retry
            self.wake = True

    def delete_job(self, job_id: str) -> None:
        self._del("jobs", job_id)

    def find_jobs(self, **filters: Any) -> list[JobRecord]:
        if len(filters) == 1 and "instance_id" in filters:
            return self._instance_rows("jobs", filters["instance_id"], JOB_ORDER)
        f = equality_filter(JobRecord, filters, "jobs", not_filterable=("payload",))
        test = f.test
        out = [clone(r) for r in self._rows("jobs", filters) if test(r, filters)]
        if len(out) > 1:
            sort_records(out, JOB_ORDER)
        return out

    def acquire_jobs(self, now: datetime, owner: str, lease_until: datetime, limit: int,
                     exclusive: bool = True) -> list[JobRecord]:
        """Lease JOB_ACQUIRABLE jobs; one per instance, and none of an instance with a
        leased job, if exclusive."""
        out: list[JobRecord] = []
        params = {"now": now}
        jobs = list(self.t["jobs"].values())
        busy = {r.instance_id for r in jobs if exclusive and _JOB_LEASED(r, params)}
        for r in sort_records(jobs, JOB_ORDER):
            if len(out) >= limit:
                break
            if not _JOB_ACQUIRABLE(r, params):
                continue
            if exclusive and r.instance_id is not None and r.instance_id in busy:
                continue
            leased = clone(r)
            leased.lock_owner = owner
            leased.lock_expires = lease_until
            self._put("jobs", r.id, leased)
            if exclusive and r.instance_id is not None:
                busy.add(r.instance_id)
            out.append(clone(leased))
        return out

    # ---------------------------------------------------------------- external tasks
    def add_external(self, rec: ExternalTaskRecord) -> None:
        self._put("external", rec.id, rec)

    def get_external(self, task_id: str) -> ExternalTaskRecord | None:
        return self._get("external", task_id)

    def update_external(self, rec: ExternalTaskRecord) -> None:
        self._put("external", rec.id, rec)

    def delete_external(self, task_id: str) -> None:
        self._del("external", task_id)

    def external_by_token(self, instance_id: str, token: int) -> ExternalTaskRecord | None:
        for r in self._of_instance("external", instance_id):
            if r.token == token:
                return clone(r)
        return None

    def find_external(self, **filters: Any) -> list[ExternalTaskRecord]:
        if len(filters) == 1 and "instance_id" in filters:
            return self._instance_rows("external", filters["instance_id"],
                                       EXTERNAL_PRIORITY_ORDER)
        f = external_filter(filters)
        test = f.test
        rows = [clone(r) for r in self._rows("external", filters) if test(r, filters)]
        if len(rows) > 1:
            sort_records(rows, EXTERNAL_PRIORITY_ORDER)
        return rows

    def lock_external(self, topics: list[str], worker_id: str, now: datetime,
                      lock_until: dict[str, datetime], limit: int,
                      use_priority: bool = False) -> list[ExternalTaskRecord]:
        """Lease EXTERNAL_FETCHABLE tasks of the topics in `lock_until`."""
        params = {"now": now, "topics": lock_until}
        rows = [r for r in self.t["external"].values() if _EXTERNAL_FETCHABLE(r, params)]
        sort_records(rows, EXTERNAL_PRIORITY_ORDER if use_priority else EXTERNAL_ORDER)
        out = []
        for r in rows[:limit]:
            leased = clone(r)
            leased.worker_id = worker_id
            leased.lock_expires = lock_until[r.topic]
            self._put("external", r.id, leased)
            out.append(clone(leased))
        return out

    # ---------------------------------------------------------------- subscriptions
    def add_subscription(self, rec: SubscriptionRecord) -> None:
        self._put("subscriptions", rec.id, rec)

    def delete_subscription(self, sub_id: str) -> None:
        self._del("subscriptions", sub_id)

    def find_subscriptions(self, **filters: Any) -> list[SubscriptionRecord]:
        f = equality_filter(SubscriptionRecord, filters, "subscriptions")
        test = f.test
        out = [clone(r) for r in self._rows("subscriptions", filters) if test(r, filters)]
        if len(out) > 1:
            out.sort(key=lambda r: (r.created or datetime.min, r.id))
        return out

    # ---------------------------------------------------------------- incidents
    def add_incident(self, rec: IncidentRecord) -> None:
        self._put("incidents", rec.id, rec)

    def get_incident(self, incident_id: str) -> IncidentRecord | None:
        return self._get("incidents", incident_id)

    def update_incident(self, rec: IncidentRecord) -> None:
        self._put("incidents", rec.id, rec)

    def find_incidents(self, *, open_only: bool = True, **filters: Any) -> list[IncidentRecord]:
        f = equality_filter(IncidentRecord, filters, "incidents",
                            also=INCIDENT_OPEN if open_only else None)
        test = f.test
        out = [clone(r) for r in self.t["incidents"].values() if test(r, filters)]
        return sort_records(out, INCIDENT_ORDER)

    # ---------------------------------------------------------------- history
    def add_history(self, rows: list[HistoryRecord]) -> None:
        chunks = self.s.history_chunks
        last_at = self.s.last_chunk
        undo = self.undo
        undo.append((_EVENTS, None, len(chunks)))
        for iid, events in groupby(rows, FIRST_FIELD):
            prev = last_at.get(iid, -1)
            undo.append((_HISTORY, iid, prev))
            last_at[iid] = len(chunks)
            # the chunk before of this instance, and the events as given: the runtime's
            # plain tuples (see the module docstring), now and then a History record
            chunks.append((prev, tuple(events)))

    def history(self, instance_id: str) -> list[HistoryRecord]:
        chunks = self.s.history_chunks
        found = []
        i = self.s.last_chunk.get(instance_id, -1)
        while i >= 0:
            i, events = chunks[i]
            found.append(events)
        found.reverse()
        # seq: the event's position in its instance's history, as the SQL store numbers it
        return [NEW_TUPLE(HistoryRecord, (*e[:8], n, e[9]))
                for n, e in enumerate(chain.from_iterable(found), 1)]

    # ---------------------------------------------------------------- comments
    def add_comment(self, rec: CommentRecord) -> None:
        self._put("comments", rec.id, rec)

    def comments(self, *, instance_id: str | None = None,
                 task_id: str | None = None) -> list[CommentRecord]:
        out = [c for c in self.t["comments"].values()
               if (instance_id is None or c.instance_id == instance_id)
               and (task_id is None or c.task_id == task_id)]
        return sort_records(out, COMMENT_ORDER)

    # ---------------------------------------------------------------- users and groups
    def add_user(self, rec: UserRecord) -> None:
        self._put("users", rec.id, clone(rec))

    def update_user(self, rec: UserRecord) -> None:
        self._put("users", rec.id, clone(rec))

    def get_user(self, user_id: str) -> UserRecord | None:
        return self._get("users", user_id)

    def users(self) -> list[UserRecord]:
        return sorted((clone(u) for u in self.t["users"].values()), key=lambda u: u.id)

    def add_group(self, group_id: str, name: str | None = None) -> None:
        self._put("groups", group_id, name or group_id)

    def groups(self) -> dict[str, str]:
        return dict(self.t["groups"])

    # ---------------------------------------------------------------- secrets
    def set_secret(self, name: str, value: str) -> None:
        self._put("secrets", name, value)

    def get_secret(self, name: str) -> str | None:
        return self.t["secrets"].get(name)

    # ---------------------------------------------------------------- data stores
    def read_data_stores(self, names: Iterable[str] | None = None) -> dict[str, Any]:
        """Copies: the runtime changes what it is given, the store must not change with it."""
        table = self.t["data_stores"]
        wanted = table.keys() if names is None else [n for n in names if n in table]
        return {name: copy.deepcopy(table[name][0]) for name in wanted}

    def write_data_store(self, name: str, value: Any, updated: datetime) -> None:
        self._put("data_stores", name, (copy.deepcopy(value), updated))
