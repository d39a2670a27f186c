"""Commands on process instances: start, set variables, cancel, trigger a wait state,
correlate a message, broadcast a signal; and the reads that need the policy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from engine.commands.context import CommandContext
from engine.commands.executor import BaseCommand
from engine.errors import EngineError, NotFound
from engine.limits import check_text, check_variables
from engine.runtime import triggers as tr
from engine.runtime.state import WAITING, InstanceState
from engine.store.records import HistoryRecord, InstanceRecord

if TYPE_CHECKING:
    from engine.store.protocol import StoreTransaction


@dataclass(slots=True)
class StartInstance(BaseCommand):
    permission: ClassVar[tuple[str, str] | None] = ("instance", "start")
    key: str
    variables: Mapping[str, Any] = field(default_factory=dict)
    business_key: str | None = None
    version: int | None = None
    start_event: str | None = None
    user: str | None = None

    def execute(self, c: CommandContext) -> str:
        check_text(self.business_key, "the business key")
        rec = (c.tx.definition_version(self.key, self.version) if self.version is not None
               else c.tx.latest_definition(self.key, starting=True))
        if rec is None:
            raise NotFound(f"no process definition with key '{self.key}'"
                           + (f" and version {self.version}" if self.version else ""))
        if c.env.definitions.is_dmn(rec):
            raise NotFound(f"'{self.key}' is a DMN decision, not a process")
        c.outside_variables = bool(self.variables)
        inst = c.start_instance(rec, dict(self.variables), self.business_key, None, None,
                                self.start_event)
        return inst.id


@dataclass(slots=True)
class SetVariables(BaseCommand):
    """Set process variables from outside; conditional events whose condition turns true
    fire."""

    permission: ClassVar[tuple[str, str] | None] = ("instance", "variables")
    instance_id: str
    variables: Mapping[str, Any]
    user: str | None = None

    def execute(self, c: CommandContext) -> None:
        c.outside_variables = True
        c.trigger(self.instance_id, tr.SetVariables(dict(self.variables)))


@dataclass(slots=True)
class CancelInstance(BaseCommand):
    permission: ClassVar[tuple[str, str] | None] = ("instance", "cancel")
    instance_id: str
    reason: str = "cancelled"
    user: str | None = None

    def execute(self, c: CommandContext) -> None:
        c.trigger(self.instance_id, tr.Terminate(self.reason))


@dataclass(slots=True)
class TriggerActivity(BaseCommand):
    """Move on a token waiting at an activity (a receive task or a catch event), like
    Camunda's `runtimeService.signal(executionId)`."""

    permission: ClassVar[tuple[str, str] | None] = ("instance", "modify")
    instance_id: str
    activity_id: str
    variables: Mapping[str, Any] = field(default_factory=dict)
    user: str | None = None

    def execute(self, c: CommandContext) -> None:
        _rec, state, graph = c.load(self.instance_id)
        for t in state.tokens.values():
            if graph.nodes[t.node].id == self.activity_id and t.state == WAITING:
                c.outside_variables = bool(self.variables)
                c.trigger(self.instance_id, tr.Complete(t.id, dict(self.variables)))
                return
        raise NotFound(f"nothing waits at '{self.activity_id}' in instance "
                       f"'{self.instance_id}'")


@dataclass(slots=True)
class CorrelateMessage(BaseCommand):
    permission: ClassVar[tuple[str, str] | None] = ("message", "correlate")
    name: str
    business_key: str | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)
    instance_id: str | None = None
    all: bool = False
    user: str | None = None

    def execute(self, c: CommandContext) -> list[str]:
        if not isinstance(self.name, str) or not self.name:
            raise EngineError("a message needs a name")
        check_text(self.name, "the message name")
        if self.business_key is not None:
            # a message start event starts an instance with it (as text)
            check_text(str(self.business_key), "the business key")
        c.outside_variables = bool(self.variables)
        return c.correlate(self.name, self.business_key, dict(self.variables),
                           self.instance_id, self.all, raise_if_none=True)


@dataclass(slots=True)
class BroadcastSignal(BaseCommand):
    permission: ClassVar[tuple[str, str] | None] = ("signal", "broadcast")
    name: str
    variables: Mapping[str, Any] = field(default_factory=dict)
    user: str | None = None

    def execute(self, c: CommandContext) -> list[str]:
        if not isinstance(self.name, str) or not self.name:
            raise EngineError("a signal needs a name")
        check_text(self.name, "the signal name")
        c.outside_variables = bool(self.variables)
        return c.signal(self.name, dict(self.variables))


# ------------------------------------------------------------------------------- reading
@dataclass(slots=True)
class ReadInstance(BaseCommand):
    permission: ClassVar[tuple[str, str] | None] = ("instance", "read")
    writes: ClassVar[bool] = False
    instance_id: str
    user: str | None = None

    def execute(self, c: CommandContext) -> InstanceRecord:
        rec = c.tx.get_instance(self.instance_id) if isinstance(self.instance_id, str) \
            else None
        if rec is None:
            raise NotFound(f"process instance '{self.instance_id}' not found")
        return rec


@dataclass(slots=True)
class InstanceHistory(BaseCommand):
    permission: ClassVar[tuple[str, str] | None] = ("instance", "read")
    writes: ClassVar[bool] = False
    instance_id: str
    user: str | None = None

    def execute(self, c: CommandContext) -> list[HistoryRecord]:
        return c.tx.history(self.instance_id)


def token_variables(tx: StoreTransaction, instance_id: str, token_id: int,
                    local_only: bool) -> dict[str, Any]:
    """The variables visible from a token, nearest scope first; only its own scope with
    `local_only`. The process's variables when the token is gone; {} when the instance is."""
    rec = tx.get_instance(instance_id)
    if rec is None:
        return {}
    state = InstanceState.from_dict(rec.state, rec.variables)
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


def checked_variables(variables: Mapping[str, Any] | None) -> dict[str, Any]:
    """Variables from outside, checked (engine.limits) and copied."""
    if variables is None:
        return {}
    check_variables(variables)
    return dict(variables)
