"""Login and logout for authors and admins."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from newsletter.accounts import (
    AccountError,
    authenticate,
    change_password,
    end_sessions,
    session_user,
)
from newsletter.db import get_session
from newsletter.extensions import limiter, login_manager
from newsletter.models import User

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])


class PasswordForm(FlaskForm):
    # Lengths are the service's rule (accounts.check_new_password); these caps only bound input.
    current_password = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=1000)]
    )
    new_password = PasswordField("New password", validators=[DataRequired(), Length(max=1000)])
    confirm_password = PasswordField(
        "New password again",
        validators=[
            DataRequired(),
            EqualTo("new_password", message="The two new passwords differ."),
        ],
    )


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Flask-Login's user loader: the User a session id ("<user id>:<session version>") from
    the session or remember cookie still stands for, or None (logged out) when the id is
    malformed, the user is gone or inactive, or the session was ended (accounts.session_user).
    """
    # Called on every request, for the session cookie and the remember cookie alike.
    return session_user(get_session(), session_id)


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
    """GET, POST /login: the login form for authors and admins.

    A logged-in user gets 302 to their dashboard. A POST with the right email and
    password logs in and answers 302 to `?next=` when it is a same-site path
    (safe_next), else to the admin or author dashboard; wrong credentials answer 401
    with the form and a message, an incomplete form 400, a missing or stale CSRF token
    400. POSTs are rate-limited (NEWSLETTER_LOGIN_RATE_LIMIT): 429 past it.
    """
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
    """POST /logout: end every login session of the user, everywhere (accounts.end_sessions),
    and log out.

    302 to the login page (also when not logged in); 400 without a valid CSRF token.
    """
    end_sessions(get_session(), current_user.id)
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])  # it tests the current password, as login does
@login_required
def password() -> Response | str | tuple[str, int]:
    """GET, POST /account/password: change one's own password; every other session of the
    user ends, this one stays.

    GET renders web/password.html; 200. A POST that succeeds answers 302 to the user's
    dashboard; 422 with the form and a message for a wrong current password, a new
    password the service refuses (AccountError) or an invalid form; 400 without a
    valid CSRF token; 429 past NEWSLETTER_LOGIN_RATE_LIMIT; 302 to the login page when
    logged out.
    """
    form = PasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = change_password(
                get_session(),
                current_user.id,
                current_password=form.current_password.data or "",
                new_password=form.new_password.data or "",
            )
        except AccountError as exc:
            flash(f"Password not changed: {exc}.", "error")
            status = 422
        else:
            login_user(user)  # a fresh session id carrying the new session version
            flash("Password changed. Every other session of yours has been logged out.", "info")
            return redirect(_home_for(user))
    elif request.method == "POST":
        status = 422  # a missing CSRF token never gets here: CSRFProtect answers 400 first
    return render_template("web/password.html", form=form), status
