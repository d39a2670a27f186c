"""Data stores (BPMN 2.0.2 10.4.3 `dataStore`, `dataStoreReference`): data that outlives a
process instance and is shared by every instance that refers to it.

Baton reads them as SpiffWorkflow does: a `dataStore` is a named persistent value, named
by its id, and in a script or expression it is the variable of that name. An activity with
a dataInputAssociation from a dataStoreReference reads the store as it starts: the value is
a variable of that activity alone (its local scope, like an input parameter). An activity
with a dataOutputAssociation to one writes the variable's value to the store as it ends,
and the variable leaves the instance's data (it lives in the store). The runtime gets the
stores' values from its caller and hands writes back as effects (engine/runtime/datastores.py),
so it stays pure; the stores persist them (table `data_stores`).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from engine.bpmn.context import Context
from engine.bpmn.errors import local_name
from engine.bpmn.iospec import is_variable_name
from engine.bpmn.parser import bpmn_child, bpmn_children, ref_text


def data_store_fields(element: etree._Element, ctx: Context) -> dict[str, Any]:
    """Node fields `store_reads` / `store_writes`: the data-store variables an activity
    reads as it starts and writes as it ends; {} when it has none."""
    reads: list[str] = []
    writes: list[str] = []
    for association in bpmn_children(element, "dataInputAssociation"):
        for source in bpmn_children(association, "sourceRef"):
            _add(reads, store_variable(ref_text(source), element, ctx), element, ctx)
    for association in bpmn_children(element, "dataOutputAssociation"):
        target = bpmn_child(association, "targetRef")
        if target is not None:
            _add(writes, store_variable(ref_text(target), element, ctx), element, ctx)
    fields: dict[str, Any] = {}
    if reads:
        fields["store_reads"] = tuple(reads)
    if writes:
        fields["store_writes"] = tuple(writes)
    return fields


def _add(names: list[str], name: str | None, element: etree._Element, ctx: Context) -> None:
    if name is None or name in names:
        return
    if not is_variable_name(name):
        ctx.problems.warn(element, f"the data store '{name}' cannot be read or written by "
                                   "scripts (its id is not a variable name); Baton leaves "
                                   "the association aside")
        return
    names.append(name)


def store_variable(ident: str | None, element: etree._Element, ctx: Context) -> str | None:
    """The data store a dataStoreReference (by id) stands for, as a variable name: the
    referenced dataStore's id (the reference's own id without one). None when `ident` is
    not a dataStoreReference (a data object, a property: not a store)."""
    if not ident:
        return None
    for candidate in element.getroottree().getroot().iter(etree.Element):
        if candidate.get("id") == ident:
            if local_name(candidate) != "dataStoreReference":
                return None
            return (candidate.get("dataStoreRef") or "").strip().rsplit(":", 1)[-1] or ident
    return None


__all__ = ["data_store_fields", "store_variable"]
