"""Login, logout and role checks for the tasklist.

Users and groups live in the engine's store (`engine.identity`): the same directory decides
who may claim a task and who may log in. The session holds only the user id; the user's
record (roles, groups) is read again on every request, so a changed role or a removed user
takes effect at once rather than at the next login.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from engine.identity import has_role, is_supervisor
from engine.store.records import UserRecord

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see this page."
login_manager.login_message_category = "info"


class WebUser(UserMixin):
    """The logged-in user as the templates and views see it."""

    def __init__(self, record: UserRecord) -> None:
        self.record = record
        self.id = record.id
        self.name = record.name or record.id
        self.roles = list(record.roles)
        self.groups = list(record.groups)

    def get_id(self) -> str:
        """What the session cookie keeps: the user id and a fingerprint of the password hash,
        so a changed password ends every session opened with the old one (the cookie is
        signed, not stored on the server, so this is how a session can be revoked)."""
        return f"{self.id}|{_fingerprint(self.record)}"

    def has_role(self, *roles: str) -> bool:
        """Admin holds every role."""
        return has_role(self.record, *roles)

    @property
    def is_supervisor(self) -> bool:
        return is_supervisor(self.record)

    @property
    def is_analyst(self) -> bool:
        return self.has_role("analyst")

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


class LoginForm(FlaskForm):
    username = StringField("User name", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


def init_app(app: Flask) -> None:
    login_manager.init_app(app)


def _fingerprint(record: UserRecord) -> str:
    return hashlib.sha256(record.password_hash.encode("utf-8")).hexdigest()[:16]


@login_manager.user_loader
def load_user(session_id: str) -> WebUser | None:
    from tasklist_ui.app import get_engine

    user_id, _, fingerprint = session_id.rpartition("|")
    record = get_engine().get_user(user_id) if user_id else None
    if record is None or not hmac.compare_digest(fingerprint, _fingerprint(record)):
        return None
    return WebUser(record)


def current_user_id() -> str:
    return str(current_user.id)


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: a login link must not be able to send the user elsewhere.
    Control characters (a CR/LF would end the Location header: Werkzeug refuses it with a
    500) and backslashes (browsers read "/\\evil.example" as "//evil.example") make the
    target unsafe; the login then goes to the home page."""
    if not target or len(target) > 2000 or not target.isprintable() or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    from tasklist_ui.app import get_engine

    if current_user.is_authenticated:
        return redirect(url_for("tasks.task_list"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        record = get_engine().check_password(form.username.data.strip(), form.password.data)
        if record is not None:
            login_user(WebUser(record))
            flash(f"Welcome, {record.name or record.id}.", "success")
            return redirect(_safe_next(request.args.get("next"))
                            or url_for("tasks.task_list"))
        error = "Unknown user name or wrong password."
    status = 401 if error else 200
    return render_template("login.html", form=form, error=error), status


@bp.post("/logout")
def logout() -> Any:
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
