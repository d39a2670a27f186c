"""One scenario body, two engines: Baton (the engine under test) and SpiffWorkflow (oracle).

Why: a `spiff/` corpus diagram comes with SpiffWorkflow's test steps (which tasks appear,
what data the test sets, what the final data is). A scenario written once against `Driver`
replays those steps on Baton, asserting the MANIFEST's expectations, and then replays the
identical commands on SpiffWorkflow. Both drivers record, per command, the multiset of
diagram activities that completed during it; the two traces must match (`compare`).

Test-harness conventions of SpiffWorkflow's tests that Baton does not share as product
semantics are applied to the XML Baton receives, never to the engine:
- `task` and `manualTask` wait for a person in SpiffWorkflow (Baton: pass-through), so they
  become `userTask`;
- in diagrams the MANIFEST flags ("unconditioned named flows"), an exclusive gateway's
  unconditioned non-default flow gets `choice == '<flow name>'`, as SpiffWorkflow's test
  parser does.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.util.task import TaskState

from engine.errors import EngineError

from ..harness import CORPUS, Ctx, scenario
from ..oracle import BPMN_NS, OracleError, SpiffRun, VirtualClock, gateway_ids

XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
CHOICE_FLAG = "unconditioned named flows"
_Q = f"{{{BPMN_NS}}}"


class StepFailed(Exception):
    """A command the engine refused or an error raised while running the diagram."""


# ---------------------------------------------------------------------------- XML for Baton
def _parse(path: Path) -> etree._ElementTree:
    return etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))


def baton_xml(path: Path, choice_by_flow_name: bool) -> bytes:
    """The diagram as SpiffWorkflow's tests run it, in BPMN Baton reads the same way."""
    tree = _parse(path)
    root = tree.getroot()
    for el in list(root.iter(f"{_Q}task", f"{_Q}manualTask")):
        el.tag = f"{_Q}userTask"
    if choice_by_flow_name:
        flows = {f.get("id"): f for f in root.iter(f"{_Q}sequenceFlow")}
        for gw in root.iter(f"{_Q}exclusiveGateway"):
            outgoing = [f for f in flows.values() if f.get("sourceRef") == gw.get("id")]
            if len(outgoing) < 2:
                continue
            for f in outgoing:
                if f.get("id") == gw.get("default") or f.find(f"{_Q}conditionExpression") is not None:
                    continue
                cond = etree.SubElement(f, f"{_Q}conditionExpression")
                cond.set(f"{{{XSI_NS}}}type", "tFormalExpression")
                cond.text = f"choice == {f.get('name')!r}"
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def element_names(paths: list[Path]) -> dict[str, str | None]:
    """id -> name of every BPMN element in `paths` (SpiffWorkflow's multi-instance child
    tasks carry no name of their own)."""
    out: dict[str, str | None] = {}
    for p in paths:
        if p.suffix == ".dmn":
            continue
        for el in _parse(p).getroot().iter(f"{_Q}*"):
            if el.get("id"):
                out[el.get("id")] = el.get("name")
    return out


def none_start_processes(paths: list[Path], process_ids: list[str]) -> list[str]:
    """Of `process_ids`, those with a start event that has no event definition (the ones a
    collaboration starts at once)."""
    out = []
    for p in paths:
        for proc in _parse(p).getroot().iter(f"{_Q}process"):
            if proc.get("id") not in process_ids:
                continue
            for se in proc.findall(f"{_Q}startEvent"):
                if not any(str(c.tag).endswith("EventDefinition") for c in se):
                    out.append(proc.get("id"))
                    break
    return out


def collaboration_processes(paths: list[Path], collaboration: str) -> list[str]:
    for p in paths:
        for c in _parse(p).getroot().iter(f"{_Q}collaboration"):
            if c.get("id") == collaboration:
                return [pt.get("processRef") for pt in c.iter(f"{_Q}participant")
                        if pt.get("processRef")]
    raise AssertionError(f"collaboration {collaboration!r} not found")


