"""Checks on a compiled process that catch diagrams which would run wrongly or get stuck.

They run on the linked graph (indexes, flows, containers known), and report on the XML
element so the message carries the BPMN tag, the id and the line the analyst can find. The
checks themselves are the named rules of `engine.bpmn.rules`; this module is the compiler's
one entry to them.
"""

from __future__ import annotations

from lxml import etree

from engine.bpmn.context import Context
from engine.bpmn.rules import Model, check_process
from engine.graph import ProcessGraph


def validate_process(graph: ProcessGraph, elements: list[etree._Element],
                     flow_elements: list[etree._Element], process_el: etree._Element,
                     ctx: Context) -> None:
    """Record every rule broken by one compiled process in `ctx.problems`."""
    check_process(Model(graph, elements, flow_elements, process_el, ctx))
