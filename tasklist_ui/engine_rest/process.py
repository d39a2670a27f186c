"""Process definitions, deployments, instances, their variables, and messages."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from engine import NotFound
from engine.limits import MAX_NUMBER_TEXT
from tasklist_ui.engine_rest import bp
from tasklist_ui.engine_rest.auth import user_id
from tasklist_ui.engine_rest.common import (
    arg,
    arg_bool,
    arg_list,
    body,
    check_args,
    count,
    engine,
    field_str,
    like,
    no_content,
    page,
    self_link,
)
from tasklist_ui.engine_rest.dto import TenantLookup, definition, instance
from tasklist_ui.engine_rest.errors import RestError, invalid, not_found
from tasklist_ui.engine_rest.values import (
    format_date,
    raw_bytes,
    read_value,
    read_variables,
    typed,
    typed_map,
)

MAX_DEPLOYMENT_BYTES = 20 * 1024 * 1024
BPMN_SUFFIXES = (".bpmn", ".bpmn20.xml", ".xml")


# =========================================================================== definitions


def _definitions() -> list[Any]:
    check_args(("key", "keyLike", "keysIn", "name", "nameLike", "latestVersion", "version",
                "deploymentId", "processDefinitionId", "processDefinitionIdIn",
                "versionTagLike", "versionTag", "withoutVersionTag", "resourceName",
                "resourceNameLike",
                "tenantIdIn", "withoutTenantId", "includeProcessDefinitionsWithoutTenantId"))
    rows = engine().definitions(arg("key"), user=user_id())
    if arg_bool("latestVersion"):
        latest: dict[str, Any] = {}
        for d in rows:
            if d.key not in latest or d.version > latest[d.key].version:
                latest[d.key] = d
        rows = list(latest.values())
    filters = {
        "keyLike": lambda d, v: like(v, d.key),
        "keysIn": lambda d, v: d.key in v.split(","),
        "name": lambda d, v: d.name == v,
        "nameLike": lambda d, v: like(v, d.name),
        "version": lambda d, v: str(d.version) == v,
        "deploymentId": lambda d, v: d.deployment_id == v,
        "processDefinitionId": lambda d, v: d.id == v,
        "processDefinitionIdIn": lambda d, v: d.id in v.split(","),
        "versionTag": lambda d, v: d.version_tag == v,
        "versionTagLike": lambda d, v: like(v, d.version_tag),
        "resourceName": lambda d, v: d.resource == v,
        "resourceNameLike": lambda d, v: like(v, d.resource),
    }
    for param, test in filters.items():
        value = arg(param)
        if value is not None:
            rows = [d for d in rows if test(d, value)]
    tenants = arg_list("tenantIdIn")
    if tenants is not None:      # Camunda: ... or without tenant, when asked to include those
        also_none = bool(arg_bool("includeProcessDefinitionsWithoutTenantId"))
        rows = [d for d in rows if d.tenant_id in tenants or (also_none and d.tenant_id is None)]
    if arg_bool("withoutTenantId"):
        rows = [d for d in rows if d.tenant_id is None]
    if arg_bool("withoutVersionTag"):
        rows = [d for d in rows if d.version_tag is None]
    return rows


_DEF_SORT = {"id": lambda d: d.id, "key": lambda d: d.key, "name": lambda d: d.name,
             "version": lambda d: d.version, "deploymentId": lambda d: d.deployment_id,
             "deployTime": lambda d: d.deployed_at, "versionTag": lambda d: d.version_tag,
             "tenantId": lambda d: d.tenant_id}


@bp.get("/process-definition")
def definitions() -> Any:
    rows = sorted(_definitions(), key=lambda d: (d.key, d.version))
    return jsonify([definition(d) for d in page(rows, _DEF_SORT)])


@bp.get("/process-definition/count")
def definitions_count() -> Any:
    return jsonify(count(_definitions()))


def _by_key(key: str) -> Any:
    try:
        return engine().definition(key, user=user_id())
    except NotFound:
        raise not_found(f"No matching process definition with key: {key} and no "
                        "tenant-id") from None


def _by_id(definition_id: str) -> Any:
    try:
        return engine().definition_by_id(definition_id, user=user_id())
    except NotFound:
        raise not_found(f"No matching definition with id {definition_id}") from None


def _by_key_and_tenant(key: str, tenant_id: str) -> Any:
    """The latest version of `key` deployed for the tenant (Camunda's
    `/process-definition/key/{key}/tenant-id/{tenant-id}`)."""
    rows = [d for d in engine().definitions(key, user=user_id()) if d.tenant_id == tenant_id]
    if not rows:
        raise not_found(f"No matching process definition with key: {key} and tenant-id: "
                        f"{tenant_id}")
    return max(rows, key=lambda d: d.version)


@bp.get("/process-definition/key/<key>")
def definition_by_key(key: str) -> Any:
    return jsonify(definition(_by_key(key)))


@bp.get("/process-definition/key/<key>/tenant-id/<tenant_id>")
def definition_by_key_and_tenant(key: str, tenant_id: str) -> Any:
    return jsonify(definition(_by_key_and_tenant(key, tenant_id)))


@bp.get("/process-definition/<definition_id>")
def definition_by_id(definition_id: str) -> Any:
    return jsonify(definition(_by_id(definition_id)))


def _xml(d: Any) -> Any:
    return jsonify({"id": d.id, "bpmn20Xml": d.xml.decode("utf-8", errors="replace")})


@bp.get("/process-definition/key/<key>/xml")
def xml_by_key(key: str) -> Any:
    return _xml(_by_key(key))


@bp.get("/process-definition/<definition_id>/xml")
def xml_by_id(definition_id: str) -> Any:
    return _xml(_by_id(definition_id))


def _start(key: str, version: int | None) -> Any:
    engine().authorize(user_id(), "instance", "start")   # refused before the body is read
    data = body()
    if data.get("startInstructions"):
        raise invalid("startInstructions are not supported by Baton: instances start at "
                      "their start event")
    business_key = field_str(data, "businessKey", max_len=255)
    variables = read_variables(data.get("variables"))
    eng = engine()
    iid = eng.start(key, variables, business_key=business_key, version=version, user=user_id())
    view = eng.instance(iid)      # the starter sees what they started
    out = instance(view, TenantLookup(eng).of(view.definition_id))
    if data.get("withVariablesInReturn"):
        out["variables"] = typed_map(view.variables)
    return jsonify(out)


@bp.post("/process-definition/key/<key>/start")
def start_by_key(key: str) -> Any:
    _by_key(key)
    return _start(key, None)


@bp.post("/process-definition/key/<key>/tenant-id/<tenant_id>/start")
def start_by_key_and_tenant(key: str, tenant_id: str) -> Any:
    engine().authorize(user_id(), "instance", "start")   # refused before anything is read
    d = _by_key_and_tenant(key, tenant_id)
    return _start(d.key, d.version)


@bp.post("/process-definition/<definition_id>/start")
def start_by_id(definition_id: str) -> Any:
    d = _by_id(definition_id)
    return _start(d.key, d.version)


# =========================================================================== deployments


@bp.post("/deployment/create")
def deploy() -> Any:
    engine().authorize(user_id(), "definition", "deploy")
    if request.content_length is not None and request.content_length > MAX_DEPLOYMENT_BYTES:
        raise RestError(413, "InvalidRequestException",
                        f"the deployment is larger than {MAX_DEPLOYMENT_BYTES} bytes")
    if not request.mimetype.startswith("multipart/"):
        raise invalid("POST /deployment/create takes multipart/form-data with the BPMN "
                      "files as file parts")
    name = request.form.get("deployment-name") or None
    source = request.form.get("deployment-source") or None
    # a label of the definitions deployed (workers fetch by it); the engine checks its form
    tenant_id = request.form.get("tenant-id") or None
    # Baton's own field: the migration mode the files are read in ("spiffworkflow":
    # diagrams written for SpiffWorkflow; docs/migrating-from-spiffworkflow.md). The engine
    # refuses an unknown one, naming the allowed values, before compiling anything.
    compat = request.form.get("baton-compat") or None
    files = [(part, f) for part in request.files for f in request.files.getlist(part)]
    if not files:
        raise invalid("the deployment has no files: send the BPMN files as file parts")
    eng = engine()
    sources = []
    for i, (part, f) in enumerate(files):
        # only a name to show: the file stays in memory, never on disk
        filename = _resource_name(f.filename or part or f"resource-{i}.bpmn")
        if not filename.lower().endswith(BPMN_SUFFIXES):
            raise invalid(f"'{filename}': Baton deploys BPMN files (.bpmn, .bpmn20.xml, "
                          ".xml) only")
        sources.append((filename, f.read()))
    # ?strict=true: validation warnings refuse the deployment too (a Baton extension)
    deployed = eng.deploy(*sources, name=name, user=user_id(), strict=bool(arg_bool("strict")),
                          tenant_id=tenant_id, compat=compat)
    dep_id = deployed[0].deployment_id if deployed else None
    new = {d.id: definition(_by_id(d.id)) for d in deployed if d.new}
    return jsonify({
        "links": self_link(f"/deployment/{dep_id}"), "id": dep_id, "name": name,
        "source": source, "deploymentTime": format_date(eng.clock()), "tenantId": tenant_id,
        "deployedProcessDefinitions": new or None, "deployedCaseDefinitions": None,
        "deployedDecisionDefinitions": None, "deployedDecisionRequirementsDefinitions": None,
        # not Camunda's: what Baton runs with a documented fallback (docs/validation-rules.md)
        "batonWarnings": list(dict.fromkeys(w for d in deployed for w in d.warnings)),
        "batonCompat": compat,
    })


def _resource_name(given: str) -> str:
    """The file name part of an uploaded name, without control characters, at most 200
    characters (it is stored and shown; a NUL cannot even be stored by PostgreSQL)."""
    base = given.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable())
    return cleaned[-200:] or "resource.bpmn"


# =========================================================================== instances

_OPS = {
    "eq": lambda a, b: a == b, "neq": lambda a, b: a != b,
    "gt": lambda a, b: a > b, "gteq": lambda a, b: a >= b,
    "lt": lambda a, b: a < b, "lteq": lambda a, b: a <= b,
    "like": lambda a, b: isinstance(a, str) and like(str(b), a),
}


def _variable_filters(spec: str | None) -> list[tuple[str, str, Any]]:
    """`variables=amount_gt_100,status_eq_open` (Camunda's syntax)."""
    out = []
    for part in (spec or "").split(","):
        if not part:
            continue
        pieces = part.split("_")
        for i in range(1, len(pieces) - 1):
            if pieces[i] in _OPS:
                name, op, raw = "_".join(pieces[:i]), pieces[i], "_".join(pieces[i + 1:])
                break
        else:
            raise invalid(f"variables filter {part!r} is not name_operator_value "
                          f"(operators: {', '.join(_OPS)})")
        out.append((name, op, _coerce(raw)))
    return out


def _coerce(raw: str) -> Any:
    if raw in ("true", "false"):
        return raw == "true"
    for conv in (int, float):
        try:
            return conv(raw)
        except ValueError:
            pass
    return raw


def _matches(variables: dict[str, Any], filters: list[tuple[str, str, Any]]) -> bool:
    for name, op, value in filters:
        if name not in variables:
            return False
        try:
            if not _OPS[op](variables[name], value):
                return False
        except TypeError:
            return False
    return True


def _instances() -> list[Any]:
    check_args(("processDefinitionKey", "processDefinitionId", "businessKey",
                "businessKeyLike", "processInstanceIds", "superProcessInstance", "variables",
                "active", "processDefinitionKeyIn", "tenantIdIn", "withoutTenantId"))
    if arg_bool("active") is False:
        return []                         # Baton does not suspend instances
    rows = engine().instances(status="running", key=arg("processDefinitionKey"),
                              definition_id=arg("processDefinitionId"),
                              business_key=arg("businessKey"),
                              parent_id=arg("superProcessInstance"), user=user_id())
    if arg("processDefinitionKeyIn"):
        keys = set(arg_list("processDefinitionKeyIn") or [])
        rows = [r for r in rows if r.key in keys]
    if arg("businessKeyLike"):
        rows = [r for r in rows if like(arg("businessKeyLike") or "", r.business_key)]
    if arg("processInstanceIds"):
        ids = set(arg_list("processInstanceIds") or [])
        rows = [r for r in rows if r.id in ids]
    filters = _variable_filters(arg("variables"))
    if filters:
        rows = [r for r in rows if _matches(r.variables, filters)]
    tenants = arg_list("tenantIdIn")
    if tenants is not None or arg_bool("withoutTenantId"):
        lookup = TenantLookup(engine())
        wanted = set(tenants) if tenants is not None else {None}
        rows = [r for r in rows if lookup.of(r.definition_id) in wanted]
    return rows


_INST_SORT = {"instanceId": lambda r: r.id, "definitionKey": lambda r: r.key,
              "definitionId": lambda r: r.definition_id, "businessKey": lambda r: r.business_key}


@bp.get("/process-instance")
def instances() -> Any:
    tenants = TenantLookup(engine())
    return jsonify([instance(r, tenants.of(r.definition_id))
                    for r in page(_instances(), _INST_SORT)])


@bp.get("/process-instance/count")
def instances_count() -> Any:
    return jsonify(count(_instances()))


def _running(instance_id: str) -> Any:
    try:
        view = engine().instance(instance_id, user=user_id())
    except NotFound:
        view = None
    if view is None or view.status != "running":
        raise not_found(f"Process instance with id {instance_id} does not exist")
    return view


@bp.get("/process-instance/<instance_id>")
def get_instance(instance_id: str) -> Any:
    view = _running(instance_id)
    return jsonify(instance(view, TenantLookup(engine()).of(view.definition_id)))


@bp.delete("/process-instance/<instance_id>")
def cancel_instance(instance_id: str) -> Response:
    _running(instance_id)
    engine().cancel(instance_id, "deleted through the REST API", user=user_id())
    return no_content()


def _deserialize() -> bool:
    """Camunda's `deserializeValues` query parameter (default true)."""
    return arg_bool("deserializeValues") is not False


@bp.get("/process-instance/<instance_id>/variables")
def get_variables(instance_id: str) -> Any:
    return jsonify(typed_map(_running(instance_id).variables, deserialize=_deserialize()))


def _variable(instance_id: str, name: str) -> Any:
    variables = _running(instance_id).variables
    if name not in variables:
        raise not_found(f"process variable with name {name} does not exist")
    return variables[name]


@bp.get("/process-instance/<instance_id>/variables/<name>")
def get_variable(instance_id: str, name: str) -> Any:
    return jsonify(typed(_variable(instance_id, name), _deserialize()))


@bp.get("/process-instance/<instance_id>/variables/<name>/data")
def get_variable_data(instance_id: str, name: str) -> Response:
    data, mimetype = raw_bytes(_variable(instance_id, name))
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": "attachment"})


@bp.put("/process-instance/<instance_id>/variables/<name>")
def put_variable(instance_id: str, name: str) -> Response:
    engine().authorize(user_id(), "instance", "variables")   # refused before the body is read
    _running(instance_id)
    value = read_value(body(required=True), name)
    engine().set_variables(instance_id, {name: value}, user=user_id())
    return no_content()


@bp.post("/process-instance/<instance_id>/variables")
def modify_variables(instance_id: str) -> Response:
    engine().authorize(user_id(), "instance", "variables")   # refused before the body is read
    _running(instance_id)
    data = body(required=True)
    if data.get("deletions"):
        raise invalid("deletions: Baton does not delete process variables; set them to null")
    modifications = read_variables(data.get("modifications"), "modifications")
    if modifications:
        engine().set_variables(instance_id, modifications, user=user_id())
    return no_content()


_START_TYPES = {"startBeforeActivity": ("start_before", "activityId"),
                "startAfterActivity": ("start_after", "activityId"),
                "startTransition": ("start_transition", "transitionId")}


@bp.post("/process-instance/<instance_id>/modification")
def modify_instance(instance_id: str) -> Response:
    """Camunda's process instance modification: the instructions run in order, in one
    transaction (engine/modification.py). An activity instance id is Baton's
    `<activityId>:<token>` (what task and job answers carry)."""
    engine().authorize(user_id(), "instance", "modify")      # refused before the body is read
    _running(instance_id)
    data = body(required=True)
    for flag in ("skipCustomListeners", "skipIoMappings"):
        if data.get(flag):
            raise invalid(f"{flag}: Baton runs the listeners and input/output mappings of "
                          "the activities it starts and cancels; send false or leave it out")
    raw = data.get("instructions")
    if not isinstance(raw, list) or not raw:
        raise invalid("'instructions' must be a non-empty list")
    steps: list[tuple[Any, ...]] = []
    for i, item in enumerate(raw):
        where = f"instructions[{i}]"
        if not isinstance(item, dict):
            raise invalid(f"{where} must be an object")
        kind = item.get("type")
        if item.get("ancestorActivityInstanceId"):
            raise invalid(f"{where}.ancestorActivityInstanceId is not supported: Baton starts "
                          "in the one active instance of each enclosing subprocess")
        if kind == "cancel":
            steps.append(_cancel_step(item, where))
        elif kind in _START_TYPES:
            name, id_field = _START_TYPES[kind]
            target = field_str(item, id_field, required=True, max_len=255)
            variables = read_variables(item.get("variables"), f"{where}.variables")
            steps.append((name, target, variables) if variables else (name, target))
        else:
            raise invalid(f"{where}.type must be one of cancel, "
                          f"{', '.join(_START_TYPES)}; not {kind!r}")
    reason = field_str(data, "annotation", max_len=4000)
    engine().apply_modification(instance_id, steps, reason=reason, user=user_id())
    return no_content()


def _cancel_step(item: dict[str, Any], where: str) -> tuple[str, Any]:
    activity = field_str(item, "activityId", max_len=255)
    if activity:
        return ("cancel", activity)
    for key in ("activityInstanceId", "transitionInstanceId"):
        ref = field_str(item, key, max_len=255)
        if ref:
            token = ref.rsplit(":", 1)[-1]
            # ASCII digits only: "²".isdigit() holds, yet int() refuses it
            if not (token.isascii() and token.isdigit()) or len(token) > MAX_NUMBER_TEXT:
                raise invalid(f"{where}.{key} {ref!r} is not an activity instance of this "
                              "instance (expected '<activityId>:<number>')")
            return ("cancel_token", int(token))
    raise invalid(f"{where}: a cancel instruction needs activityId or activityInstanceId")


# =========================================================================== messages


@bp.post("/message")
def correlate() -> Any:
    engine().authorize(user_id(), "message", "correlate")    # refused before the body is read
    data = body(required=True)
    name = field_str(data, "messageName", required=True, max_len=255)
    business_key = field_str(data, "businessKey", max_len=255)
    instance_id = field_str(data, "processInstanceId", max_len=255)
    for unsupported in ("correlationKeys", "localCorrelationKeys", "processVariablesLocal",
                        "processDefinitionId"):
        if data.get(unsupported):
            raise invalid(f"'{unsupported}' is not supported by Baton: correlate by message "
                          "name, businessKey or processInstanceId")
    if data.get("tenantId"):
        raise invalid("tenantId: Baton has no tenants")
    correlate_all = bool(data.get("all", False))
    variables = read_variables(data.get("processVariables"), "processVariables")
    eng = engine()
    waiting = eng.message_waits(name or "", business_key, instance_id, user=user_id())
    got = eng.correlate_message(name, business_key=business_key, variables=variables,
                                instance_id=instance_id, all=correlate_all, user=user_id())
    if not data.get("resultEnabled"):
        return no_content()
    with_vars = bool(data.get("variablesInResultEnabled"))
    results = []
    for iid in got:
        view = eng.instance(iid)
        inst = instance(view, TenantLookup(eng).of(view.definition_id))
        entry: dict[str, Any] = {"resultType": "Execution" if waiting else "ProcessDefinition",
                                 "processInstance": inst if not waiting else None,
                                 "execution": {"id": iid, "processInstanceId": iid,
                                               "ended": inst["ended"], "tenantId": None}
                                 if waiting else None}
        if with_vars:
            entry["variables"] = typed_map(view.variables)
        results.append(entry)
    return jsonify(results)