# ---------------------------------------------------------------------------- spec
@dataclass(frozen=True)
class Spec:
    """How to load one corpus diagram: files, entry process or collaboration, oracle use."""

    path: str
    also: tuple[str, ...] = ()
    process: str | None = None
    collaboration: str | None = None
    choice: bool = False
    oracle: str | None = None          # None: compare with SpiffWorkflow; else why not
    script_globals: Mapping[str, Any] = field(default_factory=dict)
    expect_deploy_error: bool = False
    oracle_also: tuple[str, ...] = ()   # files only SpiffWorkflow loads (Baton refuses them)
    root: Path | None = None            # where path and also live (None: the spiff corpus)

    @property
    def files(self) -> list[Path]:
        return [(self.root or CORPUS / "spiff") / p for p in (self.path, *self.also)]

    @property
    def dialect(self) -> str:
        return "camunda" if self.path.startswith("camunda/") else "bpmn"

    @property
    def compat(self) -> str | None:
        """The migration mode Baton deploys the diagram in: SpiffWorkflow's Camunda-dialect
        test diagrams were written for SpiffWorkflow's reading of camunda:collection and
        loopCardinality, so they deploy with compat="spiffworkflow" (the oracle parses
        them with SpiffWorkflow's Camunda parser); every other diagram in Baton's default."""
        return "spiffworkflow" if self.dialect == "camunda" else None


