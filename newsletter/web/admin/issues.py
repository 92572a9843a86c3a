"""The admin's issues: a table of every issue with its key rates, and one page per issue
that follows a send live (progress, throughput, failures, the last errors) and shows how
it did afterwards (opens and clicks over time, clicks per link, bounces, complaints).

The issue page works without JavaScript (it reloads itself every few seconds while the
issue is sending); with it, a small inline script polls `stats.json` every 2 s instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, url_for
from markupsafe import Markup

from newsletter.compose import ComposeError, IssueNotFound, get_issue, list_issues
from newsletter.db import get_session
from newsletter.models import Issue, IssueStatus, Role
from newsletter.models.base import MAX_ID
from newsletter.sends import ledger
from newsletter.sends.stats import issue_stats
from newsletter.tracking.overview import issue_rows

from ..roles import role_required
from .charts import Series, bar_chart, line_chart

bp = Blueprint("admin_issues", __name__, url_prefix="/admin/issues")
ERRORS_SHOWN = 10


@bp.app_template_filter("percent")
def percent(share: float | None) -> str:
    """`12.5%` from 0.125; `–` when there is nothing to divide by yet."""
    if share is None:
        return "–"
    return f"{share * 100:.1f}%"


LIVE = (IssueStatus.SENDING, IssueStatus.PAUSED)


def _issue_or_404(issue_id: int) -> Issue:
    if not 0 < issue_id <= MAX_ID:  # a larger number names no row (and overflows INTEGER)
        abort(404)
    try:
        return get_issue(get_session(), issue_id)
    except IssueNotFound:
        abort(404)


def progress(stats: dict[str, Any]) -> int:
    """Whole percent of the recipients decided (sent, failed or skipped)."""
    recipients = int(stats["recipients"])
    done = int(stats["sent"]) + int(stats["failed"]) + int(stats["skipped"])
    return 100 if recipients == 0 else min(100, done * 100 // recipients)


def _label(at: object) -> str:
    """`2026-11-29 21:00` from a series point's `at` (ISO 8601 text or a datetime)."""
    if isinstance(at, datetime):
        return at.strftime("%Y-%m-%d %H:%M")
    text = str(at)
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return text[:16]


def issue_charts(issue_id: int, stats: dict[str, Any]) -> dict[str, Markup]:
    """Opens and clicks over time, and clicks per link, as SVG (empty when no data yet)."""
    charts: dict[str, Markup] = {}
    series = stats.get("series") or []
    if series:
        labels = [_label(point["at"]) for point in series]
        charts["activity"] = line_chart(
            chart_id=f"issue-{issue_id}-activity",
            title="Opens and clicks over time",
            labels=labels,
            series=[
                Series("Opens", [int(p["opens"]) for p in series]),
                Series("Clicks", [int(p["clicks"]) for p in series]),
            ],
        )
    links = stats["clicks"].get("links") or []
    if any(int(link["total"]) or int(link.get("machine", 0)) for link in links):
        charts["links"] = bar_chart(
            chart_id=f"issue-{issue_id}-links",
            title="Clicks per link (unique)",
            items=[(str(link["url"]), int(link["unique"])) for link in links],
        )
    return charts


def _errors_json(issue_id: int) -> list[dict[str, Any]]:
    return [
        {
            "email": e.email,
            "status": e.status.value,
            "attempts": e.attempts,
            "error": e.error,
            "at": e.at.isoformat(),
        }
        for e in ledger.recent_errors(get_session(), issue_id, limit=ERRORS_SHOWN)
    ]


@bp.get("/")
@role_required(Role.ADMIN)
def index() -> str | tuple[str, int]:
    """GET /admin/issues/: every issue, newest first, 25 a page (`?cursor=`), with its key rates.

    Renders web/admin_issues.html; 200; 422 (the error page) for a bad cursor; 302 to the login page
    when logged out, 403 for a non-admin.
    """
    session = get_session()
    try:
        page = list_issues(session, cursor=request.args.get("cursor") or None, limit=25)
    except ComposeError as exc:
        return render_template(
            "web/error.html", status=422, title="Bad page", message=str(exc)
        ), 422
    return render_template("web/admin_issues.html", rows=issue_rows(session, page.items), page=page)


@bp.get("/<int:issue_id>")
@role_required(Role.ADMIN)
def detail(issue_id: int) -> str:
    """GET /admin/issues/<issue_id>: one issue's send: progress, the last ERRORS_SHOWN
    delivery errors, stats and charts; reloads itself while sending or paused.

    Renders web/admin_issue.html; 200; 404 no such issue; 302 to the login page when logged out, 403
    for a non-admin.
    """
    issue = _issue_or_404(issue_id)
    session = get_session()
    stats = issue_stats(session, issue_id)
    return render_template(
        "web/admin_issue.html",
        issue=issue,
        stats=stats,
        percent=progress(stats),
        errors=ledger.recent_errors(session, issue_id, limit=ERRORS_SHOWN),
        charts=issue_charts(issue_id, stats),
        live=issue.status in LIVE,
        export_url=url_for("admin_issues.stats_csv", issue_id=issue_id),
    )


@bp.get("/<int:issue_id>/stats.json")
@role_required(Role.ADMIN)
def stats_json(issue_id: int) -> dict[str, Any]:
    """GET /admin/issues/<issue_id>/stats.json: DESIGN.md's `stats`, plus `percent` and
    `errors` (the last ERRORS_SHOWN delivery errors: `{email, status, attempts, error,
    at}`), for the page's live refresh.

    200 JSON; 404 no such issue; 302 to the login page when logged out, 403 for a non-admin.
    """
    _issue_or_404(issue_id)
    stats = issue_stats(get_session(), issue_id)
    return {**stats, "percent": progress(stats), "errors": _errors_json(issue_id)}


@bp.get("/<int:issue_id>/stats.csv")
@role_required(Role.ADMIN)
def stats_csv(issue_id: int) -> Response:
    """GET /admin/issues/<issue_id>/stats.csv: the issue's stats as CSV, the attachment
    issue-ID-stats.csv (newsletter.tracking.stats.stats_csv_rows: the same file as
    `issues stats ID --csv` and `GET /api/v1/issues/ID/stats.csv`).

    200 text/csv; 404 no such issue; 302 to the login page when logged out, 403 for a non-admin.
    """
    from newsletter.tracking.stats import csv_text, stats_csv_rows

    _issue_or_404(issue_id)
    response = Response(csv_text(stats_csv_rows(get_session(), issue_id)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="issue-{issue_id}-stats.csv"'
    return response
