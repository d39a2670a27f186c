"""Process instances: start, read, set variables, cancel, trigger, messages, signals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.bpmn.elements import WAIT_STATES
from engine.commands import instances as cmd
from engine.commands.context import CommandContext
from engine.errors import NotFound
from engine.graph import ProcessGraph
from engine.runtime.state import WAITING, InstanceState
from engine.services.base import Service
from engine.store.records import HistoryRecord, InstanceRecord

# wait states listed as `waiting` (the element table's); a call activity's called instances
# are also in `InstanceView.called`
WAITING_KINDS = WAIT_STATES


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
    # call activities holding a token: activity id -> ids of the running called instances
    called: dict[str, list[str]] = field(default_factory=dict)


class RuntimeService(Service):
    def start(self, key: str, variables: Mapping[str, Any] | None = None,
              business_key: str | None = None, version: int | None = None,
              start_event: str | None = None, *, user: str | None = None) -> str:
        """Start the latest (or a named) version of process `key`; returns the instance id."""
        return self.executor.execute(cmd.StartInstance(
            key, cmd.checked_variables(variables), business_key, version, start_event, user))

    def instance(self, instance_id: str, *, user: str | None = None) -> InstanceView:
        def read(c: CommandContext) -> InstanceView:
            c.authorize("instance", "read")
            rec = c.tx.get_instance(instance_id) if isinstance(instance_id, str) else None
            if rec is None:
                raise NotFound(f"process instance '{instance_id}' not found")
            return view(c, rec)

        return self.read(read, user)

    def instances(self, *, newest_first: bool = False, limit: int | None = None,
                  offset: int = 0, user: str | None = None,
                  **filters: Any) -> list[InstanceView]:
        """Instances matching the filters (status, key, business_key, parent_id, ...),
        oldest first (or newest first); `limit`/`offset` page them in the database."""
        def read(c: CommandContext) -> list[InstanceView]:
            c.authorize("instance", "read")
            return [view(c, r) for r in c.tx.find_instances(
                newest_first=newest_first, limit=limit, offset=offset, **filters)]

        return self.read(read, user)

    def count_instances(self, *, user: str | None = None, **filters: Any) -> int:
        def read(c: CommandContext) -> int:
            c.authorize("instance", "read")
            return c.tx.count_instances(**filters)

        return self.read(read, user)

    def variables(self, instance_id: str, *, user: str | None = None) -> dict[str, Any]:
        return self.instance(instance_id, user=user).variables

    def set_variables(self, instance_id: str, variables: Mapping[str, Any], *,
                      user: str | None = None) -> None:
        """Set process variables; conditional events whose condition turns true fire."""
        self.executor.execute(cmd.SetVariables(instance_id, cmd.checked_variables(variables),
                                               user))

    def cancel(self, instance_id: str, reason: str = "cancelled", *,
               user: str | None = None) -> None:
        self.executor.execute(cmd.CancelInstance(instance_id, reason, user))

    def history(self, instance_id: str, *, user: str | None = None) -> list[HistoryRecord]:
        return self.executor.execute(cmd.InstanceHistory(instance_id, user))

    def trigger(self, instance_id: str, activity_id: str,
                variables: Mapping[str, Any] | None = None, *, user: str | None = None) -> None:
        """Move on a token waiting at `activity_id` (a receive task or a catch event)."""
        self.executor.execute(cmd.TriggerActivity(instance_id, activity_id,
                                                  cmd.checked_variables(variables), user))

    def start_adhoc_activity(self, instance_id: str, activity_id: str,
                             variables: Mapping[str, Any] | None = None, *,
                             user: str | None = None) -> None:
        """Start an enabled activity (no incoming flow) of a running ad-hoc subprocess."""
        from engine.commands import adhoc

        self.executor.execute(adhoc.StartAdHocActivity(
            instance_id, activity_id, cmd.checked_variables(variables), user))

    def complete_adhoc(self, instance_id: str, adhoc_id: str, *,
                       user: str | None = None) -> None:
        """Complete a running ad-hoc subprocess in which nothing runs any more."""
        from engine.commands import adhoc

        self.executor.execute(adhoc.CompleteAdHoc(instance_id, adhoc_id, user))

    def adhoc_activities(self, instance_id: str, *,
                         user: str | None = None) -> list[dict[str, Any]]:
        """The enabled activities of the instance's running ad-hoc subprocesses."""
        from engine.commands import adhoc

        return self.executor.execute(adhoc.AdHocActivities(instance_id, user))

    def correlate_message(self, name: str, business_key: str | None = None,
                          variables: Mapping[str, Any] | None = None,
                          instance_id: str | None = None, all: bool = False, *,
                          user: str | None = None) -> list[str]:
        """Deliver a message to the instance waiting for it (matched by name, and business
        key or instance id when given), or start an instance at a message start event.
        Returns the ids of the instances that received it."""
        return self.executor.execute(cmd.CorrelateMessage(
            name, business_key, cmd.checked_variables(variables), instance_id, all, user))

    def broadcast_signal(self, name: str, variables: Mapping[str, Any] | None = None, *,
                         user: str | None = None) -> list[str]:
        return self.executor.execute(cmd.BroadcastSignal(name, cmd.checked_variables(variables),
                                                         user))

    def message_waits(self, name: str, business_key: str | None = None,
                      instance_id: str | None = None, *, user: str | None = None) -> bool:
        """True when a running instance waits for the message (Camunda's correlation
        result says whether a message was delivered or started an instance)."""
        def read(c: CommandContext) -> bool:
            c.authorize("message", "correlate")
            return message_waiter(c, name, business_key, instance_id)

        return self.read(read, user)

    def token_variables(self, instance_id: str, token: int, local_only: bool = False, *,
                        user: str | None = None) -> dict[str, Any]:
        """The variables visible from a token, nearest scope first (its local input
        parameters, then enclosing subprocesses, then the process: what Camunda hands a
        task's worker or form); only its own scope with `local_only`."""
        def read(c: CommandContext) -> dict[str, Any]:
            c.authorize("instance", "read")
            return cmd.token_variables(c.tx, instance_id, token, local_only)

        return self.read(read, user)


