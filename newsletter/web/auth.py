"""Login and logout for authors and admins."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from newsletter.accounts import authenticate
from newsletter.db import get_session
from newsletter.extensions import limiter, login_manager
from newsletter.models import User

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    return get_session().get(User, int(user_id))


def safe_next(target: str | None) -> str | None:
    """Only same-site paths; anything with a scheme or host is an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


def _home_for(user: User) -> str:
    return url_for("admin.dashboard") if user.is_admin else url_for("author.dashboard")


def _login_limit() -> str:
    from flask import current_app

    return current_app.extensions["settings"].login_rate_limit  # type: ignore[no-any-return]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(_home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(
            get_session(), email=form.email.data or "", password=form.password.data or ""
        )
        if user is not None:
            login_user(user)
            return redirect(safe_next(request.args.get("next")) or _home_for(user))
        flash("Wrong email or password.", "error")
        return render_template("web/login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("web/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout() -> Response:
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
