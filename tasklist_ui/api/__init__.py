"""Baton's JSON REST API under /api: the tasklist's operations for scripts and other UIs.

Register `bp` on the app (the tasklist's factory does). Authentication: a session cookie
(Flask-Login) or `Authorization: Bearer <token>` (tokens from `Engine.new_api_token`).
See `tasklist_ui.api.auth` for the CSRF rule and `tasklist_ui.api.openapi` for the document
served at /api/openapi.json. The engine comes from `current_app.extensions["baton"]`.
"""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

# Route modules attach their views to `bp` when imported.
from tasklist_ui.api import (  # noqa: E402, F401
    auth,
    errors,
    instances,
    openapi,
    processes,
    tasks,
)

__all__ = ["bp"]
