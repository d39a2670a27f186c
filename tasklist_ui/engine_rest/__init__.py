"""Camunda 7's REST API (a compatible subset) under `/engine-rest`, so existing Camunda 7
workers and clients run unchanged against Baton.

The blueprint `bp` reads the engine from `current_app.extensions["baton"].engine`. Every
request authenticates (HTTP Basic against Baton's users, or a bearer API token; see
`auth`), and every error is answered as Camunda answers it: a status and
`{"type": ..., "message": ...}`.

Endpoints: external-task (fetchAndLock with long polling and per-topic filters, complete,
failure, bpmnError, lock, extendLock, unlock, retries, queries by GET and POST),
process-definition (query, by id/key/key and tenant, xml, start), deployment/create,
process-instance (query, get, delete, variables, modification), history/process-instance,
message, job (query, get, retries), task (query, get, variables, form, form-variables,
claim, unclaim, complete), incident (query, get), version; the OpenAPI document of them all
at /engine-rest/openapi.json (`openapi`), the one endpoint that needs no login.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

bp = Blueprint("engine_rest", __name__, url_prefix="/engine-rest")


PUBLIC_ENDPOINTS = frozenset({"engine_rest.openapi_document"})


@bp.before_request
def _authenticate() -> None:
    from flask import request

    from tasklist_ui.engine_rest.auth import authenticate

    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    authenticate()


@bp.errorhandler(Exception)
def _error(e: Exception) -> Any:
    from tasklist_ui.engine_rest.errors import error_response, from_exception

    return error_response(from_exception(e))


@bp.get("/engine")
def _engines() -> Any:
    """The engine list Camunda clients ask for first: Baton has one, named "default"."""
    from flask import jsonify

    return jsonify([{"name": "default"}])


# the route modules attach themselves to `bp`
from tasklist_ui.engine_rest import external_task, history, jobs, openapi, process, tasks  # noqa: E402, F401, I001

__all__ = ["bp"]