# ---------------------------------------------------------------------------- drivers
class Driver:
    """The command set a scenario uses; `trace` records what completed per command."""

    is_oracle = False

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.trace: list[tuple[str, Counter[str] | str | None]] = []
        self._unchecked: str | None = None

    # engine-specific primitives
    def _start(self, key: str | None, variables: dict[str, Any]) -> None:
        raise NotImplementedError

    def _ready(self) -> list[tuple[str, str | None]]:
        raise NotImplementedError

    def _complete(self, ref: str, variables: dict[str, Any], index: int) -> None:
        raise NotImplementedError

    def _message(self, name: str, payload: dict[str, Any]) -> None:
        raise NotImplementedError

    def _signal(self, name: str, payload: dict[str, Any]) -> None:
        raise NotImplementedError

    def _advance(self, delta: timedelta) -> None:
        raise NotImplementedError

    def counts(self) -> Counter[str]:
        raise NotImplementedError

    @property
    def finished(self) -> bool:
        raise NotImplementedError

    def data(self) -> dict[str, Any]:
        raise NotImplementedError

    def started_data(self) -> dict[str, Any]:
        """The data of the process the last `start()` started (in a collaboration, not of
        an instance a message started since); SpiffWorkflow: the collaboration's data."""
        return self.data()

    def waiting(self) -> list[str]:
        raise NotImplementedError

    def now(self) -> datetime:
        """The engine's (virtual) clock; both start at 2026-01-01T00:00Z."""
        raise NotImplementedError

    def iso_in(self, seconds: float) -> str:
        """ISO 8601 text of now + `seconds` (what SpiffWorkflow's tests put in timer data)."""
        return (self.now() + timedelta(seconds=seconds)).isoformat()

    # recorded commands
    def _after_command(self) -> None:
        """Hook: notice what a command started (Baton: instances started by a message)."""

    def reset(self, ref: str) -> None:
        """Move the token back to task `ref` (SpiffWorkflow's reset_from_task_id)."""
        raise StepFailed(f"{type(self).__name__}: resetting a token to {ref!r} is not "
                         "supported (no process-instance modification)")

    def _record(self, what: str, fn: Callable[[], None]) -> None:
        """Run one command and note what completed during it. A failed command is noted as
        None: Baton rolls the whole command back, SpiffWorkflow keeps the steps it ran
        before the error, so only the failure itself is compared."""
        before = self.counts()
        try:
            fn()
        except StepFailed:
            self.trace.append((what, None))
            raise
        finally:
            self._after_command()
        self.trace.append((what, self._unchecked or (self.counts() - before)))

    @contextlib.contextmanager
    def diverges(self, reason: str) -> Iterator[None]:
        """Commands whose completed activities differ between the engines on purpose
        (`reason` says why, KNOWN_DIFFS.md lists it); only their success is compared."""
        self._unchecked = f"not compared: {reason}"
        try:
            yield
        finally:
            self._unchecked = None

    def start(self, key: str | None = None, /, **variables: Any) -> None:
        self._record(f"start {key or ''}", lambda: self._start(key, variables))

    def complete(self, ref: str, /, index: int = 0, **variables: Any) -> None:
        self._record(f"complete {ref!r}", lambda: self._complete(ref, variables, index))

    def message(self, name: str, /, **payload: Any) -> None:
        self._record(f"message {name!r}", lambda: self._message(name, payload))

    def signal(self, name: str, /, **payload: Any) -> None:
        self._record(f"signal {name!r}", lambda: self._signal(name, payload))

    def advance(self, seconds: float) -> None:
        self._record(f"advance {seconds}s",
                     lambda: self._advance(timedelta(seconds=seconds)))

    # observations
    def ready(self) -> list[str]:
        """Sorted labels (name, else id) of the tasks waiting for a person."""
        return sorted(name or aid for aid, name in self._ready())

    def ready_ids(self) -> list[str]:
        return sorted(aid for aid, _ in self._ready())

    def task_vars(self, ref: str, index: int = 0) -> dict[str, Any]:
        """The data an open task `ref` sees (Baton: its instance's variables)."""
        raise NotImplementedError

    def completion_data(self, activity_id: str) -> list[dict[str, Any]]:
        """The data each completion of `activity_id` ended with."""
        raise NotImplementedError

    def completed(self) -> Counter[str]:
        return self.counts()

    @contextlib.contextmanager
    def fails(self, *fragments: str) -> Iterator[None]:
        """The next command must fail (in either engine); Baton's message must contain
        each fragment (SpiffWorkflow words its errors its own way)."""
        try:
            yield
        except StepFailed as e:
            if not self.is_oracle:
                for frag in fragments:
                    assert frag in str(e), f"error {str(e)!r} does not mention {frag!r}"
            return
        raise AssertionError(f"{type(self).__name__}: the command did not fail")

    def run_to_end(self, answers: Mapping[str, Mapping[str, Any]] | None = None,
                   limit: int = 200) -> None:
        """Complete ready tasks (first label in sorted order) until none is left; a task
        gets the data `answers[label]` (or nothing)."""
        answers = answers or {}
        for _ in range(limit):
            labels = self.ready()
            if not labels:
                return
            self.complete(labels[0], **dict(answers.get(labels[0], {})))
        raise AssertionError(f"still tasks ready after {limit} completions")


