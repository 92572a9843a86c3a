"""Confirming a signup (double opt-in): GET and POST /confirm/<token>.

The GET only shows the page (mail scanners prefetch links); the POST confirms.
"""

from __future__ import annotations

from typing import Any

from flask import abort, render_template

from newsletter.db import get_session
from newsletter.extensions import csrf
from newsletter.models import SubscriberStatus
from newsletter.subscribers import service
from newsletter.subscribers.errors import SubscriberNotFound
from newsletter.subscribers.tokens import Purpose, preferences_url, sign_form

from .subscribe import bp, checked_form, read_link, settings


@bp.get("/confirm/<token>")
def confirm_page(token: str) -> str:
    """GET /confirm/<token>: the double opt-in page; it never confirms (mail scanners prefetch).

    Renders web/subscribers/confirm.html with a "Yes, subscribe me" form carrying a form
    signature, or, for a subscriber already active, "already subscribed" with a link to
    the preferences page. 200; 404 when the token is not a valid confirm token. A token
    whose subscriber is gone still shows the form (the POST answers 404).
    """
    data = read_link(Purpose.CONFIRM, token)
    try:
        subscriber = service.load_for_token(get_session(), data)
    except SubscriberNotFound:
        subscriber = None  # the POST answers that; a GET only shows the page
    if subscriber is not None and subscriber.status is SubscriberStatus.ACTIVE:
        # Opened again after confirming: say so, with nothing left to press.
        return render_template(
            "web/subscribers/confirm.html",
            token=token,
            result="already_active",
            preferences_url=preferences_url(subscriber.id, subscriber.email, settings=settings()),
        )
    return render_template(
        "web/subscribers/confirm.html",
        token=token,
        form_signature=sign_form(token, settings=settings()),
        result=None,
        data=data,
    )


@bp.post("/confirm/<token>")
@csrf.exempt  # authorized by the link token + form signature, see subscribe.py
def confirm_submit(token: str) -> Any:
    """POST /confirm/<token> (field `form_signature`): confirm the subscription (service.confirm).

    Renders web/subscribers/confirm.html with the result: 200 for "confirmed" or
    "already_active" (with a link to the preferences page), 409 for "stale" (the link
    predates an unsubscribe: sign up again) or "refused" (blocked, or a state that
    cannot confirm). 400 for a missing or expired form signature, 403 for a cross-site
    POST, 404 for a bad token or a subscriber that is gone.
    """
    data = read_link(Purpose.CONFIRM, token)
    checked_form(token)
    session = get_session()
    try:
        result = service.confirm(
            session, token=data, welcome_latest=settings().welcome_latest_issue
        )
    except SubscriberNotFound:
        abort(404, "This link is no longer valid. Sign up again to get a new one.")
    preferences = None
    if result in ("confirmed", "already_active"):
        subscriber = service.load_for_token(session, data)
        preferences = preferences_url(subscriber.id, subscriber.email, settings=settings())
    status = 200 if result in ("confirmed", "already_active") else 409
    return render_template(
        "web/subscribers/confirm.html", token=token, result=result, preferences_url=preferences
    ), status
