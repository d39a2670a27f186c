"""`Engine`: the one facade the tasklist, the REST APIs, the CLI and tests call.

Every public method is one command: one store transaction in which instances are loaded,
`runtime.advance` runs, and its effects (tasks, jobs, subscriptions, history, child
instances, messages) are applied. A revision conflict retries the whole command on the new
state; any other error rolls the transaction back, so nothing half-done is ever stored.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from connectors.registry import Registry
from connectors.registry import registry as default_registry
from engine.bpmn import compile_bpmn
from engine.dmn import Decision, DecisionError, DecisionResult, DecisionSet, compile_dmn, is_dmn
from engine.errors import Conflict, EngineError, MessageNotCorrelated, NotFound
from engine.graph import Definitions, ProcessGraph
from engine.ids import new_id
from engine.modification import ModificationMixin
from engine.runtime import effects as fx
from engine.runtime import triggers as tr
from engine.runtime.advance import advance, start
from engine.runtime.errors import RuntimeFailure, StaleTrigger
from engine.runtime.state import WAITING, InstanceState
from engine.script_functions import ENGINE_FUNCTIONS, checked_functions
from engine.store.memory import MemoryStore
from engine.store.records import (
    ConcurrentModification,
    DefinitionRecord,
    DeploymentRecord,
    ExternalTaskRecord,
    HistoryRecord,
    InstanceRecord,
    JobRecord,
    SubscriptionRecord,
    TaskRecord,
)
from engine.task_service import TaskServiceMixin
from engine.testing import utc_now

UserTask = TaskRecord
ExternalTask = ExternalTaskRecord
HistoryEvent = HistoryRecord
PARENT_CANCELLED = "parent cancelled"
WAITING_KINDS = frozenset({"user", "external", "receive", "catch", "eventgw", "call"})


@dataclass(slots=True)
class ProcessDefinition:
    id: str
    key: str
    version: int
    name: str | None
    deployment_id: str
    resource: str | None
    checksum: str
    new: bool = True           # False when an unchanged file was redeployed
    kind: str = "process"      # "decision": a DMN decision (key = decision id)


@dataclass(slots=True)
class InstanceView:
    id: str
    key: str
    version: int
    definition_id: str
    status: str
    variables: dict[str, Any]
    business_key: str | None
    parent_id: str | None
    waiting: list[str]
    started: datetime
    ended: datetime | None
    tokens: list[dict[str, Any]] = field(default_factory=list)


def _facts(rec: InstanceRecord) -> dict[str, Any]:
    """What scripts and listeners may read about their instance (execution.processInstanceId,
    execution.processBusinessKey, execution.processDefinitionId)."""
    return {"instance_id": rec.id, "business_key": rec.business_key,
            "definition_id": rec.definition_id}


class Engine(TaskServiceMixin, ModificationMixin):
    """Baton's public API. `store` defaults to the in-memory store, `clock` to UTC now;
    `script_functions` are trusted functions scripts may call (engine/script_functions.py)."""

    def __init__(self, store: Any = None, clock: Callable[[], datetime] | None = None,
                 connectors: Registry | None = None, worker_id: str | None = None,
                 script_functions: Mapping[str, Callable[..., Any]] | None = None) -> None:
        self.store = store if store is not None else MemoryStore()
        self.clock = clock or utc_now
        self.connectors = connectors if connectors is not None else default_registry
        self.worker_id = worker_id or f"{os.uname().nodename}:{os.getpid()}:{new_id()[:6]}"
        self._graphs: dict[str, ProcessGraph] = {}
        self._compiled: dict[str, Definitions] = {}
        self._decision_sets: dict[str, DecisionSet] = {}    # DMN file checksum -> decisions
        self._dmn_checksums: dict[str, bool] = {}           # definition checksum -> is DMN?
        self._decision_refs: dict[int, tuple[ProcessGraph, tuple[str, ...]]] = {}
        self.listeners: list[Callable[[str, Any], None]] = []
        self.script_functions: dict[str, Callable[..., Any]] = checked_functions(
            script_functions)

    # ================================================================== deployment
    def deploy(self, source: Any, *more: Any, name: str | None = None) -> list[ProcessDefinition]:
        """Deploy one or more BPMN or DMN files (bytes, XML text, paths or (name, bytes)
        pairs) as one deployment.

        Every process (and DMN decision, keyed by its id) gets a new version unless its file
        is byte-for-byte the one deployed last under that key. All files are validated
        before anything is stored."""
        files: list[tuple[str | None, bytes]] = []
        for src in (source, *more):
            files.append(_read_source(src))
        compiled: list[tuple[str | None, bytes, Definitions | DecisionSet]] = []
        for resource, data in files:
            if is_dmn(data, resource):
                compiled.append((resource, data, compile_dmn(data, filename=resource)))
            else:
                compiled.append((resource, data, compile_bpmn(data, filename=resource)))
        now = self.clock()

        def cmd(c: _Command) -> list[ProcessDefinition]:
            tx = c.tx
            dep = DeploymentRecord(new_id(), name, now, [r or "" for r, _ in files])
            out: list[ProcessDefinition] = []
            added = False
            for resource, data, defs in compiled:
                checksum = hashlib.sha256(data).hexdigest()
                if isinstance(defs, DecisionSet):
                    added = self._deploy_decisions(c, dep, resource, data, checksum, defs,
                                                   out) or added
                    continue
                for key, graph in defs.processes.items():
                    latest = tx.latest_definition(key)
                    if latest is not None and self._is_dmn_record(latest):
                        raise EngineError(f"process id '{key}' is already the id of a deployed "
                                          "DMN decision; rename one of them")
                    if latest is not None and latest.checksum == checksum:
                        out.append(ProcessDefinition(latest.id, key, latest.version,
                                                     latest.name, latest.deployment_id,
                                                     latest.resource, checksum, False))
                        continue
                    version = (latest.version + 1) if latest else 1
                    rec = DefinitionRecord(
                        f"{key}:{version}:{dep.id[:8]}", key, version, graph.name, data,
                        checksum, dep.id, resource, now, graph.executable,
                    )
                    tx.add_definition(rec)
                    added = True
                    self._graphs[rec.id] = graph
                    self._replace_start_events(c, rec, graph, latest)
                    out.append(ProcessDefinition(rec.id, key, version, graph.name, dep.id,
                                                 resource, checksum, True))
            if added:
                tx.add_deployment(dep)
            return out

        return self._execute(cmd)

    def _deploy_decisions(self, c: _Command, dep: DeploymentRecord, resource: str | None,
                          data: bytes, checksum: str, decisions: DecisionSet,
                          out: list[ProcessDefinition]) -> bool:
        """Store each decision of a DMN file as a definition keyed by the decision id (the
        whole file is its xml, as for a BPMN file with several processes)."""
        added = False
        for key, decision in decisions.decisions.items():
            latest = c.tx.latest_definition(key)
            if latest is not None and not self._is_dmn_record(latest):
                raise EngineError(f"decision id '{key}' is already the key of a deployed "
                                  "process; rename one of them")
            if latest is not None and latest.checksum == checksum:
                out.append(ProcessDefinition(latest.id, key, latest.version, latest.name,
                                             latest.deployment_id, latest.resource, checksum,
                                             False, "decision"))
                continue
            version = (latest.version + 1) if latest else 1
            rec = DefinitionRecord(f"{key}:{version}:{dep.id[:8]}", key, version,
                                   decision.name, data, checksum, dep.id, resource, dep.time,
                                   False)
            c.tx.add_definition(rec)
            added = True
            self._decision_sets[checksum] = decisions
            self._dmn_checksums[checksum] = True
            out.append(ProcessDefinition(rec.id, key, version, decision.name, dep.id, resource,
                                         checksum, True, "decision"))
        return added

    def _is_dmn_record(self, rec: DefinitionRecord) -> bool:
        known = self._dmn_checksums.get(rec.checksum)
        if known is None:
            known = self._dmn_checksums[rec.checksum] = is_dmn(rec.xml, rec.resource)
        return known

    def _latest_decision(self, tx: Any, decision_id: str) -> Decision | None:
        """The latest deployed version of a decision (compiled once per file)."""
        rec = tx.latest_definition(decision_id)
        if rec is None or not self._is_dmn_record(rec):
            return None
        decisions = self._decision_sets.get(rec.checksum)
        if decisions is None:
            decisions = compile_dmn(rec.xml, filename=rec.resource)
            self._decision_sets[rec.checksum] = decisions
        return decisions.decisions.get(decision_id)

    def _decisions_for(self, tx: Any, graph: ProcessGraph) -> dict[str, Decision] | None:
        """The decisions a process's business rule tasks call, resolved before the pure
        runtime runs (it cannot read the store itself)."""
        cached = self._decision_refs.get(id(graph))
        if cached is None or cached[0] is not graph:
            refs = tuple(sorted({n.ext["decision_ref"] for n in graph.nodes
                                 if n.kind == "businessRuleTask" and n.ext
                                 and n.ext.get("decision_ref")}))
            cached = self._decision_refs[id(graph)] = (graph, refs)
        if not cached[1]:
            return None
        found = {}
        for ref in cached[1]:
            decision = self._latest_decision(tx, ref)
            if decision is not None:
                found[ref] = decision
        return found

    def decisions(self, key: str | None = None) -> list[DefinitionRecord]:
        """Deployed DMN decisions (all versions), as definition records keyed by decision id."""
        with self.store.transaction() as tx:
            return [d for d in tx.definitions(key) if self._is_dmn_record(d)]

    def evaluate_decision(self, decision_id: str,
                          variables: Mapping[str, Any] | None = None) -> DecisionResult:
        """Evaluate the latest version of a deployed decision (no process needed)."""
        _check_variables(variables)
        with self.store.transaction() as tx:
            decision = self._latest_decision(tx, decision_id)
        if decision is None:
            raise NotFound(f"no DMN decision with id '{decision_id}' is deployed")
        try:
            return decision.evaluate(dict(variables or {}))
        except DecisionError as e:
            raise EngineError(str(e)) from e

    def _replace_start_events(self, c: _Command, rec: DefinitionRecord, graph: ProcessGraph,
                              previous: DefinitionRecord | None) -> None:
        tx = c.tx
        if previous is not None:
            for s in tx.find_subscriptions(definition_id=previous.id, instance_id=None):
                tx.delete_subscription(s.id)
            for j in tx.find_jobs(kind="start-timer", definition_id=previous.id):
                tx.delete_job(j.id)
        for kind, starts in (("message", graph.message_starts),
                             ("signal", graph.signal_starts)):
            for name, idx in starts.items():
                # a multiple start event waits for several names: one subscription each
                sub_id = f"{rec.id}:{idx}" if not graph.nodes[idx].events \
                    else f"{rec.id}:{idx}:{kind}:{name}"
                tx.add_subscription(SubscriptionRecord(
                    sub_id, kind, name, None, None, graph.nodes[idx].id, rec.id, None, c.now))
        from engine.timers import TimerError, parse_timer

        for idx in graph.timer_starts:
            node = graph.nodes[idx]
            ev = node.event
            if ev is None or ev.timer_text is None or ev.timer_expr is not None:
                continue
            try:
                due = parse_timer(ev.timer_kind or "timeDate", ev.timer_text).first_due(c.now)
            except TimerError as e:
                raise EngineError(f"{node.label}: {e}") from e
            if due is not None:
                tx.add_job(JobRecord(new_id(), "start-timer", None, due, activity_id=node.id,
                                     definition_id=rec.id, created=c.now,
                                     payload={"fired": 0, "text": ev.timer_text,
                                              "timer_kind": ev.timer_kind}))

    def graph(self, definition_id: str, tx: Any = None) -> ProcessGraph:
        """The compiled graph of a definition. Inside a command pass its `tx`: opening a
        second transaction there would wait for the first one's lock (SQLite)."""
        g = self._graphs.get(definition_id)
        if g is None:
            if tx is not None:
                rec = tx.get_definition(definition_id)
            else:
                with self.store.transaction() as own:
                    rec = own.get_definition(definition_id)
            if rec is None:
                raise NotFound(f"process definition '{definition_id}' not found")
            g = self._graph_from_record(rec)
        return g

    def _graph_from_record(self, rec: DefinitionRecord) -> ProcessGraph:
        if self._is_dmn_record(rec):
            raise NotFound(f"'{rec.key}' is a DMN decision, not a process")
        defs = self._compiled.get(rec.checksum)
        if defs is None:
            defs = compile_bpmn(rec.xml, filename=rec.resource)
            self._compiled[rec.checksum] = defs
        g = defs.processes[rec.key]
        self._graphs[rec.id] = g
        return g

    def definitions(self, key: str | None = None) -> list[DefinitionRecord]:
        """Deployed process definitions (DMN decisions are listed by `decisions`)."""
        with self.store.transaction() as tx:
            return [d for d in tx.definitions(key) if not self._is_dmn_record(d)]

    def definition(self, key: str, version: int | None = None) -> DefinitionRecord:
        with self.store.transaction() as tx:
            rec = tx.definition_version(key, version) if version else tx.latest_definition(key)
        if rec is None:
            raise NotFound(f"no process definition with key '{key}'"
                           + (f" and version {version}" if version else ""))
        return rec

    def compiled(self, definition_id: str) -> Definitions:
        """The whole compiled file of a definition (diagram data for drawing)."""
        rec = self.definition_by_id(definition_id)
        self.graph(definition_id)
        return self._compiled.get(rec.checksum) or compile_bpmn(rec.xml)

    def definition_by_id(self, definition_id: str) -> DefinitionRecord:
        with self.store.transaction() as tx:
            rec = tx.get_definition(definition_id)
        if rec is None:
            raise NotFound(f"process definition '{definition_id}' not found")
        return rec

    # ================================================================== instances
    def start(self, key: str, variables: Mapping[str, Any] | None = None,
              business_key: str | None = None, version: int | None = None,
              start_event: str | None = None) -> str:
        """Start the latest (or a named) version of process `key`; returns the instance id."""
        _check_variables(variables)

        def cmd(c: _Command) -> str:
            rec = (c.tx.definition_version(key, version) if version is not None
                   else c.tx.latest_definition(key))
            if rec is None:
                raise NotFound(f"no process definition with key '{key}'"
                               + (f" and version {version}" if version else ""))
            inst = c.start_instance(rec, dict(variables or {}), business_key, None, None,
                                    start_event)
            return inst.id

        return self._execute(cmd)

    def instance(self, instance_id: str) -> InstanceView:
        with self.store.transaction() as tx:
            rec = tx.get_instance(instance_id)
        if rec is None:
            raise NotFound(f"process instance '{instance_id}' not found")
        return self._view(rec)

    def instances(self, *, newest_first: bool = False, limit: int | None = None,
                  offset: int = 0, **filters: Any) -> list[InstanceView]:
        """Instances matching the filters (status, key, business_key, parent_id, ...),
        oldest first (or newest first); `limit`/`offset` page them in the database."""
        with self.store.transaction() as tx:
            return [self._view(r) for r in tx.find_instances(
                newest_first=newest_first, limit=limit, offset=offset, **filters)]

    def count_instances(self, **filters: Any) -> int:
        """How many instances match (the filters of `instances`)."""
        with self.store.transaction() as tx:
            return tx.count_instances(**filters)

    def _view(self, rec: InstanceRecord) -> InstanceView:
        waiting: list[str] = []
        tokens: list[dict[str, Any]] = []
        if rec.status == "running":
            state = InstanceState.from_dict(rec.state)
            graph = self.graph(rec.definition_id)
            for t in state.tokens.values():
                nid = graph.nodes[t.node].id
                tokens.append({"id": t.id, "activity_id": nid, "state": t.state, "wait": t.wait})
                if t.state == WAITING and t.wait in WAITING_KINDS and nid not in waiting:
                    waiting.append(nid)
        return InstanceView(rec.id, rec.key, rec.version, rec.definition_id, rec.status,
                            dict(rec.variables), rec.business_key, rec.parent_id, waiting,
                            rec.started, rec.ended, tokens)

    def variables(self, instance_id: str) -> dict[str, Any]:
        return self.instance(instance_id).variables

    def set_variables(self, instance_id: str, variables: Mapping[str, Any]) -> None:
        """Set process variables; conditional events whose condition turns true fire."""
        _check_variables(variables)
        self._execute(lambda c: c.trigger(instance_id, tr.SetVariables(dict(variables))))

    def cancel(self, instance_id: str, reason: str = "cancelled") -> None:
        self._execute(lambda c: c.trigger(instance_id, tr.Terminate(reason)))

    def history(self, instance_id: str) -> list[HistoryRecord]:
        with self.store.transaction() as tx:
            return tx.history(instance_id)

    def trigger(self, instance_id: str, activity_id: str,
                variables: Mapping[str, Any] | None = None) -> None:
        """Move on a token waiting at `activity_id` (a receive task or a catch event),
        like Camunda's `runtimeService.signal(executionId)`."""

        def cmd(c: _Command) -> None:
            rec, state, graph = c.load(instance_id)
            for t in state.tokens.values():
                if graph.nodes[t.node].id == activity_id and t.state == WAITING:
                    c.trigger(instance_id, tr.Complete(t.id, dict(variables or {})))
                    return
            raise NotFound(f"nothing waits at '{activity_id}' in instance '{instance_id}'")

        self._execute(cmd)

    # ================================================================== user tasks
    def tasks(self, *, sort: str = "created", limit: int | None = None, offset: int = 0,
              **filters: Any) -> list[TaskRecord]:
        with self.store.transaction() as tx:
            return tx.find_tasks(sort=sort, limit=limit, offset=offset, **filters)

    def task(self, task_id: str) -> TaskRecord:
        with self.store.transaction() as tx:
            rec = tx.get_task(task_id)
        if rec is None:
            raise NotFound(f"task '{task_id}' not found (completed or cancelled?)")
        return rec

    def complete_task(self, task_id: str, variables: Mapping[str, Any] | None = None,
                      user: str | None = None) -> None:
        """Complete a user task. With `user`, only its assignee (or, when unassigned, a
        candidate) may complete it."""
        _check_variables(variables)

        def cmd(c: _Command) -> None:
            task = c.tx.get_task(task_id)
            if task is None:
                raise NotFound(f"task '{task_id}' not found (completed or cancelled?)")
            if user is not None:
                from engine.tasks import check_may_complete

                groups = c.user_groups(user)
                check_may_complete(task, user, groups)
            c.user = user
            c.trigger(task.instance_id, tr.Complete(task.token, dict(variables or {})))

        self._execute(cmd)

    # ================================================================== external tasks
    def external_tasks(self, topic: str | None = None, **filters: Any) -> list[ExternalTaskRecord]:
        with self.store.transaction() as tx:
            return tx.find_external(topic=topic, **filters)

    def fetch_and_lock(self, worker_id: str, topics: Mapping[str, float], max_tasks: int = 10,
                       use_priority: bool = False) -> list[ExternalTaskRecord]:
        """Lock up to `max_tasks` tasks of the given topics (topic -> lock seconds)."""
        return [task for task, _ in self._fetch_and_lock(worker_id, topics, max_tasks,
                                                         use_priority, None)]

    def fetch_and_lock_with_variables(
            self, worker_id: str, topics: Mapping[str, float], max_tasks: int = 10,
            use_priority: bool = False, local_topics: Collection[str] = (),
    ) -> list[tuple[ExternalTaskRecord, dict[str, Any]]]:
        """`fetch_and_lock`, each task with the variables its token sees (what a Camunda
        worker is handed; see `token_variables`; only the token's own scope for topics in
        `local_topics`), read in the same transaction as the lock."""
        return self._fetch_and_lock(worker_id, topics, max_tasks, use_priority,
                                    frozenset(local_topics))

    def _fetch_and_lock(self, worker_id: str, topics: Mapping[str, float], max_tasks: int,
                        use_priority: bool, local_topics: frozenset[str] | None,
                        ) -> list[tuple[ExternalTaskRecord, dict[str, Any]]]:
        from datetime import timedelta

        now = self.clock()
        until = {t: now + timedelta(seconds=float(s)) for t, s in topics.items()}
        with self.store.transaction() as tx:
            locked = tx.lock_external(list(topics), worker_id, now, until, max_tasks,
                                      use_priority)
            if local_topics is None:
                return [(task, {}) for task in locked]
            return [(task, _token_variables(tx, task.instance_id, task.token,
                                            task.topic in local_topics)) for task in locked]

    def token_variables(self, instance_id: str, token: int,
                        local_only: bool = False) -> dict[str, Any]:
        """The variables visible from a token, nearest scope first (its local input
        parameters, then enclosing subprocesses, then the process: what Camunda hands a
        task's worker or form); only its own scope with `local_only`. The process's
        variables when the token is gone; {} when the instance is."""
        with self.store.transaction() as tx:
            return _token_variables(tx, instance_id, token, local_only)

    def _external(self, c: _Command, task_id: str, worker_id: str | None) -> ExternalTaskRecord:
        task = c.tx.get_external(task_id)
        if task is None:
            raise NotFound(f"external task '{task_id}' not found (completed or cancelled?)")
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

    def complete_external(self, task_id: str, variables: Mapping[str, Any] | None = None,
                          worker_id: str | None = None,
                          local_variables: Mapping[str, Any] | None = None) -> None:
        _check_variables(variables)

        def cmd(c: _Command) -> None:
            task = self._external(c, task_id, worker_id)
            if local_variables:
                c.trigger(task.instance_id, tr.SetVariables({}))
            c.trigger(task.instance_id, tr.Complete(task.token, dict(variables or {})))

        self._execute(cmd)

    def fail_external(self, task_id: str, error: str, retries: int | None = None,
                      retry_timeout: float = 0.0, worker_id: str | None = None,
                      details: str | None = None) -> None:
        """Report a worker's failure: with retries left the task is fetchable again after
        `retry_timeout` seconds; at 0 retries an incident is opened."""
        from datetime import timedelta

        def cmd(c: _Command) -> None:
            task = self._external(c, task_id, worker_id)
            task.error_message = error
            task.error_details = details
            task.retries = retries if retries is not None else (task.retries or 3) - 1
            task.worker_id = None
            task.lock_expires = None
            task.due = c.now + timedelta(seconds=max(0.0, retry_timeout)) if retry_timeout else None
            c.tx.update_external(task)
            if task.retries is not None and task.retries <= 0:
                from engine.store.records import IncidentRecord

                c.tx.add_incident(IncidentRecord(
                    new_id(), "failedExternalTask", task.instance_id, task.activity_id, error,
                    c.now, external_task_id=task.id, stack=details))

        self._execute(cmd)

    def set_external_retries(self, task_id: str, retries: int) -> None:
        def cmd(c: _Command) -> None:
            task = c.tx.get_external(task_id)
            if task is None:
                raise NotFound(f"external task '{task_id}' not found")
            task.retries = retries
            c.tx.update_external(task)
            if retries > 0:
                for inc in c.tx.find_incidents(external_task_id=task_id):
                    inc.resolved = c.now
                    c.tx.update_incident(inc)

        self._execute(cmd)

    def throw_bpmn_error(self, task_id: str, code: str, message: str | None = None,
                         variables: Mapping[str, Any] | None = None,
                         worker_id: str | None = None) -> None:
        def cmd(c: _Command) -> None:
            task = self._external(c, task_id, worker_id)
            c.trigger(task.instance_id, tr.Throw(task.token, code, message,
                                                 dict(variables or {})))

        self._execute(cmd)

    def extend_lock(self, task_id: str, seconds: float, worker_id: str) -> None:
        from datetime import timedelta

        def cmd(c: _Command) -> None:
            task = self._external(c, task_id, worker_id)
            task.lock_expires = c.now + timedelta(seconds=seconds)
            c.tx.update_external(task)

        self._execute(cmd)

    def unlock_external(self, task_id: str) -> None:
        def cmd(c: _Command) -> None:
            task = c.tx.get_external(task_id)
            if task is None:
                raise NotFound(f"external task '{task_id}' not found")
            task.worker_id = None
            task.lock_expires = None
            c.tx.update_external(task)

        self._execute(cmd)

    # ================================================================== messages and signals
    def correlate_message(self, name: str, business_key: str | None = None,
                          variables: Mapping[str, Any] | None = None,
                          instance_id: str | None = None, all: bool = False) -> list[str]:
        """Deliver a message to the instance waiting for it (matched by name, and business
        key or instance id when given), or start an instance at a message start event.
        Returns the ids of the instances that received it."""
        _check_variables(variables)

        def cmd(c: _Command) -> list[str]:
            return c.correlate(name, business_key, dict(variables or {}), instance_id, all,
                               raise_if_none=True)

        return self._execute(cmd)

    def broadcast_signal(self, name: str, variables: Mapping[str, Any] | None = None) -> list[str]:
        _check_variables(variables)
        return self._execute(lambda c: c.signal(name, dict(variables or {})))

    # ================================================================== jobs
    def run_due_jobs(self, limit: int = 10_000) -> int:
        """Run every job due by the clock (timers, async steps, connector calls), including
        jobs that those create and that are due too. Returns how many ran."""
        from engine.jobs import JobExecutor

        return JobExecutor(self).run_due(limit=limit)

    def jobs(self, **filters: Any) -> list[JobRecord]:
        with self.store.transaction() as tx:
            return tx.find_jobs(**filters)

    def incidents(self, open_only: bool = True, **filters: Any) -> list[Any]:
        with self.store.transaction() as tx:
            return tx.find_incidents(open_only=open_only, **filters)

    def retry_incident(self, incident_id: str, retries: int = 1) -> None:
        from engine.jobs import retry_incident

        retry_incident(self, incident_id, retries)

    # ================================================================== plumbing
    def _execute(self, fn: Callable[[_Command], Any], attempts: int = 8) -> Any:
        if self.script_functions:  # what this engine's scripts may call, for this command
            functions = ENGINE_FUNCTIONS.set(self.script_functions)
            try:
                return self._execute_command(fn, attempts)
            finally:
                ENGINE_FUNCTIONS.reset(functions)
        return self._execute_command(fn, attempts)

    def _execute_command(self, fn: Callable[[_Command], Any], attempts: int) -> Any:
        last: Exception | None = None
        for _ in range(attempts):
            try:
                with self.store.transaction() as tx:
                    c = _Command(self, tx)
                    result = fn(c)
                    c.finish()
                for event in c.notifications:
                    for listener in self.listeners:
                        listener(*event)
                return result
            except ConcurrentModification as e:
                last = e
                continue
        raise Conflict(f"instance '{last}' kept changing under this command; try again")


