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
