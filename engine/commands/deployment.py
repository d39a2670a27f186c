"""Deploying BPMN and DMN files: every file is compiled and validated before the command
runs (by the repository service), so the transaction only stores what is known to be good.
Each process id (and DMN decision id) gets a new version unless its file is byte-for-byte
the one deployed last under that key, for the same tenant (and, for a process, in the same
migration mode: `compat` changes the compiled graph, engine.bpmn.compat).

A tenant (Camunda's `tenant-id` deployment field) is a label of the definitions deployed:
external task workers fetch by it, REST answers carry it. Versions are numbered per key
across tenants, and starting by key takes the latest version whatever its tenant (Camunda
numbers versions per tenant and asks which tenant to start)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from engine.bpmn.compat import compat_problem
from engine.commands.context import CommandContext
from engine.commands.executor import BaseCommand
from engine.dmn import DecisionSet
from engine.errors import EngineError
from engine.ids import new_id
from engine.store.records import DefinitionRecord, DeploymentRecord, JobRecord, SubscriptionRecord

if TYPE_CHECKING:
    from engine.graph import Definitions, ProcessGraph


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
    # what validation found but Baton runs with a documented fallback, for the whole file the
    # definition comes from (docs/validation-rules.md); strict deployments refuse them
    warnings: tuple[str, ...] = ()
    tenant_id: str | None = None
    version_tag: str | None = None   # the process's camunda:versionTag
    compat: str | None = None        # the migration mode it was deployed in (processes only)


@dataclass(slots=True)
class Deploy(BaseCommand):
    permission: ClassVar[tuple[str, str] | None] = ("definition", "deploy")
    name: str | None
    compiled: list[tuple[str | None, bytes, Any]]   # (resource, data, Definitions|DecisionSet)
    user: str | None = None
    tenant_id: str | None = None
    # the migration mode the BPMN files were compiled in (the repository service compiles
    # them with it); stored on each process definition so a reload compiles the same graph
    compat: str | None = None

    def execute(self, c: CommandContext) -> list[ProcessDefinition]:
        check_tenant_id(self.tenant_id)
        check_compat(self.compat)
        tx = c.tx
        dep = DeploymentRecord(new_id(), self.name, c.now,
                               [r or "" for r, _, _ in self.compiled])
        out: list[ProcessDefinition] = []
        added = False
        for resource, data, defs in self.compiled:
            checksum = hashlib.sha256(data).hexdigest()
            if isinstance(defs, DecisionSet):
                added = deploy_decisions(c, dep, resource, data, checksum, defs, out,
                                         self.tenant_id) or added
                continue
            added = deploy_processes(c, dep, resource, data, checksum, defs, out,
                                     self.tenant_id, self.compat) or added
        if added:
            tx.add_deployment(dep)
        return out


MAX_TENANT_ID = 64
_TENANT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def check_tenant_id(tenant_id: Any) -> None:
    """A tenant id is 1-64 letters, digits, '-', '_' or '.' (Camunda's default pattern is
    letters and digits only): it is shown, filtered by and stored with every definition."""
    if tenant_id is None:
        return
    if not isinstance(tenant_id, str) or not 0 < len(tenant_id) <= MAX_TENANT_ID \
            or not set(tenant_id) <= _TENANT_CHARS:
        raise EngineError(f"tenant id {tenant_id!r:.80} is not allowed: use 1 to "
                          f"{MAX_TENANT_ID} letters, digits, '-', '_' or '.'")


def check_compat(compat: Any) -> None:
    """A migration mode is one Baton knows (engine.bpmn.compat.COMPAT_MODES) or None: an
    unknown one would be stored and then compiled as if it were not there, so a typo
    would silently give Camunda 7 semantics to a diagram written for another engine."""
    problem = compat_problem(compat)
    if problem is not None:
        raise EngineError(problem)


MAX_VERSION_TAG = 255


def version_tag_of(key: str, graph: ProcessGraph) -> str | None:
    """The process's camunda:versionTag, which clients select definitions by. Stored and
    shown in every definition answer, so it is bounded like an id rather than cut short:
    a tag cut to fit would select the wrong definitions."""
    tag = (graph.ext or {}).get("versionTag")
    if tag is None:
        return None
    if not isinstance(tag, str) or len(tag) > MAX_VERSION_TAG:
        raise EngineError(f"process '{key}': camunda:versionTag is longer than "
                          f"{MAX_VERSION_TAG} characters")
    return tag


def deploy_processes(c: CommandContext, dep: DeploymentRecord, resource: str | None,
                     data: bytes, checksum: str, defs: Definitions,
                     out: list[ProcessDefinition], tenant_id: str | None = None,
                     compat: str | None = None) -> bool:
    tx = c.tx
    cache = c.env.definitions
    added = False
    for key, graph in defs.processes.items():
        latest = tx.latest_definition(key)
        if latest is not None and cache.is_dmn(latest):
            raise EngineError(f"process id '{key}' is already the id of a deployed "
                              "DMN decision; rename one of them")
        if latest is not None and latest.checksum == checksum \
                and latest.tenant_id == tenant_id and latest.compat == compat:
            out.append(ProcessDefinition(latest.id, key, latest.version, latest.name,
                                         latest.deployment_id, latest.resource, checksum,
                                         False, warnings=defs.warnings, tenant_id=tenant_id,
                                         version_tag=latest.version_tag, compat=compat))
            continue
        version = (latest.version + 1) if latest else 1
        rec = DefinitionRecord(f"{key}:{version}:{dep.id[:8]}", key, version, graph.name, data,
                               checksum, dep.id, resource, dep.time, graph.executable,
                               tenant_id=tenant_id, version_tag=version_tag_of(key, graph),
                               compat=compat)
        tx.add_definition(rec)
        added = True
        cache.graphs[rec.id] = graph
        cache.files.setdefault((checksum, compat), defs)
        replace_start_events(c, rec, graph, latest)
        out.append(ProcessDefinition(rec.id, key, version, graph.name, dep.id, resource,
                                     checksum, True, warnings=defs.warnings,
                                     tenant_id=tenant_id, version_tag=rec.version_tag,
                                     compat=compat))
    return added


def deploy_decisions(c: CommandContext, dep: DeploymentRecord, resource: str | None,
                     data: bytes, checksum: str, decisions: DecisionSet,
                     out: list[ProcessDefinition], tenant_id: str | None = None) -> bool:
    """Store each decision of a DMN file as a definition keyed by the decision id (the
    whole file is its xml, as for a BPMN file with several processes)."""
    cache = c.env.definitions
    added = False
    for key, decision in decisions.decisions.items():
        latest = c.tx.latest_definition(key)
        if latest is not None and not cache.is_dmn(latest):
            raise EngineError(f"decision id '{key}' is already the key of a deployed "
                              "process; rename one of them")
        if latest is not None and latest.checksum == checksum \
                and latest.tenant_id == tenant_id:
            out.append(ProcessDefinition(latest.id, key, latest.version, latest.name,
                                         latest.deployment_id, latest.resource, checksum,
                                         False, "decision", decisions.warnings, tenant_id))
            continue
        version = (latest.version + 1) if latest else 1
        rec = DefinitionRecord(f"{key}:{version}:{dep.id[:8]}", key, version,
                               decision.name, data, checksum, dep.id, resource, dep.time,
                               False, tenant_id=tenant_id)
        c.tx.add_definition(rec)
        added = True
        cache.decision_sets[checksum] = decisions
        cache.dmn_checksums[checksum] = True
        out.append(ProcessDefinition(rec.id, key, version, decision.name, dep.id, resource,
                                     checksum, True, "decision", decisions.warnings,
                                     tenant_id))
    return added


def replace_start_events(c: CommandContext, rec: DefinitionRecord, graph: ProcessGraph,
                         previous: DefinitionRecord | None) -> None:
    """A new version takes over the message, signal and timer start events of the last."""
    from engine.timers import TimerError, parse_timer

    tx = c.tx
    if previous is not None:
        for s in tx.find_subscriptions(definition_id=previous.id, instance_id=None):
            tx.delete_subscription(s.id)
        for j in tx.find_jobs(kind="start-timer", definition_id=previous.id):
            tx.delete_job(j.id)
    for kind, starts in (("message", graph.message_starts), ("signal", graph.signal_starts)):
        for name, idx in starts.items():
            # a multiple start event waits for several names: one subscription each
            sub_id = f"{rec.id}:{idx}" if not graph.nodes[idx].events \
                else f"{rec.id}:{idx}:{kind}:{name}"
            tx.add_subscription(SubscriptionRecord(
                sub_id, kind, name, None, None, graph.nodes[idx].id, rec.id, None, c.now))
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


@dataclass(slots=True)
class ReadDefinitions(BaseCommand):
    """Deployed process definitions (or, with `decisions`, DMN decisions)."""

    permission: ClassVar[tuple[str, str] | None] = ("definition", "read")
    writes: ClassVar[bool] = False
    key: str | None = None
    decisions: bool = False
    user: str | None = None

    def execute(self, c: CommandContext) -> list[DefinitionRecord]:
        cache = c.env.definitions
        return [d for d in c.tx.definitions(self.key) if cache.is_dmn(d) == self.decisions]

