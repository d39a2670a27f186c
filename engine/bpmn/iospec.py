"""ioSpecification: the data inputs and outputs of an activity or a process (BPMN 2.0.2
10.4.1), compiled to what the runtime applies (engine/runtime/iospec.py).

Baton keeps data in process variables, so a data input or output *is* a variable, named by
its id, as SpiffWorkflow reads it (the `name` of a dataInput is a label such as "input 1").
A dataInputAssociation from another element binds the input to that element's variable (a
dataObjectReference stands for its dataObject, named by the dataObject's id); a
dataOutputAssociation writes the output to its target's variable the same way.

Modelers that bind every piece of data through data objects (Trisotech, Signavio, ADONIS,
ARIS...) give data inputs ids such as '_8b9a...' or 'sid-AE5D...', which cannot be variable
names: Baton does not model those data objects, so such an ioSpecification is left aside
with a warning and the element runs as if it had none, instead of waiting for data no one
can set. An ioSpecification without any dataInput or dataOutput changes nothing either.
"""

from __future__ import annotations

import keyword
from typing import Any

from lxml import etree

from engine.bpmn.context import Context
from engine.bpmn.errors import local_name
from engine.bpmn.parser import bpmn_child, bpmn_children, ref_text
from engine.graph import IOParam

# "every visible variable in" / "every changed variable out" (a side with no declaration)
ALL = IOParam(name="", all_variables=True)


def activity_io(element: etree._Element, ctx: Context) -> dict[str, Any]:
    """Node fields (inputs, outputs, io_spec) for an activity's ioSpecification; {} when it
    has none that Baton applies."""
    spec = bpmn_child(element, "ioSpecification")
    if spec is None:
        return {}
    inputs = [d.get("id") or "" for d in bpmn_children(spec, "dataInput")]
    outputs = [d.get("id") or "" for d in bpmn_children(spec, "dataOutput")]
    if not inputs and not outputs:
        return {}
    sources = _bindings(element, "dataInputAssociation", target_side=True)
    targets = _bindings(element, "dataOutputAssociation", target_side=False)
    input_params = [IOParam(name=i, source=_variable(sources.get(i, i), element))
                    for i in inputs]
    output_params = [IOParam(name=_variable(targets.get(o, o), element), source=o)
                     for o in outputs]
    names = [n for p in (*input_params, *output_params) for n in (p.name, p.source)]
    bad = [n for n in names if not is_variable_name(n)]
    if bad:
        ctx.problems.warn(element, _left_aside(bad))
        return {}
    return {"inputs": tuple(input_params) or (ALL,), "outputs": tuple(output_params) or (ALL,),
            "io_spec": True}


def process_io(process_el: etree._Element, ctx: Context) -> dict[str, Any]:
    """ProcessGraph fields (data_inputs, data_outputs) for a process's ioSpecification."""
    spec = bpmn_child(process_el, "ioSpecification")
    if spec is None:
        return {}
    inputs = tuple(d.get("id") or "" for d in bpmn_children(spec, "dataInput"))
    outputs = tuple(d.get("id") or "" for d in bpmn_children(spec, "dataOutput"))
    bad = [n for n in (*inputs, *outputs) if not is_variable_name(n)]
    if bad:
        ctx.problems.warn(process_el, _left_aside(bad))
        return {}
    return {"data_inputs": inputs, "data_outputs": outputs}


def is_variable_name(name: str | None) -> bool:
    """What Baton accepts as a variable name (see engine.service._check_variables)."""
    return bool(name) and name.isidentifier() and not name.startswith("_") \
        and not keyword.iskeyword(name)  # type: ignore[union-attr]


def _left_aside(bad: list[str]) -> str:
    shown = ", ".join(f"'{n}'" for n in bad[:3]) + (", ..." if len(bad) > 3 else "")
    return (f"the ioSpecification names data that cannot be a process variable ({shown}), "
            "as modelers binding data through data objects do; Baton does not model data "
            "objects, so it leaves this ioSpecification aside")


def _bindings(element: etree._Element, tag: str, *, target_side: bool) -> dict[str, str]:
    """dataInputAssociation: data input id -> source element id; dataOutputAssociation:
    data output id -> target element id (simple associations, one source each)."""
    found: dict[str, str] = {}
    for association in bpmn_children(element, tag):
        if bpmn_child(association, "transformation") is not None or \
                bpmn_child(association, "assignment") is not None:
            continue  # expressions over the data: the input keeps its own name
        sources = [ref_text(s) for s in bpmn_children(association, "sourceRef")]
        target = ref_text(bpmn_child(association, "targetRef"))
        if len(sources) != 1 or not sources[0] or not target:
            continue
        if target_side:
            found[target] = sources[0]
        else:
            found[sources[0]] = target
    return found


def _variable(ident: str, element: etree._Element) -> str:
    """The variable an element id stands for: a dataObjectReference is its dataObject."""
    for candidate in element.getroottree().getroot().iter(etree.Element):
        if candidate.get("id") == ident:
            if local_name(candidate) == "dataObjectReference" and candidate.get("dataObjectRef"):
                return candidate.get("dataObjectRef") or ident
            break
    return ident


__all__ = ["activity_io", "is_variable_name", "process_io"]
