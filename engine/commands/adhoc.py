"""Commands on ad-hoc subprocesses: start one of their enabled activities, complete one,
list what can be started (BPMN 2.0.2 13.3.5: "One of the enabled Activities is selected
for execution ... usually by a Human Performer").

Who may: the policy row ("instance", "start"), staff and analysts, as starting work in a
case is what starting an instance is; the command loads and locks the instance first and
decides on what it re-reads under that lock, like every command.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from engine.commands.context import CommandContext
from engine.commands.executor import BaseCommand
from engine.errors import NotFound
from engine.runtime import triggers as tr
from engine.runtime.adhoc import enabled_activity, is_busy, open_scopes
from engine.runtime.errors import RuntimeFailure

PERMISSION = ("instance", "start")


@dataclass(slots=True)
class StartAdHocActivity(BaseCommand):
    """Start `activity_id`, an activity without incoming flow of a running ad-hoc
    subprocess of the instance; `variables` are set in the ad-hoc scope first."""

    permission: ClassVar[tuple[str, str] | None] = PERMISSION
    instance_id: str
    activity_id: str
    variables: Mapping[str, Any] = field(default_factory=dict)
    user: str | None = None

    def execute(self, c: CommandContext) -> None:
        _rec, _state, graph = c.load(self.instance_id)
        try:
            enabled_activity(graph, self.activity_id)
        except RuntimeFailure as e:
            raise NotFound(str(e)) from e
        c.outside_variables = bool(self.variables)
        c.trigger(self.instance_id, tr.AdHocStart(self.activity_id, dict(self.variables)))


@dataclass(slots=True)
class CompleteAdHoc(BaseCommand):
    """Complete a running ad-hoc subprocess on request (nothing may run inside it)."""

    permission: ClassVar[tuple[str, str] | None] = PERMISSION
    instance_id: str
    adhoc_id: str
    user: str | None = None

    def execute(self, c: CommandContext) -> None:
        _rec, _state, graph = c.load(self.instance_id)
        index = graph.index.get(self.adhoc_id)
        if index is None or graph.nodes[index].adhoc is None:
            raise NotFound(f"'{self.adhoc_id}' is not an ad-hoc subprocess of instance "
                           f"'{self.instance_id}'")
        c.trigger(self.instance_id, tr.AdHocComplete(self.adhoc_id))


@dataclass(slots=True)
class AdHocActivities(BaseCommand):
    """What can be started now: one entry per enabled activity of each running ad-hoc
    subprocess ({"adhocId", "activityId", "name", "startable"}; `startable` False while a
    sequential one runs an activity or a completing one lets the last ones finish)."""

    permission: ClassVar[tuple[str, str] | None] = ("instance", "read")
    writes: ClassVar[bool] = False
    instance_id: str
    user: str | None = None

    def execute(self, c: CommandContext) -> list[dict[str, Any]]:
        from engine.runtime.adhoc import COMPLETING
        from engine.runtime.state import InstanceState

        rec = c.tx.get_instance(self.instance_id) if isinstance(self.instance_id, str) \
            else None
        if rec is None:
            raise NotFound(f"process instance '{self.instance_id}' not found")
        if rec.status != "running":
            return []
        graph = c.graph(rec.definition_id)
        state = InstanceState.from_dict(rec.state, rec.variables)
        out = []
        for adhoc in graph.nodes:
            if adhoc.adhoc is None:
                continue
            for scope in open_scopes(graph, state, adhoc):
                blocked = bool(scope.data and scope.data.get(COMPLETING)) or (
                    adhoc.adhoc.sequential and is_busy(state, scope))
                for i in adhoc.start_nodes:
                    node = graph.nodes[i]
                    out.append({"adhocId": adhoc.id, "activityId": node.id,
                                "name": node.name, "startable": not blocked})
        return out


__all__ = ["AdHocActivities", "CompleteAdHoc", "StartAdHocActivity"]
