"""The Flask application factory: one app per engine.

    from tasklist_ui.app import create_app
    app = create_app(engine)                      # tests, embedding
    app = create_app(config={"BATON_DB": "sqlite:///baton.db"})   # `baton serve`

Views reach the engine through `get_engine()`: `app.extensions["baton"]` is a `BatonExtension`
whose `engine` attribute is the Engine, so the same code serves the in-memory engine of a test
and the SQL-backed one of a server (the JSON and Camunda REST blueprints read it the same way).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from engine import Engine, EngineError
from engine.store.codec import UnstorableValue

log = logging.getLogger("baton.web")
csrf = CSRFProtect()
SECRET_NAME = "tasklist-secret-key"


def create_app(engine: Engine | None = None, config: Mapping[str, Any] | None = None) -> Flask:
    """Build the tasklist app around `engine` (or one opened from `config["BATON_DB"]`).

    Config keys besides Flask's: BATON_DB (database URL for a new engine; default
    $BATON_DATABASE_URL, else sqlite:///baton.db), TASKS_PER_PAGE."""
    app = Flask(__name__)
    app.config.update(
        BATON_DB=None,                             # None: $BATON_DATABASE_URL or SQLite
        TASKS_PER_PAGE=25,
        MAX_CONTENT_LENGTH=5 * 1024 * 1024,        # uploads: BPMN files are small
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,                  # a task form may stay open for hours
        BATON_HTTPS=os.environ.get("BATON_HTTPS", "").lower() in ("1", "true", "yes"),
    )
    if config:
        app.config.update(config)
    if app.config["BATON_HTTPS"]:
        # served over TLS (directly or behind a proxy): cookies never travel in clear text
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    if engine is None:
        from engine.store import resolve_url

        engine = open_engine(resolve_url(app.config["BATON_DB"]))
    app.extensions["baton"] = BatonExtension(engine)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _persistent_secret(engine)

    from tasklist_ui import auth, filters
    from tasklist_ui.views import incidents, instances, processes, tasks, users

    csrf.init_app(app)
    auth.init_app(app)
    filters.init_app(app)
    for bp in (auth.bp, tasks.bp, processes.bp, instances.bp, incidents.bp, users.bp):
        app.register_blueprint(bp)
    _register_apis(app)

    @app.get("/")
    def index() -> Any:
        return redirect(url_for("tasks.task_list"))

    @app.get("/healthz")
    def healthz() -> Any:
        return {"status": "ok"}

    _error_pages(app)
    app.after_request(_security_headers)
    return app


# The pages run no script at all; the SVG drawings carry their own <style>.
_CSP = ("default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
# API answers are data for programs. Should a browser open one (a deployed diagram served as
# XML can hold XHTML <script> elements), it must not run or load anything, as if sandboxed.
_API_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"


def _security_headers(response: Response) -> Response:
    """Defence in depth for pages that show text from uploaded diagrams and form input
    (all of it escaped): no scripts, no framing, no MIME sniffing."""
    api = request.path.startswith(("/api/", "/engine-rest/"))
    response.headers.setdefault("Content-Security-Policy", _API_CSP if api else _CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if current_app.config.get("BATON_HTTPS"):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


@dataclass(slots=True)
class BatonExtension:
    """What the app keeps in `app.extensions["baton"]`."""

    engine: Engine


def get_engine() -> Engine:
    """The engine behind the current request's app."""
    return current_app.extensions["baton"].engine


def open_engine(url: str) -> Engine:
    """An engine over the database at `url` ("memory" for a throwaway in-memory one)."""
    if url in ("memory", "memory://", ""):
        return Engine()
    from engine.store import open_store

    return Engine(store=open_store(url))


def _persistent_secret(engine: Engine) -> str:
    """Sessions must survive a restart of `baton serve`, so the signing key is kept in the
    database's secrets table (created once) rather than regenerated per process."""
    return engine.persistent_secret(SECRET_NAME)


def _register_apis(app: Flask) -> None:
    """The JSON API (/api) and the Camunda-compatible REST API (/engine-rest), when built.

    Both authenticate with tokens or the session and take JSON bodies, which a cross-site
    HTML form cannot send, so they are exempt from the form CSRF check."""
    import importlib

    for module_name in ("tasklist_ui.api", "tasklist_ui.engine_rest"):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if e.name is not None and module_name.startswith(e.name):
                continue
            raise
        bp = getattr(module, "bp", None)
        if bp is None:
            continue
        csrf.exempt(bp)
        app.register_blueprint(bp)


def _error_pages(app: Flask) -> None:
    def wants_json() -> bool:
        return request.path.startswith(("/api/", "/engine-rest/"))

    @app.errorhandler(CSRFError)
    def csrf_error(e: CSRFError) -> Any:
        return render_template("error.html", status=400, title="Form expired",
                               message="The form was sent without a valid security token "
                                       "(it may have expired). Reload the page and try again."
                               ), 400

    @app.errorhandler(EngineError)
    def engine_error(e: EngineError) -> Any:
        if wants_json():
            return {"error": type(e).__name__, "message": str(e)}, e.status
        return render_template("error.html", status=e.status, title=_TITLES.get(e.status,
                               "Not possible"), message=str(e)), e.status

    @app.errorhandler(UnstorableValue)
    def unstorable(e: UnstorableValue) -> Any:
        if wants_json():
            return {"error": "UnstorableValue", "message": str(e)}, 400
        return render_template("error.html", status=400, title="Not possible",
                               message=str(e)), 400

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException) -> Any:
        if wants_json():
            return {"error": e.name, "message": e.description}, e.code
        return render_template("error.html", status=e.code, title=e.name,
                               message=e.description), e.code or 500


_TITLES = {400: "Not possible", 403: "Not allowed", 404: "Not found", 409: "Changed meanwhile"}
