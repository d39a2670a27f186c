"""Event definitions: what an event waits for or throws, resolved to the names the runtime
matches on (message name, signal name, error code, escalation code, link name)."""

from __future__ import annotations

from lxml import etree

from engine.bpmn.context import Context
from engine.bpmn.elements import CATCH_KINDS, EVENT_TYPES
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

# What the definitions of a multiple event may be (catch: any of them fires the event, or all
# with parallelMultiple; throw: all are thrown).
MULTIPLE_CATCH_TYPES = frozenset({"message", "signal", "timer", "conditional"})
MULTIPLE_THROW_TYPES = frozenset({"message", "signal"})
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
    """Build the EventDef of a start/end/intermediate/boundary event, reporting problems.
    An event with several definitions gives EventDef(type="multiple"); its definitions come
    from `compile_event_parts`."""
    return compile_event_parts(event, kind, ctx)[0]


def compile_event_parts(event: etree._Element, kind: str,
                        ctx: Context) -> tuple[EventDef, tuple[EventDef, ...]]:
    """The event's EventDef and, for a multiple event (BPMN 2.0.2 10.5.1: several event
    definitions on one event), every definition it is made of."""
    definitions = definitions_of(event, ctx)
    if len(definitions) > 1:
        return EventDef(type="multiple"), _multiple_parts(event, definitions, kind, ctx)
    if not definitions:
        event_type = "none"
        if event_type not in EVENT_TYPES[kind]:
            ctx.problems.add(event, f"a {kind} needs an event definition (message, timer, "
                                    "signal...); Baton cannot execute this element")
        return EventDef(type="none"), ()
    return _definition(event, definitions[0], kind, ctx), ()


def _definition(event: etree._Element, definition: etree._Element, kind: str,
                ctx: Context) -> EventDef:
    event_type = DEFINITION_TYPES[local_name(definition)]
    if event_type not in EVENT_TYPES[kind]:
        ctx.problems.add(event, f"a {event_type} {kind} is not a valid BPMN event; Baton cannot "
                                "execute this element")
    builder = _BUILDERS.get(event_type)
    if builder is None:
        return EventDef(type=event_type)
    return builder(event, definition, kind, ctx)


def _multiple_parts(event: etree._Element, definitions: list[etree._Element], kind: str,
                    ctx: Context) -> tuple[EventDef, ...]:
    """The definitions of a multiple event: a catch waits for messages, signals, timers and
    conditions; a throw sends messages and signals."""
    allowed = MULTIPLE_CATCH_TYPES if kind in CATCH_KINDS else MULTIPLE_THROW_TYPES
    parts = []
    for definition in definitions:
        event_type = DEFINITION_TYPES[local_name(definition)]
        if event_type not in allowed:
            article = "an" if event_type[0] in "aeiou" else "a"
            ctx.problems.add(event, f"the multiple {kind} has {article} {event_type} event "
                                    "definition; Baton runs multiple events made of "
                                    f"{', '.join(sorted(allowed))} definitions")
            continue
        part = _definition(event, definition, kind, ctx)
        if part.type in ("message", "signal") and part.ref is None and part.ref_expr is None \
                and kind not in CATCH_KINDS:
            ctx.problems.add(event, f"a {part.type} definition of the multiple {kind} names no "
                                    f"{part.type}, so Baton cannot tell what it throws")
        parts.append(part)
    return tuple(parts)


def _fallback_name(event: etree._Element, what: str, ctx: Context) -> str | None:
    """The event's own name, used as the message/signal name when the definition refers to
    none (old Signavio exports; SpiffWorkflow does the same). None when it has no name."""
    name = (event.get("name") or "").strip()
    if not name:
        return None
    ctx.problems.warn(event, f"the {what} event has no {what}Ref; Baton uses the event's name "
                             f"'{name}' as the {what} name (as SpiffWorkflow does)")
    return name


def _message(event: etree._Element, definition: etree._Element, kind: str,
             ctx: Context) -> EventDef:
    message_id = ref(definition, "messageRef")
    name = None
    ref_expr = None
    correlation_key = None
    if message_id is None:
        message_id = ref(event, "messageRef")  # a few tools put it on the event itself
    if message_id is None:
        # (a throw without messageRef may have an implementation, an external task or a
        # connector, that sends the message: nodes.py decides whether its name is used)
        if kind in CATCH_KINDS:
            name = _fallback_name(event, "message", ctx)
            if name is None:
                ctx.problems.add(event, "the message event has no messageRef and no name, so "
                                        "Baton cannot tell which message it waits for")
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
                value = _fallback_name(event, "signal", ctx)
                if value is None and kind in CATCH_KINDS:
                    ctx.problems.warn(event, _unnamed_signal_catch(event, kind))
                elif value is None:
                    ctx.problems.add(event, "the signal event has no signalRef and no name, so "
                                            "Baton cannot tell which signal it throws")
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


def _unnamed_signal_catch(event: etree._Element, kind: str) -> str:
    """Why a signal catch event naming no signal is deployed all the same, and what it does.

    BPMN 2.0.2 10.5.5 makes signalRef optional (the XSD too) and SpiffWorkflow parses such
    events (signal name None); Camunda 7 refuses them. A thrown signal without a name cannot
    be sent, so that stays an error; a catch without one is only an event nothing can reach,
    as a receive task without messageRef is (rule receive-task-message): the diagram runs,
    the path through the event is dead, and the warning says so (strict mode refuses it)."""
    parent = event.getparent()
    definitions = [c for c in bpmn_children(event) if local_name(c) in DEFINITION_TYPES]
    if len(definitions) > 1:
        effect = "this definition of the multiple event never fires (the others still do)"
    elif kind == "boundaryEvent":
        effect = "this boundary event never fires"
    elif kind == "startEvent" and parent is not None and is_true(parent.get("triggeredByEvent")):
        effect = "this event subprocess never starts"
    elif kind == "startEvent":
        effect = "no signal starts the process at this start event"
    else:
        effect = ("a token waits there until it is moved on through the API (Engine.trigger, "
                  "Camunda's runtimeService.signal)")
    return ("the signal catch event has no signalRef and no name, so no signal can ever "
            f"trigger it: {effect}")


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
