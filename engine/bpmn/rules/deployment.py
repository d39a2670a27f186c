"""Rules across the files of one deployment: a call activity and the process it calls.

A called process is resolved at run time (the latest deployed version of its key), so the
check depends on where the callee is. In the same deployment, Baton knows exactly what will
be called: a callee that cannot be started refuses the deployment. Already deployed, the
callee may still be redeployed before the call happens: the same finding is a warning. Not
deployed at all: a warning that the call fails until it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from engine.bpmn.catalog import ERROR, WARNING, Rule
from engine.bpmn.errors import Problem
from engine.bpmn.rules.registry import deployment_rule
from engine.graph import Definitions, Node, ProcessGraph

CALLED_PROCESS_START = deployment_rule(Rule(
    name="called-process-start", severity=ERROR, applies_to="call activities",
    constraint="The process a call activity calls has a none start event (or a node without "
               "incoming flows to start at, or a single event start event).",
    spec="BPMN 2.0.2 Table 10.85 (a called process starts at its none start event); 10.3.6",
    instead="An error when the called process is in the same deployment; only a warning when "
            "it was deployed earlier, since it may be redeployed before the call happens."))
CALLED_PROCESS_EVENT_START = deployment_rule(Rule(
    name="called-process-event-start", severity=WARNING, applies_to="call activities",
    constraint="The process a call activity calls has a none start event.",
    spec="BPMN 2.0.2 Table 10.85 (a called process starts at its none start event)",
    instead="Baton starts the called process at its only start event (message, signal, timer "
            "or conditional) as if that event had occurred, as Camunda 7 does."))
CALLED_PROCESS_DEPLOYED = deployment_rule(Rule(
    name="called-process-deployed", severity=WARNING, applies_to="call activities",
    constraint="The process a call activity calls is in the same deployment or already "
               "deployed.",
    spec="Baton: the latest deployed version is called at run time",
    instead="The deployment goes ahead; a call made before the process is deployed stops with "
            "an incident."))

DeployedGraph = Callable[[str], ProcessGraph | None]


def check_deployment(files: Sequence[Definitions], filenames: Sequence[str | None],
                     deployed: DeployedGraph) -> list[list[Problem]]:
    """Per file (same order), the problems of its call activities; errors and warnings
    are told apart by `Problem.severity`. `deployed(key)` gives the latest deployed graph of
    a process key, or None."""
    here: dict[str, ProcessGraph] = {}
    for definitions in files:
        for key, graph in definitions.processes.items():
            here.setdefault(key, graph)
    found: list[list[Problem]] = []
    for definitions, filename in zip(files, filenames, strict=True):
        problems: list[Problem] = []
        for graph in definitions.processes.values():
            if not graph.executable:
                continue
            for node in graph.nodes:
                if node.kind == "callActivity" and node.called_element:
                    problem = _callee_problem(node, here, deployed, filename)
                    if problem is not None:
                        problems.append(problem)
        found.append(problems)
    return found


def _callee_problem(node: Node, here: dict[str, ProcessGraph], deployed: DeployedGraph,
                    filename: str | None) -> Problem | None:
    key = node.called_element or ""
    callee = here.get(key)
    same_deployment = callee is not None
    if callee is None:
        callee = deployed(key)
    if callee is None:
        return _problem(node, filename, CALLED_PROCESS_DEPLOYED,
                        f"no process '{key}' is deployed yet, nor in this deployment; the call "
                        "stops with an incident until it is")
    if callee.start_nodes:
        return None
    events = _event_starts(callee)
    where = "in this deployment" if same_deployment else "as deployed now"
    if len(events) == 1:
        start = callee.nodes[events[0]]
        return _problem(node, filename, CALLED_PROCESS_EVENT_START,
                        f"the called process '{key}' ({where}) has no none start event; Baton "
                        f"starts it at its only start event '{start.id}' as if that event had "
                        "occurred")
    message = (f"the called process '{key}' ({where}) has no none start event but "
               f"{len(events)} event start events, so Baton cannot tell where to start it and "
               "the call stops with an incident")
    if same_deployment:
        return _problem(node, filename, CALLED_PROCESS_START, message)
    # deployed earlier: it may be redeployed before the call happens
    return _problem(node, filename, CALLED_PROCESS_START, message, severity=WARNING)


def _event_starts(graph: ProcessGraph) -> list[int]:
    return sorted({*graph.message_starts.values(), *graph.signal_starts.values(),
                   *graph.timer_starts, *graph.conditional_starts})


def _problem(node: Node, filename: str | None, declared: Rule, message: str,
             severity: str | None = None) -> Problem:
    return Problem(node.id, node.kind, node.line, message, filename, declared.name,
                   severity or declared.severity)


__all__ = ["CALLED_PROCESS_DEPLOYED", "CALLED_PROCESS_EVENT_START", "CALLED_PROCESS_START",
           "DeployedGraph", "check_deployment"]
