"""Per-element compilation: the Node fields of one flow node, read from its XML element.

Indexes of other nodes are not known yet at this stage (that is `structure.py`'s job); here
each element is read on its own. Which readers run is the element table's call
(`engine.bpmn.elements`, `ElementSpec.parse`); `READERS` holds them by name, in the order they
run: a later reader's fields win, and problems are reported in this order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from lxml import etree

from engine.bpmn.context import Context
from engine.bpmn.datastores import data_store_fields
from engine.bpmn.elements import THROW, ElementSpec
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
from engine.bpmn.parser import (
    BPMN,
    bpmn_child,
    is_true,
    ref,
    script_text,
    text_of,
    vendor_attr,
)
from engine.bpmn.usertask import user_task_spec
from engine.graph import AdHoc


@dataclass(frozen=True, slots=True)
class Reading:
    """What a field reader may look at: the element, its table entry, the lane it is drawn
    in, the file's context and the fields read so far (the live dict, for readers that
    defer to an earlier one)."""

    element: etree._Element
    spec: ElementSpec
    lane: str | None
    ctx: Context
    fields: dict[str, Any]


Reader = Callable[[Reading], dict[str, Any]]


def node_fields(element: etree._Element, spec: ElementSpec, lane: str | None,
                ctx: Context) -> dict[str, Any]:
    """All the Node keyword arguments that depend on this element alone."""
    fields: dict[str, Any] = {"name": element.get("name"), "line": element.sourceline}
    ext: dict[str, Any] = extra_data(element, ctx)
    ext.update(spec.marks)
    reading = Reading(element, spec, lane, ctx, fields)
    wanted = spec.parse
    for name, reader in READERS:
        if name in COMMON_READERS or name in wanted:
            _merge(fields, reader(reading))
    extra_ext = fields.pop("ext", None)
    if extra_ext:
        ext.update(extra_ext)
    if ext:
        fields["ext"] = ext
    return fields


def _io_specification(r: Reading) -> dict[str, Any]:
    """A BPMN ioSpecification, unless camunda:inputOutput already mapped the activity."""
    if r.fields.get("inputs") or r.fields.get("outputs"):
        return {}
    return activity_io(r.element, r.ctx)


def _event_fields(r: Reading) -> dict[str, Any]:
    element, spec, ctx = r.element, r.spec, r.ctx
    kind = spec.kind or spec.tag
    throws = THROW in spec.flags
    event, parts = compile_event_parts(element, kind, ctx)
    fields: dict[str, Any] = {"event": event}
    if parts:
        fields["events"] = parts
        fields["parallel_multiple"] = not throws and is_true(element.get("parallelMultiple"))
    if spec.interrupting_attr is not None:
        fields["interrupting"] = is_true(element.get(spec.interrupting_attr), True)
    if event.type == "message" and throws:
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


def _merge(fields: dict[str, Any], more: dict[str, Any]) -> None:
    """dict.update, except that the `ext` mappings of both sides are combined."""
    ext = {**fields.get("ext", {}), **more.get("ext", {})}
    fields.update(more)
    if ext:
        fields["ext"] = ext


def _task_message(r: Reading) -> dict[str, Any]:
    element, ctx = r.element, r.ctx
    message_id = ref(element, "messageRef")
    if message_id is None:
        return {}
    if message_id not in ctx.messages:
        ctx.problems.add(element, f"messageRef '{message_id}' does not name a message defined in "
                                  "this file")
        return {}
    return {"message_ref": ctx.messages[message_id]}


def _script_task(r: Reading) -> dict[str, Any]:
    element, ctx = r.element, r.ctx
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


def _compensation(r: Reading) -> dict[str, Any]:
    return {"is_for_compensation": True} if is_true(r.element.get("isForCompensation")) else {}


def _quantities(r: Reading) -> dict[str, Any]:
    """startQuantity / completionQuantity (BPMN 2.0.2 13.2.1): whole numbers, default 1,
    and "MUST NOT be less than 1"."""
    fields: dict[str, Any] = {}
    for attribute, field_name in (("startQuantity", "start_quantity"),
                                  ("completionQuantity", "completion_quantity")):
        text = r.element.get(attribute)
        if text is None:
            continue
        try:
            value = int(text.strip())
        except ValueError:
            value = 0
        if value < 1:
            r.ctx.problems.add(r.element, f"{attribute} {text.strip()!r} must be a whole "
                                          "number of at least 1 (BPMN: it MUST NOT be less "
                                          "than 1)")
            continue
        if value != 1:
            fields[field_name] = value
    return fields


# loopCardinality written as a plain number, possibly inside ${...}, #{...} or "= ..."
_LITERAL_NUMBER = re.compile(r"^\s*(?:[$#]\{\s*(-?\s*\d+)\s*\}|=?\s*(-?\s*\d+))\s*$")


def _loop(r: Reading) -> dict[str, Any]:
    """Loop characteristics, with the counts BPMN requires to be non-negative checked
    here where they are literal (an expression's value is checked when it runs)."""
    fields = loop_fields(r.element, r.ctx)
    loop = fields.get("loop")
    if loop is not None and loop.maximum is not None and loop.maximum < 0:
        r.ctx.problems.add(r.element, f"loopMaximum {loop.maximum} is negative; it bounds "
                                      "the number of iterations, so it must be 0 or more")
    multi = bpmn_child(r.element, "multiInstanceLoopCharacteristics")
    cardinality = text_of(bpmn_child(multi, "loopCardinality")) if multi is not None else None
    match = _LITERAL_NUMBER.match(cardinality) if cardinality else None
    if match is not None:
        number = int((match.group(1) or match.group(2)).replace(" ", ""))
        if number < 0:
            r.ctx.problems.add(r.element, f"loopCardinality {number} is negative; it is the "
                                          "number of instances, so it must be 0 or more")
    return fields


def _activation(r: Reading) -> dict[str, Any]:
    """A complex gateway's activationCondition (BPMN 2.0.2 10.6.5: over the data and the
    tokens waiting on its incoming flows, see `ComplexGateway`)."""
    condition = bpmn_child(r.element, "activationCondition")
    text = text_of(condition)
    if text is None:
        return {}
    return {"activation_condition": r.ctx.exprs.expression(
        text, r.element, "activationCondition", language=condition.get("language"))}


def _instantiate(r: Reading) -> dict[str, Any]:
    """instantiate="true" on a receive task or an event-based gateway (and the gateway's
    eventGatewayType): where the structure step makes them start events of the process."""
    fields: dict[str, Any] = {}
    if is_true(r.element.get("instantiate")):
        fields["instantiate"] = True
    kind = (r.element.get("eventGatewayType") or "").strip().lower()
    if r.spec.kind == "eventBasedGateway" and kind == "parallel":
        if fields:
            fields["parallel_event_gateway"] = True
        else:
            r.ctx.problems.warn(r.element, "eventGatewayType=\"Parallel\" only means something "
                                           "on a gateway that instantiates the process; Baton "
                                           "runs this one as an exclusive event-based gateway")
    return fields


def _adhoc(r: Reading) -> dict[str, Any]:
    """ordering, completionCondition, cancelRemainingInstances of an ad-hoc subprocess."""
    element, ctx = r.element, r.ctx
    ordering = (element.get("ordering") or "Parallel").strip()
    if ordering not in ("Parallel", "Sequential"):
        ctx.problems.add(element, f"ordering {ordering!r} is neither \"Parallel\" nor "
                                  "\"Sequential\"")
    condition_el = bpmn_child(element, "completionCondition")
    condition = ctx.exprs.expression(text_of(condition_el), element, "completionCondition",
                                     language=condition_el.get("language")
                                     if condition_el is not None else None)
    return {"adhoc": AdHoc(sequential=ordering == "Sequential",
                           completion_condition=condition,
                           cancel_remaining=is_true(element.get("cancelRemainingInstances"),
                                                    True))}


def _user_task(r: Reading) -> dict[str, Any]:
    return {"user_task": user_task_spec(r.element, r.lane, r.ctx)}


# Every flow node gets these, whatever its table entry says.
COMMON_READERS = frozenset({"async", "io_mappings", "listeners"})
# Field readers by the name `ElementSpec.parse` gives them, in the order they run.
READERS: tuple[tuple[str, Reader], ...] = (
    ("async", lambda r: async_flags(r.element)),
    ("io_mappings", lambda r: io_mappings(r.element, r.ctx)),
    ("io_specification", _io_specification),
    ("listeners", lambda r: execution_listeners(r.element, r.ctx)),
    ("event", _event_fields),
    ("loop", _loop),
    ("quantities", _quantities),
    ("activation", _activation),
    ("instantiate", _instantiate),
    ("adhoc", _adhoc),
    ("spiff_scripts", lambda r: spiff_scripts(r.element, r.ctx)),
    ("compensation", _compensation),
    ("implementation", lambda r: implementation(r.element, r.ctx)),
    ("message", _task_message),
    ("user_task", _user_task),
    ("script", _script_task),
    ("call_activity", lambda r: call_activity(r.element, r.ctx)),
    ("data_stores", lambda r: data_store_fields(r.element, r.ctx)),
)


__all__ = ["COMMON_READERS", "READERS", "Reader", "Reading", "node_fields"]