def view(c: CommandContext, rec: InstanceRecord) -> InstanceView:
    """What a reader sees of an instance: its wait states, tokens and called instances."""
    waiting: list[str] = []
    tokens: list[dict[str, Any]] = []
    called: dict[str, list[str]] = {}
    if rec.status == "running":
        state = InstanceState.from_dict(rec.state, rec.variables)
        try:
            graph: ProcessGraph | None = c.graph(rec.definition_id)
        except NotFound:
            graph = None
        for t in state.tokens.values():
            nid = graph.nodes[t.node].id if graph is not None else str(t.node)
            tokens.append({"id": t.id, "activity_id": nid, "state": t.state, "wait": t.wait})
            if t.state != WAITING:
                continue
            if t.wait in WAITING_KINDS and nid not in waiting:
                waiting.append(nid)
            if t.wait == "call":
                called.setdefault(nid, [r.id for r in c.tx.child_instances(rec.id, t.id)
                                        if r.status == "running"])
    return InstanceView(rec.id, rec.key, rec.version, rec.definition_id, rec.status,
                        dict(rec.variables), rec.business_key, rec.parent_id, waiting,
                        rec.started, rec.ended, tokens, called)


def message_waiter(c: CommandContext, name: str, business_key: str | None,
                   instance_id: str | None) -> bool:
    """True when some running instance waits for message `name` (matching the business key
    or instance id when given): the engine would deliver to it rather than start one."""
    for s in c.tx.find_subscriptions(kind="message", name=name):
        if s.instance_id is None:
            continue
        if instance_id is not None and s.instance_id != instance_id:
            continue
        if business_key is not None:
            inst = c.tx.get_instance(s.instance_id)
            if inst is None or inst.business_key != business_key:
                continue
        return True
    return False
