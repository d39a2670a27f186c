"""`/history/process-instance`: every instance, running or ended, as Camunda's history
service shows it (Cockpit-like tools and clients that wait for an instance to finish read
it), and `/version`.

Baton keeps ended instances in the same table as running ones, so this is the instance
query without the "running only" of `/process-instance`, answered in Camunda's
HistoricProcessInstance shape. An instance cancelled from outside (the REST API, a
modification that cancels everything) and one ended by an error its caller catches are
both `terminated` in Baton; both show as EXTERNALLY_TERMINATED.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify

from engine import NotFound
from tasklist_ui.engine_rest import bp
from tasklist_ui.engine_rest.auth import user_id
from tasklist_ui.engine_rest.common import QuerySource, count, engine, like, page
from tasklist_ui.engine_rest.dto import TenantLookup
from tasklist_ui.engine_rest.errors import invalid, not_found
from tasklist_ui.engine_rest.values import format_date

# the Camunda 7 REST API level whose subset Baton serves (the lock-by-id endpoint is 7.17's,
# createTime sorting of external tasks 7.21's)
CAMUNDA_API_VERSION = "7.21.0"

STATES = {"running": "ACTIVE", "completed": "COMPLETED", "terminated": "EXTERNALLY_TERMINATED",
          "failed": "INTERNALLY_TERMINATED"}


@bp.get("/version")
def version() -> Any:
    """The REST API version, which Camunda Modeler and clients ask to know what they may
    use; `batonVersion` says which Baton answers."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    try:
        baton = package_version("baton-bpmn")
    except PackageNotFoundError:
        baton = None
    return jsonify({"version": CAMUNDA_API_VERSION, "batonVersion": baton})


_FILTERS = (
    "processInstanceId", "processInstanceIds", "processDefinitionId", "processDefinitionKey",
    "processDefinitionKeyIn", "processDefinitionKeyNotIn", "processInstanceBusinessKey",
    "processInstanceBusinessKeyLike", "superProcessInstanceId", "finished", "unfinished",
    "active", "completed", "externallyTerminated", "internallyTerminated", "startedBefore",
    "startedAfter", "finishedBefore", "finishedAfter", "tenantIdIn", "withoutTenantId")


def _instances() -> list[Any]:
    q = QuerySource(_FILTERS)
    filters = {k: v for k, v in (("id", q.text("processInstanceId")),
                                 ("definition_id", q.text("processDefinitionId")),
                                 ("key", q.text("processDefinitionKey")),
                                 ("business_key", q.text("processInstanceBusinessKey")),
                                 ("parent_id", q.text("superProcessInstanceId")))
               if v is not None}
    tests: list[Any] = []
    for param, keep in (("processInstanceIds", True), ("processDefinitionKeyIn", True),
                        ("processDefinitionKeyNotIn", False)):
        names = q.names(param)
        if names is not None:
            attr = "id" if param == "processInstanceIds" else "key"
            tests.append(lambda r, a=attr, n=frozenset(names), k=keep: (getattr(r, a) in n) == k)
    pattern = q.text("processInstanceBusinessKeyLike")
    if pattern is not None:
        tests.append(lambda r: like(pattern, r.business_key))
    states = {"finished": lambda r: r.status != "running",
              "unfinished": lambda r: r.status == "running",
              "active": lambda r: r.status == "running",
              "completed": lambda r: r.status == "completed",
              "externallyTerminated": lambda r: r.status == "terminated",
              "internallyTerminated": lambda r: r.status == "failed"}
    for param, test in states.items():
        if q.flag(param):
            tests.append(test)
    for param, attr, before in (("startedBefore", "started", True),
                                ("startedAfter", "started", False),
                                ("finishedBefore", "ended", True),
                                ("finishedAfter", "ended", False)):
        when = q.date(param)
        if when is not None:
            tests.append(lambda r, a=attr, w=when, b=before: getattr(r, a) is not None
                         and (getattr(r, a) <= w if b else getattr(r, a) >= w))
    rows = [r for r in engine().instances(user=user_id(), **filters)
            if all(test(r) for test in tests)]
    tenants, without = q.names("tenantIdIn"), q.flag("withoutTenantId")
    if tenants is not None and without:
        raise invalid("tenantIdIn and withoutTenantId exclude each other")
    if tenants is not None or without:
        lookup = TenantLookup(engine())
        wanted = set(tenants) if tenants is not None else {None}
        rows = [r for r in rows if lookup.of(r.definition_id) in wanted]
    return rows


class _Roots:
    """The root instance of a call hierarchy, read once per answer (trusted reads: the
    caller was allowed to see the instance that names its parent)."""

    def __init__(self) -> None:
        self.parent: dict[str, str | None] = {}

    def of(self, view: Any) -> str:
        current, parent = view.id, view.parent_id
        seen = {current}
        while parent is not None and parent not in seen:
            seen.add(parent)
            current = parent
            if parent not in self.parent:
                try:
                    self.parent[parent] = engine().instance(parent).parent_id
                except NotFound:
                    self.parent[parent] = None
            parent = self.parent[parent]
        return current


def _historic(v: Any, lookup: TenantLookup, roots: _Roots) -> dict[str, Any]:
    rec = lookup.record(v.definition_id)
    duration = None
    if v.ended is not None and v.started is not None:
        duration = int((v.ended - v.started).total_seconds() * 1000)
    return {
        "id": v.id, "businessKey": v.business_key, "processDefinitionId": v.definition_id,
        "processDefinitionKey": v.key, "processDefinitionName": getattr(rec, "name", None),
        "processDefinitionVersion": v.version, "startTime": format_date(v.started),
        "endTime": format_date(v.ended), "removalTime": None, "durationInMillis": duration,
        "startUserId": None, "startActivityId": None, "deleteReason": None,
        "rootProcessInstanceId": roots.of(v), "superProcessInstanceId": v.parent_id,
        "superCaseInstanceId": None, "caseInstanceId": None,
        "tenantId": getattr(rec, "tenant_id", None),
        "state": STATES.get(v.status, v.status.upper()),
    }


def _duration(v: Any) -> float | None:
    if v.ended is None or v.started is None:
        return None
    return (v.ended - v.started).total_seconds()


_SORT = {"instanceId": lambda v: v.id, "definitionId": lambda v: v.definition_id,
         "definitionKey": lambda v: v.key, "definitionVersion": lambda v: v.version,
         "businessKey": lambda v: v.business_key, "startTime": lambda v: v.started,
         "endTime": lambda v: v.ended, "duration": _duration}


@bp.get("/history/process-instance")
def historic_instances() -> Any:
    lookup = TenantLookup(engine())
    sort = dict(_SORT, tenantId=lambda v: lookup.of(v.definition_id))
    roots = _Roots()
    return jsonify([_historic(v, lookup, roots) for v in page(_instances(), sort)])


@bp.get("/history/process-instance/count")
def historic_instances_count() -> Any:
    return jsonify(count(_instances()))


@bp.get("/history/process-instance/<instance_id>")
def historic_instance(instance_id: str) -> Any:
    try:
        view = engine().instance(instance_id, user=user_id())
    except NotFound:
        raise not_found(f"Historic process instance with id {instance_id} does not "
                        "exist") from None
    return jsonify(_historic(view, TenantLookup(engine()), _Roots()))
