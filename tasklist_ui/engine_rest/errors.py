"""Errors as Camunda 7's REST API answers them: a status and `{"type", "message"}`.

Clients branch on the status (and some log `type`), so the mapping follows Camunda's:
a bad request body is 400 InvalidRequestException; an engine refusal (wrong worker, a
message nobody waits for) 400; an unknown id 404; a lost race or anything unexpected 500.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger("baton.engine_rest")


class RestError(Exception):
    def __init__(self, status: int, type_: str, message: str,
                 headers: dict[str, str] | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.headers = headers or {}
        self.extra = extra or {}       # more fields of the answer (a ParseException's details)


def invalid(message: str) -> RestError:
    """A request the server cannot read: bad JSON, a missing field, a wrong type."""
    return RestError(400, "InvalidRequestException", message)


def not_found(message: str) -> RestError:
    return RestError(404, "InvalidRequestException", message)


def error_response(err: RestError) -> Any:
    response = jsonify({"type": err.type, "message": err.message, **err.extra})
    response.status_code = err.status
    for k, v in err.headers.items():
        response.headers[k] = v
    return response


def from_exception(e: BaseException) -> RestError:
    """An engine (or other) exception as the RestError Camunda would answer with."""
    from engine import Conflict, EngineError, Forbidden, MessageNotCorrelated, NotFound
    from engine.bpmn.errors import BpmnValidationError
    from engine.store.codec import UnstorableValue

    if isinstance(e, RestError):
        return e
    if isinstance(e, NotFound):
        return RestError(404, "NotFoundException", str(e))
    if isinstance(e, Forbidden):
        return RestError(403, "AuthorizationException", str(e))
    if isinstance(e, Conflict):
        return RestError(500, "OptimisticLockingException", str(e))
    if isinstance(e, MessageNotCorrelated):
        return RestError(400, "RestException", f"Cannot correlate message: {e}")
    if isinstance(e, EngineError):
        status = e.status if e.status in (400, 403, 404) else 500
        return RestError(status, "BadUserRequestException" if status == 400
                         else "ProcessEngineException", str(e))
    if isinstance(e, UnstorableValue):
        return RestError(400, "InvalidRequestException", str(e))
    if isinstance(e, BpmnValidationError):
        return RestError(400, "ParseException", f"the diagram cannot be deployed:\n{e}",
                         extra={"details": parse_details(e)})
    if isinstance(e, HTTPException):
        return RestError(e.code or 500, "RestException", e.description or e.name)
    ref = uuid.uuid4().hex[:12]
    log.exception("engine-rest: unexpected error (ref %s)", ref)
    return RestError(500, "ProcessEngineException",
                     f"unexpected server error {type(e).__name__} (ref {ref}; see the server log)")


def parse_details(e: Any) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Camunda 7's ParseException `details`: per resource name, its `errors` and `warnings`,
    each `{message, line, column, mainElementId, elementIds}` (Camunda Modeler and clients
    show them per file). Baton knows no column; `batonRule` names the validation rule
    (docs/validation-rules.md)."""
    details: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for problem in e.problems:
        entry = details.setdefault(problem.filename or "resource",
                                   {"errors": [], "warnings": []})
        kind = "warnings" if problem.severity == "warning" else "errors"
        entry[kind].append({
            "message": problem.message, "line": problem.line, "column": None,
            "mainElementId": problem.element_id,
            "elementIds": [problem.element_id] if problem.element_id else [],
            "batonRule": problem.rule})
    return details
