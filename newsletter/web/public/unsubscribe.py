"""Unsubscribing: GET /unsubscribe/<token> shows a button; any POST unsubscribes (RFC 8058
one-click, also the page's own button)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template, request

from newsletter.db import get_session
from newsletter.extensions import csrf
from newsletter.subscribers import service
from newsletter.subscribers.errors import InvalidToken
from newsletter.subscribers.tokens import Purpose

from ..textguard import ignores_body
from .subscribe import BAD_LINK, bp, read_link, settings


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str) -> str:
    """GET /unsubscribe/<token>: the page with the "Unsubscribe" button; it never unsubscribes.

    Renders web/subscribers/unsubscribe.html; 200, or 404 when the token is not a valid
    unsubscribe token.
    """
    read_link(Purpose.UNSUBSCRIBE, token)
    return render_template("web/subscribers/unsubscribe.html", token=token, done=False)


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # RFC 8058: the POST carries no cookie, no Origin and no form token
@ignores_body  # ... and whatever body it carries, it unsubscribes
def unsubscribe_submit(token: str) -> Any:
    """POST /unsubscribe/<token>: any POST unsubscribes, whatever its body or Content-Type.

    RFC 8058 says clients send `List-Unsubscribe=One-Click` as a form, but some
    send no body, text/plain or JSON; a POST to the link is intent enough (only
    GET and HEAD are what scanners prefetch, and they never change anything).

    Always 200 with web/subscribers/unsubscribe.html ("done"; Cache-Control: no-store),
    never a redirect (RFC 8058 section 3.2), and idempotent: also for a subscriber who
    is gone. 404 only when the token is not a valid unsubscribe token (InvalidToken).
    """
    via = "page" if _posted_from_page() else "one-click"
    try:
        service.unsubscribe_by_token(get_session(), token=token, via=via, settings=settings())
    except InvalidToken:
        abort(404, BAD_LINK)
    # Always 200 and never a redirect (RFC 8058 §3.2); idempotent.
    response = Response(render_template("web/subscribers/unsubscribe.html", token=token, done=True))
    response.headers["Cache-Control"] = "no-store"
    return response


def _posted_from_page() -> bool:
    # Only a form body can say so; any other body is read as nothing (never a 400).
    if request.mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return False
    return request.form.get("from") == "page"
