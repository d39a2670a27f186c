"""User tasks: who works them (assignee, candidates, lane), when (due / follow-up dates,
escalation policy) and with which form - from Camunda 7, zeebe, plain BPMN resource roles and
Baton's own `baton:escalation` extension."""

from __future__ import annotations

import re
from typing import Any

import isodate
from lxml import etree

from engine.bpmn.context import Context
from engine.bpmn.errors import local_name
from engine.bpmn.extensions import listener_action
from engine.bpmn.parser import (
    BATON,
    BPMN,
    CAMUNDA_LIKE,
    ZEEBE,
    bpmn_child,
    bpmn_children,
    extension_children,
    frozen,
    is_true,
    text_of,
    vendor_attr,
)
from engine.graph import EscalationPolicy, FormField, UserTaskSpec

_RESOURCE_CALL = re.compile(r"^(user|group)\s*\(\s*(.*?)\s*\)$")
_FORM_TYPES = frozenset({"string", "long", "boolean", "date", "enum", "double", "integer"})
_ESCALATION_WHEN = frozenset({"unclaimed", "overdue"})


def user_task_spec(task: etree._Element, lane: str | None, ctx: Context) -> UserTaskSpec:
    exprs = ctx.exprs
    values: dict[str, str | None] = {
        "assignee": vendor_attr(task, "assignee"),
        "candidate_users": vendor_attr(task, "candidateUsers"),
        "candidate_groups": vendor_attr(task, "candidateGroups"),
        "due_date": vendor_attr(task, "dueDate"),
        "follow_up_date": vendor_attr(task, "followUpDate"),
        "priority": vendor_attr(task, "priority"),
    }
    form_key = vendor_attr(task, "formKey")
    _resource_roles(task, values, ctx)
    form_key = _zeebe(task, values) or form_key
    labels = {
        "assignee": "assignee", "candidate_users": "candidateUsers",
        "candidate_groups": "candidateGroups", "due_date": "dueDate",
        "follow_up_date": "followUpDate", "priority": "priority",
    }
    compiled: dict[str, Any] = {
        field: exprs.template(text, task, labels[field])
        for field, text in values.items() if text is not None and text.strip()
    }
    name = task.get("name")
    if name and ("${" in name or "#{" in name):
        # Camunda evaluates a task name such as "My Task ${loopCounter}"
        compiled["name"] = exprs.expression(name, task, "name")
    return UserTaskSpec(
        **compiled,
        form_key=form_key.strip() if form_key and form_key.strip() else None,
        form_fields=form_fields(task, ctx),
        timeout_listeners=_timeout_listeners(task, ctx),
        **_task_listeners(task, ctx),
        escalations=escalation_policies(task, ctx),
        lane=lane,
    )


def _resource_roles(task: etree._Element, values: dict[str, str | None], ctx: Context) -> None:
    """potentialOwner / humanPerformer with `user(x), group(y)` as Camunda 7 reads them.

    A plain name under potentialOwner is a group; under humanPerformer, the assignee.
    """
    users: list[str] = []
    groups: list[str] = []
    for role in bpmn_children(task):
        tag = local_name(role)
        if tag not in ("potentialOwner", "humanPerformer", "performer"):
            continue
        assignment = bpmn_child(role, "resourceAssignmentExpression")
        text = text_of(bpmn_child(assignment, "formalExpression")) if assignment is not None \
            else None
        if text is None:
            continue
        for part in _split_resources(text):
            match = _RESOURCE_CALL.match(part)
            kind, name = (match.group(1), match.group(2)) if match else (None, part)
            if tag == "potentialOwner":
                (users if kind == "user" else groups).append(name)
            elif kind == "group":
                groups.append(name)
            elif values["assignee"] is None:
                values["assignee"] = name
    if users:
        values["candidate_users"] = _join(values["candidate_users"], users)
    if groups:
        values["candidate_groups"] = _join(values["candidate_groups"], groups)