class BatonDriver(Driver):
    """Baton through the harness `Ctx` (in-memory engine, manual clock)."""

    def __init__(self, spec: Spec, ctx: Ctx) -> None:
        super().__init__(spec)
        self.ctx = ctx
        self.engine = ctx.engine
        # what SpiffWorkflow's test injects into its script engine: Baton's host functions
        self.engine.script_functions.update(spec.script_globals)
        self.instance_ids: list[str] = []
        self.started: list[str] = []        # instances start() started (not by a message)
        files = spec.files
        data = [p.read_bytes() if p.suffix == ".dmn" else baton_xml(p, spec.choice)
                for p in files]
        self.deploy_error: str | None = None
        try:
            defs = self.engine.deploy(*data, compat=spec.compat)
        except (EngineError, ValueError) as e:  # ValueError: BpmnValidationError
            if not spec.expect_deploy_error:
                raise StepFailed(f"deploy: {e}") from e
            self.deploy_error = str(e)
            defs = []
        # what the deployment warned about (a scenario may check a diagram runs with a
        # documented fallback)
        self.deploy_warnings: list[str] = [w for d in defs for w in d.warnings]
        main = {p.get("id") for p in _parse(files[0]).getroot().iter(f"{_Q}process")}
        ctx.main_keys.extend(d.key for d in defs if d.key in main)

    def _keys(self, key: str | None) -> list[str]:
        if key is not None:
            return [key]
        if self.spec.collaboration is not None:
            procs = collaboration_processes(self.spec.files, self.spec.collaboration)
            return none_start_processes(self.spec.files, procs)
        if self.spec.process is not None:
            return [self.spec.process]
        return [self.ctx.default_key()]

    def _call(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except EngineError as e:
            raise StepFailed(str(e)) from e

    def _start(self, key: str | None, variables: dict[str, Any]) -> None:
        for k in self._keys(key):
            self.instance_ids.append(self._call(lambda k=k: self.engine.start(k, variables)))
            self.started.append(self.instance_ids[-1])

    def open_tasks(self) -> list[Any]:
        """The open user tasks in the order the engine created them: by creation time, then
        instance (in the order this driver saw them start), then token (a multi-instance
        activity's instances get their tokens in item order). The tasklist breaks ties by
        task id, which is random; SpiffWorkflow lists ready tasks in the order it created
        them, and `complete(ref)` must mean the same task on both engines (a scenario that
        completes one of several parallel instances, e.g. writing into a collection at the
        instance's index, would otherwise pick one at random)."""
        seen = {iid: i for i, iid in enumerate(self.instance_ids)}
        return sorted(self.engine.tasks(), key=lambda t: (
            t.created, seen.get(t.instance_id, len(seen)), t.token))

    def _ready(self) -> list[tuple[str, str | None]]:
        return [(t.activity_id, t.name) for t in self.open_tasks()]

    def _complete(self, ref: str, variables: dict[str, Any], index: int) -> None:
        hits = [t for t in self.open_tasks() if ref in (t.activity_id, t.name)]
        if len(hits) <= index:
            raise AssertionError(f"Baton: no open task {ref!r} (#{index}); open: {self.ready()}")
        self._call(lambda: self.engine.complete_task(hits[index].id, variables))

    def _message(self, name: str, payload: dict[str, Any]) -> None:
        self._call(lambda: self.engine.correlate_message(name, None, payload))

    def _signal(self, name: str, payload: dict[str, Any]) -> None:
        self._call(lambda: self.engine.broadcast_signal(name, payload))

    def _advance(self, delta: timedelta) -> None:
        self.ctx.clock.advance(delta)
        self._call(self.engine.run_due_jobs)

    def reset(self, ref: str) -> None:
        """SpiffWorkflow's reset_from_task_id through Baton's public API: `reset_to` on
        the newest running instance whose process has activity `ref` (the tokens that went
        on from it are cancelled, it starts again); an ended instance is restarted there
        (a new instance, as Camunda's restart; SpiffWorkflow revives the same workflow)."""
        self._record(f"reset {ref!r}", lambda: self._reset(ref))

    def _reset(self, ref: str) -> None:
        views = [self.engine.instance(i) for i in reversed(self.instance_ids)]
        for view in sorted(views, key=lambda v: v.status != "running"):
            graph = self.engine.graph(view.definition_id)
            hits = [n.id for n in graph.nodes if ref in (n.id, n.name)
                    and n.kind != "boundaryEvent"]
            if not hits:
                continue
            iid, target = view.id, hits[0]
            if view.status == "running":
                self._call(lambda i=iid, a=target: self.engine.reset_to(i, a))
            else:
                self.instance_ids.append(
                    self._call(lambda i=iid, a=target: self.engine.restart(i, [a])))
            return
        raise AssertionError(f"Baton: no instance has an activity {ref!r} to reset to")

    def instances(self) -> list[Any]:
        return self.engine.instances()

    def task_vars(self, ref: str, index: int = 0) -> dict[str, Any]:
        """What the open task sees: its instance's variables under the local ones of its
        scopes (a multi-instance element variable, inputOutput parameters). Read from the
        stored instance state; the public API has no per-task view."""
        from engine.runtime.state import InstanceState

        hits = [t for t in self.open_tasks() if ref in (t.activity_id, t.name)]
        task = hits[index]
        with self.engine.store.transaction() as tx:
            rec = tx.get_instance(task.instance_id)
        state = InstanceState.from_dict(rec.state, rec.variables)
        scopes = state.scopes
        sid: int | None = state.tokens[task.token].scope
        chain: list[dict[str, Any]] = []
        while sid is not None:
            chain.append(dict(scopes[sid].vars))
            # an activity's ioSpecification scope sees nothing beyond itself
            sid = scopes[sid].parent if scopes[sid].kind != "io" else None
        out: dict[str, Any] = {}
        for layer in reversed(chain):
            out.update(layer)
        return out

    def completion_data(self, activity_id: str) -> list[dict[str, Any]]:
        raise AssertionError(f"Baton keeps no per-activity data, so what {activity_id!r} "
                             "completed with cannot be checked")

    def _after_command(self) -> None:
        for inst in self.engine.instances():
            if inst.parent_id is None and inst.id not in self.instance_ids:
                self.instance_ids.append(inst.id)

    # -- Baton-only views (parse-level checks of the MANIFEST)
    def graphs(self) -> list[Any]:
        return [self.engine.graph(self.engine.definition(k).id) for k in self.ctx.main_keys]

    def nodes(self) -> list[Any]:
        return [n for g in self.graphs() for n in g.nodes]

    def node(self, node_id: str) -> Any:
        (hit,) = [n for n in self.nodes() if n.id == node_id]
        return hit

    def lanes(self) -> list[str | None]:
        """Lanes of the open user tasks, in `ready()` order."""
        return [t.lane for t in sorted(self.engine.tasks(), key=lambda t: t.name or t.activity_id)]

    def redeploy(self, rel_path: str) -> None:
        """Deploy another corpus file (a new version of a process key)."""
        self.engine.deploy(baton_xml(CORPUS / "spiff" / rel_path, self.spec.choice),
                           compat=self.spec.compat)

    def counts(self) -> Counter[str]:
        c: Counter[str] = Counter()
        for inst in self.instances():
            c.update(e.activity_id for e in self.engine.history(inst.id)
                     if e.type == "activity_completed" and e.activity_id)
        return c

    @property
    def finished(self) -> bool:
        return bool(self.instance_ids) and not self.engine.instances(status="running")

    def data(self) -> dict[str, Any]:
        """Variables of the instance started last."""
        return dict(self.engine.instance(self.instance_ids[-1]).variables)

    def started_data(self) -> dict[str, Any]:
        return dict(self.engine.instance(self.started[-1]).variables)

    def waiting(self) -> list[str]:
        user = {t.activity_id for t in self.engine.tasks()}
        out: set[str] = set()
        for inst in self.engine.instances(status="running"):
            out.update(a for a in inst.waiting if a not in user)
        return sorted(out)

    def status(self) -> str:
        return self.engine.instance(self.instance_ids[-1]).status

    def now(self) -> datetime:
        return self.ctx.clock()


class SpiffDriver(Driver):
    """SpiffWorkflow: one `SpiffRun` per start (a collaboration starts as one run)."""

    is_oracle = True

    def __init__(self, spec: Spec) -> None:
        super().__init__(spec)
        self.runs: list[SpiffRun] = []
        self.clock = VirtualClock()

    def _new_run(self, key: str | None) -> SpiffRun:
        s = self.spec
        process = key or s.process
        collab = s.collaboration if key is None else None
        if process is None and collab is None:
            procs = [p.get("id") for p in _parse(s.files[0]).getroot().iter(f"{_Q}process")
                     if p.get("isExecutable") != "false"]
            process = procs[0]
        files = s.files + [CORPUS / "spiff" / p for p in s.oracle_also]
        return SpiffRun(files, process, collaboration=collab, dialect=s.dialect,
                        choice_by_flow_name=s.choice, script_globals=s.script_globals,
                        clock=self.clock)

    def _wrap(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except OracleError as e:
            raise StepFailed(str(e)) from e

    def reset(self, ref: str) -> None:
        """SpiffWorkflow's reset_from_task_id on the latest task named `ref`."""
        self._ready()
        hits = [t for run in self.runs for t in run.all_tasks()
                if ref in (t.task_spec.bpmn_id,
                           self._name(t.task_spec.bpmn_id, t.task_spec.bpmn_name))
                and t.state in (TaskState.COMPLETED, TaskState.READY)]
        if not hits:
            raise AssertionError(f"SpiffWorkflow: no task {ref!r} to reset to")
        task = max(hits, key=lambda t: t.last_state_change)
        run = next(r for r in self.runs if task in r.all_tasks())
        self._record(f"reset {ref!r}", lambda: self._wrap(lambda: run.reset(task)))

    def _start(self, key: str | None, variables: dict[str, Any]) -> None:
        run = self._wrap(lambda: self._new_run(key))
        self.runs.append(run)
        self._wrap(lambda: run.start(variables))

    def _ready(self) -> list[tuple[str, str | None]]:
        if not hasattr(self, "_names"):
            self._names = element_names(self.spec.files)
        return [(r.activity_id, self._name(r.activity_id, r.name)) for run in self.runs
                for r in run.ready()]

    def _name(self, activity_id: str, own: str | None) -> str | None:
        """SpiffWorkflow's own name; the diagram's for a multi-instance child (it has none).
        Ids may repeat across files, so the diagram lookup is only the fallback."""
        return own if own is not None else self._names.get(activity_id)

    def _complete(self, ref: str, variables: dict[str, Any], index: int) -> None:
        self._ready()
        hits = [(run, r) for run in self.runs for r in run.ready()
                if ref in (r.activity_id, self._name(r.activity_id, r.name))]
        if index < len(hits):
            run, target = hits[index]
            self._wrap(lambda: run.complete_task(target.task, variables))
            return
        raise AssertionError(f"SpiffWorkflow: no ready task {ref!r} (#{index}); "
                             f"ready: {self.ready()}")

    def _message(self, name: str, payload: dict[str, Any]) -> None:
        if not self.runs:  # a message start event: SpiffWorkflow's workflow waits for it
            self._start(None, {})
        for run in self.runs:
            self._wrap(lambda run=run: run.message(name, payload))

    def _signal(self, name: str, payload: dict[str, Any]) -> None:
        for run in self.runs:
            self._wrap(lambda run=run: run.signal(name, payload))

    def _advance(self, delta: timedelta) -> None:
        self.clock.advance(delta)
        for run in self.runs:
            self._wrap(run.refresh_timers)

    def now(self) -> datetime:
        return self.clock.now

    def _ready_tasks(self, ref: str) -> list[Any]:
        return [r.task for run in self.runs for r in run.ready() if ref in
                (r.activity_id, self._name(r.activity_id, r.name))]

    def task_vars(self, ref: str, index: int = 0) -> dict[str, Any]:
        self._ready()
        return dict(self._ready_tasks(ref)[index].data)

    def completion_data(self, activity_id: str) -> list[dict[str, Any]]:
        return [dict(t.data) for run in self.runs for t in run.all_tasks()
                if t.task_spec.bpmn_id == activity_id and t.state == TaskState.COMPLETED]

    def counts(self) -> Counter[str]:
        c: Counter[str] = Counter()
        for run in self.runs:
            c.update(run.completed_counts())
        return c

    @property
    def finished(self) -> bool:
        return bool(self.runs) and all(run.finished for run in self.runs)

    def data(self) -> dict[str, Any]:
        return self.runs[-1].data()

    def waiting(self) -> list[str]:
        return sorted({w for run in self.runs for w in run.waiting()})


# ---------------------------------------------------------------------------- comparison
def _normal(seg: Counter[str] | str | None) -> dict[str, int] | str:
    if seg is None:
        return "FAILED"
    if isinstance(seg, str):
        return seg
    return {k: v for k, v in seg.items() if v > 0}


def compare(baton: Driver, spiff: Driver) -> None:
    """Per command, the same activities completed the same number of times, gateways
    included: both engines record one completion per firing of a gateway (Baton's history
    once per firing; SpiffWorkflow cancels a join's other waiting tasks and completes the
    one that fires), so how often a join fired is compared exactly. A join that fires
    early (counting tokens instead of distinct incoming flows) shows up as a firing in
    the wrong command. Order inside a command is free, so parallel branches compare as
    multisets."""
    b = [(w, _normal(c)) for w, c in baton.trace]
    s = [(w, _normal(c)) for w, c in spiff.trace]
    if b == s:
        return
    gws = gateway_ids(baton.spec.files)
    lines = ["Baton and SpiffWorkflow completed different activities:"]
    for i in range(max(len(b), len(s))):
        bw, bc = b[i] if i < len(b) else ("-", {})
        sw, sc = s[i] if i < len(s) else ("-", {})
        mark = "  " if (bw, bc) == (sw, sc) else "!!"
        lines.append(f"{mark} {bw}: baton={_show(bc)}")
        if mark == "!!":
            lines.append(f"   {' ' * len(bw)}  spiff={_show(sc)}")
            fired = _gateway_firings(bc, sc, gws)
            if fired:
                lines.append(f"   {' ' * len(bw)}  gateway firings differ: {fired}")
    raise AssertionError("\n".join(lines))


def _gateway_firings(b: dict[str, int] | str, s: dict[str, int] | str,
                     gateways: set[str]) -> str:
    """`gw baton=N spiff=M` for each gateway that fired a different number of times."""
    if isinstance(b, str) or isinstance(s, str):
        return ""
    return ", ".join(f"{g} baton={b.get(g, 0)} spiff={s.get(g, 0)}"
                     for g in sorted(gateways) if b.get(g, 0) != s.get(g, 0))


def _show(c: dict[str, int] | str) -> str:
    return c if isinstance(c, str) else str(sorted(c.items()))


# ---------------------------------------------------------------------------- registration
Body = Callable[[Driver], None]
REGISTERED: list[tuple[Spec, Body]] = []   # every scenario, for the oracle-only test


def spiff(path: str, *, also: tuple[str, ...] | list[str] = (), process: str | None = None,
          collaboration: str | None = None, oracle: str | None = None,
          script_globals: Mapping[str, Any] | None = None,
          deploy_error: bool = False,
          oracle_also: tuple[str, ...] = ()) -> Callable[[Body], Body]:
    """Register a scenario body for corpus file `spiff/<path>`: it runs on Baton (asserting
    the MANIFEST's expectations) and, unless `oracle` names a reason not to, on
    SpiffWorkflow with the same commands, and the two traces are compared."""
    from ..harness import load_manifest

    notes = {r.path: r.notes for r in _manifest_cache(load_manifest)}
    spec = Spec(path, tuple(also), process, collaboration,
                CHOICE_FLAG in notes.get("spiff/" + path, ""), oracle,
                dict(script_globals or {}), deploy_error, tuple(oracle_also))

    def wrap(body: Body) -> Body:
        REGISTERED.append((spec, body))

        def run(ctx: Ctx) -> None:
            baton = BatonDriver(spec, ctx)
            body(baton)
            if spec.oracle is not None:
                return
            oracle_side = SpiffDriver(spec)
            body(oracle_side)
            compare(baton, oracle_side)

        scenario("spiff/" + path, deploy=False)(run)
        return body

    return wrap


_MANIFEST: list[Any] = []


def _manifest_cache(loader: Callable[[], list[Any]]) -> list[Any]:
    if not _MANIFEST:
        _MANIFEST.extend(loader())
    return _MANIFEST
