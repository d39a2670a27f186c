"""JSON errors for the API: `{"error": {"type": ..., "message": ..., ...}}` with the status
the problem deserves (400 bad input, 401 not logged in, 403 not allowed, 404 unknown,
409 changed meanwhile / already claimed, 413 too large)."""

from __future__ import annotations

import re
from typing import Any

from flask import jsonify
from werkzeug.exceptions import HTTPException

from engine.bpmn.errors import BpmnValidationError
from engine.errors import Conflict, EngineError, Forbidden, MessageNotCorrelated, NotFound
from engine.forms import FormInvalid
from engine.store.codec import UnstorableValue
from tasklist_ui.api import bp


class ApiError(Exception):
    """An API-level refusal (bad body, missing login, missing role)."""

    def __init__(self, status: int, type_: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.extra = extra


def bad_request(message: str, **extra: Any) -> ApiError:
    return ApiError(400, "bad_request", message, **extra)


def json_error(status: int, type_: str, message: str, **extra: Any) -> Any:
    """The one error shape of the API (usable by an app-level handler for /api/ paths)."""
    response = jsonify({"error": {"type": type_, "message": message, **extra}})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="baton"'
    return response


_ENGINE_TYPES: tuple[tuple[type[EngineError], str], ...] = (
    (FormInvalid, "form_invalid"),
    (NotFound, "not_found"),
    (Forbidden, "forbidden"),
    (Conflict, "conflict"),
    (MessageNotCorrelated, "message_not_correlated"),
)


@bp.errorhandler(ApiError)
def _api_error(e: ApiError) -> Any:
    return json_error(e.status, e.type, e.message, **e.extra)


@bp.errorhandler(EngineError)
def _engine_error(e: EngineError) -> Any:
    type_ = next((name for cls, name in _ENGINE_TYPES if isinstance(e, cls)), "invalid")
    if isinstance(e, FormInvalid):
        return json_error(400, type_, "the form has errors", fields=e.errors)
    return json_error(e.status, type_, str(e))


@bp.errorhandler(BpmnValidationError)
def _bpmn_error(e: BpmnValidationError) -> Any:
    problems = [{"elementId": p.element_id, "element": p.tag, "line": p.line,
                 "file": p.filename, "message": p.message, "rule": p.rule,
                 "severity": p.severity} for p in e.problems]
    return json_error(400, "invalid_bpmn",
                      f"the diagram cannot be deployed: {len(problems)} problem(s)",
                      problems=problems)


@bp.errorhandler(UnstorableValue)
def _unstorable(e: UnstorableValue) -> Any:
    return json_error(400, "invalid", str(e))


@bp.errorhandler(HTTPException)
def _http_error(e: HTTPException) -> Any:
    name = re.sub(r"[^a-z0-9]+", "_", (e.name or "error").lower()).strip("_")
    return json_error(e.code or 500, name, e.description or e.name or "error")
