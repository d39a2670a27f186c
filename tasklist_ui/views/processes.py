"""Process pages: the deployed processes and their versions, the diagram as SVG, uploading
a new diagram (analysts) and starting an instance from the start form.

An upload is validated in full before anything is stored: a file with problems is listed
back with each problem's element id and line, and nothing is deployed.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from werkzeug.utils import secure_filename

from engine import EngineError, NotFound
from engine.bpmn import BpmnValidationError
from engine.bpmn.compat import COMPAT_MODES
from engine.forms import validate_form
from engine.store.records import DefinitionRecord
from tasklist_ui.app import get_engine
from tasklist_ui.filters import COMPAT_LABELS
from tasklist_ui.form_render import field_views
from tasklist_ui.start_forms import start_form_fields
from tasklist_ui.views.common import definition_svg, forget_process_choices, user_id

bp = Blueprint("processes", __name__, url_prefix="/processes")
# the upload form's "Execution semantics": the default, then each migration mode
COMPAT_CHOICES = [("", f"{COMPAT_LABELS[None]} (default)"),
                  *((mode, COMPAT_LABELS.get(mode, mode)) for mode in COMPAT_MODES)]


class UploadForm(FlaskForm):
    diagram = FileField("BPMN file", validators=[
        FileRequired("Choose a .bpmn file to upload."),
        FileAllowed(["bpmn", "xml"], "Only .bpmn (or .bpmn20.xml) files can be deployed."),
    ])


@bp.get("")
@login_required
def process_list() -> Any:
    by_key: dict[str, list[DefinitionRecord]] = {}
    for rec in get_engine().definitions(user=user_id()):
        by_key.setdefault(rec.key, []).append(rec)
    processes = sorted(((versions[-1], len(versions)) for versions in by_key.values()),
                       key=lambda item: (item[0].name or item[0].key).lower())
    return render_template("processes/list.html", processes=processes)


@bp.route("/upload", methods=["GET", "POST"])
@login_required
def upload() -> Any:
    get_engine().authorize(user_id(), "definition", "deploy")   # before the upload is read
    form = UploadForm()
    problems: list[Any] = []
    error = None
    filename = None
    # the migration mode, as chosen: the engine refuses one it does not know (naming the
    # allowed ones), as on every other door
    compat = request.form.get("compat") or None
    if form.validate_on_submit():
        storage = form.diagram.data
        filename = secure_filename(storage.filename or "") or "diagram.bpmn"
        data = storage.read()
        engine = get_engine()
        try:
            # ?strict=true: validation warnings refuse the upload too
            strict = request.args.get("strict", "").lower() in ("1", "true", "yes")
            deployed = engine.deploy((filename, data), name=filename, user=user_id(),
                                     strict=strict, compat=compat)
        except BpmnValidationError as e:
            problems = e.problems
        except EngineError as e:
            error = str(e)
        else:
            forget_process_choices()
            mode = "" if compat is None else f" ({COMPAT_LABELS.get(compat, compat)})"
            for d in deployed:
                if d.new:
                    flash(f"Deployed {d.name or d.key} as version {d.version}{mode}.",
                          "success")
                else:
                    flash(f"{d.name or d.key} is unchanged: version {d.version} stays current.",
                          "info")
            for warning in dict.fromkeys(w for d in deployed for w in d.warnings):
                flash(f"Warning: {warning}", "warn")
            first = deployed[0]
            return redirect(url_for("processes.process_page", key=first.key,
                                    version=first.version), code=303)
    elif request.method == "POST":
        error = "; ".join(e for errs in form.errors.values() for e in errs)
    status = 422 if (problems or error) else 200
    return render_template("processes/upload.html", form=form, problems=problems, error=error,
                           filename=filename, compat=compat or "",
                           compat_choices=COMPAT_CHOICES), status


@bp.get("/<key>")
@login_required
def process_page(key: str) -> Any:
    engine = get_engine()
    versions = engine.definitions(key, user=user_id())
    if not versions:
        abort(404, description=f"No process with key '{key}' is deployed.")
    wanted = request.args.get("version", type=int)
    current = next((v for v in versions if v.version == wanted), versions[-1])
    svg = definition_svg(engine, current.id, title=f"Diagram of {current.name or current.key} "
                                                   f"version {current.version}")
    compiled = engine.compiled(current.id, user=user_id())
    graph = compiled.processes.get(current.key)
    documentation = graph.ext.get("documentation") if graph is not None else None
    return render_template("processes/detail.html", key=key, versions=list(reversed(versions)),
                           current=current, svg=svg, documentation=documentation,
                           warnings=compiled.warnings)


@bp.get("/<key>/<int:version>/diagram.svg")
@login_required
def diagram_svg(key: str, version: int) -> Any:
    engine = get_engine()
    try:
        rec = engine.definition(key, version, user=user_id())
    except NotFound:
        abort(404)
    svg = definition_svg(engine, rec.id, title=f"{rec.name or rec.key} version {rec.version}")
    name = secure_filename(f"{rec.key}-v{rec.version}.svg") or "diagram.svg"
    # Opened on its own, an SVG is a document that could run script: the text in it is
    # escaped, and this policy forbids script and sandboxes it all the same.
    return Response('<?xml version="1.0" encoding="UTF-8"?>\n' + str(svg),
                    mimetype="image/svg+xml", headers={
                        "Content-Disposition": f'inline; filename="{name}"',
                        "Content-Security-Policy": "default-src 'none'; "
                                                   "style-src 'unsafe-inline'; sandbox"})


@bp.get("/<key>/<int:version>/source.bpmn")
@login_required
def source(key: str, version: int) -> Any:
    try:
        rec = get_engine().definition(key, version, user=user_id())
    except NotFound:
        abort(404)
    name = secure_filename(rec.resource or f"{key}.bpmn") or f"{key}.bpmn"
    return Response(rec.xml, mimetype="application/xml",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/<key>/start", methods=["GET", "POST"])
@login_required
def start(key: str) -> Any:
    engine = get_engine()
    engine.authorize(user_id(), "instance", "start")   # a refusal is a 403, not a flashed form
    try:
        rec = engine.definition(key, user=user_id())
    except NotFound:
        abort(404, description=f"No process with key '{key}' is deployed.")
    fields = start_form_fields(rec)
    errors: dict[str, str] = {}
    posted: dict[str, str] | None = None
    business_key = ""
    if request.method == "POST":
        posted = {k: v for k, v in request.form.items()
                  if k not in ("csrf_token", "business_key")}
        business_key = (request.form.get("business_key") or "").strip()[:255]
        values, errors = validate_form(fields, posted)
        if not errors:
            try:
                instance_id = engine.start(key, values, business_key=business_key or None, user=user_id())
            except EngineError as e:
                flash(str(e), "error")
            else:
                flash(f"Started {rec.name or rec.key}.", "success")
                if current_user.has_role("analyst"):
                    return redirect(url_for("instances.instance_page",
                                            instance_id=instance_id), code=303)
                return _after_start(instance_id)
        else:
            flash("Please correct the marked fields.", "error")
    views = field_views(fields, {f.id: f.default for f in fields}, posted, errors)
    status = 422 if errors else 200
    return render_template("processes/start.html", definition=rec, fields=views,
                           errors=errors, business_key=business_key), status


def _after_start(instance_id: str) -> Any:
    """Staff go straight to the first task the new instance has for them, if any."""
    engine = get_engine()
    me = user_id()
    for task in engine.tasks(instance_id=instance_id):
        try:
            engine.task_for(task.id, me)
        except EngineError:
            continue
        return redirect(url_for("tasks.task_page", task_id=task.id), code=303)
    return redirect(url_for("tasks.task_list"), code=303)


def max_upload() -> int:
    return int(current_app.config.get("MAX_CONTENT_LENGTH") or 0)
