"""Public archive of sent issues: /archive, /archive/SLUG, /feed.xml.

The web version is the email itself, rendered with every post (no subscriber's
categories) and with the per-recipient spots filled with neutral values, so no
page here ever carries anyone's personal links.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, url_for
from markupsafe import escape
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import selectinload

from newsletter.compose.content import build_issue_content
from newsletter.compose.preview import fill_rendered, neutral_values
from newsletter.db import get_session
from newsletter.models import (
    Delivery,
    DeliveryStatus,
    Issue,
    IssueItem,
    IssueKind,
    IssueStatus,
    Post,
)
from newsletter.render import branding_from_settings, markdown_to_html, render_issue

bp = Blueprint("archive", __name__)
STARTED = (IssueStatus.SENDING, IssueStatus.PAUSED, IssueStatus.CANCELLED)
FEED_ENTRIES = 20
ARCHIVE_CSP = (
    "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; "
    "font-src https: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)


def _sent_issues(limit: int | None = None) -> list[Issue]:
    stmt = (
        select(Issue)
        # Digests are per reader (their posts are in the issues above): never archived.
        .where(Issue.status == IssueStatus.SENT, Issue.kind == IssueKind.ISSUE)
        .options(
            selectinload(Issue.items).selectinload(IssueItem.post).selectinload(Post.categories)
        )
        .order_by(Issue.sent_at.desc(), Issue.id.desc())
    )
    if limit:
        stmt = stmt.limit(limit)
    return list(get_session().scalars(stmt))


def issue_key(issue: Issue) -> str:
    """The archive address of an issue: its slug, or its id if it never got one."""
    return issue.slug or str(issue.id)


@bp.get("/archive")
def index() -> str:
    """GET /archive: every sent issue (digests excluded), newest first.

    Renders web/archive/index.html; always 200.
    """
    return render_template("web/archive/index.html", issues=_sent_issues(), key=issue_key)


@bp.get("/archive/<slug>")
def issue(slug: str) -> Response:
    """GET /archive/<slug>: the web version of one issue, by slug (or by id for an issue
    without one).

    The email's HTML with every post and neutral values in the personal spots, under a
    strict Content-Security-Policy and cacheable for 5 minutes. Shown once the issue is
    sent, or once its first message went out while it is sending, paused or cancelled.
    404 for anything else (no such issue, a draft, a digest).
    """
    session = get_session()
    conditions = [Issue.slug == slug[:200]]
    if slug.isdigit() and int(slug) < 2**31:
        conditions.append((Issue.id == int(slug)) & Issue.slug.is_(None))
    # The web version exists from the first message sent: the "view in your browser"
    # link of the earliest recipients must not be a 404 while the send goes on.
    first_sent = exists().where(
        Delivery.issue_id == Issue.id, Delivery.status == DeliveryStatus.SENT
    )
    found = session.scalars(
        select(Issue).where(
            or_(*conditions),
            Issue.kind == IssueKind.ISSUE,
            or_(
                Issue.status == IssueStatus.SENT,
                Issue.status.in_(STARTED) & first_sent,
            ),
        )
    ).first()
    if found is None:
        abort(404)
    settings = current_app.extensions["settings"]
    # No web_url: a "view in your browser" link would point at this very page.
    content = build_issue_content(session, found)
    rendered = render_issue(content, branding_from_settings(settings))
    html, _text = fill_rendered(rendered, neutral_values(settings))
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = ARCHIVE_CSP
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/feed.xml")
def feed() -> Response:
    """GET /feed.xml: an Atom feed (application/atom+xml) of the latest FEED_ENTRIES sent issues.

    Each entry links to its archive page and carries the intro and a list of the issue's
    posts. Always 200.
    """
    settings = current_app.extensions["settings"]
    issues = _sent_issues(FEED_ENTRIES)
    entries: list[dict[str, Any]] = []
    for item in issues:
        entries.append(
            {
                "issue": item,
                "url": settings.base_url + url_for("archive.issue", slug=issue_key(item)),
                # A plain string: the template escapes it once more, as Atom's type="html" wants.
                "content": _entry_html(item),
            }
        )
    site = branding_from_settings(settings)
    body = render_template(
        "web/archive/feed.xml",
        entries=entries,
        site=site,
        feed_url=settings.base_url + url_for("archive.feed"),
        archive_url=settings.base_url + url_for("archive.index"),
        updated=max((e["issue"].sent_at for e in entries if e["issue"].sent_at), default=None),
    )
    return Response(body, mimetype="application/atom+xml")


def _entry_html(item: Issue) -> str:
    """The intro and a list of the issue's posts, as an HTML fragment."""
    parts = [markdown_to_html(item.intro)] if item.intro.strip() else []
    links = []
    for entry in item.items:
        title = escape(entry.post.title)
        url = entry.post.url
        links.append(
            f'<li><a href="{escape(url)}">{title}</a></li>' if url else f"<li>{title}</li>"
        )
    if links:
        parts.append("<ul>" + "".join(links) + "</ul>")
    return "\n".join(parts)
