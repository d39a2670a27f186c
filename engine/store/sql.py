"""The SQL store: SQLite (embedded, one machine), PostgreSQL (several workers, several
machines) and MariaDB/MySQL, with exactly the transaction API of `engine/store/memory.py`.
MariaDB runs the portable path SQLite runs, with PostgreSQL's row locks (what differs,
and why READ COMMITTED: `dialects.py`).

One `transaction()` is one database transaction; the facade runs one command in it.
Concurrency is handled in three layers:

- instances carry a `revision`; `update_instance` writes `WHERE id = ? AND revision = ?`
  and raises `ConcurrentModification` when another command got there first (the facade
  retries the whole command on the new state). On PostgreSQL `get_instance(lock=True)`
  takes the row lock up front (`SELECT ... FOR UPDATE`) so racing commands queue instead
  of failing and retrying;
- tasks, jobs, external tasks and incidents have a hidden revision: rows read in a
  transaction are updated only if nobody changed them since (two users claiming one task,
  a worker failing a job another worker has taken over);
- jobs and external tasks are leased with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so any
  number of workers poll one table without blocking or double-leasing. On SQLite every
  transaction starts with `BEGIN IMMEDIATE`: writers are serialised by the database file
  lock (SQLite allows one writer anyway), so the same checks hold trivially.

PostgreSQL deadlocks, serialisation failures and lock time-outs surface as
`ConcurrentModification` too, so the facade's retry loop covers them.

The hot path is kept short: statements are compiled once and run on the DBAPI cursor
(`fastexec.py`), definitions are cached (they never change), rows read in a transaction
are remembered (a completed task is not fetched twice), history is one row per command,
process variables are stored once (their own column) rather than twice inside the state
JSON. On PostgreSQL a round trip costs about as much as Baton's own work for a command, so
a command takes as few as it can (`tests/store/test_round_trips.py` pins them):

- its writes go out with its COMMIT, in one round trip; writes that must hit exactly one
  row, and facts that must still hold, are checked by the server in that same batch
  (`baton_check`, migration 0004) rather than by the client before it dares commit;
- locking an instance also reads its tasks whole and lists its other wait-state rows, in
  the same round trip (ending a task or the instance then needs no lookup); `lock_task`
  and `lock_job` find the instance through the task or job, so a command on a task or a
  job is two round trips: read under the lock, then write and commit;
- a start answers "the newest version" from a cache, guarded at commit (see
  `latest_definition`); an instance's tasks are one compiled query; a user comes with
  their groups;
- connections stay checked out between transactions (`SqlStore._checkout`) with their
  cursors, and the batch's parameters are written as literals by `fastexec.literals`;
- a transaction that adds (or frees) a job due now ends that batch with a NOTIFY before
  its COMMIT, which wakes idle workers in every process (`pg_wakeup.py`) at no extra
  round trip.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by

from engine.store import dialects
from engine.store import schema as s
from engine.store.codec import dumps, loads
from engine.store.errors import StoreError
from engine.store.fastexec import CHECK_PARAM, FastExec, SessionStatements, literals
from engine.store.pg_wakeup import (
    ANNOUNCE_GAP,
    NOTIFY_SQL,
    PgWakeup,
    Wakeup,
    draining,
    psycopg_has_timed_notifies,
    wakes_workers,
)
from engine.store.pq_batch import exec_batch, exec_rows
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
    SUBSCRIPTION_ORDER,
    check_task_query,
    clone,
    equality_filter,
    external_filter,
    instance_filter,
)
from engine.store.sql_predicates import order_by, where
from engine.store.task_sql import count_query, page_query, task_order, task_where


def normalize_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean psycopg 3, `mysql://` and `mariadb://`
    PyMySQL; other URLs pass unchanged."""
    return dialects.normalize_url(url)


def _fields(cls: type) -> tuple[str, ...]:
    return tuple(cls.__dataclass_fields__)  # type: ignore[attr-defined]


# ====================================================================== columns per record
F_INSTANCE = _fields(InstanceRecord)
F_TASK = _fields(TaskRecord)
F_JOB = _fields(JobRecord)
F_EXT = _fields(ExternalTaskRecord)
F_SUB = _fields(SubscriptionRecord)
F_INC = _fields(IncidentRecord)
F_DEF = _fields(DefinitionRecord)
F_COMMENT = _fields(CommentRecord)
F_USER = tuple(f for f in _fields(UserRecord) if f != "groups")
K_TASK = (*F_TASK, "revision")
K_JOB = (*F_JOB, "revision")
K_EXT = (*F_EXT, "revision")
K_INC = (*F_INC, "revision")


def _cols(table: sa.Table, names: tuple[str, ...]) -> list[sa.Column[Any]]:
    return [table.c[n] for n in names]


_I_STATE = F_INSTANCE.index("state")
_I_VARS = F_INSTANCE.index("variables")
_T_CU = F_TASK.index("candidate_users")
_T_CG = F_TASK.index("candidate_groups")
_J_PAYLOAD = F_JOB.index("payload")


# ====================================================================== row <-> record
def _state_out(rec: InstanceRecord) -> tuple[str, str]:
    """(state JSON, variables JSON), the process variables stored only once.

    `InstanceState.to_dict()` keeps the process scope's variables inside `scopes[0]`; that
    very dict is also `rec.variables`. It goes to the variables column and the state keeps
    a hole (None) that `_state_in` fills again."""
    state = rec.state
    variables = rec.variables
    scopes = state.get("scopes") if isinstance(state, dict) else None
    if scopes and scopes[0][0] == 0 and len(scopes[0]) > 5 and scopes[0][5] is variables:
        s0 = list(scopes[0])
        s0[5] = None
        state = dict(state)
        state["scopes"] = [s0, *scopes[1:]]
    return dumps(state), dumps(variables)