class _Command:
    """One transaction's worth of work: loaded instances, queued triggers, applied effects."""

    def __init__(self, engine: Engine, tx: Any) -> None:
        self.engine = engine
        self.tx = tx
        self.now = engine.clock()
        self.loaded: dict[str, tuple[InstanceRecord, InstanceState, ProcessGraph]] = {}
        self.new: set[str] = set()
        self.queue: deque[tuple[str, Any]] = deque()
        self.after: list[Callable[[], None]] = []
        self.user: str | None = None
        self.notifications: list[tuple[str, Any]] = []
        self.depth = 0
        # external task rows this command has read, by (instance id, token): the task it
        # completes ends in `apply` without a second lookup
        self.externals: dict[tuple[str, int], ExternalTaskRecord] = {}

    # ---------------------------------------------------------------- instances
    def load(self, instance_id: str) -> tuple[InstanceRecord, InstanceState, ProcessGraph]:
        got = self.loaded.get(instance_id)
        if got is not None:
            return got
        rec = self.tx.get_instance(instance_id, lock=True)
        if rec is None:
            raise NotFound(f"process instance '{instance_id}' not found")
        state = InstanceState.from_dict(rec.state)
        graph = self.engine.graph(rec.definition_id, self.tx)
        got = (rec, state, graph)
        self.loaded[instance_id] = got
        return got

    def start_instance(self, defrec: DefinitionRecord, variables: dict[str, Any],
                       business_key: str | None, parent_id: str | None,
                       parent_token: int | None, start_event: str | None,
                       start_before: tuple[str, ...] = (),
                       fired: tuple[str, str] | None = None) -> InstanceRecord:
        """Start an instance; `fired` is the (kind, name) of the message or signal that
        starts it at `start_event` (a parallel multiple start event then waits for the
        others)."""
        graph = self.engine.graph(defrec.id, self.tx)
        if not graph.executable and graph.start_nodes == ():
            raise EngineError(f"process '{defrec.key}' is not executable")
        iid = new_id()
        rec = InstanceRecord(iid, defrec.id, defrec.key, defrec.version, "running", {},
                             business_key, parent_id, parent_token, self.now, None, 0,
                             variables)
        self.depth += 1  # children start inside apply(): count them one level deeper
        try:
            if self.depth > 50:
                raise EngineError(f"call activities nest deeper than 50 levels at "
                                  f"'{defrec.key}'")
            try:
                state, effects = start(graph, tr.Start(variables, start_event, fired,
                                                       start_before=start_before), self.now,
                                       has_parent=parent_id is not None,
                                       decisions=self.engine._decisions_for(self.tx, graph),
                                       context=_facts(rec))
            except RuntimeFailure as e:
                raise EngineError(str(e)) from e
            self.loaded[iid] = (rec, state, graph)
            self.new.add(iid)
            hint = getattr(self.tx, "new_instance", None)
            if hint is not None:      # the SQL store skips a lookup for a brand-new row
                hint(iid)
            self.apply(rec, graph, effects)
        finally:
            self.depth -= 1
        return rec

    def trigger(self, instance_id: str, trigger: Any, *, stale_ok: bool = False) -> None:
        rec, state, graph = self.load(instance_id)
        try:
            effects = advance(graph, state, trigger, self.now,
                              has_parent=rec.parent_id is not None,
                              decisions=self.engine._decisions_for(self.tx, graph),
                              context=_facts(rec))
        except StaleTrigger as e:
            if stale_ok:
                return
            raise Conflict(f"instance '{instance_id}': {e}") from e
        except RuntimeFailure as e:
            raise EngineError(str(e)) from e
        self.apply(rec, graph, effects)

    def finish(self) -> None:
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
            if iid in self.new:
                self.tx.add_instance(rec)
            else:
                self.tx.update_instance(rec)

    def user_groups(self, user: str) -> list[str]:
        get_user = getattr(self.tx, "get_user", None)
        u = get_user(user) if get_user else None
        return list(u.groups) if u is not None else []

    # ---------------------------------------------------------------- effects
    def apply(self, rec: InstanceRecord, graph: ProcessGraph, effects: list[Any]) -> None:
        tx = self.tx
        hist: list[HistoryRecord] = []
        for e in effects:
            t = type(e)
            if t is fx.History:
                e.instance_id = rec.id
                if e.kind == "userTask" and self.user is not None:
                    e.user = self.user
                hist.append(e)
            elif t is fx.UserTaskCreated:
                from engine.tasks import create_task

                create_task(self, rec, graph, e, hist)
            elif t is fx.UserTaskEnded:
                task = tx.task_by_token(rec.id, e.token)
                if task is not None:
                    tx.delete_task(task.id)
                    for j in tx.find_jobs(instance_id=rec.id, token=e.token):
                        if j.kind in ("timeout", "escalation"):
                            tx.delete_job(j.id)
                    self.notifications.append((f"task_{e.reason}", task))
            elif t is fx.ServiceTaskStarted:
                self._service_task(rec, e)
            elif t is fx.ServiceTaskEnded:
                # the task ran as an external task or as a connector job, never both
                ext = (self.externals.pop((rec.id, e.token), None)
                       or tx.external_by_token(rec.id, e.token))
                if ext is not None:
                    tx.delete_external(ext.id)
                else:
                    for j in tx.find_jobs(instance_id=rec.id, token=e.token,
                                          kind="connector"):
                        tx.delete_job(j.id)
            elif t is fx.TimerScheduled:
                for j in tx.find_jobs(instance_id=rec.id, sub=e.sub, kind="timer"):
                    tx.delete_job(j.id)
                tx.add_job(JobRecord(new_id(), "timer", rec.id, e.due, token=e.token, sub=e.sub,
                                     activity_id=e.activity_id, definition_id=rec.definition_id,
                                     created=self.now,
                                     payload={"fired": e.fired, "text": e.timer_text}))
            elif t is fx.Subscribed:
                tx.add_subscription(SubscriptionRecord(
                    f"{rec.id}:{e.sub}", e.kind, e.name, rec.id, e.sub, e.activity_id,
                    rec.definition_id, rec.business_key, self.now))
            elif t is fx.Unsubscribed:
                if e.kind == "timer":
                    for j in tx.find_jobs(instance_id=rec.id, sub=e.sub, kind="timer"):
                        tx.delete_job(j.id)
                else:
                    tx.delete_subscription(f"{rec.id}:{e.sub}")
            elif t is fx.AsyncContinuation:
                tx.add_job(JobRecord(new_id(), "async", rec.id, self.now, token=e.token,
                                     activity_id=e.activity_id,
                                     definition_id=rec.definition_id, retry_cycle=e.retry_cycle,
                                     created=self.now, payload={"after": e.after}))
            elif t is fx.CallStarted:
                child_def = tx.latest_definition(e.key)
                if child_def is None:
                    raise EngineError(f"callActivity '{e.activity_id}': no process definition "
                                      f"with key '{e.key}' is deployed")
                self.start_instance(child_def, e.variables, e.business_key or rec.business_key,
                                    rec.id, e.token, None)
            elif t is fx.CallCancelled:
                for child in list(self._children(rec.id, e.token)):
                    self.queue.appendleft((child, tr.Terminate(PARENT_CANCELLED)))
            elif t is fx.MessageThrown:
                name, variables, key = e.name, e.variables, e.correlation_key
                self.after.append(lambda n=name, v=variables, k=key: self.correlate(
                    n, k, v, None, False, raise_if_none=False))
            elif t is fx.SignalThrown:
                name, variables = e.name, e.variables  # the thrower caught its own already
                self.after.append(lambda n=name, v=variables, src=rec.id: self.signal(
                    n, v, skip_instance=src))
            elif t is fx.InstanceEnded:
                rec.ended = e.time
                rec.status = e.status
                self._cleanup(rec)
                if rec.parent_id is not None and rec.parent_token is not None:
                    if e.cancelled is None:
                        self.queue.append((rec.parent_id,
                                           tr.ChildEnded(rec.parent_token, dict(e.variables),
                                                         e.deleted)))
                    elif e.cancelled != PARENT_CANCELLED:
                        # a called instance cancelled on its own: the caller cannot go on
                        # (Camunda deletes the calling instance too)
                        self.queue.append((rec.parent_id, tr.Terminate(
                            f"called instance '{rec.id}' was cancelled: {e.cancelled}")))
                self.notifications.append(("instance_ended", rec.id))
            elif t is fx.ErrorPropagated:
                if rec.parent_id is not None and rec.parent_token is not None:
                    self.queue.appendleft((rec.parent_id, tr.Throw(
                        rec.parent_token, e.code, e.message, e.variables, e.kind)))
        if hist:
            tx.add_history(hist)

    def _children(self, parent_id: str, token: int) -> Iterable[str]:
        seen = set()
        for iid, (r, s, _g) in self.loaded.items():
            if r.parent_id == parent_id and r.parent_token == token and s.status == "running":
                seen.add(iid)
                yield iid
        for r in self.tx.child_instances(parent_id, token):
            if r.id not in seen and r.status == "running":
                yield r.id

    def _cleanup(self, rec: InstanceRecord) -> None:
        tx = self.tx
        for task in tx.find_tasks(instance_id=rec.id):
            tx.delete_task(task.id)
        for j in tx.find_jobs(instance_id=rec.id):
            tx.delete_job(j.id)
        for ext in tx.find_external(instance_id=rec.id):
            tx.delete_external(ext.id)
        for s in tx.find_subscriptions(instance_id=rec.id):
            tx.delete_subscription(s.id)

    def _service_task(self, rec: InstanceRecord, e: fx.ServiceTaskStarted) -> None:
        registration = self.engine.connectors.get(e.topic)
        if registration is not None and e.task_type != "external-only":
            policy = registration.policy
            self.tx.add_job(JobRecord(
                new_id(), "connector", rec.id, self.now, token=e.token,
                activity_id=e.activity_id, definition_id=rec.definition_id,
                retries=policy.retries, retry_cycle=e.retry_cycle, created=self.now,
                payload={"topic": e.topic, "variables": dict(e.variables)}))
            return
        retries = None
        self.tx.add_external(ExternalTaskRecord(
            new_id(), rec.id, e.token, e.activity_id, e.topic, rec.key, rec.definition_id,
            self.now, rec.business_key, e.priority, retries))
        self.notifications.append(("external_task_created", e.topic))  # wakes long polls

    # ---------------------------------------------------------------- messages and signals
    def correlate(self, name: str, business_key: Any, variables: dict[str, Any],
                  instance_id: str | None, all_: bool, raise_if_none: bool) -> list[str]:
        subs = self.tx.find_subscriptions(kind="message", name=name)
        got: list[str] = []
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
            self.trigger(s.instance_id, tr.Fire(s.sub, variables), stale_ok=True)  # type: ignore[arg-type]
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
            raise MessageNotCorrelated(
                f"no process instance waits for message '{name}'"
                + (f" with business key '{business_key}'" if business_key is not None else "")
                + " and no message start event takes it")
        return []

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
            self.trigger(s.instance_id, tr.Fire(s.sub, dict(variables)), stale_ok=True)  # type: ignore[arg-type]
            if s.instance_id not in got:
                got.append(s.instance_id)
        return got


