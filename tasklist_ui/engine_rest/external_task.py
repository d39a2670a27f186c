"""`/external-task`: Camunda 7's external task API, for workers that run anywhere.

Lock ownership follows Camunda: complete, failure, bpmnError and extendLock must name the
worker that holds the lock (else 400); a task that no longer exists - completed, or
cancelled because a boundary event interrupted it - is 404.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify

from engine.errors import EngineError
from engine.limits import MAX_LOCK_MS, MAX_RETRIES, parse_float
from tasklist_ui.engine_rest import bp
from tasklist_ui.engine_rest.auth import user_id
from tasklist_ui.engine_rest.common import (
    QuerySource,
    body,
    body_sorting,
    check_args,
    count,
    engine,
    field_int,
    field_str,
    no_content,
    page,
)
from tasklist_ui.engine_rest.dto import TenantLookup, external_task, locked_task
from tasklist_ui.engine_rest.errors import invalid, not_found
from tasklist_ui.engine_rest.longpoll import poll, waiter_for
from tasklist_ui.engine_rest.values import read_variables, typed_map

MAX_ASYNC_TIMEOUT_MS = 1_800_000          # Camunda's limit
MAX_TASKS = 1000
MAX_ERROR_MESSAGE = 4000
MAX_ERROR_DETAILS = 100_000
MAX_FILTER_ITEMS = 100


class _Topic:
    def __init__(self, raw: Any, index: int) -> None:
        where = f"topics[{index}]"
        if not isinstance(raw, dict):
            raise invalid(f"{where} must be an object with topicName and lockDuration")
        name = raw.get("topicName")
        if not isinstance(name, str) or not name:
            raise invalid(f"{where}.topicName is required (a non-empty string)")
        self.name = name
        lock = raw.get("lockDuration")
        if isinstance(lock, bool) or not isinstance(lock, int | float):
            raise invalid(f"{where}.lockDuration is required: milliseconds > 0, "
                          f"not {type(lock).__name__}")
        try:   # at most a year: a lock of 1e16 ms would overflow the expiry date
            lock_ms = parse_float(lock, f"{where}.lockDuration", 0, MAX_LOCK_MS)
        except EngineError as e:
            raise invalid(str(e)) from None
        if lock_ms <= 0:
            raise invalid(f"{where}.lockDuration is required: milliseconds > 0, not {lock!r}")
        self.lock_seconds = lock_ms / 1000.0
        names = raw.get("variables")
        if names is not None and (not isinstance(names, list)
                                  or not all(isinstance(n, str) for n in names)):
            raise invalid(f"{where}.variables must be a list of variable names or null")
        self.variables = names
        self.local_only = bool(raw.get("localVariables", False))
        self.properties = bool(raw.get("includeExtensionProperties", False))
        # Camunda's fetchAndLock default: Object variables in their serialized form
        self.deserialize = _flag(raw, "deserializeValues", where)
        self.filters = _topic_filters(raw, where)


def _flag(raw: dict[str, Any], key: str, where: str) -> bool:
    value = raw.get(key)
    if value not in (None, False, True):
        raise invalid(f"{where}.{key} must be true or false")
    return bool(value)


def _names(raw: dict[str, Any], key: str, where: str) -> list[str] | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_FILTER_ITEMS \
            or not all(isinstance(v, str) and 0 < len(v) <= 255 for v in value):
        raise invalid(f"{where}.{key} must be a list of at most {MAX_FILTER_ITEMS} "
                      "non-empty strings")
    return value


def _topic_filters(raw: dict[str, Any], where: str) -> dict[str, Any]:
    """Camunda's per-topic filters as the engine's (engine.commands.external.TopicFilter):
    business key, definition id(s) and key(s), version tag, tenants, process variables (any
    matching)."""
    out: dict[str, Any] = {}
    for key, name in (("businessKey", "business_key"), ("processDefinitionId", None),
                      ("processDefinitionKey", None),
                      ("processDefinitionVersionTag", "version_tag")):
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > 255:
            raise invalid(f"{where}.{key} must be a string of at most 255 characters")
        if name is not None:
            out[name] = value
    for single, many, name in (("processDefinitionId", "processDefinitionIdIn",
                                "definition_ids"),
                               ("processDefinitionKey", "processDefinitionKeyIn",
                                "definition_keys")):
        values = _names(raw, many, where)
        if raw.get(single) is not None:
            values = [raw[single]] if values is None else \
                [v for v in values if v == raw[single]] or ["\x00none"]
        if values is not None:
            out[name] = values
    tenants = _names(raw, "tenantIdIn", where)
    without = _flag(raw, "withoutTenantId", where)
    if tenants is not None and without:
        raise invalid(f"{where}: tenantIdIn and withoutTenantId exclude each other")
    if tenants is not None:
        out["tenant_ids"] = tenants
    if without:
        out["without_tenant"] = True
    variables = raw.get("processVariables")
    if variables not in (None, {}):
        if not isinstance(variables, dict) or len(variables) > MAX_FILTER_ITEMS:
            raise invalid(f"{where}.processVariables must be an object of at most "
                          f"{MAX_FILTER_ITEMS} variable names and values")
        out["variables"] = variables
    return out


@bp.post("/external-task/fetchAndLock")
def fetch_and_lock() -> Any:
    engine().authorize(user_id(), "external_task", "work")
    data = body(required=True)
    worker = field_str(data, "workerId", required=True, max_len=255)
    max_tasks = field_int(data, "maxTasks", default=1, minimum=0, maximum=MAX_TASKS)
    use_priority = data.get("usePriority") or False
    if not isinstance(use_priority, bool):
        raise invalid("'usePriority' must be true or false")
    wait_ms = field_int(data, "asyncResponseTimeout", default=0, minimum=0,
                        maximum=MAX_ASYNC_TIMEOUT_MS)
    _check_sorting(data.get("sorting"))
    raw_topics = data.get("topics")
    if not isinstance(raw_topics, list):
        raise invalid("'topics' must be a list of {topicName, lockDuration}")
    topics = [_Topic(t, i) for i, t in enumerate(raw_topics)]
    by_name = {t.name: t for t in topics}
    if len(by_name) < len(topics):
        raise invalid("each topicName may be given once")
    eng = engine()
    locks = {t.name: t.lock_seconds for t in topics}
    local_topics = [t.name for t in topics if t.local_only]
    filters = {t.name: t.filters for t in topics if t.filters}

    def attempt() -> list[Any]:
        # the variables are read in the locking transaction: one round of queries
        return eng.fetch_and_lock_with_variables(worker, locks, max_tasks=max_tasks,
                                                 use_priority=use_priority,
                                                 local_topics=local_topics, user=user_id(),
                                                 topic_filters=filters or None)

    interval = float(current_app.config.get("BATON_REST_POLL_INTERVAL", 0.5))
    wait = (wait_ms or 0) / 1000.0 if topics and max_tasks else 0.0
    locked = poll(eng, attempt, wait, interval)
    out = []
    definitions = TenantLookup(eng)
    for task, values in locked:
        topic = by_name[task.topic]
        props = _properties(eng, task) if topic.properties else None
        out.append(locked_task(task, typed_map(values, topic.variables, topic.deserialize),
                               props, definitions.of(task.definition_id),
                               definitions.version_tag(task.definition_id)))
    return jsonify(out)


def _check_sorting(sorting: Any) -> None:
    if sorting in (None, []):
        return
    if not isinstance(sorting, list):
        raise invalid("'sorting' must be a list of {sortBy, sortOrder}")
    for s in sorting:
        if not isinstance(s, dict) or s.get("sortBy") != "createTime" \
                or s.get("sortOrder", "asc") != "asc":
            raise invalid("Baton sorts fetched tasks by createTime ascending (or by priority "
                          "with usePriority); other sorting is not supported")


def _properties(eng: Any, task: Any) -> dict[str, str]:
    try:
        node = eng.graph(task.definition_id).node(task.activity_id)
    except Exception:  # noqa: BLE001 - a vanished definition has no properties to give
        return {}
    props = (node.ext or {}).get("properties") or {}
    return {str(k): str(v) for k, v in props.items()}


@bp.post("/external-task/<task_id>/complete")
def complete_external(task_id: str) -> Response:
    engine().authorize(user_id(), "external_task", "work")
    data = body()
    worker = field_str(data, "workerId", required=True, max_len=255)
    engine().complete_external(task_id, read_variables(data.get("variables")), worker_id=worker,
                               local_variables=read_variables(data.get("localVariables"),
                                                              "localVariables"), user=user_id())
    return no_content()


@bp.post("/external-task/<task_id>/failure")
def failure(task_id: str) -> Response:
    engine().authorize(user_id(), "external_task", "work")
    data = body()
    worker = field_str(data, "workerId", required=True, max_len=255)
    message = field_str(data, "errorMessage", max_len=1_000_000) or ""
    details = field_str(data, "errorDetails", max_len=10_000_000)
    retries = field_int(data, "retries", default=0, minimum=0, maximum=MAX_RETRIES)
    timeout_ms = field_int(data, "retryTimeout", default=0, minimum=0, maximum=MAX_LOCK_MS)
    eng = engine()
    eng.fail_external(task_id, message[:MAX_ERROR_MESSAGE], retries=retries,
                      retry_timeout=(timeout_ms or 0) / 1000.0, worker_id=worker,
                      details=details[:MAX_ERROR_DETAILS] if details else None, user=user_id())
    if retries and not timeout_ms:
        waiter_for(eng).on_event("external_task_unlocked")
    return no_content()


@bp.post("/external-task/<task_id>/bpmnError")
def bpmn_error(task_id: str) -> Response:
    engine().authorize(user_id(), "external_task", "work")
    data = body()
    worker = field_str(data, "workerId", required=True, max_len=255)
    code = field_str(data, "errorCode", required=True, max_len=255)
    message = field_str(data, "errorMessage", max_len=MAX_ERROR_MESSAGE)
    engine().throw_bpmn_error(task_id, code, message, read_variables(data.get("variables")),
                              worker_id=worker, user=user_id())
    return no_content()


@bp.post("/external-task/<task_id>/extendLock")
def extend_lock(task_id: str) -> Response:
    engine().authorize(user_id(), "external_task", "work")
    data = body()
    worker = field_str(data, "workerId", required=True, max_len=255)
    duration = field_int(data, "newDuration", required=True, minimum=1, maximum=MAX_LOCK_MS)
    engine().extend_lock(task_id, (duration or 0) / 1000.0, worker, user=user_id())
    return no_content()


@bp.post("/external-task/<task_id>/lock")
def lock(task_id: str) -> Response:
    """Camunda 7.17's lock by id: the worker takes a task it did not fetch."""
    engine().authorize(user_id(), "external_task", "work")
    data = body(required=True)
    worker = field_str(data, "workerId", required=True, max_len=255)
    duration = field_int(data, "lockDuration", required=True, minimum=0, maximum=MAX_LOCK_MS)
    engine().lock_external(task_id, (duration or 0) / 1000.0, worker or "", user=user_id())
    return no_content()


