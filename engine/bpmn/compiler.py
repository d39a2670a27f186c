"""BPMN XML -> Definitions: the one entry point, `compile_bpmn`.

The compiler walks each process once, gives every flow node and sequence flow an integer
index (document order, a container before its children), reads each element's fields
(`nodes.py`), links the graph (`structure.py`), checks it (`validation.py`) and freezes it into
the immutable `engine.graph` objects the runtime walks. Every problem is collected; if any
error remains, `BpmnValidationError` lists them all and nothing is deployed.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lxml import etree

from engine.bpmn.compat import compat_problem
from engine.bpmn.context import Context
from engine.bpmn.diagram import compile_diagram
from engine.bpmn.elements import (
    CONTAINER,
    CONTAINER_TAGS,
    FLOW_NODE_TAGS,
    PASSIVE_TAGS,
    ElementSpec,
    element_spec,
)
from engine.bpmn.errors import BpmnValidationError, Problem, ProblemList, local_name
from engine.bpmn.extensions import execution_listeners
from engine.bpmn.iospec import process_io
from engine.bpmn.nodes import node_fields
from engine.bpmn.parser import (
    BPMN,
    CAMUNDA_LIKE,
    bpmn_child,
    bpmn_children,
    check_size,
    frozen,
    is_bpmn,
    is_true,
    parse_xml,
    ref,
    ref_text,
    text_of,
    vendor_attr,
)
from engine.bpmn.structure import link_structure
from engine.bpmn.validation import validate_process
from engine.graph import CorrelationRule, Definitions, Flow, Node, ProcessGraph


def compile_bpmn(source: bytes | str | os.PathLike, *, filename: str | None = None,
                 strict: bool = False, lenient: bool = False,
                 compat: str | None = None) -> Definitions:
    """Parse, compile and validate one BPMN file.

    `source` is XML bytes, XML text (a str starting with "<") or a path to a file.
    Raises BpmnValidationError listing every problem found; with `strict`, warnings refuse
    the file too (they are listed with the errors, each with its severity). `lenient` (for
    definitions already deployed) reports the named graph rules as warnings only.
    `compat` names a migration mode (engine.bpmn.compat: "spiffworkflow" reads the
    multi-instance attributes as SpiffWorkflow does); an unknown one raises ValueError.
    """
    problem = compat_problem(compat)
    if problem is not None:
        raise ValueError(problem)
    data, filename = _read_source(source, filename)
    root = parse_xml(data, filename=filename)
    problems = ProblemList(filename, lenient=lenient)
    if not is_bpmn(root, "definitions"):
        raise BpmnValidationError([Problem(
            None, etree.QName(root).localname, root.sourceline,
            "the document is not BPMN 2.0: its root element must be <definitions> in namespace "
            f"{BPMN}", filename)])
    return _compile_definitions(root, problems, strict, compat)


def _read_source(source: bytes | str | os.PathLike,
                 filename: str | None) -> tuple[bytes | str, str | None]:
    if isinstance(source, bytes | bytearray):
        return bytes(source), filename
    if isinstance(source, str) and source.lstrip("\ufeff \t\r\n").startswith("<"):
        return source, filename
    path = Path(source)
    filename = filename or path.name
    check_size(path.stat().st_size, filename)  # before reading a huge upload into memory
    return path.read_bytes(), filename


def _compile_definitions(root: etree._Element, problems: ProblemList,
                         strict: bool = False, compat: str | None = None) -> Definitions:
    ctx = Context.for_file(root, problems, compat)
    _check_duplicate_ids(root, problems)
    correlations = frozen(correlation_rules(root, ctx))
    participant_names = _participant_names(root)
    processes: dict[str, ProcessGraph] = {}
    any_nodes = any_executable = False
    for process_el in bpmn_children(root, "process"):
        executable = is_true(process_el.get("isExecutable"), True)
        process_id = process_el.get("id")
        if not _has_flow_nodes(process_el):
            continue
        any_nodes = True
        any_executable = any_executable or executable
        problems.demoted = not executable
        if not process_id:
            problems.add(process_el, "the process has no id")
            continue
        graph = _ProcessCompiler(process_el, ctx, executable,
                                 participant_names.get(process_id)).compile()
        if correlations:
            graph = replace(graph, correlations=correlations)
        processes[process_id] = graph
    problems.demoted = False
    global_tasks = [element for element in bpmn_children(root)
                    if local_name(element) in GLOBAL_TASKS and element.get("id")]
    for element in global_tasks:
        processes.setdefault(element.get("id"), _compile_global_task(element, ctx))
    if global_tasks and not any_nodes:
        any_nodes = any_executable = True  # a library of global tasks; else the processes
        # decide (a file whose processes are all documentation is still refused)
    if not any_nodes:
        problems.add(root, "the file has no process with flow nodes (events, tasks, gateways); "
                           "there is nothing to run")
    elif not any_executable:
        problems.add(root, "no process with flow nodes is executable (they all have "
                           "isExecutable=\"false\"; tick \"Executable\" in the modeler or set "
                           "isExecutable=\"true\")")
    problems.raise_if_any(strict)
    return Definitions(
        processes=frozen(processes),
        diagram=compile_diagram(root),
        messages=frozen(ctx.messages),
        signals=frozen(ctx.signals),
        errors=frozen(ctx.errors),
        escalations=frozen(ctx.escalations),
        target_namespace=root.get("targetNamespace"),
        warnings=tuple(str(w) for w in problems.warnings),
    )


def data_object_guards(fields: list[dict[str, Any]], drafts: list[_Draft],
                       process_el: etree._Element) -> None:
    """Set each activity's `unwritable` data objects (BPMN 2.0.2 10.4.1: a data object is
    accessed through data associations): those declared in its process or enclosing
    subprocesses that it has no dataOutputAssociation to. A form, a worker's result or a
    script of that activity setting such a name is not a write of the data object, so
    Baton, which keeps data objects as variables, drops it (SpiffWorkflow keeps it apart
    in the task's own data, where it never reaches the data object either)."""
    declared: dict[int | None, set[str]] = {
        None: {d.get("id") for d in bpmn_children(process_el, "dataObject") if d.get("id")}}
    for index, draft in enumerate(drafts):
        if local_name(draft.element) in ("subProcess", "adHocSubProcess", "transaction"):
            declared[index] = {d.get("id") for d in bpmn_children(draft.element, "dataObject")
                               if d.get("id")}
    if not any(declared.values()):
        return
    for index, draft in enumerate(drafts):
        if local_name(draft.element) not in ACTIVITY_TAGS:
            continue
        visible: set[str] = set()
        scope: int | None = draft.scope
        while True:
            visible |= declared.get(scope, set())
            if scope is None:
                break
            scope = drafts[scope].scope
        if not visible:
            continue
        written = {_data_object_of(ref_text(target), process_el)
                   for association in bpmn_children(draft.element, "dataOutputAssociation")
                   for target in bpmn_children(association, "targetRef")}
        unwritable = tuple(sorted(visible - written))
        if unwritable:
            fields[index]["unwritable"] = unwritable


ACTIVITY_TAGS = frozenset({"task", "userTask", "manualTask", "serviceTask", "sendTask",
                           "receiveTask", "scriptTask", "businessRuleTask"})


def _data_object_of(ident: str | None, process_el: etree._Element) -> str | None:
    """The data object a dataOutputAssociation's target stands for (a
    dataObjectReference's dataObjectRef, or the data object itself)."""
    if not ident:
        return None
    for candidate in process_el.iter(f"{{{BPMN}}}dataObjectReference"):
        if candidate.get("id") == ident:
            return candidate.get("dataObjectRef") or None
    return ident


def correlation_rules(root: etree._Element, ctx: Context) -> dict[str, tuple[CorrelationRule, ...]]:
    """Key-based correlation (BPMN 2.0.2 8.3.2), per message name: for each correlation
    property a message carries (a correlationPropertyRetrievalExpression naming it), the
    correlation keys that group the property and its messagePath. A property no key names
    is a key of its own. The paths are expressions over the message's payload."""
    keys_of: dict[str, list[str]] = {}
    for key_el in root.iter(f"{{{BPMN}}}correlationKey"):
        key = (key_el.get("name") or key_el.get("id") or "").strip()
        for prop_ref in bpmn_children(key_el, "correlationPropertyRef"):
            prop = ref_text(prop_ref)
            if key and prop and key not in keys_of.setdefault(prop, []):
                keys_of[prop].append(key)
    rules: dict[str, list[CorrelationRule]] = {}
    for prop_el in bpmn_children(root, "correlationProperty"):
        prop = prop_el.get("id")
        if not prop:
            continue
        for retrieval in bpmn_children(prop_el, "correlationPropertyRetrievalExpression"):
            message = ctx.messages.get(ref(retrieval, "messageRef") or "")
            path_el = bpmn_child(retrieval, "messagePath")
            if message is None or path_el is None:
                continue
            path = ctx.exprs.expression(text_of(path_el), retrieval, "messagePath",
                                        language=path_el.get("language"))
            if path is None:
                continue
            for key in keys_of.get(prop) or [prop]:
                rules.setdefault(message, []).append(
                    CorrelationRule(key=key, property=prop, path=path))
    return {message: tuple(found) for message, found in rules.items()}


# global tasks (BPMN 2.0.2 10.3.5, 10.3.6) -> the task element a call activity runs
GLOBAL_TASKS = {"globalTask": "task", "globalUserTask": "userTask",
                "globalManualTask": "manualTask", "globalScriptTask": "scriptTask",
                "globalBusinessRuleTask": "businessRuleTask"}


def _compile_global_task(element: etree._Element, ctx: Context) -> ProcessGraph:
    """A global task is a task defined once at the definitions level for call activities to
    call (calledElement names its id). Baton runs it as a process of its own, keyed by that
    id: start -> the task (a copy of the element under its task tag, so it is read like any
    task, with its own line numbers) -> end. Calling it is then calling a process, with
    the same variable rules."""
    ident = element.get("id")
    process = etree.Element(f"{{{BPMN}}}process", id=ident, isExecutable="true")
    if element.get("name"):
        process.set("name", element.get("name"))
    # "#" cannot occur in an id (an NCName): the added elements clash with none
    etree.SubElement(process, f"{{{BPMN}}}startEvent", id=f"{ident}#start")
    task = copy.deepcopy(element)
    task.tag = f"{{{BPMN}}}{GLOBAL_TASKS[local_name(element)]}"
    process.append(task)
    etree.SubElement(process, f"{{{BPMN}}}endEvent", id=f"{ident}#end")
    for flow, source, target in (("in", f"{ident}#start", ident),
                                 ("out", ident, f"{ident}#end")):
        etree.SubElement(process, f"{{{BPMN}}}sequenceFlow", id=f"{ident}#{flow}",
                         sourceRef=source, targetRef=target)
    graph = _ProcessCompiler(process, ctx, True, None).compile()
    ext = {**graph.ext, "global_task": local_name(element)}
    return replace(graph, ext=frozen(ext))


def _has_flow_nodes(process_el: etree._Element) -> bool:
    return any(local_name(child) in FLOW_NODE_TAGS for child in bpmn_children(process_el))


def _participant_names(root: etree._Element) -> dict[str, str]:
    names: dict[str, str] = {}
    for collaboration in bpmn_children(root, "collaboration"):
        for participant in bpmn_children(collaboration, "participant"):
            process_ref = ref(participant, "processRef")
            if process_ref and participant.get("name"):
                names.setdefault(process_ref, participant.get("name"))
    return names


def _check_duplicate_ids(root: etree._Element, problems: ProblemList) -> None:
    seen: dict[str, etree._Element] = {}
    for element in root.iter(f"{{{BPMN}}}*"):
        ident = element.get("id")
        if not ident:
            continue
        if ident in seen:
            first = seen[ident]
            problems.add(element, f"the id is already used by the {local_name(first)} on line "
                                  f"{first.sourceline}; ids must be unique in a file")
        else:
            seen[ident] = element


@dataclass
class _Draft:
    element: etree._Element
    kind: str
    scope: int | None
    fields: dict[str, Any] = field(default_factory=dict)


class _ProcessCompiler:
    """Compiles one <process> element into a ProcessGraph."""

    def __init__(self, process_el: etree._Element, ctx: Context, executable: bool,
                 participant_name: str | None) -> None:
        self.process_el = process_el
        self.ctx = ctx
        self.problems = ctx.problems
        self.executable = executable
        self.participant_name = participant_name
        self.drafts: list[_Draft] = []
        self.index: dict[str, int] = {}
        self.flow_elements: list[etree._Element] = []      # every <sequenceFlow>, in order
        self.kept_flow_elements: list[etree._Element] = []  # those that became Flows
        self.associations: list[etree._Element] = []
        self.lanes: dict[str, str] = {}

    # ------------------------------------------------------------------ walk

    def compile(self) -> ProcessGraph:
        self._read_lanes(self.process_el)
        self._walk(self.process_el, None)
        flows = self._resolve_flows()
        drafts = [dict(draft.fields, index=i, id=draft.element.get("id"),
                       kind=draft.kind, scope=draft.scope)
                  for i, draft in enumerate(self.drafts)]
        elements = [draft.element for draft in self.drafts]
        process_level = link_structure(drafts, elements, flows, self.associations, self.ctx)
        for fields in drafts:
            if "ext" in fields:
                fields["ext"] = frozen(fields["ext"])
        data_object_guards(drafts, self.drafts, self.process_el)
        nodes = tuple(Node(**fields) for fields in drafts)
        stores = {name: name for node in nodes
                  for name in (*node.store_reads, *node.store_writes)}
        frozen_flows = tuple(Flow(**flow) for flow in flows)
        graph = ProcessGraph(
            key=self.process_el.get("id"),
            name=self.process_el.get("name") or self.participant_name,
            nodes=nodes,
            flows=frozen_flows,
            index=frozen(self.index),
            flow_index=frozen({flow.id: flow.index for flow in frozen_flows}),
            executable=self.executable,
            lanes=frozen(self.lanes),
            ext=frozen(self._process_ext()),
            **process_io(self.process_el, self.ctx),
            **execution_listeners(self.process_el, self.ctx),
            data_stores=frozen(stores),
            message_starts=frozen(process_level.pop("message_starts")),
            signal_starts=frozen(process_level.pop("signal_starts")),
            **process_level,
        )
        validate_process(graph, elements, self.kept_flow_elements, self.process_el, self.ctx)
        return graph

    def _walk(self, container: etree._Element, scope: int | None) -> None:
        for child in container:
            if not isinstance(child.tag, str) or etree.QName(child).namespace != BPMN:
                continue  # other vendors' elements: not ours to judge
            tag = local_name(child)
            if tag == "sequenceFlow":
                self.flow_elements.append(child)
            elif tag == "association":
                self.associations.append(child)
            else:
                spec = element_spec(tag, child.attrib)
                if spec is not None and spec.kind is not None:
                    self._add_node(child, spec, scope)
                elif spec is not None or tag not in PASSIVE_TAGS:
                    self.problems.add(child, "Baton cannot execute this element")
                    if tag in CONTAINER_TAGS:
                        self._walk_passive(child)

    def _walk_passive(self, container: etree._Element) -> None:
        """Keep associations inside an unsupported container from being lost to checks."""
        for child in container:
            if is_bpmn(child, "association"):
                self.associations.append(child)

    def _add_node(self, element: etree._Element, spec: ElementSpec, scope: int | None) -> None:
        ident = element.get("id")
        kind = spec.kind
        if not ident:
            self.problems.add(element, "the element has no id; Baton needs one to track it")
            return
        if ident in self.index:
            return  # duplicate ids are reported once, for the whole file
        position = len(self.drafts)
        self.index[ident] = position
        draft = _Draft(element, kind, scope)
        self.drafts.append(draft)
        lane = self.lanes.get(ident)
        if lane is None and scope is not None:
            # content of a subprocess drawn in a lane belongs to that lane
            lane = self.lanes.get(self.drafts[scope].element.get("id"))
            if lane is not None:
                self.lanes[ident] = lane
        draft.fields = node_fields(element, spec, lane, self.ctx)
        if CONTAINER in spec.flags:
            self._read_lanes(element)
            self._walk(element, position)

    def _read_lanes(self, container: etree._Element) -> None:
        for lane_set in bpmn_children(container, "laneSet"):
            self._read_lane_set(lane_set)

    def _read_lane_set(self, lane_set: etree._Element) -> None:
        for lane in bpmn_children(lane_set, "lane"):
            name = (lane.get("name") or "").strip() or lane.get("id") or ""
            for node_ref in bpmn_children(lane, "flowNodeRef"):
                node_id = text_of(node_ref)
                if node_id:
                    self.lanes[node_id] = name
            for child_set in bpmn_children(lane, "childLaneSet"):
                self._read_lane_set(child_set)  # inner lanes overwrite: the innermost wins

    # ------------------------------------------------------------------ flows

    def _resolve_flows(self) -> list[dict[str, Any]]:
        flows: list[dict[str, Any]] = []
        seen: set[str] = set()
        for element in self.flow_elements:
            ident = element.get("id") or self._synthetic_flow_id(element, seen)
            if ident in seen:
                continue
            seen.add(ident)
            ends = []
            for attribute in ("sourceRef", "targetRef"):
                end = ref(element, attribute)
                if not end:
                    self.problems.add(element, f"the sequence flow has no {attribute}")
                elif end not in self.index:
                    self.problems.add(element, f"{attribute} '{end}' does not name a flow node of "
                                               f"process '{self.process_el.get('id')}'")
                else:
                    ends.append(self.index[end])
            if len(ends) != 2:
                continue
            source, target = ends
            if self.drafts[source].scope != self.drafts[target].scope:
                self.problems.add(
                    element, f"the sequence flow connects '{self.drafts[source].element.get('id')}'"
                             f" and '{self.drafts[target].element.get('id')}', which are in "
                             "different (sub)processes; a sequence flow cannot cross a "
                             "subprocess boundary")
                continue
            flows.append({
                "index": len(flows), "id": ident, "source": source, "target": target,
                "name": element.get("name"), "line": element.sourceline,
                "condition": self._condition(element),
                **execution_listeners(element, self.ctx, events=("take",)),
            })
            self.kept_flow_elements.append(element)
        return flows

    def _synthetic_flow_id(self, element: etree._Element, seen: set[str]) -> str:
        """Camunda 7 accepts sequence flows without id (its own engine tests have many), so
        Baton names them `flow:<source>-><target>`; the colon keeps the name from clashing
        with a real id (ids are NCNames, which have no colon)."""
        base = f"flow:{ref(element, 'sourceRef')}->{ref(element, 'targetRef')}"
        ident, number = base, 1
        while ident in seen:
            number += 1
            ident = f"{base}#{number}"
        self.problems.warn(element, f"the sequence flow has no id; Baton calls it '{ident}'")
        return ident

    def _condition(self, flow_el: etree._Element):
        condition = bpmn_child(flow_el, "conditionExpression")
        if condition is None:
            return None
        text = text_of(condition)
        if text is None:
            return None
        if vendor_attr(condition, "resource") is not None:
            self.problems.add(flow_el, "the condition is an external resource (camunda:resource);"
                                       " Baton only runs conditions written inside the diagram")
            return None
        return self.ctx.exprs.expression(text, flow_el, "condition",
                                         language=condition.get("language"))

    # ------------------------------------------------------------------ process data

    def _process_ext(self) -> dict[str, Any]:
        ext: dict[str, Any] = {}
        documentation = self.ctx.documentation(self.process_el)
        if documentation:
            ext["documentation"] = documentation
        for attribute in ("versionTag", "historyTimeToLive", "candidateStarterGroups",
                          "candidateStarterUsers", "isStartableInTasklist"):
            value = vendor_attr(self.process_el, attribute, CAMUNDA_LIKE)
            if value is not None:
                ext[attribute] = value
        return ext
