"""SpiffWorkflow 3.2 driven as a differential oracle for the `spiff/` corpus.

Why: the corpus MANIFEST says what SpiffWorkflow's own tests observed, but only in prose.
Running the very same diagram with the very same inputs through SpiffWorkflow gives a
second, executable opinion: which activities completed, in which step. `SpiffRun` offers
the same small command set as the Baton side of the scenarios (start, complete a ready
task, deliver a message or signal, let time pass) so one scenario body drives both.

SpiffWorkflow facts this relies on (see ../shared/notes/spiffworkflow-oracle.md):
- start data goes into the root task's data before the first engine step;
- `task`, `userTask` and `manualTask` are manual: they wait until `task.run()`;
- its task iterator stops at depth 1000, so tasks are scanned through the flat
  `workflow.tasks` dicts (top workflow and every subprocess), never the iterator;
- internal specs (`Start`, `*.EndJoin`, `End`, boundary-event splits) have `bpmn_id` None.
Timers read `datetime.now` in SpiffWorkflow's timer module; a `VirtualClock` replaces that
name while the oracle runs, so "0.25 seconds later" is a method call, not a sleep.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
from SpiffWorkflow.bpmn.parser.task_parsers import ConditionalGatewayParser
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.specs import BpmnDataStoreSpecification
from SpiffWorkflow.bpmn.specs.defaults import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.util.task import TaskState

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
ORACLE_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class OracleError(Exception):
    """SpiffWorkflow refused a command or failed while running the diagram."""


# ---------------------------------------------------------------------------- time
class VirtualClock:
    """The oracle's notion of now; `patched()` makes SpiffWorkflow's timers read it."""

    def __init__(self, start: datetime = ORACLE_EPOCH) -> None:
        self.now = start
        clock = self

        class _Datetime(datetime):
            """`datetime` whose now() is the virtual clock (timer module and scripts)."""

            @classmethod
            def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
                return clock.now if tz is None else clock.now.astimezone(tz)

            @classmethod
            def utcnow(cls) -> datetime:  # type: ignore[override]
                return clock.now.replace(tzinfo=None)

        self.datetime_class = _Datetime

    def advance(self, delta: timedelta) -> None:
        self.now = self.now + delta

    @contextlib.contextmanager
    def patched(self) -> Iterator[None]:
        saved = spiff_timer.datetime
        spiff_timer.datetime = self.datetime_class  # type: ignore[misc]
        try:
            yield
        finally:
            spiff_timer.datetime = saved  # type: ignore[misc]


# ---------------------------------------------------------------------------- parsers
class _ChoiceGatewayParser(ConditionalGatewayParser):
    """SpiffWorkflow's own bpmn tests give an unconditioned, non-default flow of a diverging
    exclusive gateway the condition `choice == '<flow name>'` (old Signavio exports rely on
    it). Only gateways with several outgoing flows are touched, as in the Baton rewrite."""

    def parse_condition(self, sequence_flow_node: Any) -> str | None:
        cond = super().parse_condition(sequence_flow_node)
        if cond is not None:
            return cond
        outgoing = self.node.xpath("./bpmn:outgoing", namespaces={"bpmn": BPMN_NS})
        if len(outgoing) < 2:
            return None
        return f"choice == {sequence_flow_node.get('name')!r}"


class MemoryDataStore(BpmnDataStoreSpecification):
    """A data store kept in a dict shared by every run (SpiffWorkflow's tests register a
    class named `TestDataStore`): a task reading it gets the value, a task writing it moves
    the value out of the task data into the store."""

    values: dict[str, Any] = {}

    def get(self, my_task: Any) -> None:
        my_task.data[self.bpmn_id] = MemoryDataStore.values.get(self.bpmn_id)

    def set(self, my_task: Any) -> None:
        MemoryDataStore.values[self.bpmn_id] = my_task.data.pop(self.bpmn_id, None)


def _parser(dialect: str, choice_by_flow_name: bool) -> BpmnParser:
    base = CamundaParser if dialect == "camunda" else BpmnParser
    overrides = dict(base.OVERRIDE_PARSER_CLASSES)
    if choice_by_flow_name:
        overrides[full_tag("exclusiveGateway")] = (_ChoiceGatewayParser, ExclusiveGateway)
    cls = type("OracleParser", (base,), {
        "OVERRIDE_PARSER_CLASSES": overrides,
        "DATA_STORE_CLASSES": {"TestDataStore": MemoryDataStore},
    })
    return cls()


# ---------------------------------------------------------------------------- the run
@dataclass(frozen=True, slots=True)
class ReadyTask:
    activity_id: str
    name: str | None
    task: Any

    @property
    def label(self) -> str:
        return self.name or self.activity_id


class SpiffRun:
    """One SpiffWorkflow workflow (a process or a collaboration) driven step by step.

    Every command returns after `do_engine_steps`, like a Baton command returns once the
    engine reached its next wait states."""

    def __init__(self, files: list[Path], process: str | None = None, *,
                 collaboration: str | None = None, dialect: str = "bpmn",
                 choice_by_flow_name: bool = False,
                 script_globals: Mapping[str, Any] | None = None,
                 clock: VirtualClock | None = None) -> None:
        self.clock = clock or VirtualClock()
        self._wrappers: set[str] = set()
        parser = _parser(dialect, choice_by_flow_name)
        try:
            parser.add_bpmn_files([str(f) for f in files if not str(f).endswith(".dmn")])
            dmn = [str(f) for f in files if str(f).endswith(".dmn")]
            if dmn:
                parser.add_dmn_files(dmn)  # type: ignore[attr-defined]
            if collaboration is not None:
                spec, subs = parser.get_collaboration(collaboration)
                # each participant runs as a call-activity task named after its process
                self._wrappers = set(parser.collaborations.get(collaboration, ()))
            else:
                spec = parser.get_spec(process)
                subs = parser.get_subprocess_specs(process)
        except Exception as e:  # SpiffWorkflow raises many exception types while parsing
            raise OracleError(f"SpiffWorkflow cannot load {process or collaboration}: {e}") from e
        env = {"datetime": self.clock.datetime_class, "timedelta": timedelta}
        env.update(script_globals or {})
        self.workflow = BpmnWorkflow(spec, subs,
                                     script_engine=PythonScriptEngine(TaskDataEnvironment(env)))
        self.started = False

    # -- scanning (flat, no depth limit)
    def _workflows(self) -> list[Any]:
        return [self.workflow, *self.workflow.subprocesses.values()]

    def all_tasks(self) -> list[Any]:
        return [t for wf in self._workflows() for t in wf.tasks.values()]

    @contextlib.contextmanager
    def _command(self) -> Iterator[None]:
        """Run one command on the virtual clock, then every engine step it enables."""
        with self.clock.patched():
            try:
                yield
                self.workflow.do_engine_steps()
            except Exception as e:  # SpiffWorkflow's own exception types vary by cause
                raise OracleError(f"{type(e).__name__}: {e}") from e

    # -- commands
    def start(self, data: Mapping[str, Any] | None = None) -> None:
        if self.started:
            raise OracleError("the oracle runs one workflow; it is already started")
        self.started = True
        self.workflow.task_tree.data.update(dict(data or {}))
        with self._command():
            pass

    def ready(self) -> list[ReadyTask]:
        out = []
        for t in self.all_tasks():
            spec = t.task_spec
            if t.state == TaskState.READY and spec.manual and spec.bpmn_id is not None:
                out.append(ReadyTask(spec.bpmn_id, spec.bpmn_name, t))
        return out

    def complete(self, ref: str, data: Mapping[str, Any] | None = None, index: int = 0) -> None:
        hits = [r for r in self.ready() if ref in (r.activity_id, r.name)]
        if len(hits) <= index:
            listing = ", ".join(f"{r.name!r}/{r.activity_id}" for r in self.ready()) or "none"
            raise OracleError(f"no ready task {ref!r} (#{index}) in SpiffWorkflow; ready: {listing}")
        self.complete_task(hits[index].task, data)

    def complete_task(self, task: Any, data: Mapping[str, Any] | None = None) -> None:
        """Set `data` on a READY manual task, run it, then every engine step after it."""
        with self._command():
            task.data.update(dict(data or {}))
            task.run()

    def message(self, name: str, payload: Mapping[str, Any] | None = None) -> None:
        """Deliver a message from outside. When a catch event waits for it, its own event
        definition is used, so correlation properties are computed from the payload as
        SpiffWorkflow's collaboration tests do."""
        body = dict(payload or {})
        event = BpmnEvent(MessageEventDefinition(name), body)
        for t in self.all_tasks():
            definition = getattr(t.task_spec, "event_definition", None)
            if (t.state == TaskState.WAITING and isinstance(definition, MessageEventDefinition)
                    and definition.name == name):
                event = BpmnEvent(definition, body, definition.get_correlations(t, body))
                break
        with self._command():
            self.workflow.catch(event)

    def signal(self, name: str, payload: Mapping[str, Any] | None = None) -> None:
        with self._command():
            self.workflow.catch(BpmnEvent(SignalEventDefinition(name), dict(payload or {})))

    def reset(self, task: Any) -> None:
        """Put the token back at `task` (SpiffWorkflow's reset_from_task_id)."""
        with self._command():
            self.workflow.reset_from_task_id(task.id)

    def refresh_timers(self) -> None:
        """Let SpiffWorkflow notice timers due by the (already advanced) clock."""
        with self._command():
            self.workflow.refresh_timers()

    # -- observations
    @property
    def finished(self) -> bool:
        """True when no task of any (sub)workflow is unfinished; scanned flat, so a deep
        loop cannot hide its tail behind the iterator's depth limit."""
        return all(t.has_state(TaskState.FINISHED_MASK) for t in self.all_tasks())

    def data(self) -> dict[str, Any]:
        """The workflow data when finished, else the data of the last completed task."""
        if self.finished and self.workflow.data:
            return dict(self.workflow.data)
        done = [t for t in self.all_tasks() if t.state == TaskState.COMPLETED]
        if not done:
            return dict(self.workflow.task_tree.data)
        return dict(max(done, key=lambda t: t.last_state_change).data)

    def completed_counts(self) -> Counter[str]:
        """How often each diagram activity has completed so far (all (sub)workflows). A
        loop or multi-instance activity counts its iterations, not the task that wraps
        them (Baton records each iteration; the wrapper has the same id); a collaboration's
        participant wrappers are not diagram activities."""
        return Counter(t.task_spec.bpmn_id for t in self.all_tasks()
                       if t.state == TaskState.COMPLETED and t.task_spec.bpmn_id is not None
                       and not isinstance(t.task_spec, LoopTask)
                       and t.task_spec.bpmn_id not in self._wrappers)

    def waiting(self) -> list[str]:
        """Diagram ids of catch events (not boundary events) and event-based gateways that
        wait: what Baton's `instance.waiting` lists besides user tasks."""
        return sorted({t.task_spec.bpmn_id for t in self.all_tasks()
                       if t.state == TaskState.WAITING and t.task_spec.bpmn_id is not None
                       and isinstance(t.task_spec, CatchingEvent)
                       and not isinstance(t.task_spec, BoundaryEvent)})


def gateway_ids(files: list[Path]) -> set[str]:
    """Ids of every gateway in `files`, so a failed comparison can say which gateway fired
    a different number of times in the two engines."""
    out: set[str] = set()
    for f in files:
        if str(f).endswith(".dmn"):
            continue
        root = etree.parse(str(f), etree.XMLParser(resolve_entities=False, no_network=True))
        for el in root.iter():
            tag = el.tag if isinstance(el.tag, str) else ""
            if tag.startswith(f"{{{BPMN_NS}}}") and tag.endswith("Gateway") and el.get("id"):
                out.add(el.get("id"))
    return out
