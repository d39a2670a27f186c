"""Per-element compilation: the Node fields of one flow node, read from its XML element.

Indexes of other nodes are not known yet at this stage (that is `structure.py`'s job); here
each element is read on its own: its kind, event definition, implementation, user task,
mappings, loops and vendor extras.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lxml import etree

from engine.bpmn.context import Context
from engine.bpmn.errors import local_name
from engine.bpmn.events import compile_event_parts, definitions_of
from engine.bpmn.extensions import (
    async_flags,
    call_activity,
    execution_listeners,
    extra_data,
    implementation,
    io_mappings,
    spiff_scripts,
)
from engine.bpmn.iospec import activity_io
from engine.bpmn.loops import loop_fields
from engine.bpmn.parser import BPMN, bpmn_child, is_true, ref, script_text, vendor_attr
from engine.bpmn.usertask import user_task_spec
from engine.graph import EVENT_KINDS, GATEWAY_KINDS, TASK_KINDS

# Flow nodes Baton knows but cannot run.
UNSUPPORTED_NODES = frozenset({
    "complexGateway", "adHocSubProcess", "callChoreography", "choreographyTask",
    "subChoreography",
})
# Every BPMN flow node tag (what sequence flows may connect).
FLOW_NODE_TAGS = EVENT_KINDS | TASK_KINDS | GATEWAY_KINDS | {"transaction"} | UNSUPPORTED_NODES
# BPMN elements that may sit inside a process or subprocess without being run.
PASSIVE_ELEMENTS = frozenset({
    "documentation", "extensionElements", "auditing", "monitoring", "property", "laneSet",
    "sequenceFlow", "dataObject", "dataObjectReference", "dataStoreReference", "association",
    "textAnnotation", "group", "ioSpecification", "ioBinding", "correlationSubscription",
    "supports", "resourceRole", "performer", "humanPerformer", "potentialOwner",
    "categoryValueRef", "dataInput", "dataOutput", "inputSet", "outputSet",
    # children of a subProcess as an activity
    "incoming", "outgoing", "multiInstanceLoopCharacteristics", "standardLoopCharacteristics",
    "dataInputAssociation", "dataOutputAssociation",
})
THROWING_MESSAGE_KINDS = frozenset({"intermediateThrowEvent", "endEvent"})


def node_kind(element: etree._Element) -> str:
    tag = local_name(element)
    if tag == "transaction":
        return "subProcess"
    if tag == "subProcess" and is_true(element.get("triggeredByEvent")):
        return "eventSubProcess"
    return tag


def node_fields(element: etree._Element, kind: str, lane: str | None,
                ctx: Context) -> dict[str, Any]:
    """All the Node keyword arguments that depend on this element alone."""
    fields: dict[str, Any] = {"name": element.get("name"), "line": element.sourceline}
    ext: dict[str, Any] = extra_data(element, ctx)
    if local_name(element) == "transaction":
        ext["transaction"] = True
    fields.update(async_flags(element))
    fields.update(io_mappings(element, ctx))
    if kind in TASK_KINDS and not fields.get("inputs") and not fields.get("outputs"):
        fields.update(activity_io(element, ctx))  # (camunda:inputOutput wins over it)
    fields.update(execution_listeners(element, ctx))
    if kind in EVENT_KINDS:
        fields.update(_event_fields(element, kind, ctx))
    elif kind in TASK_KINDS or kind == "eventSubProcess":
        fields.update(_activity_fields(element, kind, lane, ctx))
    extra_ext = fields.pop("ext", None)
    if extra_ext:
        ext.update(extra_ext)
    if ext:
        fields["ext"] = ext
    return fields


def _event_fields(element: etree._Element, kind: str, ctx: Context) -> dict[str, Any]:
    event, parts = compile_event_parts(element, kind, ctx)
    fields: dict[str, Any] = {"event": event}
    if parts:
        fields["events"] = parts
        fields["parallel_multiple"] = kind != "intermediateThrowEvent" and kind != "endEvent" \
            and is_true(element.get("parallelMultiple"))
    if kind == "boundaryEvent":
        fields["interrupting"] = is_true(element.get("cancelActivity"), True)
    elif kind == "startEvent":
        fields["interrupting"] = is_true(element.get("isInterrupting"), True)
    if event.type == "message" and kind in THROWING_MESSAGE_KINDS:
        definitions = definitions_of(element, ctx)
        if definitions:
            _merge(fields, implementation(definitions[0], ctx, owner=element))
        if event.ref is None and not fields.get("task_type") and not _has_message_ref(element):
            name = (element.get("name") or "").strip()
            if name:  # old Signavio exports: SpiffWorkflow sends the message named like the event
                ctx.problems.warn(element, "the message event has no messageRef; Baton uses the "
                                           f"event's name '{name}' as the message name (as "
                                           "SpiffWorkflow does)")
                fields["event"] = replace(event, ref=name)
            else:
                ctx.problems.add(element, "the message event has no messageRef and no "
                                          "implementation (external topic, connector...), nor a "
                                          "name, so Baton cannot tell which message it sends")
    return fields


def _has_message_ref(element: etree._Element) -> bool:
    """True when a messageRef is written, even one reported as unknown elsewhere."""
    return any(child.get("messageRef") for child in element.iter(f"{{{BPMN}}}*"))


def _activity_fields(element: etree._Element, kind: str, lane: str | None,
                     ctx: Context) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    _merge(fields, loop_fields(element, ctx))
    _merge(fields, spiff_scripts(element, ctx))
    if is_true(element.get("isForCompensation")):
        fields["is_for_compensation"] = True
    if kind in ("serviceTask", "sendTask", "businessRuleTask"):
        _merge(fields, implementation(element, ctx))
    if kind in ("sendTask", "receiveTask"):
        _merge(fields, _task_message(element, ctx))
    if kind == "userTask":
        fields["user_task"] = user_task_spec(element, lane, ctx)
    elif kind == "scriptTask":
        _merge(fields, _script_task(element, ctx))
    elif kind == "callActivity":
        _merge(fields, call_activity(element, ctx))
    return fields


def _merge(fields: dict[str, Any], more: dict[str, Any]) -> None:
    """dict.update, except that the `ext` mappings of both sides are combined."""
    ext = {**fields.get("ext", {}), **more.get("ext", {})}
    fields.update(more)
    if ext:
        fields["ext"] = ext


def _task_message(element: etree._Element, ctx: Context) -> dict[str, Any]:
    message_id = ref(element, "messageRef")
    if message_id is None:
        return {}
    if message_id not in ctx.messages:
        ctx.problems.add(element, f"messageRef '{message_id}' does not name a message defined in "
                                  "this file")
        return {}
    return {"message_ref": ctx.messages[message_id]}


def _script_task(element: etree._Element, ctx: Context) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    script_format = (element.get("scriptFormat") or "").strip() or None
    fields["script_format"] = script_format
    result_variable = vendor_attr(element, "resultVariable")
    if result_variable and result_variable.strip():
        fields["result_variable"] = result_variable.strip()
    if vendor_attr(element, "resource") is not None:
        ctx.problems.add(element, "the script is an external resource (camunda:resource); Baton "
                                  "only runs scripts written inside the diagram")
        return fields
    text = script_text(bpmn_child(element, "script"))
    if text is None:
        return fields
    if script_format and script_format.strip().lower() in ("juel", "feel"):
        # One expression run for its value (camunda:resultVariable) or its side effects
        # (#{execution.setVariable('invoked', true)}).
        fields["script"] = ctx.exprs.action(text, element, "script",
                                            language=script_format.strip().lower())
    else:
        fields["script"] = ctx.exprs.script(text, element, "script", language=script_format)
    return fields


__all__ = ["FLOW_NODE_TAGS", "PASSIVE_ELEMENTS", "UNSUPPORTED_NODES",
           "node_fields", "node_kind"]
