"""Event definitions: what an event waits for or throws, resolved to the names the runtime
matches on (message name, signal name, error code, escalation code, link name)."""

from __future__ import annotations

from lxml import etree

from engine.bpmn.context import Context
from engine.bpmn.errors import local_name
from engine.bpmn.expr import is_expression_text
from engine.bpmn.parser import (
    SPIFF,
    ZEEBE,
    bpmn_child,
    bpmn_children,
    extension_children,
    is_true,
    ref,
    ref_text,
    text_of,
    vendor_attr,
)
from engine.graph import EventDef, IOParam
from engine.timers import TimerError, parse_timer

DEFINITION_TYPES = {
    "messageEventDefinition": "message",
    "timerEventDefinition": "timer",
    "signalEventDefinition": "signal",
    "errorEventDefinition": "error",
    "escalationEventDefinition": "escalation",
    "terminateEventDefinition": "terminate",
    "linkEventDefinition": "link",
    "compensateEventDefinition": "compensate",
    "conditionalEventDefinition": "conditional",
    "cancelEventDefinition": "cancel",
}

# Which event definitions Baton runs on which event element (BPMN 2.0.2, table 10.83 ff.).
ALLOWED_TYPES = {
    "startEvent": {"none", "message", "timer", "signal", "conditional", "error", "escalation",
                   "compensate"},
    "endEvent": {"none", "message", "signal", "error", "escalation", "terminate", "cancel",
                 "compensate"},
    "intermediateCatchEvent": {"message", "timer", "signal", "conditional", "link"},
    "intermediateThrowEvent": {"none", "message", "signal", "escalation", "compensate", "link"},
    "boundaryEvent": {"message", "timer", "signal", "conditional", "error", "escalation",
                      "compensate", "cancel"},
}
CATCH_KINDS = frozenset({"startEvent", "intermediateCatchEvent", "boundaryEvent"})
TIMER_KINDS = ("timeDate", "timeDuration", "timeCycle")


def definitions_of(event: etree._Element, ctx: Context) -> list[etree._Element]:
    """The event's definitions, inline or referenced by eventDefinitionRef."""
    found = [child for child in bpmn_children(event) if local_name(child) in DEFINITION_TYPES]
    for ref_element in bpmn_children(event, "eventDefinitionRef"):
        target = ctx.elements.get(ref_text(ref_element) or "")
        if target is not None and local_name(target) in DEFINITION_TYPES:
            found.append(target)
        else:
            ctx.problems.add(event, f"eventDefinitionRef '{text_of(ref_element)}' does not name "
                                    "an event definition in this file")
    return found


def compile_event(event: etree._Element, kind: str, ctx: Context) -> EventDef:
    """Build the EventDef of a start/end/intermediate/boundary event, reporting problems."""
    definitions = definitions_of(event, ctx)
    if len(definitions) > 1:
        ctx.problems.add(
            event, f"the event has {len(definitions)} event definitions (a multiple or parallel "
                   "multiple event); Baton runs events with at most one")
        return EventDef(type="none")
    if not definitions:
        event_type = "none"
        if event_type not in ALLOWED_TYPES[kind]:
            ctx.problems.add(event, f"a {kind} needs an event definition (message, timer, "
                                    "signal...); Baton cannot execute this element")
        return EventDef(type="none")
    definition = definitions[0]
    event_type = DEFINITION_TYPES[local_name(definition)]
    if event_type not in ALLOWED_TYPES[kind]:
        ctx.problems.add(event, f"a {event_type} {kind} is not a valid BPMN event; Baton cannot "
                                "execute this element")
    builder = _BUILDERS.get(event_type)
    if builder is None:
        return EventDef(type=event_type)
    return builder(event, definition, kind, ctx)


def _message(event: etree._Element, definition: etree._Element, kind: str,
             ctx: Context) -> EventDef:
    message_id = ref(definition, "messageRef")
    name = None
    ref_expr = None
    correlation_key = None
    if message_id is None:
        message_id = ref(event, "messageRef")  # a few tools put it on the event itself
    if message_id is None:
        if kind in CATCH_KINDS:
            ctx.problems.add(event, "the message event has no messageRef, so Baton cannot "
                                    "tell which message it waits for")
    elif message_id not in ctx.messages:
        ctx.problems.add(event, f"messageRef '{message_id}' does not name a message defined in "
                                "this file")
    else:
        name = ctx.messages[message_id]
        if is_expression_text(name):
            ref_expr = ctx.exprs.expression(name, event, "message name")
        message = ctx.elements[message_id]
        for subscription in extension_children(message, ZEEBE, "subscription"):
            correlation_key = ctx.exprs.template(subscription.get("correlationKey"), event,
                                                 "zeebe:subscription correlationKey")
    return EventDef(type="message", ref=name, ref_expr=ref_expr, correlation_key=correlation_key,
                    payload=_spiff_payload(event, definition, ctx))