def _token_variables(tx: Any, instance_id: str, token_id: int,
                     local_only: bool) -> dict[str, Any]:
    """`Engine.token_variables` inside a transaction."""
    rec = tx.get_instance(instance_id)
    if rec is None:
        return {}
    state = InstanceState.from_dict(rec.state)
    token = state.tokens.get(token_id)
    if token is None:
        return dict(rec.variables) if not local_only else {}
    scopes = state.scopes
    scope = scopes.get(token.scope)
    chain = []
    while scope is not None:
        chain.append(scope.vars)
        if local_only:
            break
        scope = scopes.get(scope.parent) if scope.parent is not None else None
    out: dict[str, Any] = {}
    for layer in reversed(chain):
        out.update(layer)
    return out


def _read_source(src: Any) -> tuple[str | None, bytes]:
    if isinstance(src, tuple):      # (file name, bytes or XML text): an uploaded file
        return src[0], src[1] if isinstance(src[1], bytes) else str(src[1]).encode("utf-8")
    if isinstance(src, bytes):
        return None, src
    if isinstance(src, str) and src.lstrip().startswith("<"):
        return None, src.encode("utf-8")
    path = Path(src)
    try:
        return path.name, path.read_bytes()
    except OSError as e:
        raise EngineError(f"cannot read BPMN file '{src}': {e.strerror}") from e


def _check_variables(variables: Mapping[str, Any] | None) -> None:
    if variables is None:
        return
    if not isinstance(variables, Mapping):
        raise EngineError("variables must be a mapping of names to values")
    for k in variables:
        if not isinstance(k, str) or not k.isidentifier() or k.startswith("_"):
            raise EngineError(f"variable name {k!r} is not allowed: use letters, digits and "
                              "underscores, not starting with a digit or an underscore")
    if variables and not all(_plainly_storable(v) for v in variables.values()):
        from engine.store.codec import UnstorableValue, dumps

        try:   # refuse what no store can keep, the same way for every store
            dumps(dict(variables))
        except UnstorableValue as e:
            raise EngineError(f"variables: {e}") from e


_ALWAYS_STORABLE = frozenset({str, int, bool, type(None)})


def _plainly_storable(value: Any) -> bool:
    """Strings, integers, booleans, None and finite floats, which every store keeps: most
    variables are such, and need no trial encoding (several times dearer than the rest of
    a command's checks)."""
    kind = type(value)
    return kind in _ALWAYS_STORABLE or (kind is float and math.isfinite(value))