@bp.post("/external-task/<task_id>/unlock")
def unlock(task_id: str) -> Response:
    engine().authorize(user_id(), "external_task", "work")
    eng = engine()
    eng.unlock_external(task_id, user=user_id())
    waiter_for(eng).on_event("external_task_unlocked")   # fetchable again: wake pollers
    return no_content()


@bp.put("/external-task/<task_id>/retries")
def set_retries(task_id: str) -> Response:
    engine().authorize(user_id(), "external_task", "retries")
    retries = field_int(body(required=True), "retries", required=True, minimum=0,
                        maximum=MAX_RETRIES)
    engine().set_external_retries(task_id, retries, user=user_id())
    return no_content()


def _get(task_id: str) -> Any:
    got = engine().external_tasks(id=task_id, user=user_id())
    if not got:
        raise not_found(f"External task with id {task_id} does not exist")
    return got[0]


@bp.get("/external-task/<task_id>")
def get_external_task(task_id: str) -> Any:
    task = _get(task_id)
    definitions = TenantLookup(engine())
    return jsonify(external_task(task, tenant_id=definitions.of(task.definition_id),
                                 version_tag=definitions.version_tag(task.definition_id)))


@bp.get("/external-task/<task_id>/errorDetails")
def error_details(task_id: str) -> Response:
    task = _get(task_id)
    return Response(task.error_details or "", mimetype="text/plain")