def _state_in(state_text: str, vars_text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    state = loads(state_text)
    variables = loads(vars_text)
    if not isinstance(state, dict):
        return state, variables
    scopes = state.get("scopes")
    if scopes and scopes[0][0] == 0 and len(scopes[0]) > 5 and scopes[0][5] is None:
        scopes[0][5] = variables
    # The runtime compares token states by identity (`t.state is ARRIVED`): JSON hands back
    # equal but distinct strings, so give back the interned constants.
    for t in state.get("tokens") or ():
        if len(t) > 3 and isinstance(t[3], str):
            t[3] = sys.intern(t[3])
        if len(t) > 6 and isinstance(t[6], str):
            t[6] = sys.intern(t[6])
    for sc in scopes or ():
        if len(sc) > 1 and isinstance(sc[1], str):
            sc[1] = sys.intern(sc[1])
    return state, variables


def _instance(row: Any) -> InstanceRecord:
    vals = list(row)
    vals[_I_STATE], vals[_I_VARS] = _state_in(vals[_I_STATE], vals[_I_VARS])
    return InstanceRecord(*vals)


def _instance_values(rec: InstanceRecord) -> dict[str, Any]:
    d = {f: getattr(rec, f) for f in F_INSTANCE}
    d["state"], d["variables"] = _state_out(rec)
    return d


def _task(row: Any) -> tuple[TaskRecord, int]:
    vals = list(row)
    rev = vals.pop()
    vals[_T_CU] = loads(vals[_T_CU])
    vals[_T_CG] = loads(vals[_T_CG])
    return TaskRecord(*vals), rev


def _task_values(rec: TaskRecord) -> dict[str, Any]:
    d = {f: getattr(rec, f) for f in F_TASK}
    d["candidate_users"] = dumps(list(rec.candidate_users))
    d["candidate_groups"] = dumps(list(rec.candidate_groups))
    return d


def _job(row: Any) -> tuple[JobRecord, int]:
    vals = list(row)
    rev = vals.pop()
    vals[_J_PAYLOAD] = loads(vals[_J_PAYLOAD])
    return JobRecord(*vals), rev


def _job_values(rec: JobRecord) -> dict[str, Any]:
    d = {f: getattr(rec, f) for f in F_JOB}
    d["payload"] = dumps(rec.payload or {})
    d["suspended"] = bool(rec.suspended)
    return d


def _split_rev(cls: type, row: Any) -> tuple[Any, int]:
    vals = list(row)
    rev = vals.pop()
    return cls(*vals), rev


def _definition(row: Any) -> DefinitionRecord:
    rec = DefinitionRecord(*row)
    if not isinstance(rec.xml, bytes):
        rec.xml = bytes(rec.xml)
    return rec


def _values(rec: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {f: getattr(rec, f) for f in names}


def _user(row: Any, groups: list[str]) -> UserRecord:
    d = dict(zip(F_USER, row, strict=True))
    d["roles"] = loads(d["roles"]) or []
    d["groups"] = groups
    return UserRecord(**d)


# ====================================================================== statements
B = sa.bindparam
_D, _I, _T, _C, _J, _X = (s.definitions, s.instances, s.tasks, s.task_candidates, s.jobs,
                          s.external_tasks)
_SUB, _INC, _H = s.subscriptions, s.incidents, s.history

INS = {t.name: t.insert() for t in s.ALL_TABLES}

SEL_DEF = sa.select(*_cols(_D, F_DEF)).where(_D.c.id == B("id"))
SEL_DEFS = sa.select(*_cols(_D, F_DEF)).order_by(_D.c.key, _D.c.version)
SEL_DEFS_KEY = sa.select(*_cols(_D, F_DEF)).where(_D.c.key == B("key")).order_by(_D.c.version)
SEL_LATEST = (sa.select(_D.c.id).where(_D.c.key == B("key")).order_by(_D.c.version.desc())
              .limit(1))
SEL_VERSION = sa.select(_D.c.id).where(_D.c.key == B("key"), _D.c.version == B("v"))

SEL_INSTANCE = sa.select(*_cols(_I, F_INSTANCE)).where(_I.c.id == B("id"))
SEL_INSTANCE_LOCK = SEL_INSTANCE.with_for_update()
UPD_INSTANCE = _I.update().where(_I.c.id == B("b_id"), _I.c.revision == B("b_rev"))
K_UPD_INSTANCE = tuple(f for f in F_INSTANCE if f not in ("id", "started"))

SEL_TASK = sa.select(*_cols(_T, K_TASK)).where(_T.c.id == B("id"))
SEL_TASK_TOKEN = sa.select(*_cols(_T, K_TASK)).where(_T.c.instance_id == B("iid"),
                                                      _T.c.token == B("token"))
DEL_TASK = _T.delete().where(_T.c.id == B("id"))
UPD_TASK = _T.update().where(_T.c.id == B("b_id")).values(revision=_T.c.revision + 1)
UPD_TASK_GUARDED = _T.update().where(_T.c.id == B("b_id"), _T.c.revision == B("b_rev"))
DEL_CANDIDATES = _C.delete().where(_C.c.task_id == B("id"))
UPD_CANDIDATES = _C.update().where(_C.c.task_id == B("b_id"))
# a candidate row's copies of its task's columns (see schema.py)
K_COPIES = ("unassigned", "created", "due", "priority")
K_CANDIDATE = ("kind", "name", "task_id", *K_COPIES)

SEL_JOB = sa.select(*_cols(_J, K_JOB)).where(_J.c.id == B("id"))
DEL_JOB = _J.delete().where(_J.c.id == B("id"))
UPD_JOB = _J.update().where(_J.c.id == B("b_id")).values(revision=_J.c.revision + 1)
UPD_JOB_GUARDED = _J.update().where(_J.c.id == B("b_id"), _J.c.revision == B("b_rev"))

SEL_EXT = sa.select(*_cols(_X, K_EXT)).where(_X.c.id == B("id"))
SEL_EXT_TOKEN = sa.select(*_cols(_X, K_EXT)).where(_X.c.instance_id == B("iid"),
                                                    _X.c.token == B("token"))
DEL_EXT = _X.delete().where(_X.c.id == B("id"))
UPD_EXT = _X.update().where(_X.c.id == B("b_id")).values(revision=_X.c.revision + 1)
UPD_EXT_GUARDED = _X.update().where(_X.c.id == B("b_id"), _X.c.revision == B("b_rev"))
LEASE_EXT = _X.update().where(_X.c.id == B("b_id")).values(
    worker_id=B("b_worker"), lock_expires=B("b_until"), revision=_X.c.revision + 1)

DEL_SUB = _SUB.delete().where(_SUB.c.id == B("id"))
SEL_INC = sa.select(*_cols(_INC, K_INC)).where(_INC.c.id == B("id"))
UPD_INC = _INC.update().where(_INC.c.id == B("b_id")).values(
    revision=_INC.c.revision + 1)
UPD_INC_GUARDED = _INC.update().where(_INC.c.id == B("b_id"), _INC.c.revision == B("b_rev"))

SEL_HISTORY = (sa.select(_H.c.time, _H.c.events).where(_H.c.instance_id == B("iid"))
               .order_by(_H.c.seq))

# the ids of an instance's rows in its wait-state tables: one probe instead of four queries
PROBE_TABLES = ("tasks", "jobs", "external_tasks", "subscriptions")


def _probe_stmt(iid: Any, tables: tuple[sa.Table, ...] = (_T, _J, _X, _SUB)) -> Any:
    return sa.union_all(*[
        sa.select(sa.literal_column(str(PROBE_TABLES.index(t.name))).label("t"), t.c.id)
        .where(t.c.instance_id == iid) for t in tables
    ])


PROBE = _probe_stmt(B("iid"))
# with the row lock, PostgreSQL reads an instance's tasks whole (a command that ends a
# task, or the instance, then needs no further query for them) and probes the rest
SEL_TASKS_OF = (sa.select(*_cols(_T, K_TASK)).where(_T.c.instance_id == B("iid"))
                .order_by(_T.c.created, _T.c.id))
PROBE_REST = _probe_stmt(B("iid"), (_J, _X, _SUB))
# the same three, by a task's id: the instance is found through the task (lock_task)
_IID_OF_TASK = sa.select(_T.c.instance_id).where(_T.c.id == B("tid")).scalar_subquery()
SEL_INSTANCE_OF_TASK_LOCK = (sa.select(*_cols(_I, F_INSTANCE)).where(_I.c.id == _IID_OF_TASK)
                             .with_for_update())
SEL_TASKS_OF_TASK = (sa.select(*_cols(_T, K_TASK)).where(_T.c.instance_id == _IID_OF_TASK)
                     .order_by(_T.c.created, _T.c.id))
PROBE_REST_OF_TASK = _probe_stmt(_IID_OF_TASK, (_J, _X, _SUB))
# ... and through a job (lock_job): the lock, the job itself, the tasks, the rest
_IID_OF_JOB = sa.select(_J.c.instance_id).where(_J.c.id == B("jid")).scalar_subquery()
SEL_INSTANCE_OF_JOB_LOCK = (sa.select(*_cols(_I, F_INSTANCE)).where(_I.c.id == _IID_OF_JOB)
                            .with_for_update())
SEL_JOB_BY_JID = sa.select(*_cols(_J, K_JOB)).where(_J.c.id == B("jid"))
SEL_TASKS_OF_JOB = (sa.select(*_cols(_T, K_TASK)).where(_T.c.instance_id == _IID_OF_JOB)
                    .order_by(_T.c.created, _T.c.id))
PROBE_REST_OF_JOB = _probe_stmt(_IID_OF_JOB, (_J, _X, _SUB))
# PostgreSQL job acquisition with arrays (`= ANY($1)`): compiled once, unlike IN lists
_IDS = B("ids", type_=ARRAY(sa.String))
_J2 = _J.alias("j2")
LOCK_INSTANCES_ANY = (sa.select(_I.c.id).where(_I.c.id == sa.any_(_IDS))
                      .with_for_update(skip_locked=True))
LEASED_OF_ANY = sa.select(_J2.c.instance_id).where(_J2.c.instance_id == sa.any_(_IDS),
                                                   *where(JOB_LEASED, _J2))
LEASE_JOBS_ANY = _J.update().where(_J.c.id == sa.any_(_IDS)).values(
    lock_owner=B("owner"), lock_expires=B("until"), revision=_J.c.revision + 1)
# ... and with IN lists, where there are no arrays (MariaDB)
_IDS_IN = B("ids", expanding=True)
LOCK_INSTANCES_IN = (sa.select(_I.c.id).where(_I.c.id.in_(_IDS_IN))
                     .with_for_update(skip_locked=True))
LEASED_OF_IN = sa.select(_J2.c.instance_id).where(_J2.c.instance_id.in_(_IDS_IN),
                                                  *where(JOB_LEASED, _J2))
# at COMMIT: the version an instance was started from is still there and the newest of its
# key (the cache may be older than another process's deployment, or than a database that
# was emptied and filled again)
GUARD_LATEST = sa.select(sa.func.baton_check(sa.and_(
    sa.exists().where(_D.c.id == B("id")),
    ~sa.exists().where(_D.c.key == B("key"), _D.c.version > B("v"))), B("what")))

SEL_USER = sa.select(*_cols(s.users, F_USER)).where(s.users.c.id == B("id"))
# PostgreSQL: the user and their groups (in order) in one statement
SEL_USER_GROUPS_PG = sa.select(*_cols(s.users, F_USER), sa.select(
    sa.func.array_agg(aggregate_order_by(s.memberships.c.group_id, s.memberships.c.position)))
    .where(s.memberships.c.user_id == s.users.c.id).scalar_subquery()).where(
    s.users.c.id == B("id"))
SEL_USERS = sa.select(*_cols(s.users, F_USER)).order_by(s.users.c.id)
SEL_USER_GROUPS = (sa.select(s.memberships.c.group_id).where(s.memberships.c.user_id == B("id"))
                   .order_by(s.memberships.c.position))
SEL_MEMBERSHIPS = sa.select(s.memberships.c.user_id, s.memberships.c.group_id).order_by(
    s.memberships.c.user_id, s.memberships.c.position)
DEL_MEMBERSHIPS = s.memberships.delete().where(s.memberships.c.user_id == B("id"))
SEL_GROUPS = sa.select(s.groups.c.id, s.groups.c.name).order_by(s.groups.c.id)
SEL_SECRET = sa.select(s.secrets.c.value).where(s.secrets.c.name == B("name"))

F_HISTORY = ("instance_id", "time", "events")


def _events_out(rows: list[HistoryRecord]) -> str:
    """The events as JSON; a time equal to the first event's (the command's "now", nearly
    always) is written as null and read back as the row's time."""
    first = rows[0][3]
    # by position: events come as History records or as the runtime's plain tuples
    return dumps([[r[1], r[2], None if r[3] == first else _iso(r[3]), r[4], r[5], r[6], r[7],
                   r[9]] for r in rows])


def _events_in(instance_id: str, row_time: datetime, text: str,
               out: list[HistoryRecord]) -> None:
    for ev in loads(text):
        if ev[2] is None:
            t = row_time
        else:
            t = datetime.fromisoformat(ev[2])
            if t.tzinfo is None:
                t = t.replace(tzinfo=UTC)
        out.append(HistoryRecord(instance_id, ev[0], ev[1], t, ev[3], ev[4], ev[5], ev[6],
                                 len(out) + 1, ev[7]))


def _iso(v: datetime) -> str:
    if v.tzinfo is None:
        v = v.replace(tzinfo=UTC)
    elif v.tzinfo is not UTC:
        v = v.astimezone(UTC)
    return v.isoformat()


# dynamic filters: one statement per filter *shape*, built once
_dynamic: dict[tuple[Any, ...], Any] = {}


def _shape_stmt(shape: tuple[Any, ...], build: Any) -> Any:
    stmt = _dynamic.get(shape)
    if stmt is None:
        stmt = build()
        _dynamic[shape] = stmt
    return stmt


# ====================================================================== the store
class SqlStore:
    """A SQL database behind the store API. `url` is an SQLAlchemy URL:
    `sqlite:///baton.db`, `postgresql://user@host/db` (psycopg 3),
    `mysql://user@host/db` or `mariadb://...` (PyMySQL; MariaDB 10.6 or newer).

    `auto_upgrade` runs the Alembic migrations on open (default: on for SQLite, off for
    PostgreSQL, where `baton db upgrade` is an explicit deployment step); without it a
    database whose schema is behind the code is refused with a clear error, unless
    `verify_schema=False` (for tools and tests that look at older databases)."""

    def __init__(self, url: str, *, auto_upgrade: bool | None = None, echo: bool = False,
                 pool_size: int = 10, verify_schema: bool = True) -> None:
        self.url = normalize_url(url)
        try:
            parsed = sa.engine.make_url(self.url)
        except exc.ArgumentError as e:
            raise StoreError(f"not a database URL: '{url}' ({e})") from e
        self.dialect = dialects.family(parsed.get_backend_name())
        if self.dialect not in ("sqlite", "postgresql", dialects.MYSQL):
            raise StoreError(f"unsupported database '{parsed.get_backend_name()}' in '{url}': "
                             f"use {dialects.SUPPORTED_URLS}")
        self._serial: threading.RLock | None = None
        self._local = threading.local()
        self.pool_size = pool_size
        self._idle: list[sa.Connection] = []      # see _checkout
        self._closed = False
        kw: dict[str, Any] = {"echo": echo}
        if self.dialect == "sqlite":
            database = parsed.database or ""
            if database in ("", ":memory:") or parsed.query.get("mode") == "memory":
                # one shared in-memory database: one connection, one transaction at a time
                kw["poolclass"] = sa.pool.StaticPool
                kw["connect_args"] = {"check_same_thread": False, "timeout": 30.0}
                self._serial = threading.RLock()
            else:
                kw["connect_args"] = {"timeout": 30.0}
                kw["pool_size"] = pool_size
                kw["max_overflow"] = 2 * pool_size
        else:
            kw["pool_size"] = pool_size
            kw["max_overflow"] = 2 * pool_size
            kw.update(dialects.engine_options(self.dialect))
        try:
            self.engine = sa.create_engine(self.url, **kw)
        except (exc.ArgumentError, ImportError) as e:
            raise StoreError(f"cannot use database URL '{url}': {e}") from e
        if self.dialect == "sqlite":
            _sqlite_setup(self.engine)
        elif self.dialect == dialects.MYSQL:
            dialects.mysql_setup(self.engine)
        else:
            _pg_setup(self.engine)
        self.fast = FastExec(self.engine.dialect)
        self.definitions: dict[str, DefinitionRecord] = {}
        # PostgreSQL: key -> id of its newest version as last read (checked at commit by
        # whoever relies on it, see latest_definition)
        self.latest: dict[str, str] = {}
        self.round_trips = 0        # diagnostics: database round trips of finished transactions
        if auto_upgrade is None:
            auto_upgrade = self.dialect == "sqlite"
        from engine.store import migrate

        try:
            if auto_upgrade:
                migrate.upgrade(self.engine)
            elif verify_schema:
                migrate.check_current(self.engine)
        except exc.DBAPIError as e:
            self.engine.dispose()
            raise StoreError(f"cannot open database {self.safe_url}: {error_reason(e)}") from e
        except StoreError:
            self.engine.dispose()
            raise

    @property
    def safe_url(self) -> str:
        """The URL without its password, for messages."""
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def transaction(self, read_only: bool = False) -> Iterator[SqlTx]:
        """One database transaction: committed when the block ends, rolled back when it
        raises. Lock conflicts surface as `ConcurrentModification` (retryable).
        `read_only`: the block only reads (it may not write: StoreError); on SQLite it
        begins deferred, taking no write lock, so it neither waits for a command nor
        makes one wait."""
        outer = getattr(self._local, "tx", None)
        if outer is not None:
            # nested in this thread (e.g. a definition looked up mid-command): join the
            # outer transaction, as the memory store's re-entrant lock does; a second
            # connection would wait for the first one's write lock on SQLite
            yield outer
            return
        if self._serial is not None:
            self._serial.acquire()
        try:
            try:
                if self.dialect == "postgresql":
                    conn = self._checkout()
                    tx = SqlTx(self, conn, read_only)
                    self._local.tx = tx
                    reusable = False
                    try:
                        yield tx
                        tx._finish()
                        reusable = True
                    except BaseException:
                        for key in tx.guarded_keys:     # the cache may be what failed
                            self.latest.pop(key, None)
                        if tx.broken():
                            conn.invalidate()   # the pool must not hand it out again
                        else:
                            try:
                                tx._abort()
                                reusable = True
                            except Exception:  # noqa: BLE001 - died while rolling back
                                conn.invalidate()
                        raise
                    finally:
                        self._local.tx = None
                        self.round_trips += tx.trips
                        self._checkin(conn, tx, reusable)
                elif self.dialect != "sqlite":
                    conn = self._checkout()
                    try:
                        with conn.begin():
                            tx = SqlTx(self, conn, read_only)
                            self._local.tx = tx
                            try:
                                yield tx
                            finally:
                                self._local.tx = None
                                self.round_trips += tx.trips
                        if tx.wake_jobs and self._waiter is not None:
                            self._waiter.wake()     # committed: this process's workers
                    finally:
                        self._checkin_sqlite(conn)
                else:
                    conn = self._checkout()
                    conn.info[READ_ONLY] = read_only       # the begin listener reads it
                    try:
                        tx = self._sqlite_block(conn, read_only)
                        try:
                            yield tx
                        except BaseException:
                            self._sqlite_end(conn, tx, False)
                            raise
                        self._sqlite_end(conn, tx, True)
                        if tx.wake_jobs and self._waiter is not None:
                            self._waiter.wake()     # committed: this process's workers
                    finally:
                        self._checkin_sqlite(conn)
                if tx.definitions_read:
                    self.definitions.update(tx.definitions_read)
            except exc.DBAPIError as e:
                if _is_conflict(e.orig):
                    raise ConcurrentModification(f"database conflict: {error_reason(e)}") from e
                too_long = dialects.value_too_long(e.orig)
                if too_long is not None:
                    raise too_long from e
                raise
            except Exception as e:
                # raw DBAPI errors from the fast path (not wrapped by SQLAlchemy)
                if _is_conflict(e):
                    raise ConcurrentModification(f"database conflict: {e}") from e
                too_long = dialects.value_too_long(e)
                if too_long is not None:
                    raise too_long from e
                raise
        finally:
            if self._serial is not None:
                self._serial.release()

    # Connections are kept between transactions in a list of idle ones (PostgreSQL's in
    # autocommit mode: SqlTx opens the transaction block itself): taking one from the pool
    # and giving it back (a SQLAlchemy Connection, the pool's bookkeeping and events, the
    # reset's rollback, autocommit switched on and off) cost a fifth of a command's own
    # time. At most `pool_size` stay idle; the rest go back to the pool.
    def _checkout(self) -> sa.Connection:
        while True:
            try:
                conn = self._idle.pop()     # atomic: another thread may take the last one
            except IndexError:
                break
            if self.dialect != dialects.MYSQL or dialects.still_open(conn):
                return conn
        conn = self.engine.connect()
        if self.dialect != "postgresql":
            return conn
        try:
            conn.connection.dbapi_connection.autocommit = True
        except BaseException:
            conn.invalidate()
            conn.close()
            raise
        return conn

    # SQLite's transaction block is opened and ended on the DBAPI connection itself:
    # SQLAlchemy's begin and commit (events, transaction objects, the reset bookkeeping) cost
    # about as much as the rest of a read. A statement that goes through SQLAlchemy proper
    # (SqlTx._sa) joins the open block (the begin listener sees it open), and SQLAlchemy
    # then ends it.
    def _sqlite_block(self, conn: sa.Connection, read_only: bool) -> SqlTx:
        dbapi = conn.connection.dbapi_connection
        dbapi.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")
        tx = SqlTx(self, conn, read_only)
        self._local.tx = tx
        return tx

    def _sqlite_end(self, conn: sa.Connection, tx: SqlTx, commit: bool) -> None:
        """Commit (or roll back) the block `_sqlite_block` opened; a commit that fails rolls
        back, so the connection goes back to the pool with no block open."""
        self._local.tx = None
        self.round_trips += tx.trips
        dbapi = conn.connection.dbapi_connection
        if commit:
            try:
                if conn.in_transaction():   # SQLAlchemy ran a statement: it ends the block
                    conn.commit()
                else:
                    dbapi.commit()
                return
            except BaseException:
                _sqlite_rollback(conn, dbapi)
                raise
        _sqlite_rollback(conn, dbapi)

    def _checkin_sqlite(self, conn: sa.Connection) -> None:
        """SQLite and MariaDB: the block has been committed or rolled back; keep the
        connection unless it broke (or, against every expectation, SQLite's still has a
        block open)."""
        if not conn.invalidated and not conn.closed and not conn.in_transaction() \
                and not getattr(conn.connection.dbapi_connection, "in_transaction", False) \
                and len(self._idle) < self.pool_size and not self._closed:
            self._idle.append(conn)
            return
        conn.close()

    def _checkin(self, conn: sa.Connection, tx: SqlTx, reusable: bool) -> None:
        if reusable and not tx.broken():
            try:
                if tx.raw.info.transaction_status != 0:     # not IDLE
                    tx._rollback()
                if conn.in_transaction():       # SQLAlchemy's own autobegin (SqlTx._sa)
                    conn.rollback()
                if len(self._idle) < self.pool_size and not self._closed:
                    self._idle.append(conn)
                    return
                tx.raw.autocommit = False       # as the pool expects its connections
            except Exception:  # noqa: BLE001 - a connection that fails here is not reused
                conn.invalidate()
        conn.close()

    # ---------------------------------------------------------------- job wake-ups
    _waiter: Wakeup | None = None
    _announced = 0.0        # time.monotonic() of this store's last NOTIFY
    announce_gap = ANNOUNCE_GAP

    def may_announce(self) -> bool:
        """Whether a commit of a due job may NOTIFY now: at most once per `announce_gap`
        seconds from this store (ANNOUNCE_GAP). PostgreSQL serializes the commits of notifying
        transactions database-wide: four threads starting instances with an async step
        ran 2,200/s announcing each, 3,100/s announcing none. A job a suppressed commit
        added is found all the same: the listeners wake their workers once more
        RECHECK_AFTER the announcement they received (pg_wakeup.PgWakeup)."""
        now = time.monotonic()
        if now - self._announced < self.announce_gap:
            return False
        self._announced = now
        return True

    def job_waiter(self) -> Wakeup:
        """The waiter this process's idle workers share (engine/store/pg_wakeup.py): on
        PostgreSQL one LISTENing connection woken by any process's NOTIFY, elsewhere woken
        by this store's own commits of due jobs. Created on first use, so processes that
        run no worker (the web tier) hold no listening connection."""
        with _WAITER_LOCK:
            if self._waiter is None:
                if self.dialect == "postgresql" and psycopg_has_timed_notifies():
                    args, kw = self.engine.dialect.create_connect_args(self.engine.url)
                    kw.pop("context", None)         # SQLAlchemy's adapters: not libpq's
                    if args:
                        kw["conninfo"] = args[0]
                    self._waiter = PgWakeup(kw)
                else:
                    self._waiter = Wakeup()
            return self._waiter

    def close(self) -> None:
        self._closed = True
        if self._waiter is not None:
            self._waiter.close()
        while self._idle:
            conn = self._idle.pop()
            if self.dialect == "postgresql":
                try:
                    conn.connection.dbapi_connection.autocommit = False
                except Exception:  # noqa: BLE001 - closing anyway
                    conn.invalidate()
            conn.close()
        self.engine.dispose()


_WAITER_LOCK = threading.Lock()      # creating a store's job waiter (rare)
READ_ONLY = "baton_read_only"       # Connection.info key: the block begun is read-only



# SQLite reads the database file through a memory map this large (shared by every
# connection, paged in by the OS) instead of copying pages into each connection's 2 MB
# cache: scans of 100,000 tasks (a name filter, a name order) take half the time.
SQLITE_MMAP_BYTES = 256 * 1024 * 1024


def _sqlite_setup(engine: sa.Engine) -> None:
    """WAL (readers never block the writer), foreign keys, and `BEGIN IMMEDIATE` so a
    transaction takes the write lock up front: commands never fail half-way with 'database
    is locked' after reading a snapshot another writer has since changed."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None   # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cur.close()
        dbapi_conn.create_function("baton_lower", 1, _lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        dbapi = conn.connection.dbapi_connection
        if dbapi.in_transaction:    # the store's own block (SqlStore._sqlite_block)
            return
        # a read-only block (SqlStore.transaction) begins deferred: a snapshot, no lock
        dbapi.execute("BEGIN" if conn.info.get(READ_ONLY) else "BEGIN IMMEDIATE")


def _pg_setup(engine: sa.Engine) -> None:
    """Sessions in UTC, so timestamps come back as UTC datetimes without conversion; a
    connection the pool resets has its prepared statements re-read before next use (a
    pooler in front of the server may reset the session too)."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        autocommit = dbapi_conn.autocommit
        dbapi_conn.autocommit = True
        dbapi_conn.execute("SET TIME ZONE 'UTC'")
        dbapi_conn.autocommit = autocommit
        # the store prepares its statements itself (SqlTx._send); psycopg's own would be
        # dropped by its every rollback (DEALLOCATE ALL), and its bookkeeping runs for
        # every query
        dbapi_conn.prepare_threshold = None

    @event.listens_for(engine, "reset")
    def _reset(dbapi_conn: Any, record: Any, _state: Any) -> None:
        if dbapi_conn.info.transaction_status != 0:     # a real ROLLBACK is coming
            SessionStatements.of(record.info).unsure = True


def _sqlite_rollback(conn: sa.Connection, dbapi: Any) -> None:
    """End a SQLite block without keeping anything; a connection that cannot is dropped
    (never raises: the caller is on its way out with the error that matters)."""
    try:
        conn.rollback()     # SQLAlchemy's transaction, if a statement began one
        if dbapi.in_transaction:
            dbapi.rollback()
    except Exception:  # noqa: BLE001 - not reusable; _checkin_sqlite drops it
        conn.invalidate()


def _lower(v: Any) -> Any:
    return v.lower() if isinstance(v, str) else v


def error_reason(e: exc.DBAPIError) -> str:
    """The first line of the database's own message: what a person needs, without
    SQLAlchemy's wrapping and the statement text."""
    return str(e.orig).strip().splitlines()[0] if e.orig is not None else str(e)


_reason = error_reason      # the name engine/cli.py still imports


# "prepared statement does not exist" / "already exists": the session's statements are not
# what SessionStatements believed; it re-reads them, and the command is retried
_SESSION_OUT_OF_STEP = ("26000", "42P05")


def _is_conflict(orig: Any) -> bool:
    """PostgreSQL's and MariaDB's retryable failures: serialization, deadlock, lock
    timeout. (SQLite serialises writers with BEGIN IMMEDIATE; "database is locked" there
    means another process held the file for the whole busy timeout, and retrying would
    only wait again.)"""
    return getattr(orig, "sqlstate", None) in ("40001", "40P01", "55P03") \
        or dialects.is_conflict(orig)


class SqlTx:
    """The store API inside one database transaction (see `MemoryTx` for the contract)."""

    # a job a worker can run now was added or freed here: the COMMIT's batch carries a
    # NOTIFY (PostgreSQL), or the store wakes this process's workers after it (elsewhere)
    wake_jobs = False

    def __init__(self, store: SqlStore, conn: sa.Connection, read_only: bool = False) -> None:
        self.store = store
        self.conn = conn
        self.read_only = read_only
        self.raw = dialects.raw_connection(conn)
        self.fast = store.fast
        self.pg = store.dialect == "postgresql"
        # instance rows are locked FOR UPDATE, jobs leased with SKIP LOCKED (PostgreSQL,
        # MariaDB); SQLite's BEGIN IMMEDIATE locks the whole database instead
        self.locking = store.dialect != "sqlite"
        self.definitions_read: dict[str, DefinitionRecord] = {}
        self._rev: dict[tuple[str, str], int] = {}        # (table, id) -> revision read
        self._tasks: dict[str, TaskRecord] = {}           # tasks read or written here
        self._cands: dict[str, tuple[list[str], list[str]]] = {}
        # instance -> table -> ids of its rows, as probed (plus what this transaction added,
        # minus what it deleted); exact while the instance is locked, which is when commands
        # ask (see _probe)
        self._rows: dict[str, dict[str, set[str]]] = {}
        self._pending: list[tuple[str, Any, str | None]] = []   # queued writes (PostgreSQL)
        # statements that must hold at COMMIT, sent just before it (PostgreSQL)
        self._guards: list[tuple[Any, Any]] = []
        self.guarded_keys: set[str] = set()                # definitions answered from cache
        self._open = False                                # a transaction block is open
        self._locked: set[str] = set()                    # instances read FOR UPDATE
        # instance rows read under their lock and not yet handed out (lock_task)
        self._locked_rows: dict[str, Any] = {}
        self._also: list[Any] = []                        # see _lock_batch
        # tasks whose entry in _tasks is as current as the database can be for this
        # transaction: read after their instance was locked, or written here (None in
        # _tasks: deleted here)
        self._fresh: set[str] = set()
        self.trips = 0                                    # round trips (statements on SQLite)
        # SQLite: BEGIN IMMEDIATE holds the write lock from the first statement, so nothing
        # read here can change before the end; PostgreSQL and MariaDB run READ COMMITTED
        self.serializable = not self.locking
        # the statements PREPAREd on this connection's session (PostgreSQL)
        self.session = SessionStatements.of(conn.connection.info) if self.pg else None

    # ---------------------------------------------------------------- execution
    # PostgreSQL: the connection is in autocommit mode and the transaction block is opened
    # lazily, by the first write or locking read. Plain reads before it need no block: under
    # READ COMMITTED every statement sees the latest committed data, in a block or not.
    # Writes are queued and sent in one round trip with the BEGIN, the next read, or the
    # COMMIT, so a command costs a few round trips however many rows it writes. A queued
    # write that must hit exactly one row (a revision check), and a fact that must still
    # hold at commit (a guard), are checked by the server in that same round trip
    # (`baton_check`, migration 0004): a miss aborts the transaction before its COMMIT.
    def _q(self, stmt: Any, params: dict[str, Any] | None = None) -> list[Any]:
        """Rows of a SELECT (compiled once, run on the DBAPI cursor)."""
        p = self.fast.prepared(stmt)
        if self.pg:     # an EXECUTE of our own like everything else (see _send)
            return p.rows(self._send([(p, p.params(params))], False,
                                     begin=bool(self._pending) or p.locks)[0])
        self.trips += 1
        return p.rows(self.raw.execute(p.sql, p.params(params)).fetchall())

    def _w(self, stmt: Any, params: dict[str, Any] | None = None,
           keys: tuple[str, ...] | None = None, check: str | None = None) -> None:
        """Run (PostgreSQL: queue) an INSERT/UPDATE/DELETE; `keys` names the columns
        written. With `check`, the statement must change exactly one row, else
        ConcurrentModification(check)."""
        if self.read_only:
            raise StoreError("a read-only transaction cannot write (a query that writes?)")
        p = self.fast.prepared(stmt, keys)
        if self.pg:
            self._pending.append((p, p.params(params), check))
            return
        self.trips += 1
        rowcount = self.raw.execute(p.sql, p.params(params)).rowcount
        if check is not None and rowcount != 1:
            raise ConcurrentModification(check)

    def _wm(self, stmt: Any, rows: list[dict[str, Any]], keys: tuple[str, ...]) -> None:
        p = self.fast.prepared(stmt, keys)
        if self.pg:
            self._pending.extend((p, p.params(r), None) for r in rows)
            return
        self.trips += 1
        cur = self.raw.cursor()
        cur.executemany(p.sql, [p.params(r) for r in rows])
        cur.close()

    def _sa(self, stmt: Any, params: dict[str, Any] | None = None,
            write: bool = False) -> list[Any]:
        """Through SQLAlchemy proper: statements with list (expanding IN) parameters.
        `write`: the statement writes or locks rows (it needs the transaction block)."""
        if self.pg and (self._pending or (write and not self._open)):
            self._flush()
        self.trips += 1
        result = self.conn.execute(stmt, params or {})
        return list(result) if result.returns_rows else []

    def _flush(self, commit: bool = False) -> None:
        """PostgreSQL: send BEGIN (if not yet) and the queued writes (and the COMMIT)."""
        self._send([], commit)

    def _send(self, reads: list[tuple[Any, Any]], commit: bool,
              begin: bool = True) -> list[Any]:
        """One round trip: [BEGIN;] the queued writes; `reads`; [the guards; COMMIT] as
        one simple-protocol query of `EXECUTE`s of statements prepared on this connection
        (`PREPARE`d in the same query the first time), their parameters written as
        literals (`fastexec.literals`). Checked writes and guards raise in the server, so
        a miss aborts the block before its COMMIT. `begin`: open the transaction block if
        it is not (plain reads run without one). Returns each read's rows.

        When the session has lost statements the store believed prepared (a pooler's
        reset, a `DEALLOCATE ALL` behind its back) and nothing of this transaction ran on
        the server yet, the batch is sent again with the names re-read; otherwise the
        command is retried (ConcurrentModification)."""
        import psycopg

        pending, self._pending = self._pending, []
        raw = self.raw
        session = self.session
        assert session is not None
        cur = session.batcher
        if cur is None:
            cur = session.batcher = psycopg.ClientCursor(raw)
            session.transformer = psycopg.adapt.Transformer(raw)
        opening = begin and not self._open
        fresh = not self._open          # a failure now loses nothing already done
        for attempt in (1, 2):
            if session.unsure:
                self.trips += 1
                session.resync(raw)
            text, skip = self._batch(cur, session, pending, reads, commit, opening)
            self.trips += 1
            try:
                if reads:
                    results = exec_rows(raw, text, session.transformer)
                else:
                    exec_batch(raw, text)
                break
            except psycopg.Error as e:
                # some of the PREPAREs may have run (they outlive the rollback), some not
                session.unsure = True
                if getattr(e, "sqlstate", None) not in _SESSION_OUT_OF_STEP:
                    raise
                if attempt == 1 and fresh:
                    if raw.info.transaction_status != 0:    # the failed BEGIN ... block
                        raw.rollback()
                    continue
                raise ConcurrentModification(
                    f"prepared statements out of step with the database session: {e}") from e
        if commit:
            self._open = False
        elif opening:
            self._open = True
        if not reads:
            return []
        # the PREPAREs, the BEGIN and the writes come first
        first_read = skip + int(opening) + len(pending)
        return results[first_read:first_read + len(reads)]

    def _batch(self, cur: Any, session: SessionStatements, pending: list[Any],
               reads: list[tuple[Any, Any]], commit: bool, opening: bool) -> tuple[str, int]:
        """The text of one `_send` batch, and how many PREPARE results lead it."""
        known = session.names
        standard = session.standard_strings(self.raw)
        prepare: list[str] = []
        prepared_now: set[str] = set()

        def call(p: Any, params: Any, check: str | None = None) -> str:
            if check is None:
                name, sql, order = p.server_prepared()
            else:       # the server refuses a change of other than one row (fastexec)
                name, sql, order = p.server_checked()
                params = {**params, CHECK_PARAM: check}
            if name not in known and name not in prepared_now:
                prepare.append(f"PREPARE {name} AS {sql}")
                prepared_now.add(name)
            if not order:
                return f"EXECUTE {name}"
            values = [params[n] for n in order]
            if standard:
                return f"EXECUTE {name}({literals(values, cur)})"
            return f"EXECUTE {name}({cur.mogrify(', '.join(['%s'] * len(order)), values)})"

        parts: list[str] = ["BEGIN"] if opening else []
        parts.extend(call(p, params, check) for p, params, check in pending)
        parts.extend(call(p, params) for p, params in reads)
        if commit:
            parts.extend(call(p, params) for p, params in self._guards)
            # delivered at the COMMIT, never if the block aborts; at most one per
            # ANNOUNCE_GAP from this store (see may_announce)
            if self.wake_jobs and self.store.may_announce():
                parts.append(NOTIFY_SQL)
            parts.append("COMMIT")
        # counted as prepared once the text is built: if the batch fails, `unsure` makes
        # the next one ask the server anyway
        known.update(prepared_now)
        return ";\n".join(prepare + parts), len(prepare)

    def _finish(self) -> None:
        """PostgreSQL, the block is ending: send what is queued and the guards, with the
        COMMIT (a failed check aborts the block before it)."""
        if self._pending or self._guards or (self.wake_jobs and self._open):
            self._flush(commit=True)
            self._guards = []
        if self._open:
            self.trips += 1
            self.raw.execute("COMMIT", prepare=False)
            self._open = False

    def _abort(self) -> None:
        self._pending = []
        self._guards = []
        if self._open or self.raw.info.transaction_status != 0:   # not IDLE
            self._rollback()
        self._open = False

    def _rollback(self) -> None:
        """A ROLLBACK leaves the session's prepared statements alone (PREPARE is not
        transactional, and psycopg, whose own prepared statements are switched off, has
        none to DEALLOCATE)."""
        self.raw.rollback()

    def broken(self) -> bool:
        """The DBAPI connection is unusable (server gone, network down)."""
        return bool(getattr(self.raw, "broken", False) or getattr(self.raw, "closed", False))

    def _probe(self, table: str, instance_id: str) -> bool:
        """True when `table` certainly holds no row of the instance. Known for an instance
        locked here (on PostgreSQL probed with the lock, see get_instance; on SQLite by one
        probe of all four tables at the first question) or created here, with the rows
        added or deleted here since accounted for. Of an instance not locked here nothing
        is known, and nothing is asked: the caller's own query is as cheap as a probe."""
        rows = self._rows.get(instance_id)
        if rows is None:
            if instance_id not in self._locked:
                return False
            rows = self._probed(instance_id, self._q(PROBE, {"iid": instance_id}))
        return not rows[table]

    def _probed(self, instance_id: str, found: list[Any]) -> dict[str, set[str]]:
        rows: dict[str, set[str]] = {t: set() for t in PROBE_TABLES}
        for index, row_id in found:
            rows[PROBE_TABLES[index]].add(row_id)
        self._rows[instance_id] = rows
        return rows

    def new_instance(self, instance_id: str) -> None:
        """A hint from the command: this instance is being created in this transaction, so
        it has no rows but those added here (its lookups need no query)."""
        self._rows[instance_id] = {t: set() for t in PROBE_TABLES}

    def _added(self, table: str, instance_id: str | None, row_id: str) -> None:
        if instance_id is not None:
            rows = self._rows.get(instance_id)
            if rows is not None:
                rows[table].add(row_id)

    def _deleted(self, table: str, row_id: str) -> None:
        for rows in self._rows.values():
            rows[table].discard(row_id)

    # ---------------------------------------------------------------- definitions
    def add_deployment(self, rec: DeploymentRecord) -> None:
        self._w(INS["deployments"], {"id": rec.id, "name": rec.name, "time": rec.time,
                                         "resources": dumps(list(rec.resources))},
                ("id", "name", "time", "resources"))

    def add_definition(self, rec: DefinitionRecord) -> None:
        values = _values(rec, F_DEF)
        values["executable"] = bool(rec.executable)
        values["has_start_form"] = bool(rec.has_start_form)
        self._w(INS["definitions"], values, F_DEF)
        self.store.latest.pop(rec.key, None)

    def get_definition(self, def_id: str) -> DefinitionRecord | None:
        rec = self.store.definitions.get(def_id) or self.definitions_read.get(def_id)
        if rec is not None:
            return rec
        rows = self._q(SEL_DEF, {"id": def_id})
        if not rows:
            return None
        rec = _definition(rows[0])
        self.definitions_read[def_id] = rec
        return rec

    def definitions(self, key: str | None = None) -> list[DefinitionRecord]:
        rows = self._q(SEL_DEFS) if key is None else self._q(SEL_DEFS_KEY, {"key": key})
        return [_definition(r) for r in rows]

    def latest_definition(self, key: str, *, starting: bool = False) -> DefinitionRecord | None:
        """The newest version. `starting` (on PostgreSQL): answered from the store's cache
        when it has one, with a guard sent before the COMMIT that no newer version exists
        by then (else the command fails with ConcurrentModification, the cache entry is
        dropped and the retry reads the database)."""
        if starting and self.pg:
            def_id = self.store.latest.get(key)
            rec = self.get_definition(def_id) if def_id is not None else None
            if rec is not None:
                if key not in self.guarded_keys:
                    self.guarded_keys.add(key)
                    g = self.fast.prepared(GUARD_LATEST)
                    self._guards.append((g, g.params({
                        "id": rec.id, "key": key, "v": rec.version,
                        "what": f"a newer version of process '{key}' was deployed"})))
                return rec
        rows = self._q(SEL_LATEST, {"key": key})
        if not rows:
            return None
        if self.pg:
            self.store.latest[key] = rows[0][0]
        return self.get_definition(rows[0][0])

    def definition_version(self, key: str, version: int) -> DefinitionRecord | None:
        rows = self._q(SEL_VERSION, {"key": key, "v": version})
        return self.get_definition(rows[0][0]) if rows else None

    # ---------------------------------------------------------------- instances
    def add_instance(self, rec: InstanceRecord) -> None:
        self._w(INS["instances"], _instance_values(rec), F_INSTANCE)

    def get_instance(self, instance_id: str, lock: bool = False) -> InstanceRecord | None:
        if lock and self.locking:
            row = self._locked_rows.pop(instance_id, None)
            if row is not None:         # read under its lock by lock_task, not handed out
                return _instance(row)
            if instance_id in self._rows:
                rows = self._q(SEL_INSTANCE_LOCK, {"id": instance_id})
            else:   # lock the row, read its tasks, probe the rest: one round trip
                rows = self._lock_batch(SEL_INSTANCE_LOCK, SEL_TASKS_OF, PROBE_REST,
                                        {"id": instance_id}, {"iid": instance_id})
            if rows:
                self._locked.add(instance_id)
        else:
            rows = self._q(SEL_INSTANCE, {"id": instance_id})
            if lock and rows:
                self._locked.add(instance_id)
        return _instance(rows[0]) if rows else None

    def _lock_batch(self, lock: Any, tasks: Any, rest: Any, lock_params: dict[str, Any],
                    params: dict[str, Any], also: Any = None) -> list[Any]:
        """PostgreSQL, one round trip: lock an instance row, then (in statements that start
        after the lock is granted, so they see what its previous holder committed) read
        its tasks whole and the ids of its other wait-state rows, and `also` (a statement
        of `params`: its rows go to `self._also`). Returns the instance rows (none or
        one)."""
        lock_q, tasks_q, rest_q = (self.fast.prepared(lock), self.fast.prepared(tasks),
                                   self.fast.prepared(rest))
        reads = [(lock_q, lock_q.params(lock_params)), (tasks_q, tasks_q.params(params)),
                 (rest_q, rest_q.params(params))]
        if also is not None:
            also_q = self.fast.prepared(also)
            reads.append((also_q, also_q.params(params)))
        if self.pg:
            got, task_rows, found, *more = self._send(reads, False)
        else:   # MariaDB: the same statements one by one, the lock first
            got, task_rows, found, *more = self._each(reads)
        self._also = also_q.rows(more[0]) if also is not None else []
        rows = lock_q.rows(got)
        if rows:
            iid = rows[0][0]
            # tasks of this instance read before the lock and gone since are forgotten
            for gone in [t.id for t in self._tasks.values() if t.instance_id == iid]:
                self._tasks.pop(gone)
                self._fresh.add(gone)       # known gone until this transaction adds it
            ids = []
            for r in tasks_q.rows(task_rows):
                rec, rev = _task(r)
                self._seen_task(rec, rev)
                self._fresh.add(rec.id)
                ids.append(rec.id)
            self._probed(iid, [*found, *((0, i) for i in ids)])
        return rows

    def _each(self, reads: list[tuple[Any, Any]]) -> list[Any]:
        """The raw rows of each read, one round trip apiece (the portable path's `_send`)."""
        self.trips += len(reads)
        return [self.raw.execute(p.sql, params).fetchall() for p, params in reads]

    def lock_task(self, task_id: str) -> TaskRecord | None:
        """The task, read after its instance's row is locked for this transaction (on
        PostgreSQL the lock, the task and the instance's other wait-state rows in one round
        trip; the instance row then comes from that read). None when it is gone."""
        if not isinstance(task_id, str):
            return None
        if not self.locking or task_id in self._fresh:
            return self.get_task(task_id)
        rows = self._lock_batch(SEL_INSTANCE_OF_TASK_LOCK, SEL_TASKS_OF_TASK,
                                PROBE_REST_OF_TASK, {"tid": task_id}, {"tid": task_id})
        if not rows:
            return None
        iid = rows[0][0]
        self._locked.add(iid)
        self._locked_rows[iid] = rows[0]
        rec = self._tasks.get(task_id)
        if rec is None:         # completed or cancelled before the lock was ours
            self._fresh.add(task_id)
            return None
        return clone(rec)

    def update_instance(self, rec: InstanceRecord) -> None:
        self._locked_rows.pop(rec.id, None)     # no longer what the row holds
        values = _instance_values(rec)
        values["b_id"] = rec.id
        values["b_rev"] = rec.revision
        values["revision"] = rec.revision + 1
        # a row we hold FOR UPDATE cannot have changed: no check (and one round trip less)
        self._w(UPD_INSTANCE, values, K_UPD_INSTANCE,
                check=None if rec.id in self._locked else rec.id)
        rec.revision += 1

    def find_instances(self, *, newest_first: bool = False, limit: int | None = None,
                       offset: int = 0, **filters: Any) -> list[InstanceRecord]:
        f = instance_filter(filters)
        params = dict(filters)
        paged = limit is not None or offset > 0

        def build() -> Any:
            q = (sa.select(*_cols(_I, F_INSTANCE)).where(*where(f.pred, _I))
                 .order_by(*order_by(_I, INSTANCE_NEWEST if newest_first else INSTANCE_ORDER)))
            return q.limit(B("limit")).offset(B("offset")) if paged else q

        stmt = _shape_stmt((f.key, newest_first, paged), build)
        if paged:
            params["limit"] = dialects.no_limit(self.store.dialect) if limit is None else limit
            params["offset"] = offset
        return [_instance(r) for r in self._q(stmt, params)]

    def count_instances(self, **filters: Any) -> int:
        f = instance_filter(filters)
        stmt = _shape_stmt(("count", f.key), lambda: sa.select(sa.func.count())
                           .select_from(_I).where(*where(f.pred, _I)))
        return int(self._q(stmt, filters)[0][0])

    def child_instances(self, parent_id: str, token: int | None = None) -> list[InstanceRecord]:
        def build() -> Any:
            q = sa.select(*_cols(_I, F_INSTANCE)).where(_I.c.parent_id == B("parent"))
            if token is not None:
                q = q.where(_I.c.parent_token == B("token"))
            return q.order_by(_I.c.started, _I.c.id)

        stmt = _shape_stmt(("children", token is None), build)
        return [_instance(r) for r in self._q(stmt, {"parent": parent_id, "token": token}
                                              if token is not None else {"parent": parent_id})]

    # ---------------------------------------------------------------- user tasks
    def _seen_task(self, rec: TaskRecord, rev: int) -> TaskRecord:
        """Remember a task row (revision, candidate rows) and hand out a copy of it."""
        self._rev[("tasks", rec.id)] = rev
        self._tasks[rec.id] = rec
        self._cands[rec.id] = _candidate_rows(rec)
        return clone(rec)

    def add_task(self, rec: TaskRecord) -> None:
        values = _task_values(rec)
        values["revision"] = 0
        self._w(INS["tasks"], values, K_TASK)
        self._insert_candidates(rec)
        self._added("tasks", rec.instance_id, rec.id)
        self._seen_task(clone(rec), 0)
        self._fresh.add(rec.id)

    def _insert_candidates(self, rec: TaskRecord) -> None:
        copies = _copies(rec)
        rows = [{"kind": "user", "name": u, "task_id": rec.id, **copies}
                for u in dict.fromkeys(rec.candidate_users)]
        rows += [{"kind": "group", "name": g, "task_id": rec.id, **copies}
                 for g in dict.fromkeys(rec.candidate_groups)]
        if rows:
            self._wm(INS["task_candidates"], rows, K_CANDIDATE)

    def get_task(self, task_id: str) -> TaskRecord | None:
        if task_id in self._fresh:
            rec = self._tasks.get(task_id)
            return clone(rec) if rec is not None else None
        rows = self._q(SEL_TASK, {"id": task_id})
        if not rows:
            self._tasks.pop(task_id, None)
            return None
        return self._seen_task(*_task(rows[0]))

    def update_task(self, rec: TaskRecord) -> None:
        known = self._cands.get(rec.id)
        self._update_guarded("tasks", rec.id, _task_values(rec), F_TASK, UPD_TASK,
                             UPD_TASK_GUARDED)
        now = _candidate_rows(rec)
        if known is None or known[:2] != now[:2]:
            self._w(DEL_CANDIDATES, {"id": rec.id})
            self._insert_candidates(rec)
        elif known[2] != now[2]:          # claimed, unclaimed, new due date or priority
            self._w(UPD_CANDIDATES, {"b_id": rec.id, **now[2]}, K_COPIES)
        rev = self._rev.get(("tasks", rec.id))
        if rev is None:
            self._tasks.pop(rec.id, None)
            self._cands.pop(rec.id, None)
            self._fresh.discard(rec.id)
        else:
            self._seen_task(clone(rec), rev)

    def delete_task(self, task_id: str) -> None:
        self._w(DEL_TASK, {"id": task_id})    # candidates go by ON DELETE CASCADE
        self._deleted("tasks", task_id)
        self._tasks.pop(task_id, None)
        self._cands.pop(task_id, None)
        self._rev.pop(("tasks", task_id), None)

    def delete_wait_rows(self, instance_id: str) -> None:
        """Each lookup is free where the probe knows the table holds none of the
        instance's rows (an instance created or locked here)."""
        probe = self._probe
        if not probe("tasks", instance_id):
            for task in self.find_tasks(instance_id=instance_id):
                self.delete_task(task.id)
        if not probe("jobs", instance_id):
            for job in self.find_jobs(instance_id=instance_id):
                self.delete_job(job.id)
        if not probe("external_tasks", instance_id):
            for ext in self.find_external(instance_id=instance_id):
                self.delete_external(ext.id)
        if not probe("subscriptions", instance_id):
            for sub in self.find_subscriptions(instance_id=instance_id):
                self.delete_subscription(sub.id)

    def task_by_token(self, instance_id: str, token: int) -> TaskRecord | None:
        for rec in self._tasks.values():
            if rec.instance_id == instance_id and rec.token == token:
                return clone(rec)
        if self._probe("tasks", instance_id):
            return None
        rows = self._q(SEL_TASK_TOKEN, {"iid": instance_id, "token": token})
        return self._seen_task(*_task(rows[0])) if rows else None

    def find_tasks(self, *, sort: str = "created", limit: int | None = None, offset: int = 0,
                   **filters: Any) -> list[TaskRecord]:
        iid = filters.get("instance_id")
        check_task_query(filters, sort)
        if iid is not None and self._probe("tasks", iid):
            return []
        if iid is not None and len(filters) == 1 and sort == "created" and limit is None \
                and not offset and isinstance(iid, str):
            # an instance's tasks (commands, the instance page): compiled once, no SQLAlchemy
            return [self._seen_task(*_task(r)) for r in self._q(SEL_TASKS_OF, {"iid": iid})]
        if limit is not None:       # a page: walk indexes in the page's order (task_sql.py)
            q = page_query(_cols(_T, K_TASK), filters, sort, limit, offset, self.pg)
        else:
            q = (sa.select(*_cols(_T, K_TASK)).where(*task_where(filters, self.pg))
                 .order_by(*task_order(sort, self.pg)))
            if offset:
                q = q.offset(offset)
        return [self._seen_task(*_task(r)) for r in self._sa(q)]

    def count_tasks(self, *, limit: int | None = None, **filters: Any) -> int:
        check_task_query(filters, "created")
        n = int(self._sa(count_query(filters, limit, self.pg))[0][0] or 0)
        return n if limit is None else min(n, limit)

    # ---------------------------------------------------------------- jobs
    def add_job(self, rec: JobRecord) -> None:
        values = _job_values(rec)
        values["revision"] = 0
        self._w(INS["jobs"], values, K_JOB)
        self._added("jobs", rec.instance_id, rec.id)
        if not self.wake_jobs and wakes_workers(rec) and not draining():
            self.wake_jobs = True

    def lock_job(self, job_id: str) -> JobRecord | None:
        """The job, read after its instance's row is locked (on PostgreSQL in one round
        trip with the lock, the instance's tasks and its other wait-state rows; the
        instance row then comes from that read)."""
        if not self.locking or not isinstance(job_id, str):
            return self.get_job(job_id)
        rows = self._lock_batch(SEL_INSTANCE_OF_JOB_LOCK, SEL_TASKS_OF_JOB, PROBE_REST_OF_JOB,
                                {"jid": job_id}, {"jid": job_id}, also=SEL_JOB_BY_JID)
        if rows:
            iid = rows[0][0]
            self._locked.add(iid)
            self._locked_rows[iid] = rows[0]
        if not self._also:
            return None
        rec, rev = _job(self._also[0])
        self._rev[("jobs", job_id)] = rev
        return rec

    def get_job(self, job_id: str) -> JobRecord | None:
        rows = self._q(SEL_JOB, {"id": job_id})
        if not rows:
            return None
        rec, rev = _job(rows[0])
        self._rev[("jobs", job_id)] = rev
        return rec

    def update_job(self, rec: JobRecord) -> None:
        self._update_guarded("jobs", rec.id, _job_values(rec), F_JOB, UPD_JOB,
                             UPD_JOB_GUARDED)
        # a lease given back, a retry (not by a draining worker: see pg_wakeup.DRAINING)
        if not self.wake_jobs and wakes_workers(rec) and not draining():
            self.wake_jobs = True

    def _update_guarded(self, name: str, row_id: str, values: dict[str, Any],
                        names: tuple[str, ...], plain: Any, guarded: Any) -> None:
        """UPDATE a row; when this transaction read it, only if its revision is unchanged."""
        key = (name, row_id)
        rev = self._rev.get(key)
        values["b_id"] = row_id
        if rev is None:     # not read here: write unconditionally (bumping the revision)
            self._w(plain, values, names)
            return
        values["b_rev"] = rev
        values["revision"] = rev + 1
        self._w(guarded, values, (*names, "revision"), check=f"{name} {row_id}")
        self._rev[key] = rev + 1

    def delete_job(self, job_id: str) -> None:
        self._w(DEL_JOB, {"id": job_id})
        self._deleted("jobs", job_id)
        self._rev.pop(("jobs", job_id), None)

    def find_jobs(self, **filters: Any) -> list[JobRecord]:
        iid = filters.get("instance_id")
        stmt, params = _equal_stmt(_J, K_JOB, JobRecord, filters, JOB_ORDER)
        if iid is not None and self._probe("jobs", iid):
            return []
        out = []
        for row in self._q(stmt, params):
            rec, rev = _job(row)
            self._rev[("jobs", rec.id)] = rev
            out.append(rec)
        return out

    def acquire_jobs(self, now: datetime, owner: str, lease_until: datetime, limit: int,
                     exclusive: bool = True) -> list[JobRecord]:
        """Lease due jobs: unlocked or with an expired lease; one per instance if exclusive
        (and none of an instance that already has a job leased)."""
        if limit <= 0:
            return []
        stmt = _shape_stmt(("acquire", exclusive, self.locking),
                           lambda: _acquire_stmt(exclusive, self.locking))
        picked: list[JobRecord] = []
        instances: set[str] = set()
        for row in self._q(stmt, {"now": now, "n": limit * 2 if exclusive else limit}):
            rec, _rev = _job(row)
            if exclusive and rec.instance_id is not None:
                if rec.instance_id in instances:
                    continue
                instances.add(rec.instance_id)
            picked.append(rec)
            if len(picked) >= limit:
                break
        if exclusive and self.locking and instances:
            # Two workers acquiring at the same moment could each lease a different job of
            # one instance: whoever locks the instance row first decides, and the busy check
            # is repeated under that lock (it sees leases committed meanwhile).
            # On PostgreSQL both in one round trip: the busy check is a statement of its
            # own, so it starts after the locks are granted.
            ids = sorted(instances)
            if self.pg:
                lock_q, busy_q = self.fast.prepared(LOCK_INSTANCES_ANY), self.fast.prepared(
                    LEASED_OF_ANY)
                got_mine, got_busy = self._send(
                    [(lock_q, lock_q.params({"ids": ids})),
                     (busy_q, busy_q.params({"ids": ids, "now": now}))], False)
            else:   # MariaDB: IN lists, one after the other
                got_mine = self._sa(LOCK_INSTANCES_IN, {"ids": ids})
                got_busy = self._sa(LEASED_OF_IN, {"ids": ids, "now": now})
            mine = {r[0] for r in got_mine}
            taken = {r[0] for r in got_busy}
            picked = [j for j in picked if j.instance_id is None
                      or (j.instance_id in mine and j.instance_id not in taken)]
        if not picked:
            return []
        if self.pg:     # goes out with the COMMIT
            self._w(LEASE_JOBS_ANY, {"ids": [j.id for j in picked], "owner": owner,
                                     "until": lease_until})
        else:
            self._sa(_J.update().where(_J.c.id.in_(B("ids", expanding=True))).values(
                lock_owner=B("owner"), lock_expires=B("until"), revision=_J.c.revision + 1),
                {"ids": [j.id for j in picked], "owner": owner, "until": lease_until},
                write=True)
        for j in picked:
            j.lock_owner = owner
            j.lock_expires = lease_until
        return picked

    # ---------------------------------------------------------------- external tasks
    def add_external(self, rec: ExternalTaskRecord) -> None:
        values = _values(rec, F_EXT)
        values["revision"] = 0
        self._w(INS["external_tasks"], values, K_EXT)
        self._added("external_tasks", rec.instance_id, rec.id)

    def get_external(self, task_id: str) -> ExternalTaskRecord | None:
        rows = self._q(SEL_EXT, {"id": task_id})
        if not rows:
            return None
        rec, rev = _split_rev(ExternalTaskRecord, rows[0])
        self._rev[("external_tasks", task_id)] = rev
        return rec

    def update_external(self, rec: ExternalTaskRecord) -> None:
        self._update_guarded("external_tasks", rec.id, _values(rec, F_EXT), F_EXT, UPD_EXT,
                             UPD_EXT_GUARDED)

    def delete_external(self, task_id: str) -> None:
        self._w(DEL_EXT, {"id": task_id})
        self._deleted("external_tasks", task_id)
        self._rev.pop(("external_tasks", task_id), None)

    def external_by_token(self, instance_id: str, token: int) -> ExternalTaskRecord | None:
        if self._probe("external_tasks", instance_id):
            return None
        rows = self._q(SEL_EXT_TOKEN, {"iid": instance_id, "token": token})
        if not rows:
            return None
        rec, rev = _split_rev(ExternalTaskRecord, rows[0])
        self._rev[("external_tasks", rec.id)] = rev
        return rec

    def find_external(self, **filters: Any) -> list[ExternalTaskRecord]:
        f = external_filter(filters)
        iid = filters.get("instance_id")
        if iid is not None and self._probe("external_tasks", iid):
            return []
        stmt = _shape_stmt(f.key, lambda: sa.select(*_cols(_X, K_EXT)).where(*where(f.pred, _X))
                           .order_by(*order_by(_X, EXTERNAL_PRIORITY_ORDER)))
        out = []
        for row in self._q(stmt, filters):
            rec, rev = _split_rev(ExternalTaskRecord, row)
            self._rev[("external_tasks", rec.id)] = rev
            out.append(rec)
        return out

    def lock_external(self, topics: list[str], worker_id: str, now: datetime,
                      lock_until: dict[str, datetime], limit: int,
                      use_priority: bool = False) -> list[ExternalTaskRecord]:
        if limit <= 0 or not lock_until:
            return []
        q = (sa.select(*_cols(_X, K_EXT)).where(*where(EXTERNAL_FETCHABLE, _X))
             .order_by(*order_by(_X, EXTERNAL_PRIORITY_ORDER if use_priority else EXTERNAL_ORDER))
             .limit(limit))
        if self.locking:
            q = q.with_for_update(skip_locked=True)
        out = []
        for row in self._sa(q, {"topics": list(lock_until), "now": now}, write=self.pg):
            rec, _rev = _split_rev(ExternalTaskRecord, row)
            rec.worker_id = worker_id
            rec.lock_expires = lock_until[rec.topic]
            out.append(rec)
        if out:
            self._wm(LEASE_EXT, [{"b_id": r.id, "b_worker": worker_id, "b_until": r.lock_expires}
                                 for r in out], ())
        return out

    # ---------------------------------------------------------------- subscriptions
    def add_subscription(self, rec: SubscriptionRecord) -> None:
        self._w(INS["subscriptions"], _values(rec, F_SUB), F_SUB)
        self._added("subscriptions", rec.instance_id, rec.id)

    def delete_subscription(self, sub_id: str) -> None:
        self._w(DEL_SUB, {"id": sub_id})
        self._deleted("subscriptions", sub_id)

    def find_subscriptions(self, **filters: Any) -> list[SubscriptionRecord]:
        stmt, params = _equal_stmt(_SUB, F_SUB, SubscriptionRecord, filters, SUBSCRIPTION_ORDER)
        iid = filters.get("instance_id")
        if iid is not None and self._probe("subscriptions", iid):
            return []
        return [SubscriptionRecord(*r) for r in self._q(stmt, params)]

    # ---------------------------------------------------------------- incidents
    def add_incident(self, rec: IncidentRecord) -> None:
        values = _values(rec, F_INC)
        values["revision"] = 0
        self._w(INS["incidents"], values, K_INC)

    def get_incident(self, incident_id: str) -> IncidentRecord | None:
        rows = self._q(SEL_INC, {"id": incident_id})
        if not rows:
            return None
        rec, rev = _split_rev(IncidentRecord, rows[0])
        self._rev[("incidents", rec.id)] = rev
        return rec

    def update_incident(self, rec: IncidentRecord) -> None:
        self._update_guarded("incidents", rec.id, _values(rec, F_INC), F_INC, UPD_INC,
                             UPD_INC_GUARDED)

    def find_incidents(self, *, open_only: bool = True, **filters: Any) -> list[IncidentRecord]:
        stmt, params = _equal_stmt(_INC, K_INC, IncidentRecord, filters, INCIDENT_ORDER,
                                   INCIDENT_OPEN if open_only else None)
        out = []
        for row in self._q(stmt, params):
            rec, rev = _split_rev(IncidentRecord, row)
            self._rev[("incidents", rec.id)] = rev
            out.append(rec)
        return out

    # ---------------------------------------------------------------- history
    def add_history(self, rows: list[HistoryRecord]) -> None:
        """One row per instance: the events of this call as a JSON array, in order."""
        if not rows:
            return
        first = rows[0][0]
        if all(r[0] == first for r in rows):
            batches = {first: rows}
        else:
            batches = {}
            for r in rows:
                batches.setdefault(r[0], []).append(r)
        for iid, batch in batches.items():
            self._w(INS["history"], {"instance_id": iid, "time": batch[0][3],
                                     "events": _events_out(batch)}, F_HISTORY)

    def history(self, instance_id: str) -> list[HistoryRecord]:
        out: list[HistoryRecord] = []
        for row_time, events in self._q(SEL_HISTORY, {"iid": instance_id}):
            _events_in(instance_id, row_time, events, out)
        return out

    # ---------------------------------------------------------------- comments
    def add_comment(self, rec: CommentRecord) -> None:
        self._w(INS["comments"], _values(rec, F_COMMENT), F_COMMENT)

    def comments(self, *, instance_id: str | None = None,
                 task_id: str | None = None) -> list[CommentRecord]:
        c = s.comments.c
        shape = (instance_id is not None, task_id is not None)

        def build() -> Any:
            q = sa.select(*_cols(s.comments, F_COMMENT))
            if shape[0]:
                q = q.where(c.instance_id == B("iid"))
            if shape[1]:
                q = q.where(c.task_id == B("tid"))
            return q.order_by(*order_by(s.comments, COMMENT_ORDER))

        stmt = _shape_stmt(("comments", shape), build)
        params = {k: v for k, v in (("iid", instance_id), ("tid", task_id)) if v is not None}
        return [CommentRecord(*r) for r in self._q(stmt, params)]

    # ---------------------------------------------------------------- users and groups
    def add_user(self, rec: UserRecord) -> None:
        self._upsert(s.users, _values(rec, F_USER) | {"roles": dumps(list(rec.roles))}, "id")
        self._w(DEL_MEMBERSHIPS, {"id": rec.id})
        groups = list(dict.fromkeys(rec.groups))
        if groups:
            self._wm(INS["memberships"], [
                {"user_id": rec.id, "group_id": g, "position": i} for i, g in enumerate(groups)
            ], ("user_id", "group_id", "position"))

    def update_user(self, rec: UserRecord) -> None:
        self.add_user(rec)

    def get_user(self, user_id: str) -> UserRecord | None:
        if self.pg:     # every command acting for a user asks: one round trip, not two
            rows = self._q(SEL_USER_GROUPS_PG, {"id": user_id})
            return _user(rows[0][:-1], rows[0][-1] or []) if rows else None
        rows = self._q(SEL_USER, {"id": user_id})
        if not rows:
            return None
        groups = [r[0] for r in self._q(SEL_USER_GROUPS, {"id": user_id})]
        return _user(rows[0], groups)

    def users(self) -> list[UserRecord]:
        groups: dict[str, list[str]] = {}
        for uid, gid in self._q(SEL_MEMBERSHIPS):
            groups.setdefault(uid, []).append(gid)
        return [_user(r, groups.get(r[0], [])) for r in self._q(SEL_USERS)]

    def add_group(self, group_id: str, name: str | None = None) -> None:
        self._upsert(s.groups, {"id": group_id, "name": name or group_id}, "id")

    def groups(self) -> dict[str, str]:
        return {r[0]: r[1] for r in self._q(SEL_GROUPS)}

    # ---------------------------------------------------------------- secrets
    def set_secret(self, name: str, value: str) -> None:
        self._upsert(s.secrets, {"name": name, "value": value}, "name")

    def get_secret(self, name: str) -> str | None:
        rows = self._q(SEL_SECRET, {"name": name})
        return rows[0][0] if rows else None

    # ---------------------------------------------------------------- helpers
    def _upsert(self, table: sa.Table, values: dict[str, Any], key: str) -> None:
        self._sa(dialects.upsert(self.store.dialect, table, values, key), write=True)

    # ---------------------------------------------------------------- data stores
    def read_data_stores(self, names: Iterable[str] | None = None) -> dict[str, Any]:
        table = s.data_stores
        stmt = sa.select(table.c.name, table.c.value)
        if names is not None:
            wanted = list(names)
            if not wanted:
                return {}
            stmt = stmt.where(table.c.name.in_(wanted))
        return {name: loads(value) for name, value in self._sa(stmt)}

    def write_data_store(self, name: str, value: Any, updated: datetime) -> None:
        self._upsert(s.data_stores, {"name": name, "value": dumps(value), "updated": updated},
                     "name")


def _copies(rec: TaskRecord) -> dict[str, Any]:
    return {"unassigned": rec.assignee is None, "created": rec.created, "due": rec.due,
            "priority": rec.priority}


def _candidate_rows(rec: TaskRecord) -> tuple[list[str], list[str], dict[str, Any]]:
    """What the task's candidate rows hold: names, and the copies of its columns."""
    return list(rec.candidate_users), list(rec.candidate_groups), _copies(rec)


def _acquire_stmt(exclusive: bool, locking: bool) -> Any:
    """JOB_ACQUIRABLE; if exclusive, of instances with no JOB_LEASED job. `locking`: the
    rows are locked, skipping those another worker holds (`OF jobs` where the database
    has it; MariaDB has not, and locks only the outer query's rows anyway: the busy
    subquery reads without locking there too)."""
    binds: dict[str, Any] = {}      # one `now` for the query and its subquery
    q = sa.select(*_cols(_J, K_JOB)).where(*where(JOB_ACQUIRABLE, _J, binds=binds))
    if exclusive:
        j2 = _J.alias("j2")
        busy = sa.select(sa.literal(1)).where(j2.c.instance_id == _J.c.instance_id,
                                              *where(JOB_LEASED, j2, binds=binds))
        q = q.where(sa.or_(_J.c.instance_id.is_(None), ~busy.exists()))
    q = q.order_by(*order_by(_J, JOB_ORDER)).limit(B("n"))
    if locking:
        q = q.with_for_update(skip_locked=True, of=_J)
    return q


def _equal_stmt(table: sa.Table, names: tuple[str, ...], record: type,
                filters: dict[str, Any], order: tuple[str, ...],
                also: Any = None) -> tuple[Any, dict]:
    """SELECT `names` where `rules.equality_filter` holds (and `also`), one statement per
    filter shape."""
    f = equality_filter(record, filters, table.name, not_filterable=("payload",), also=also)
    stmt = _shape_stmt(f.key, lambda: sa.select(*_cols(table, names))
                       .where(*where(f.pred, table)).order_by(*order_by(table, order)))
    return stmt, filters
