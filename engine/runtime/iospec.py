"""BPMN ioSpecification: what an activity or a process receives and hands back.

An activity with an ioSpecification (compiled into `Node.inputs`/`outputs` with
`Node.io_spec`) runs in an *isolated* scope (kind "io"): the scope holds its data inputs and
the view of that scope stops there, so the activity sees nothing else; whatever it sets
stays in that scope; when it ends, only its data outputs are written back (BPMN 2.0.2
10.4.1: an activity reads its DataInputs and produces its DataOutputs). A missing data input
or output is an error naming it, as in SpiffWorkflow.

As in SpiffWorkflow, an ioSpecification that declares no input does not restrict what the
activity sees (it starts with a copy of every visible variable), and one that declares no
output hands back what the activity changed. The compiler marks those with one IOParam
whose `all_variables` is set, so every io node has inputs and outputs and reaches
`Run.push_local`/`pop_local` through the branches that camunda:inputOutput already takes:
nodes without an ioSpecification pay nothing.

A process's own ioSpecification (`ProcessGraph.data_inputs`/`data_outputs`) is applied where
an instance starts and ends (`start_variables`, `end_variables`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from engine.runtime.errors import RuntimeFailure
from engine.runtime.state import Scope

if TYPE_CHECKING:
    from engine.graph import Node, ProcessGraph
    from engine.runtime.run import Run
    from engine.runtime.state import Token

_MISSING = object()


def push_io(run: Run, token: Token, node: Node) -> None:
    """Open the activity's isolated scope, seeded with its data inputs."""
    view = run.view(token.scope)
    if node.inputs[0].all_variables:
        local: dict[str, Any] = dict(view)
    else:
        local = {}
        for p in node.inputs:
            source = p.source or p.name
            if source not in view:
                raise RuntimeFailure(
                    f"{node.label}: data input '{p.name}' of its ioSpecification is missing "
                    f"(no variable '{source}' is set)", node.id)
            local[p.name] = view[source]
    sid = run.state.new_id()
    run.state.scopes[sid] = Scope(sid, "io", node.index, token.scope, token.id, local)
    token.scope = sid


def pop_io(run: Run, token: Token, node: Node) -> None:
    """Close the isolated scope, writing the data outputs to the enclosing scope."""
    state = run.state
    io = state.scopes[token.scope]
    parent: int = io.parent  # type: ignore[assignment]
    if node.outputs[0].all_variables:
        outer = run.view(parent)
        values = [(k, v) for k, v in io.vars.items() if outer.get(k, _MISSING) is not v]
    else:
        values = []
        for p in node.outputs:
            source = p.source or p.name
            if source not in io.vars:
                raise RuntimeFailure(
                    f"{node.label}: data output '{source}' of its ioSpecification was not set",
                    node.id)
            values.append((p.name, io.vars[source]))
    comp = state.compensations.pop(io.id, None)
    if comp:
        state.compensations.setdefault(parent, []).extend(comp)
    del state.scopes[io.id]
    token.scope = parent
    for name, value in values:
        run.set_var(parent, name, value)


def start_variables(graph: ProcessGraph, variables: Mapping[str, Any]) -> dict[str, Any]:
    """The variables an instance starts with: with data inputs declared, exactly those
    (each one required)."""
    missing = [name for name in graph.data_inputs if name not in variables]
    if missing:
        names = ", ".join(f"'{n}'" for n in missing)
        raise RuntimeFailure(f"process '{graph.key}' needs the data input(s) {names} of its "
                             "ioSpecification to start, and they were not given")
    return {name: variables[name] for name in graph.data_inputs}


def end_variables(graph: ProcessGraph, variables: Mapping[str, Any]) -> dict[str, Any]:
    """What an ending instance hands back (to a calling activity): with data outputs
    declared, exactly those (each one required)."""
    missing = [name for name in graph.data_outputs if name not in variables]
    if missing:
        names = ", ".join(f"'{n}'" for n in missing)
        raise RuntimeFailure(f"process '{graph.key}' ends without the data output(s) {names} "
                             "of its ioSpecification")
    return {name: variables[name] for name in graph.data_outputs}


__all__ = ["end_variables", "pop_io", "push_io", "start_variables"]