def _split_resources(text: str) -> list[str]:
    """Split on commas outside ${...} and parentheses."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char in "({":
            depth += 1
        elif char in ")}":
            depth = max(0, depth - 1)
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return [part for part in parts if part]


def _join(existing: str | None, names: list[str]) -> str:
    return ", ".join(([existing] if existing else []) + names)


def _zeebe(task: etree._Element, values: dict[str, str | None]) -> str | None:
    """zeebe:assignmentDefinition / taskSchedule / priorityDefinition; returns the form key."""
    for assignment in extension_children(task, ZEEBE, "assignmentDefinition"):
        for attribute, field in (("assignee", "assignee"), ("candidateUsers", "candidate_users"),
                                 ("candidateGroups", "candidate_groups")):
            if assignment.get(attribute):
                values[field] = assignment.get(attribute)
    for schedule in extension_children(task, ZEEBE, "taskSchedule"):
        if schedule.get("dueDate"):
            values["due_date"] = schedule.get("dueDate")
        if schedule.get("followUpDate"):
            values["follow_up_date"] = schedule.get("followUpDate")
    for priority in extension_children(task, ZEEBE, "priorityDefinition"):
        if priority.get("priority"):
            values["priority"] = priority.get("priority")
    form_key = None
    for form in extension_children(task, ZEEBE, "formDefinition"):
        form_key = form.get("formKey") or form.get("formId") or form.get("externalReference")
    return form_key


# --------------------------------------------------------------------------- forms


def form_fields(task: etree._Element, ctx: Context) -> tuple[FormField, ...]:
    fields = []
    for form_data in extension_children(task, CAMUNDA_LIKE, "formData"):
        for field_el in form_data:
            if isinstance(field_el.tag, str) and local_name(field_el) == "formField":
                field = _form_field(task, field_el, ctx)
                if field is not None:
                    fields.append(field)
    return tuple(fields)


def _form_field(task: etree._Element, field_el: etree._Element, ctx: Context) -> FormField | None:
    field_id = (field_el.get("id") or "").strip()
    if not field_id:
        ctx.problems.add(task, "a camunda:formField has no id")
        return None
    field_type = (field_el.get("type") or "string").strip()
    if field_type not in _FORM_TYPES:
        ctx.problems.warn(task, f"form field '{field_id}' has type '{field_type}', which Baton "
                                "shows as text")
    default_text = field_el.get("defaultValue")
    default_expr = None
    default: Any = default_text
    if default_text is not None and ("${" in default_text or "#{" in default_text):
        default_expr = ctx.exprs.expression(default_text, task,
                                            f"defaultValue of form field '{field_id}'")
        default = None
    constraints: dict[str, Any] = {}
    required = readonly = False
    enum_values: list[tuple[str, str]] = []
    for child in field_el:
        if not isinstance(child.tag, str):
            continue
        tag = local_name(child)
        if tag == "validation":
            for constraint in child:
                if not isinstance(constraint.tag, str):
                    continue
                name = (constraint.get("name") or "").strip()
                config = constraint.get("config")
                if name == "required":
                    required = config is None or is_true(config, True)
                elif name == "readonly":
                    readonly = config is None or is_true(config, True)
                elif name:
                    constraints[name] = _number_or_text(config)
        elif tag == "value":
            value_id = (child.get("id") or "").strip()
            enum_values.append((value_id, (child.get("name") or value_id).strip()))
    return FormField(
        id=field_id, label=field_el.get("label"), type=field_type, default=default,
        default_expr=default_expr, required=required, readonly=readonly,
        constraints=frozen(constraints), enum_values=tuple(enum_values),
    )


def _number_or_text(text: str | None) -> Any:
    if text is None:
        return None
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


# --------------------------------------------------------------------------- timeouts


def _timeout_listeners(task: etree._Element, ctx: Context) -> tuple[tuple[str, str, str], ...]:
    listeners = []
    for listener in extension_children(task, CAMUNDA_LIKE, "taskListener"):
        if (listener.get("event") or "").strip() != "timeout":
            continue
        listener_id = (listener.get("id") or "").strip()
        timer = next((c for c in listener if isinstance(c.tag, str)
                      and etree.QName(c).namespace == BPMN
                      and local_name(c) == "timerEventDefinition"), None)
        found = None
        if timer is not None:
            for kind in ("timeDate", "timeDuration", "timeCycle"):
                text = text_of(bpmn_child(timer, kind))
                if text:
                    found = (kind, text)
                    break
        if not listener_id or found is None:
            ctx.problems.add(task, "a camunda:taskListener with event=\"timeout\" needs an id and "
                                   "a timerEventDefinition with timeDate, timeDuration or timeCycle")
            continue
        listeners.append((listener_id, found[0], found[1]))
    return tuple(listeners)


_TASK_OBJECT = re.compile(r"(?<![\w.])task\s*\.")


def _task_listeners(task: etree._Element, ctx: Context) -> dict[str, Any]:
    """camunda:taskListener for `create` and `complete` whose expression or inline script
    Baton can run (typically execution.setVariable calls); the others are deploy warnings.
    Camunda's `task` object (DelegateTask) is not offered: such listeners are ignored."""
    found: dict[str, list[Any]] = {"create": [], "complete": []}
    for listener in extension_children(task, CAMUNDA_LIKE, "taskListener"):
        event = (listener.get("event") or "").strip()
        if event == "timeout":
            continue  # a job, see _timeout_listeners
        if event not in found:
            ctx.problems.warn(task, f"a camunda:taskListener for event '{event}' is ignored by "
                                    "Baton (it runs create and complete task listeners)")
            continue
        script = next((c for c in listener if isinstance(c.tag, str)
                       and local_name(c) == "script"), None)
        text = listener.get("expression") or ("".join(script.itertext()) if script is not None
                                              else "")
        if _TASK_OBJECT.search(text):
            ctx.problems.warn(task, f"the {event} taskListener uses Camunda's task object "
                                    "(task.…), which Baton does not offer; Baton ignores it")
            continue
        compiled = listener_action(listener, task, ctx, f"{event} taskListener")
        if compiled is not None:
            found[event].append(compiled)
    return {f"listeners_{event}": tuple(scripts) for event, scripts in found.items() if scripts}


