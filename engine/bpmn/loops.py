"""Loop characteristics: multi-instance (Camunda 7, zeebe, SpiffWorkflow and plain BPMN data
references unified into one MultiInstance) and the standard loop."""

from __future__ import annotations

from typing import Any

from lxml import etree

from engine.bpmn.compat import SPIFFWORKFLOW
from engine.bpmn.context import Context
from engine.bpmn.expr import is_expression_text, is_identifier
from engine.bpmn.parser import (
    ZEEBE,
    bpmn_child,
    extension_children,
    is_true,
    ref_text,
    text_of,
    vendor_attr,
)
from engine.graph import MultiInstance, StandardLoop


def loop_fields(activity: etree._Element, ctx: Context) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    multi = bpmn_child(activity, "multiInstanceLoopCharacteristics")
    if multi is not None:
        fields["multi_instance"] = multi_instance(activity, multi, ctx)
    standard = bpmn_child(activity, "standardLoopCharacteristics")
    if standard is not None:
        if multi is not None:
            ctx.problems.add(activity, "an activity cannot have both multi-instance and standard "
                                       "loop characteristics")
        fields["loop"] = standard_loop(activity, standard, ctx)
    return fields


def _data_item_name(element: etree._Element | None) -> str | None:
    """The variable an input/output data item names: its name, or (SpiffWorkflow, where the
    name is a label like "input item") its id when only the id is a valid variable name."""
    if element is None:
        return None
    name = (element.get("name") or "").strip()
    ident = (element.get("id") or "").strip()
    if name and (is_identifier(name) or not is_identifier(ident)):
        return name
    return ident or None


def multi_instance(activity: etree._Element, multi: etree._Element,
                   ctx: Context) -> MultiInstance:
    exprs = ctx.exprs
    cardinality_el = bpmn_child(multi, "loopCardinality")
    cardinality = exprs.expression(text_of(cardinality_el), activity, "loopCardinality",
                                   language=_language(cardinality_el))
    completion_el = bpmn_child(multi, "completionCondition")
    completion = exprs.expression(text_of(completion_el), activity, "completionCondition",
                                  language=_language(completion_el))
    collection = None
    element_variable = None
    output_collection = None
    output_element = None

    camunda_collection = vendor_attr(multi, "collection")
    if camunda_collection:
        collection = exprs.variable(camunda_collection, activity, "camunda:collection")
    camunda_element = vendor_attr(multi, "elementVariable")
    if camunda_element:
        element_variable = camunda_element.strip()

    input_ref = bpmn_child(multi, "loopDataInputRef")
    if collection is None and input_ref is not None and ref_text(input_ref):
        collection = exprs.variable(ref_text(input_ref), activity, "loopDataInputRef")
    if element_variable is None:
        element_variable = _data_item_name(bpmn_child(multi, "inputDataItem"))
    output_ref = bpmn_child(multi, "loopDataOutputRef")
    if output_ref is not None and ref_text(output_ref):
        output_collection = ref_text(output_ref)
    output_name = _data_item_name(bpmn_child(multi, "outputDataItem"))
    if output_name:
        output_element = exprs.variable(output_name, activity, "outputDataItem")

    for zeebe in extension_children(multi, ZEEBE, "loopCharacteristics"):
        input_collection = zeebe.get("inputCollection")
        if input_collection:
            collection = _zeebe_expression(input_collection, activity, "inputCollection", ctx)
        element_variable = (zeebe.get("inputElement") or "").strip() or element_variable
        output_collection = (zeebe.get("outputCollection") or "").strip() or output_collection
        if zeebe.get("outputElement"):
            output_element = _zeebe_expression(zeebe.get("outputElement"), activity,
                                               "outputElement", ctx)

    if cardinality is None and collection is None and cardinality_el is None and (
            camunda_collection is None and input_ref is None):
        ctx.problems.add(activity, "the multi-instance activity has neither loopCardinality nor a "
                                   "collection, so Baton cannot tell how many instances to run")
    fields: dict[str, Any] = {
        "sequential": is_true(multi.get("isSequential")),
        "cardinality": cardinality,
        "collection": collection,
        "element_variable": element_variable,
        "completion_condition": completion,
        "output_collection": output_collection,
        "output_element": output_element,
    }
    if ctx.compat == SPIFFWORKFLOW:
        camunda_input = bool(camunda_collection) and input_ref is None and not any(
            z.get("inputCollection") for z in extension_children(multi, ZEEBE, "loopCharacteristics"))
        fields.update(spiffworkflow_reading(activity, fields, camunda_collection, camunda_input,
                                            ctx))
    return MultiInstance(**fields)


