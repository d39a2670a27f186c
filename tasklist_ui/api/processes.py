"""Process endpoints: deploy diagrams, list definitions, start instances (analysts)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from tasklist_ui.api import bp
from tasklist_ui.api.auth import caller, engine
from tasklist_ui.api.bodies import arg_bool, arg_text, json_body, mapping, text, whole
from tasklist_ui.api.errors import bad_request
from tasklist_ui.api.serialize import definition_json, deployed_json, instance_json

XML_TYPES = frozenset({"application/xml", "text/xml", "application/bpmn+xml",
                       "application/octet-stream"})
MAX_FILES = 20


@bp.post("/deployments")
def deploy() -> Any:
    """multipart/form-data with one or more files (any field name, plus an optional
    'name'), or the raw XML as the body (?name=...). All files deploy together or, if any
    is invalid, none does: 400 lists each problem with element id and line. The answer's
    `warnings` are what Baton runs with a documented fallback; ?strict=true refuses them.
    `compat` (a form field or ?compat=) deploys in a migration mode: "spiffworkflow" for
    diagrams written for SpiffWorkflow (its multi-instance data rules); the engine refuses
    an unknown value (400 naming the allowed ones), as on every other door."""
    engine().authorize(caller().id, "definition", "deploy")
    name = arg_text("name", 200)
    compat = arg_text("compat", 100)
    sources: list[tuple[str, bytes]] = []
    if request.mimetype == "multipart/form-data":
        name = request.form.get("name") or name
        compat = request.form.get("compat") or compat
        for _field, storage in request.files.items(multi=True):
            sources.append((storage.filename or "upload.bpmn", storage.read()))
        if not sources:
            raise bad_request("the upload has no file: send the diagram as a file field")
    elif request.mimetype in XML_TYPES:
        data = request.get_data()
        if not data.strip():
            raise bad_request("the body is empty: send the BPMN XML")
        sources.append(("upload.bpmn", data))
    else:
        raise bad_request("send the diagram as multipart/form-data or as the body with "
                          "'Content-Type: application/xml'")
    if len(sources) > MAX_FILES:
        raise bad_request(f"at most {MAX_FILES} files per deployment")
    deployed = engine().deploy(*[data for _filename, data in sources], name=name,
                               user=caller().id, strict=arg_bool("strict"), compat=compat)
    warnings = list(dict.fromkeys(w for p in deployed for w in p.warnings))
    return jsonify({"definitions": [deployed_json(p) for p in deployed],
                    "warnings": warnings}), 201


@bp.get("/definitions")
def list_definitions() -> Any:
    """Every deployed version (?key= for one process), oldest first."""
    return jsonify([definition_json(d) for d in engine().definitions(arg_text("key"), user=caller().id)])


@bp.get("/definitions/<definition_id>")
def get_definition(definition_id: str) -> Any:
    return jsonify(definition_json(engine().definition_by_id(definition_id, user=caller().id)))


@bp.get("/definitions/<definition_id>/xml")
def definition_xml(definition_id: str) -> Any:
    rec = engine().definition_by_id(definition_id, user=caller().id)
    # a download, never a page: XML can carry XHTML elements a browser would render
    return Response(rec.xml, mimetype="application/xml",
                    headers={"Content-Disposition": "attachment; filename=\"diagram.bpmn\""})


@bp.post("/processes/<key>/start")
def start(key: str) -> Any:
    """Body (optional): {"variables": {...}, "businessKey": "...", "version": n}."""
    engine().authorize(caller().id, "instance", "start")     # refused before the body is read
    body = json_body(required=False)
    variables = mapping(body, "variables") or {}
    business_key = text(body, "businessKey", max_len=255)
    version = whole(body, "version")
    eng = engine()
    iid = eng.start(key, variables, business_key=business_key, version=version, user=caller().id)
    # the starter sees what they started, whether or not they may read other instances
    return jsonify(instance_json(eng.instance(iid), full=True)), 201
