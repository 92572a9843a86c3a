"""The public front door: the home page and the favicon, no login needed."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, send_from_directory
from sqlalchemy import select
from werkzeug.wrappers import Response

from newsletter.config import Settings
from newsletter.db import get_session
from newsletter.models import Issue, IssueKind, IssueStatus
from newsletter.subscribers.categories import all_categories

from .archive import issue_key

bp = Blueprint("public", __name__)

LATEST_ISSUES = 5


def _settings() -> Settings:
    return current_app.extensions["settings"]  # type: ignore[no-any-return]


@bp.app_context_processor
def _site() -> dict[str, Any]:
    """`site` in every template: the newsletter's name and one-line description."""
    settings = _settings()
    return {"site": {"name": settings.site_name, "description": settings.site_description}}


def latest_issues(limit: int = LATEST_ISSUES) -> list[Issue]:
    """The most recently sent issues, newest first."""
    return list(
        get_session().scalars(
            select(Issue)
            .where(Issue.status == IssueStatus.SENT, Issue.kind == IssueKind.ISSUE)
            .order_by(Issue.sent_at.desc(), Issue.id.desc())
            .limit(limit)
        )
    )


@bp.get("/")
def index() -> str:
    """GET /: the home page for everyone: the name, description, the signup form and the
    LATEST_ISSUES latest issues. Renders web/home.html; 200.
    """
    return render_template(
        "web/home.html",
        categories=all_categories(get_session()),
        issues=latest_issues(),
        key=issue_key,
        values={},
        chosen=set(),
    )


@bp.get("/favicon.ico")
def favicon() -> Response:
    """GET /favicon.ico: static/favicon.ico as image/vnd.microsoft.icon, cacheable for a day.

    Browsers ask for it on every site whatever the pages link to; 404 if the file is missing.
    """
    # Browsers ask for /favicon.ico on every site, whatever the pages link to.
    response = send_from_directory(
        current_app.static_folder or "static", "favicon.ico", mimetype="image/vnd.microsoft.icon"
    )
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response
