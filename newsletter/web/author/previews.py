"""The issue as email, for the editor's preview frame: /author/issues/ID/preview.html|txt."""

from __future__ import annotations

from flask import Response, abort, request

from newsletter import current_settings
from newsletter.compose import SubscriberNotFound, render_preview
from newsletter.db import get_session
from newsletter.models import Role
from newsletter.models.base import MAX_ID

from ..roles import role_required
from .base import bp, issue_or_404


def _preview_response(issue_id: int, *, text: bool) -> Response:
    issue_or_404(issue_id)
    subscriber_id = request.args.get("subscriber", "")
    sub = int(subscriber_id) if subscriber_id.isdigit() and int(subscriber_id) <= MAX_ID else None
    try:
        preview = render_preview(
            get_session(), issue_id=issue_id, settings=current_settings(), subscriber_id=sub
        )
    except SubscriberNotFound:
        abort(404)
    if text:
        response = Response(preview.text, mimetype="text/plain")
    else:
        response = Response(preview.html, mimetype="text/html")
    # The email is foreign content: no scripts, no same-origin access, framed only by us.
    response.headers["Content-Security-Policy"] = (
        "sandbox allow-popups allow-popups-to-escape-sandbox; frame-ancestors 'self'"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/issues/<int:issue_id>/preview.html")
@role_required(Role.AUTHOR)
def preview_html(issue_id: int) -> Response:
    """GET /author/issues/<issue_id>/preview.html: the issue's HTML email for the editor's
    frame, `?subscriber=ID` as that subscriber gets it; sandboxed by its CSP, not stored.

    200 text/html; 404 no such issue or subscriber; 302 to the login page when logged out (authors
    and admins only).
    """
    return _preview_response(issue_id, text=False)


@bp.get("/issues/<int:issue_id>/preview.txt")
@role_required(Role.AUTHOR)
def preview_text(issue_id: int) -> Response:
    """GET /author/issues/<issue_id>/preview.txt: the issue's plain-text part, `?subscriber=ID`
    as that subscriber gets it; not stored.

    200 text/plain; 404 no such issue or subscriber; 302 to the login page when logged out (authors
    and admins only).
    """
    return _preview_response(issue_id, text=True)
