"""Vendor extensions on activities: Camunda 7 (and Activiti/Flowable), zeebe, SpiffWorkflow
and Baton's own, read into the Node fields they mean.

Modelers store the same ideas under different names - how a service task is implemented,
input/output mappings, async continuations, called processes, multi-instance collections.
Each reader below returns plain keyword arguments for `engine.graph.Node`, so the compiler
merges them without knowing which vendor a diagram came from.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from engine.bpmn.context import Context
from engine.bpmn.errors import local_name
from engine.bpmn.expr import is_expression_text
from engine.bpmn.parser import (
    BATON,
    BPMN,
    CAMUNDA_LIKE,
    SPIFF,
    ZEEBE,
    extension_children,
    is_true,
    script_text,
    text_of,
    vendor_attr,
)
from engine.expressions import Script
from engine.graph import IOParam
from engine.separation import EXT_KEY as SEPARATION_KEY

_SIMPLE_DELEGATE = re.compile(r"^\s*[$#]\{\s*([A-Za-z_][\w.]*)\s*\}\s*$")


# --------------------------------------------------------------------------- implementation


def implementation(element: etree._Element, ctx: Context, *,
                   owner: etree._Element | None = None) -> dict[str, Any]:
    """How a service/send/businessRule task (or a message throw) is carried out.

    `element` carries the attributes (the task, or a messageEventDefinition); problems are
    reported on `owner` (the task or event) when given.
    """
    owner = owner if owner is not None else element
    fields: dict[str, Any] = {}
    connector = element.get(f"{{{BATON}}}connector")
    camunda_type = vendor_attr(element, "type")
    expression = vendor_attr(element, "expression")
    delegate = vendor_attr(element, "delegateExpression")
    java_class = vendor_attr(element, "class")
    if connector:
        fields.update(task_type="connector", topic=connector.strip())
    elif camunda_type and camunda_type.strip() == "external":
        topic = vendor_attr(element, "topic")
        if not topic:
            ctx.problems.add(owner, "camunda:type=\"external\" needs a camunda:topic")
        fields.update(task_type="external", topic=(topic or "").strip() or None)
    elif expression is not None and "execution" in expression:
        # run for its effect: ${execution.setVariable('x', 1)} (value -> resultVariable)
        fields.update(task_type="expression",
                      script=ctx.exprs.action(expression, owner, "camunda:expression"))
    elif expression is not None:
        fields.update(task_type="expression",
                      expression=ctx.exprs.expression(expression, owner, "camunda:expression"))
    elif delegate is not None:
        match = _SIMPLE_DELEGATE.match(delegate)
        topic = match.group(1) if match else delegate.strip()
        fields.update(task_type="delegate", topic=topic)
    elif java_class is not None:
        fields.update(task_type="delegate", topic=java_class.strip())
    result_variable = vendor_attr(element, "resultVariable")
    if result_variable:
        fields["result_variable"] = result_variable.strip()
    task_priority = (vendor_attr(element, "taskPriority") or "").strip()
    if task_priority:
        try:
            fields["ext"] = {"priority": int(task_priority)}
        except ValueError:
            ctx.problems.warn(owner, f"camunda:taskPriority {task_priority!r} is not a whole "
                                     "number; Baton ignores it")
    for connector_el in extension_children(element, CAMUNDA_LIKE, "connector"):
        for child in connector_el:
            if isinstance(child.tag, str) and local_name(child) == "connectorId" and text_of(child):
                fields.update(task_type="connector", topic=text_of(child))
    for definition in extension_children(element, ZEEBE, "taskDefinition"):
        task_type = (definition.get("type") or "").strip()
        if not task_type:
            ctx.problems.add(owner, "zeebe:taskDefinition has no type")
        fields.update(task_type="external", topic=task_type or None)
    for operator in extension_children(element, SPIFF, "serviceTaskOperator"):
        name = (operator.get("id") or operator.get("name") or "").strip()
        if name:
            fields.update(task_type="connector", topic=name)
    return fields


# --------------------------------------------------------------------------- input / output


def io_mappings(element: etree._Element, ctx: Context) -> dict[str, Any]:
    """camunda:inputOutput and zeebe:ioMapping -> Node.inputs / Node.outputs."""
    inputs: list[IOParam] = []
    outputs: list[IOParam] = []
    for io in extension_children(element, CAMUNDA_LIKE, "inputOutput"):
        for param in io:
            if not isinstance(param.tag, str):
                continue
            tag = local_name(param)
            if tag not in ("inputParameter", "outputParameter"):
                continue
            name = (param.get("name") or "").strip()
            if not name:
                ctx.problems.add(element, f"camunda:{tag} has no name")
                continue
            target = inputs if tag == "inputParameter" else outputs
            target.append(_camunda_param(name, param, element, ctx, local=tag == "inputParameter"))
    for mapping in extension_children(element, ZEEBE, "ioMapping"):
        for param in mapping:
            if not isinstance(param.tag, str) or local_name(param) not in ("input", "output"):
                continue
            name = (param.get("target") or "").strip()
            source = param.get("source")
            if not name:
                ctx.problems.add(element, f"zeebe:{local_name(param)} has no target")
                continue
            expr = ctx.exprs.template(source, element, f"zeebe:{local_name(param)} '{name}'")
            target = inputs if local_name(param) == "input" else outputs
            target.append(IOParam(name=name, expr=expr, local=local_name(param) == "input"))
    fields: dict[str, Any] = {}
    if inputs:
        fields["inputs"] = tuple(inputs)
    if outputs:
        fields["outputs"] = tuple(outputs)
    return fields


def _camunda_param(name: str, param: etree._Element, owner: etree._Element, ctx: Context, *,
                   local: bool) -> IOParam:
    what = f"camunda:{local_name(param)} '{name}'"
    value_element = next((c for c in param if isinstance(c.tag, str)), None)
    if value_element is not None:
        tag = local_name(value_element)
        if tag == "script":
            language = value_element.get("scriptFormat")
            return IOParam(name=name, local=local,
                           expr=ctx.exprs.expression(text_of(value_element), owner, what,
                                                     language=language))
        return IOParam(name=name, value=_literal_value(value_element), local=local)
    text = text_of(param)
    if text is not None and is_expression_text(text):
        return IOParam(name=name, expr=ctx.exprs.expression(text, owner, what), local=local)
    return IOParam(name=name, value=text, local=local)


def _literal_value(element: etree._Element) -> Any:
    """camunda:list / camunda:map / camunda:value as plain Python values."""
    tag = local_name(element)
    children = [c for c in element if isinstance(c.tag, str)]
    if tag == "list":
        return [_literal_value(c) for c in children]
    if tag == "map":
        return {(c.get("key") or ""): _literal_value(c) for c in children}
    if children:
        return _literal_value(children[0])
    return text_of(element)


# --------------------------------------------------------------------------- async, retries


def async_flags(element: etree._Element) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    before = vendor_attr(element, "asyncBefore") or vendor_attr(element, "async")
    if is_true(before):
        fields["async_before"] = True
    if is_true(vendor_attr(element, "asyncAfter")):
        fields["async_after"] = True
    for retry in extension_children(element, CAMUNDA_LIKE, "failedJobRetryTimeCycle"):
        if text_of(retry):
            fields["retry_cycle"] = text_of(retry)
    return fields


# --------------------------------------------------------------------------- call activity


def call_activity(element: etree._Element, ctx: Context) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    called = (element.get("calledElement") or "").strip()
    call_in: list[IOParam] = []
    call_out: list[IOParam] = []
    for zeebe_called in extension_children(element, ZEEBE, "calledElement"):
        called = called or (zeebe_called.get("processId") or "").strip()
        # zeebe copies all variables both ways unless told not to (both default to true)
        if is_true(zeebe_called.get("propagateAllParentVariables"), True):
            call_in.append(IOParam(name="*", all_variables=True))
        if is_true(zeebe_called.get("propagateAllChildVariables"), True):
            call_out.append(IOParam(name="*", all_variables=True))
    if not called:
        called = signavio_called_process(element) or ""
    if not called:
        ctx.problems.add(element, "the call activity has no calledElement, so Baton does not "
                                  "know which process to start")
    elif is_expression_text(called):
        fields["called_element_expr"] = ctx.exprs.expression(called, element, "calledElement")
    else:
        fields["called_element"] = called.rsplit(":", 1)[-1] if ":" in called else called
    for mapping in extension_children(element, CAMUNDA_LIKE):
        tag = local_name(mapping)
        if tag not in ("in", "out"):
            continue
        business_key = mapping.get("businessKey")
        if tag == "in" and business_key is not None:
            fields["business_key_expr"] = ctx.exprs.template(business_key, element,
                                                             "camunda:in businessKey")
            continue
        param = _call_param(mapping, element, ctx)
        if param is not None:
            (call_in if tag == "in" else call_out).append(param)
    if call_in:
        fields["call_in"] = tuple(call_in)
    if call_out:
        fields["call_out"] = tuple(call_out)
    binding = vendor_attr(element, "calledElementBinding")
    version = vendor_attr(element, "calledElementVersion")
    if binding or version:
        fields.setdefault("ext", {})["called_element_binding"] = binding
        fields["ext"]["called_element_version"] = version
    return fields


SIGNAVIO = "http://www.signavio.com"


def signavio_called_process(element: etree._Element) -> str | None:
    """The process a Signavio export's call activity calls, when it has no calledElement.

    Signavio links a call activity to its subprocess diagram by name, in the metadata entry
    `<signavio:signavioMetaData metaKey="entry" metaValue="SP"/>`; when the export carries
    that process (a `process` named, or with the id, "SP" in the same file), the call runs
    it, as older SpiffWorkflow releases did with such exports. None when there is no entry
    or no such process."""
    entry = next((m.get("metaValue") for m in extension_children(element, SIGNAVIO,
                                                                  "signavioMetaData")
                  if m.get("metaKey") == "entry"), None)
    if not entry or not entry.strip():
        return None
    entry = entry.strip()
    processes = element.getroottree().getroot().iterchildren(f"{{{BPMN}}}process")
    matches = [p.get("id") for p in processes
               if p.get("id") and (p.get("id") == entry or (p.get("name") or "").strip() == entry)]
    return matches[0] if len(matches) == 1 else None


def _call_param(mapping: etree._Element, owner: etree._Element, ctx: Context) -> IOParam | None:
    tag = f"camunda:{local_name(mapping)}"
    local = is_true(mapping.get("local"))
    if (mapping.get("variables") or "").strip() == "all":
        return IOParam(name="*", all_variables=True, local=local)
    target = (mapping.get("target") or "").strip()
    source = mapping.get("source")
    source_expression = mapping.get("sourceExpression")
    if not target:
        ctx.problems.add(owner, f"{tag} has no target")
        return None
    if source_expression is not None:
        expr = ctx.exprs.expression(source_expression, owner, f"{tag} sourceExpression")
        return IOParam(name=target, expr=expr, local=local)
    if not source or not source.strip():
        ctx.problems.add(owner, f"{tag} '{target}' has neither source nor sourceExpression")
        return None
    return IOParam(name=target, source=source.strip(), local=local)


# --------------------------------------------------------------------------- ext data


def extra_data(element: etree._Element, ctx: Context) -> dict[str, Any]:
    """Documentation, camunda:properties and other data kept for the UI and connectors."""
    ext: dict[str, Any] = {}
    documentation = ctx.documentation(element)
    if documentation:
        ext["documentation"] = documentation
    properties: dict[str, str] = {}
    for holder in extension_children(element, (*CAMUNDA_LIKE, SPIFF, ZEEBE), "properties"):
        for prop in holder:
            if isinstance(prop.tag, str) and local_name(prop) == "property":
                properties[prop.get("name") or ""] = prop.get("value") or text_of(prop) or ""
    if properties:
        ext["properties"] = properties
    separate = separation_of_duties(element, properties, ctx)
    if separate:
        ext[SEPARATION_KEY] = separate
    headers = {h.get("key") or "": h.get("value") or ""
               for holder in extension_children(element, ZEEBE, "taskHeaders")
               for h in holder if isinstance(h.tag, str)}
    if headers:
        ext["headers"] = headers
    fields = {}
    for field in extension_children(element, CAMUNDA_LIKE, "field"):
        value = field.get("stringValue") or field.get("expression")
        if value is None:
            value = text_of(field)
        fields[field.get("name") or ""] = value
    if fields:
        ext["fields"] = fields
    decision = vendor_attr(element, "decisionRef")
    for spiff_decision in extension_children(element, SPIFF, "calledDecisionId"):
        decision = decision or text_of(spiff_decision)
    for zeebe_decision in extension_children(element, ZEEBE, "calledDecision"):
        decision = decision or zeebe_decision.get("decisionId")
        zeebe_result = (zeebe_decision.get("resultVariable") or "").strip()
        if zeebe_result:
            ext["decision_result_variable"] = zeebe_result
            ext["map_decision_result"] = "value"  # Zeebe stores the DMN value as it is
    if decision:
        ext["decision_ref"] = decision.strip()
    map_result = (vendor_attr(element, "mapDecisionResult") or "").strip()
    if map_result:
        ext["map_decision_result"] = map_result  # camunda:mapDecisionResult
    for spiff_tag in ("instructionsForEndUser", "unitTests"):
        for item in extension_children(element, SPIFF, spiff_tag):
            if text_of(item):
                ext[spiff_tag] = text_of(item)
    return ext


# The extension property that means baton:separateFrom (Camunda 7 / zeebe modelers'
# "Extension properties" panel, for those who cannot write Baton's own attribute). Only the
# prefixed name: a bare "separateFrom" property may mean something else to another tool.
SEPARATION_PROPERTY = "baton:separateFrom"
_ID_SEPARATORS = re.compile(r"[\s,]+")


def separation_of_duties(element: etree._Element, properties: dict[str, str],
                         ctx: Context) -> tuple[str, ...]:
    """`baton:separateFrom="review_claim other_task"` on a user task: the activity ids whose
    completer may not claim or complete this task in the same instance (see
    engine.separation). Also read from an extension property of that name, so diagrams
    from Camunda 7 or zeebe modelers can say it without editing the XML.

    Only the list is read here; that each id names another user task of the same process is
    checked on the linked graph (engine.bpmn.validation), where every node is known. On any
    other element the declaration would silently guard nothing, so it is an error there.
    """
    texts = [text for text in (element.get(f"{{{BATON}}}separateFrom"),
                               properties.get(SEPARATION_PROPERTY)) if text is not None]
    if not texts:
        return ()
    ids = tuple(dict.fromkeys(part for text in texts for part in _ID_SEPARATORS.split(text)
                              if part))
    if local_name(element) != "userTask":
        ctx.problems.add(element, "baton:separateFrom applies to user tasks only; nobody "
                                  f"completes a {local_name(element)}, so it would guard "
                                  "nothing")
        return ()
    if not ids:
        ctx.problems.warn(element, "baton:separateFrom is empty, so the task is not separated "
                                   "from any other")
    return ids


# Node/Flow/ProcessGraph field per listener event.
LISTENER_FIELDS = {"start": "listeners_start", "end": "listeners_end", "take": "listeners"}


def execution_listeners(element: etree._Element, ctx: Context,
                        events: tuple[str, ...] = ("start", "end")) -> dict[str, Any]:
    """camunda:executionListener -> `listeners_start` / `listeners_end` (`listeners` for the
    `take` event of a sequence flow): compiled actions, in document order.

    An `expression` or an inline `camunda:script` runs in the sandbox (it may call
    execution.setVariable). Listeners are side effects outside the drawn flow, so one Baton
    cannot run (a Java class, a delegate expression, a script resource, a text the sandbox
    refuses, an event it does not fire) is a deploy warning, not a reason to refuse the
    whole diagram."""
    found: dict[str, list[Script]] = {event: [] for event in events}
    for listener in extension_children(element, CAMUNDA_LIKE, "executionListener"):
        event = (listener.get("event") or "").strip() or ("take" if "take" in events else "")
        if event not in found:
            ctx.problems.warn(element, f"a camunda:executionListener for event '{event}' is "
                                       f"ignored by Baton (it runs {'/'.join(events)} "
                                       "listeners here)")
            continue
        compiled = listener_action(listener, element, ctx, f"{event} executionListener")
        if compiled is not None:
            found[event].append(compiled)
    return {LISTENER_FIELDS[event]: tuple(scripts) for event, scripts in found.items()
            if scripts}


def listener_action(listener: etree._Element, element: etree._Element, ctx: Context,
                    what: str) -> Script | None:
    """The action of one camunda:executionListener / camunda:taskListener: its `expression`
    or inline `camunda:script`; None, with a deploy warning, when Baton cannot run it."""
    expression = listener.get("expression")
    script = next((child for child in listener if isinstance(child.tag, str)
                   and local_name(child) == "script"), None)
    if expression is not None:
        return ctx.exprs.action(expression, element, what, warn=True)
    if script is not None and script.get("resource") is None:
        return ctx.exprs.action(script_text(script), element, what, warn=True,
                                language=script.get("scriptFormat"))
    kind = ("a script resource" if script is not None
            else "a delegate expression" if listener.get("delegateExpression")
            else "a Java class" if listener.get("class") else "nothing to run")
    ctx.problems.warn(element, f"the {what} with {kind} is ignored by Baton (it runs listener "
                               "expressions and inline scripts)")
    return None


def spiff_scripts(element: etree._Element, ctx: Context) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for tag, field in (("preScript", "pre_script"), ("postScript", "post_script")):
        for script in extension_children(element, SPIFF, tag):
            compiled = ctx.exprs.script(script_text(script), element, f"spiffworkflow:{tag}")
            if compiled is not None:
                fields[field] = compiled
    return fields