def _spiff_payload(event: etree._Element, definition: etree._Element,
                   ctx: Context) -> tuple[IOParam, ...]:
    """spiffworkflow:messagePayload (throw: an expression) / messageVariable (catch: a name)."""
    params: list[IOParam] = []
    for element in (definition, event):
        for child in extension_children(element, SPIFF):
            tag = local_name(child)
            if tag == "messagePayload" and text_of(child):
                expr = ctx.exprs.expression(text_of(child), event, "spiffworkflow:messagePayload")
                params.append(IOParam(name="payload", expr=expr))
            elif tag == "messageVariable" and text_of(child):
                params.append(IOParam(name=text_of(child) or "", source="payload"))
    return tuple(params)


def _timer(event: etree._Element, definition: etree._Element, kind: str,
           ctx: Context) -> EventDef:
    for timer_kind in TIMER_KINDS:
        child = bpmn_child(definition, timer_kind)
        text = text_of(child)
        if child is None or text is None:
            continue
        timer_expr = None
        if is_expression_text(text):
            timer_expr = ctx.exprs.expression(text, event, timer_kind)
        else:
            try:
                parse_timer(timer_kind, text)
            except TimerError as exc:
                # SpiffWorkflow writes timers as Python expressions (`due_time`): accept an
                # expression unless the text was clearly meant as an ISO 8601 / cron value.
                if text[:1].upper() in "PR0123456789*@":
                    ctx.problems.add(event, str(exc))
                else:
                    timer_expr = ctx.exprs.expression(text, event, timer_kind)
        return EventDef(type="timer", timer_kind=timer_kind, timer_text=text,
                        timer_expr=timer_expr)
    ctx.problems.add(event, "the timer has no timeDate, timeDuration or timeCycle")
    return EventDef(type="timer")


def _named(kind_name: str, table_attr: str, attr: str):
    def build(event: etree._Element, definition: etree._Element, kind: str,
              ctx: Context) -> EventDef:
        table: dict[str, str] = getattr(ctx, table_attr)
        ident = ref(definition, attr)
        value = None
        ref_expr = None
        if ident is None:
            if kind_name == "signal":
                ctx.problems.add(event, "the signal event has no signalRef, so Baton cannot tell "
                                        "which signal it throws or waits for")
        elif ident not in table and kind_name == "error":
            # Camunda 7 (after Activiti) reads an errorRef naming no <error> as the code itself.
            ctx.problems.warn(event, f"errorRef '{ident}' does not name an error defined in this "
                                     "file; Baton uses it as the error code")
            value = ident
        elif ident not in table:
            article = "an" if kind_name[0] in "aeiou" else "a"
            ctx.problems.add(event, f"{attr} '{ident}' does not name {article} {kind_name} "
                                    "defined in this file")
        else:
            value = table[ident]
            if kind_name == "signal" and is_expression_text(value):
                ref_expr = ctx.exprs.expression(value, event, "signal name")
        extra = {}
        if kind_name == "error":
            extra["error_code_variable"] = vendor_attr(definition, "errorCodeVariable")
            extra["error_message_variable"] = vendor_attr(definition, "errorMessageVariable")
        elif kind_name == "escalation":
            extra["escalation_code_variable"] = vendor_attr(definition, "escalationCodeVariable")
        return EventDef(type=kind_name, ref=value, ref_expr=ref_expr, **extra)

    return build


def _link(event: etree._Element, definition: etree._Element, kind: str, ctx: Context) -> EventDef:
    name = (definition.get("name") or event.get("name") or "").strip()
    if not name:
        ctx.problems.add(event, "the link event has no name, so Baton cannot match its throw "
                                "and catch")
        return EventDef(type="link")
    return EventDef(type="link", ref=name)


def _compensate(event: etree._Element, definition: etree._Element, kind: str,
                ctx: Context) -> EventDef:
    return EventDef(type="compensate", ref=ref(definition, "activityRef"),
                    wait_for_completion=is_true(definition.get("waitForCompletion"), True))


def _conditional(event: etree._Element, definition: etree._Element, kind: str,
                 ctx: Context) -> EventDef:
    condition = bpmn_child(definition, "condition")
    text = text_of(condition)
    if text is None:
        ctx.problems.add(event, "the conditional event has no condition")
        return EventDef(type="conditional")
    language = condition.get("language") if condition is not None else None
    expr = ctx.exprs.expression(text, event, "condition", language=language)
    return EventDef(type="conditional", condition=expr)


_BUILDERS = {
    "message": _message,
    "timer": _timer,
    "signal": _named("signal", "signals", "signalRef"),
    "error": _named("error", "errors", "errorRef"),
    "escalation": _named("escalation", "escalations", "escalationRef"),
    "link": _link,
    "compensate": _compensate,
    "conditional": _conditional,
}