def spiffworkflow_reading(activity: etree._Element, fields: dict[str, Any],
                          camunda_collection: str | None, camunda_input: bool,
                          ctx: Context) -> dict[str, Any]:
    """What SpiffWorkflow 3.2's Camunda dialect makes of loopCardinality, camunda:collection
    and camunda:elementVariable (SpiffWorkflow/camunda/parser/task_spec.py and
    specs/multiinstance_task.py), as changes to the Camunda 7 reading in `fields`.

    - With a loopCardinality, camunda:collection is the output collection, never the input:
      the cardinality's value gives the items (a list or a mapping is the input collection,
      a number n gives 0..n-1), the element variable takes each item and is collected into
      camunda:collection as each instance completes: appended, in completion order, or for
      a mapping input under the item's key.
    - Without one, camunda:collection is the input and the output: each instance's element
      variable is written back into it at the instance's index (or key) as it completes.

    Declarations the diagram makes itself win: a loopDataInputRef (or zeebe
    inputCollection) keeps the cardinality a count, a loopDataOutputRef or outputDataItem
    (or zeebe outputCollection) keeps its own output. SpiffWorkflow reads camunda:collection
    and camunda:elementVariable as variable names, so an expression there is not written to.
    """
    element = fields["element_variable"]
    name = (camunda_collection or "").strip()
    explicit_output = fields["output_collection"] is not None or fields["output_element"] is not None
    writable = bool(name) and is_identifier(name) and bool(element) and is_identifier(element) \
        and not explicit_output
    changes: dict[str, Any] = {}
    if fields["cardinality"] is not None:
        if fields["collection"] is not None and not camunda_input:
            return changes        # the diagram names its input collection: a count
        changes.update(cardinality_items=True, output_as_completed=True, collection=None)
        if writable:
            changes.update(output_collection=name, output_element=ctx.exprs.variable(
                element, activity, "camunda:elementVariable"))
    elif camunda_input and writable:
        changes.update(output_collection=name, write_back=True, output_element=ctx.exprs.variable(
            element, activity, "camunda:elementVariable"))
    return changes


def _zeebe_expression(text: str, activity: etree._Element, what: str, ctx: Context):
    """zeebe writes `= items` for an expression; a bare name also reads that variable."""
    text = text.strip()
    if is_expression_text(text) or is_identifier(text):
        return ctx.exprs.variable(text, activity, f"zeebe:loopCharacteristics {what}")
    return ctx.exprs.expression(text, activity, f"zeebe:loopCharacteristics {what}")


def standard_loop(activity: etree._Element, standard: etree._Element,
                  ctx: Context) -> StandardLoop:
    condition_el = bpmn_child(standard, "loopCondition")
    condition_text = text_of(condition_el) or standard.get("loopCondition")
    condition = ctx.exprs.expression(condition_text, activity, "loopCondition",
                                     language=_language(condition_el))
    maximum_text = (standard.get("loopMaximum") or "").strip()
    maximum = None
    if maximum_text:
        try:
            maximum = int(maximum_text)
        except ValueError:
            ctx.problems.add(activity, f"loopMaximum {maximum_text!r} is not a whole number")
    if condition is None and maximum is None and condition_text is None:
        ctx.problems.add(activity, "the standard loop has neither loopCondition nor loopMaximum, "
                                   "so it would never end")
    return StandardLoop(condition=condition, test_before=is_true(standard.get("testBefore")),
                        maximum=maximum)


def _language(element: etree._Element | None) -> str | None:
    return element.get("language") if element is not None else None