# =========================================================================== queries

# Camunda's external task query (GET /external-task, POST /external-task with the same
# names in a JSON body), and Baton's businessKey
_QUERY_FILTERS = (
    "externalTaskId", "externalTaskIdIn", "topicName", "workerId", "locked", "notLocked",
    "withRetriesLeft", "noRetriesLeft", "lockExpirationAfter", "lockExpirationBefore",
    "activityId", "activityIdIn", "executionId", "processInstanceId", "processInstanceIdIn",
    "processDefinitionId", "tenantIdIn", "withoutTenantId", "active", "suspended",
    "priorityHigherThanOrEquals", "priorityLowerThanOrEquals", "businessKey")


def _query(q: QuerySource) -> list[Any]:
    """The tasks matching the filters: equality filters go to the store, the rest are
    applied here, as Camunda's ExternalTaskQuery defines them ("locked": a lock that has
    not expired; a flag given as false filters nothing)."""
    tenants, without_tenant = q.names("tenantIdIn"), q.flag("withoutTenantId")
    if tenants is not None and without_tenant:
        raise invalid("tenantIdIn and withoutTenantId exclude each other")
    filters: dict[str, Any] = {}
    for param, attr in (("externalTaskId", "id"), ("workerId", "worker_id"),
                        ("processInstanceId", "instance_id"), ("activityId", "activity_id"),
                        ("processDefinitionId", "definition_id"),
                        ("businessKey", "business_key")):
        value = q.text(param)
        if value is not None:
            filters[attr] = value
    tests: list[Any] = []
    for param, attr in (("externalTaskIdIn", "id"), ("activityIdIn", "activity_id"),
                        ("processInstanceIdIn", "instance_id")):
        wanted = q.names(param)
        if wanted is not None:
            tests.append(lambda r, a=attr, w=frozenset(wanted): getattr(r, a) in w)
    execution = q.text("executionId")
    if execution is not None:
        tests.append(lambda r: f"{r.instance_id}:{r.token}" == execution)
    now = engine().clock()
    flags = {
        "locked": lambda r: _locked(r, now),
        "notLocked": lambda r: not _locked(r, now),
        "withRetriesLeft": lambda r: r.retries is None or r.retries > 0,
        "noRetriesLeft": lambda r: r.retries is not None and r.retries <= 0,
        "suspended": lambda r: False,          # Baton does not suspend external tasks
        "active": lambda r: True,
    }
    for param, test in flags.items():
        if q.flag(param):
            tests.append(test)
    after, before = q.date("lockExpirationAfter"), q.date("lockExpirationBefore")
    if after is not None:
        tests.append(lambda r: r.lock_expires is not None and r.lock_expires > after)
    if before is not None:
        tests.append(lambda r: r.lock_expires is not None and r.lock_expires < before)
    low, high = q.integer("priorityHigherThanOrEquals"), q.integer("priorityLowerThanOrEquals")
    if low is not None:
        tests.append(lambda r: r.priority >= low)
    if high is not None:
        tests.append(lambda r: r.priority <= high)
    rows = engine().external_tasks(q.text("topicName"), **filters, user=user_id())
    rows = [r for r in rows if all(test(r) for test in tests)]
    if tenants is not None or without_tenant:
        lookup = TenantLookup(engine())
        wanted_tenants = set(tenants) if tenants is not None else {None}
        rows = [r for r in rows if lookup.of(r.definition_id) in wanted_tenants]
    return rows


