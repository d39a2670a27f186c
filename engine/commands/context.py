"""The work of one command: one transaction, the instances it loaded and locked, the
triggers still queued, and what to announce once it commits.

Why one object: a command may touch several instances (a called child ends and its caller
goes on; a thrown message starts another instance). Each is loaded and locked once, advanced
by the pure runtime as often as needed, and written once when the command finishes, so a
command is atomic however far its consequences reach.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine import limits
from engine.commands.effects import HANDLERS
from engine.errors import Conflict, EngineError, MessageNotCorrelated, NotFound
from engine.ids import new_id
from engine.limits import check_instance_size
from engine.policy import Actor, authorize
from engine.runtime import triggers as tr
from engine.runtime.advance import advance, start
from engine.runtime.correlation import may_accept
from engine.runtime.effects import EVENT_KIND, EVENT_USER
from engine.runtime.errors import RuntimeFailure, StaleTrigger
from engine.runtime.state import InstanceState
from engine.store.codec import dumps
from engine.store.records import (
    DefinitionRecord,
    ExternalTaskRecord,
    InstanceRecord,
    TaskRecord,
)

if TYPE_CHECKING:
    from engine.commands.executor import CommandEnvironment
    from engine.graph import ProcessGraph
    from engine.store.protocol import StoreTransaction

MAX_CALL_DEPTH = 50


def facts(rec: InstanceRecord) -> dict[str, Any]:
    """What scripts and listeners may read about their instance (execution.processInstanceId,
    execution.processBusinessKey, execution.processDefinitionId)."""
    return {"instance_id": rec.id, "business_key": rec.business_key,
            "definition_id": rec.definition_id}


SMALL_TEXT = 1024
_UNSET = object()   # a data store nobody has written yet


def plainly_small(variables: dict[str, Any]) -> bool:
    """Few flat variables of short text, numbers, booleans and None: far below any size
    limit, so the instance need not be encoded to measure it (most commands' case)."""
    if len(variables) > 64 or limits.MAX_INSTANCE_BYTES < 64 * (4 * SMALL_TEXT + 256):
        return False
    for v in variables.values():
        kind = type(v)
        if kind is str:
            if len(v) > SMALL_TEXT:
                return False
        elif kind not in SCALARS:
            return False
    return True


SCALARS = frozenset({int, float, bool, type(None)})


class CommandContext:
    """One transaction's worth of work: loaded instances, queued triggers, applied effects."""

    __slots__ = ("env", "tx", "actor", "now", "loaded", "new", "queue", "after", "user",
                 "notifications", "depth", "outside_variables", "externals", "tasks",
                 "stores")

    def __init__(self, env: CommandEnvironment, tx: StoreTransaction,
                 actor: Actor | None) -> None:
        self.env = env
        self.tx = tx
        self.actor = actor
        self.now: datetime = env.clock()
        self.loaded: dict[str, tuple[InstanceRecord, InstanceState, ProcessGraph]] = {}
        self.new: set[str] = set()
        self.queue: deque[tuple[str, Any]] = deque()
        self.after: list[Callable[[], None]] = []
        # who the history of this command names (the completing user of a task)
        self.user: str | None = actor.id if actor is not None else None
        self.notifications: list[tuple[str, Any]] = []
        self.depth = 0
        # set by commands that bring variables from outside: their instances' encoded size
        # is checked before anything is written
        self.outside_variables = False
        # external task rows this command has read, by (instance id, token): the task it
        # completes ends in `apply` without a second lookup
        self.externals: dict[tuple[str, int], ExternalTaskRecord] = {}
        # user tasks read under their instance's lock (locked_task), by (instance id,
        # token): the task a command completes ends in `apply` without a second lookup
        self.tasks: dict[tuple[str, int], TaskRecord] = {}
        # data stores read or written by this command (name -> value; None: not yet read)
        self.stores: dict[str, Any] | None = None

    # ---------------------------------------------------------------- authorization
    def authorize(self, resource: str, action: str, task: TaskRecord | None = None,
                  what: str | None = None) -> None:
        """Ask the policy table (engine.policy) for this command's actor."""
        authorize(self.actor, resource, action, task, what)

    # ---------------------------------------------------------------- definitions
    def graph(self, definition_id: str) -> ProcessGraph:
        cache = self.env.definitions
        return cache.graphs.get(definition_id) or cache.graph(definition_id, self.tx)

    # ---------------------------------------------------------------- instances
    def load(self, instance_id: str) -> tuple[InstanceRecord, InstanceState, ProcessGraph]:
        """The instance, locked for this transaction (FOR UPDATE on PostgreSQL) and read
        once: everything the command decides about it is decided under that lock."""
        got = self.loaded.get(instance_id)
        if got is not None:
            return got
        rec = self.tx.get_instance(instance_id, lock=True)
        if rec is None:
            raise NotFound(f"process instance '{instance_id}' not found")
        state = InstanceState.from_dict(rec.state, rec.variables)
        graph = self.graph(rec.definition_id)
        got = (rec, state, graph)
        self.loaded[instance_id] = got
        return got

    def locked_task(self, task_id: Any) -> TaskRecord:
        """The task, re-read after its instance is locked. A task read before the lock may
        be stale (completed by a concurrent command, its token since moved on to the next
        task): acting on it would apply this command to the wrong wait state."""
        task = self.tx.lock_task(task_id) if isinstance(task_id, str) else None
        if task is None:
            raise NotFound(f"task '{task_id}' not found (completed or cancelled?)")
        if task.instance_id not in self.loaded:
            self.load(task.instance_id)
            if not self.tx.serializable:
                fresh = self.tx.get_task(task_id)
                if fresh is None or fresh.token != task.token:
                    raise NotFound(f"task '{task_id}' not found (completed or cancelled?)")
                task = fresh
        self.tasks[(task.instance_id, task.token)] = task
        return task

    def start_instance(self, defrec: DefinitionRecord, variables: dict[str, Any],
                       business_key: str | None, parent_id: str | None,
                       parent_token: int | None, start_event: str | None,
                       start_before: tuple[str, ...] = (),
                       fired: tuple[str, str] | None = None) -> InstanceRecord:
        """Start an instance; `fired` is the (kind, name) of the message or signal that
        starts it at `start_event` (a parallel multiple start event then waits for the
        others)."""
        graph = self.graph(defrec.id)
        if not graph.executable and graph.start_nodes == ():
            raise EngineError(f"process '{defrec.key}' is not executable")
        iid = new_id()
        rec = InstanceRecord(iid, defrec.id, defrec.key, defrec.version, "running", {},
                             business_key, parent_id, parent_token, self.now, None, 0,
                             variables)
        self.depth += 1  # children start inside apply(): count them one level deeper
        try:
            if self.depth > MAX_CALL_DEPTH:
                raise EngineError(f"call activities nest deeper than {MAX_CALL_DEPTH} levels "
                                  f"at '{defrec.key}'")
            try:
                state, effects = start(graph, tr.Start(variables, start_event, fired,
                                                       start_before=start_before), self.now,
                                       has_parent=parent_id is not None,
                                       decisions=self.env.definitions.decisions_for(
                                           self.tx, graph),
                                       context=facts(rec),
                                       stores=self.data_stores(graph))
            except RuntimeFailure as e:
                raise EngineError(str(e)) from e
            self.loaded[iid] = (rec, state, graph)
            self.new.add(iid)
            self.tx.new_instance(iid)    # the SQL store skips a lookup for a brand-new row
            self.apply(rec, graph, effects)
        finally:
            self.depth -= 1
        return rec

    def trigger(self, instance_id: str, trigger: Any, *, stale_ok: bool = False) -> bool:
        """Advance the (locked) instance; False when the trigger was stale and `stale_ok`
        (a timer or message whose wait state a concurrent command already ended)."""
        rec, state, graph = self.load(instance_id)
        try:
            effects = advance(graph, state, trigger, self.now,
                              has_parent=rec.parent_id is not None,
                              decisions=self.env.definitions.decisions_for(self.tx, graph),
                              context=facts(rec), stores=self.data_stores(graph))
        except StaleTrigger as e:
            if stale_ok:
                return False
            raise Conflict(f"instance '{instance_id}': {e}") from e
        except RuntimeFailure as e:
            raise EngineError(str(e)) from e
        self.apply(rec, graph, effects)
        return True

    def finish(self) -> None:
        """Run what the command's triggers queued (called instances ending, thrown messages
        and signals), then write every instance it touched, once."""
        while self.queue:
            iid, trigger = self.queue.popleft()
            self.trigger(iid, trigger, stale_ok=True)
            while self.after:
                self.after.pop(0)()
        while self.after:
            self.after.pop(0)()
            while self.queue:
                iid, trigger = self.queue.popleft()
                self.trigger(iid, trigger, stale_ok=True)
        for iid, (rec, state, _graph) in self.loaded.items():
            rec.state = state.to_dict()
            rec.status = state.status
            rec.variables = state.variables
            if self.outside_variables and state.variables \
                    and not plainly_small(state.variables):
                check_instance_size(len(dumps(state.variables).encode("utf-8")), iid)
            if iid in self.new:
                self.tx.add_instance(rec)
            else:
                self.tx.update_instance(rec)

    def user_groups(self, user: str) -> list[str]:
        u = self.tx.get_user(user)
        return list(u.groups) if u is not None else []

    # ---------------------------------------------------------------- effects
    def apply(self, rec: InstanceRecord, graph: ProcessGraph, effects: list[Any]) -> None:
        """Apply the runtime's effects through the handler table (engine.commands.effects)."""
        hist: list[Any] = []
        user = self.user
        for e in effects:
            if type(e) is tuple:        # most effects are history events: no dispatch
                if user is not None and e[EVENT_KIND] == "userTask":
                    e = (*e[:EVENT_USER], user, *e[EVENT_USER + 1:])
                hist.append(e)
            else:
                HANDLERS[type(e)](self, rec, graph, e, hist)
        if hist:
            self.tx.add_history(hist)

    def children(self, parent_id: str, token: int) -> Iterable[str]:
        seen = set()
        for iid, (r, s, _g) in self.loaded.items():
            if r.parent_id == parent_id and r.parent_token == token and s.status == "running":
                seen.add(iid)
                yield iid
        for r in self.tx.child_instances(parent_id, token):
            if r.id not in seen and r.status == "running":
                yield r.id

    # ---------------------------------------------------------------- messages and signals
    def correlate(self, name: str, business_key: Any, variables: dict[str, Any],
                  instance_id: str | None, all_: bool, raise_if_none: bool) -> list[str]:
        subs = self.tx.find_subscriptions(kind="message", name=name)
        got: list[str] = []
        keyed_out = 0          # waiters of this name whose correlation keys do not match
        for s in subs:
            if s.instance_id is None:
                continue
            if instance_id is not None and s.instance_id != instance_id:
                continue
            if business_key is not None:
                inst_bkey = self.load(s.instance_id)[0].business_key
                if inst_bkey != str(business_key) and inst_bkey != business_key:
                    continue
            if s.instance_id in got and not all_:
                continue
            if not self.may_correlate(s, name, variables):
                keyed_out += 1
                continue
            # the subscription was read before the instance was locked: a concurrent command
            # may have ended its wait state since; only a delivery that applied counts
            if not self.trigger(s.instance_id, tr.Fire(s.sub, variables), stale_ok=True):  # type: ignore[arg-type]
                continue
            got.append(s.instance_id)
            if not all_:
                return got
        if got:
            return got
        if instance_id is None:
            for s in subs:
                if s.instance_id is None and s.definition_id is not None:
                    defrec = self.tx.get_definition(s.definition_id)
                    if defrec is None:
                        continue
                    inst = self.start_instance(defrec, dict(variables),
                                               None if business_key is None else str(business_key),
                                               None, None, s.activity_id,
                                               fired=("message", name))
                    return [inst.id]
        if raise_if_none:
            if keyed_out:
                raise MessageNotCorrelated(
                    f"{keyed_out} process instance(s) wait for message '{name}', but none "
                    "whose correlation keys match the message's payload")
            raise MessageNotCorrelated(
                f"no process instance waits for message '{name}'"
                + (f" with business key '{business_key}'" if business_key is not None else "")
                + " and no message start event takes it")
        return []

    def may_correlate(self, sub: Any, name: str, variables: dict[str, Any]) -> bool:
        """False when the message's correlation keys (BPMN 2.0.2 8.3.2) cannot match the
        conversation waiting at `sub`: read without locking the instance, so a message
        for one of many waiting conversations locks only the one it is for. The runtime
        checks again under the lock (a refused delivery is then stale)."""
        if sub.definition_id is None or sub.sub is None or sub.instance_id in self.loaded:
            return True
        graph = self.graph(sub.definition_id)
        if name not in graph.correlations:
            return True
        rec = self.tx.get_instance(sub.instance_id)
        return rec is None or may_accept(graph, rec.state, sub.sub, name, variables or {})

    def data_stores(self, graph: ProcessGraph) -> dict[str, Any] | None:
        """The values of the data stores `graph` refers to, for the runtime (None when it
        refers to none: most processes, which pay no read). Read once per command; what
        the command writes is seen by the instances it advances later."""
        if not graph.data_stores:
            return None
        if self.stores is None:
            self.stores = {}
        missing = [n for n in set(graph.data_stores.values()) if n not in self.stores]
        if missing:
            found = self.tx.read_data_stores(missing)
            for name in missing:
                self.stores[name] = found.get(name, _UNSET)
        return {n: v for n in graph.data_stores.values()
                if (v := self.stores[n]) is not _UNSET}

    def write_data_store(self, name: str, value: Any) -> None:
        """A data store written by an instance this command advanced (DataStoreWritten)."""
        if self.stores is None:
            self.stores = {}
        self.stores[name] = value
        self.tx.write_data_store(name, value, self.now)

    def signal(self, name: str, variables: dict[str, Any],
               skip_instance: str | None = None) -> list[str]:
        got: list[str] = []
        for s in self.tx.find_subscriptions(kind="signal", name=name):
            if skip_instance is not None and s.instance_id == skip_instance:
                continue
            if s.instance_id is None:
                if s.definition_id is not None:
                    defrec = self.tx.get_definition(s.definition_id)
                    if defrec is not None:
                        inst = self.start_instance(defrec, dict(variables), None, None, None,
                                                   s.activity_id, fired=("signal", name))
                        got.append(inst.id)
                continue
            if self.trigger(s.instance_id, tr.Fire(s.sub, dict(variables)), stale_ok=True) \
                    and s.instance_id not in got:  # type: ignore[arg-type]
                got.append(s.instance_id)
        return got
