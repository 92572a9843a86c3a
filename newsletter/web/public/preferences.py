"""The no-login preferences page: GET and POST /preferences/<token> (name, topics,
digest frequency, or unsubscribe from everything)."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for

from newsletter.db import get_session
from newsletter.extensions import csrf
from newsletter.models import Frequency
from newsletter.subscribers import lifecycle, service
from newsletter.subscribers.categories import all_categories
from newsletter.subscribers.errors import InvalidInput, SubscriberNotFound
from newsletter.subscribers.lifecycle import Action, TransitionRefused
from newsletter.subscribers.tokens import Purpose, TokenData, sign_form

from .subscribe import MAX_CATEGORIES, bp, checked_form, read_link, settings


def _digest_choices() -> list[Frequency]:
    """Frequencies offered on the preferences page; digests only if the author offers them."""
    return service.frequency_choices(settings().digest_frequencies)


def _preferences_context(token: str, data: TokenData, **extra: Any) -> dict[str, Any]:
    session = get_session()
    try:
        subscriber = service.load_for_token(session, data)
    except SubscriberNotFound:
        abort(404, "This link is no longer valid: we hold no data for it.")
    return {
        "token": token,
        "form_signature": sign_form(token, settings=settings()),
        "subscriber": subscriber,
        "categories": all_categories(session),
        "chosen": {c.name for c in subscriber.categories},
        "frequencies": _digest_choices(),
        "editable": lifecycle.allows(subscriber.status, Action.EDIT_PREFERENCES),
        "saved": request.args.get("saved") == "1",
        "error": None,
        **extra,
    }


@bp.get("/preferences/<token>")
def preferences_page(token: str) -> str:
    """GET /preferences/<token>: the no-login preferences page (name, topics, digest frequency
    where offered, unsubscribe from everything).

    Renders web/subscribers/preferences.html ("saved" after `?saved=1`; the form only
    for pending and active readers). 200; 404 for a bad token or a subscriber we hold
    no data for.
    """
    data = read_link(Purpose.PREFERENCES, token)
    return render_template("web/subscribers/preferences.html", **_preferences_context(token, data))


@bp.post("/preferences/<token>")
@csrf.exempt  # authorized by the link token + form signature, see subscribe.py
def preferences_submit(token: str) -> Any:
    """POST /preferences/<token>: save the form (`action=save`: name, categories, frequency)
    or unsubscribe from everything (`action=unsubscribe`).

    Both answer 303 to the page (`?saved=1` after a save). 400 for an unknown action or a
    missing or expired form signature, 403 for a cross-site POST, 404 for a bad token or
    a subscriber that is gone, 409 for a save by an unsubscribed reader
    (TransitionRefused), 422 with the page and the message for bad input (a name too
    long, an unknown category or frequency, more than MAX_CATEGORIES categories).
    """
    data = read_link(Purpose.PREFERENCES, token)
    checked_form(token)
    session = get_session()
    try:
        subscriber = service.load_for_token(session, data)
    except SubscriberNotFound:
        abort(404, "This link is no longer valid: we hold no data for it.")
    action = request.form.get("action", "save")
    if action == "unsubscribe":
        service.unsubscribe(
            session, subscriber_id=subscriber.id, via="preferences", issue_id=data.issue_id
        )
        return redirect(url_for(".preferences_page", token=token), code=303)
    if action != "save":
        abort(400, "Unknown action.")
    categories = request.form.getlist("categories")
    if len(categories) > MAX_CATEGORIES:
        return _preferences_error(token, data, "Too many categories.")
    try:
        service.update_preferences(
            session,
            subscriber_id=subscriber.id,
            name=request.form.get("name", ""),
            categories=categories,
            frequency=request.form.get("frequency"),
            offered_frequencies=settings().digest_frequencies,
        )
    except TransitionRefused:
        abort(409, "You are unsubscribed. Sign up again to choose what you get.")
    except InvalidInput as exc:
        session.rollback()
        return _preferences_error(token, data, str(exc))
    return redirect(url_for(".preferences_page", token=token, saved=1), code=303)


def _preferences_error(token: str, data: TokenData, message: str) -> tuple[str, int]:
    context = _preferences_context(token, data, error=message)
    return render_template("web/subscribers/preferences.html", **context), 422