# --------------------------------------------------------------------------- escalation


def escalation_policies(task: etree._Element, ctx: Context) -> tuple[EscalationPolicy, ...]:
    """<baton:escalation after="PT4H" when="unclaimed" addGroups="a,b" .../>"""
    policies = []
    for element in extension_children(task, BATON, "escalation"):
        policy = _escalation(task, element, ctx)
        if policy is not None:
            policies.append(policy)
    return tuple(policies)


def _escalation(task: etree._Element, element: etree._Element,
                ctx: Context) -> EscalationPolicy | None:
    after = (element.get("after") or "").strip()
    when = (element.get("when") or "unclaimed").strip()
    ok = True
    if not after:
        ctx.problems.add(task, "baton:escalation needs an 'after' duration such as PT4H")
        ok = False
    else:
        try:
            isodate.parse_duration(after)
        except (isodate.ISO8601Error, ValueError):
            ctx.problems.add(task, f"baton:escalation after={after!r} is not an ISO 8601 "
                                   "duration such as PT4H or P2D")
            ok = False
    if when not in _ESCALATION_WHEN:
        ctx.problems.add(task, f"baton:escalation when={when!r} must be 'unclaimed' or 'overdue'")
        ok = False
    priority_text = (element.get("priority") or "").strip()
    priority = None
    if priority_text:
        try:
            priority = int(priority_text)
        except ValueError:
            ctx.problems.add(task, f"baton:escalation priority={priority_text!r} is not a whole "
                                   "number")
            ok = False
    add_groups = tuple(g.strip() for g in (element.get("addGroups") or "").split(",") if g.strip())
    reassign_user = (element.get("reassignUser") or "").strip() or None
    reassign_group = (element.get("reassignGroup") or "").strip() or None
    if ok and not (add_groups or reassign_user or reassign_group or priority is not None):
        ctx.problems.add(task, "baton:escalation does nothing: give addGroups, reassignUser, "
                               "reassignGroup or priority")
        ok = False
    if not ok:
        return None
    return EscalationPolicy(after=after, when=when, add_groups=add_groups,
                            reassign_user=reassign_user, reassign_group=reassign_group,
                            priority=priority)
