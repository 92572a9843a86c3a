"""Public pages that need no login."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

bp = Blueprint("public", __name__)


@bp.get("/")
def index() -> Response:
    if current_user.is_authenticated:
        return redirect(url_for("admin.dashboard" if current_user.is_admin else "author.dashboard"))
    return redirect(url_for("auth.login"))