def _locked(task: Any, now: Any) -> bool:
    return task.worker_id is not None and task.lock_expires is not None \
        and task.lock_expires > now


def _sort_keys(lookup: TenantLookup) -> dict[str, Any]:
    """Camunda's sortBy values (and Baton's earlier `priority`)."""
    return {"id": lambda r: r.id, "createTime": lambda r: r.created,
            "lockExpirationTime": lambda r: r.lock_expires,
            "processInstanceId": lambda r: r.instance_id,
            "processDefinitionId": lambda r: r.definition_id,
            "processDefinitionKey": lambda r: r.definition_key,
            "tenantId": lambda r: lookup.of(r.definition_id),
            "taskPriority": lambda r: r.priority, "priority": lambda r: r.priority}


def _answer(rows: list[Any], lookup: TenantLookup) -> Any:
    return jsonify([external_task(r, tenant_id=lookup.of(r.definition_id),
                                  version_tag=lookup.version_tag(r.definition_id))
                    for r in rows])


@bp.get("/external-task")
def external_tasks() -> Any:
    lookup = TenantLookup(engine())
    return _answer(page(_query(QuerySource(_QUERY_FILTERS)), _sort_keys(lookup)), lookup)


@bp.post("/external-task")
def external_tasks_post() -> Any:
    """The query with its filters in a JSON body and sorting by several keys (`sorting`);
    firstResult and maxResults stay query parameters, as in Camunda."""
    engine().authorize(user_id(), "external_task", "read")
    check_args(())
    data = body()
    lookup = TenantLookup(engine())
    rows = _query(QuerySource(_QUERY_FILTERS, data))
    return _answer(page(rows, _sort_keys(lookup), body_sorting(data)), lookup)


@bp.get("/external-task/count")
def external_tasks_count() -> Any:
    return jsonify(count(_query(QuerySource(_QUERY_FILTERS))))


@bp.post("/external-task/count")
def external_tasks_count_post() -> Any:
    engine().authorize(user_id(), "external_task", "read")
    check_args(())
    return jsonify(count(_query(QuerySource(_QUERY_FILTERS, body()))))
