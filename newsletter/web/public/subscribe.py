"""Subscriber pages: /subscribe, /confirm, /preferences, /unsubscribe (no login; signed tokens).

CSRF, without a login or a cookie:
- /subscribe is exempt on purpose: the form is meant to be pasted into a blog on
  another site. A forged signup can only trigger one confirmation email (double
  opt-in, rate limits per IP and per address, a honeypot).
- /confirm and /preferences POSTs are authorized by the secret link token in the
  URL, which a cross-site attacker does not have. On top, each form carries a
  signature bound to that token and to when the page was shown (7 days), and a
  request whose Origin or Sec-Fetch-Site says "another site" is refused. No
  session cookie is needed, so the pages work in mail apps' in-app browsers.
- POST /unsubscribe is RFC 8058 one-click: mail providers send it from their
  servers with no cookie, no Origin and no form token; it must simply work.
GET requests never change anything: mail scanners prefetch every link.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from newsletter.config import Settings
from newsletter.db import get_session
from newsletter.extensions import csrf, limiter
from newsletter.models import Frequency, SubscriberStatus
from newsletter.subscribers import lifecycle, service
from newsletter.subscribers.categories import all_categories
from newsletter.subscribers.errors import (
    InvalidEmail,
    InvalidInput,
    InvalidToken,
    SubscriberNotFound,
)
from newsletter.subscribers.lifecycle import Action, TransitionRefused
from newsletter.subscribers.tokens import (
    Purpose,
    TokenData,
    check_form,
    preferences_url,
    read_token,
    sign_form,
)

from ..api.framework import error_response
from ..textguard import ignores_body

bp = Blueprint("subscribe", __name__)

HONEYPOT = "website"  # hidden from people; bots fill in anything that looks like a URL field
MAX_CATEGORIES = 200


def _settings() -> Settings:
    return current_app.extensions["settings"]  # type: ignore[no-any-return]


def _ip_limit() -> str:
    return _settings().subscribe_rate_limit


def _address_limit() -> str:
    return _settings().subscribe_address_rate_limit


def _address_key() -> str:
    """Rate-limit key per address, so one inbox cannot be flooded from many IPs."""
    data = _signup_data()
    email = str(data.get("email") or "").strip().lower()
    return "subscribe-address:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def _signup_data() -> dict[str, Any]:
    if request.is_json:
        data = request.get_json(silent=True)
        return data if isinstance(data, dict) else {}
    return {
        "email": request.form.get("email", ""),
        "name": request.form.get("name", ""),
        "categories": request.form.getlist("categories"),
        HONEYPOT: request.form.get(HONEYPOT, ""),
    }


def _check_dns() -> bool:
    # Real MX lookups in production; a laptop or a test may have no DNS at all.
    return _settings().subscribe_check_dns


def _digest_choices() -> list[Frequency]:
    """Frequencies offered on the preferences page; digests only if the author offers them."""
    return service.frequency_choices(_settings().digest_frequencies)


@bp.get("/subscribe")
def subscribe_form() -> str:
    categories = all_categories(get_session())
    template = (
        "web/subscribers/snippet.html"
        if request.args.get("embed")
        else "web/subscribers/subscribe.html"
    )
    return render_template(
        template,
        categories=categories,
        values={"email": request.args.get("email", "")[:320]},
        chosen=set(),
        error=None,
    )


@bp.post("/subscribe")
@csrf.exempt
@limiter.limit(_ip_limit)
@limiter.limit(_address_limit, key_func=_address_key)
def subscribe_submit() -> Any:
    data = _signup_data()
    as_json = request.is_json
    if as_json and not isinstance(request.get_json(silent=True), dict):
        return error_response(
            400,
            "malformed_json",
            'send a JSON object: {"email": ..., "name": ..., "categories": [...]}',
        )
    categories = data.get("categories") or []
    if isinstance(categories, str):
        categories = [categories]
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        return _signup_error(
            as_json, data, "invalid_input", "categories must be a list of category names"
        )
    if len(categories) > MAX_CATEGORIES:
        return _signup_error(as_json, data, "invalid_input", "too many categories")
    if not isinstance(data.get("email", ""), str) or not isinstance(data.get("name") or "", str):
        return _signup_error(as_json, data, "invalid_input", "email and name must be strings")

    if str(data.get(HONEYPOT) or "").strip():
        return _signup_done(as_json)  # a bot: answer exactly as for a person, store nothing
    session = get_session()
    try:
        service.subscribe(
            session,
            email=str(data.get("email") or ""),
            name=str(data.get("name") or ""),
            categories=categories,
            ip=request.remote_addr,
            source="api" if as_json else "form",
            check_dns=_check_dns(),
        )
    except InvalidEmail as exc:
        return _signup_error(as_json, data, "invalid_email", str(exc))
    except InvalidInput as exc:
        return _signup_error(as_json, data, "invalid_input", str(exc))
    # Same answer whether the address was new, pending, active or blocked: no enumeration.
    return _signup_done(as_json)


def _signup_done(as_json: bool) -> Any:
    # True for every outcome, and the same for all of them (no enumeration): a new or
    # returning address gets an email now, a pending one got it in the last ten
    # minutes (service.RESEND_INTERVAL), an active or blocked one gets nothing.
    message = (
        "Almost there: if this address may join and is not subscribed yet, we have sent it "
        "an email (at most one every 10 minutes). Press the button in it to confirm."
    )
    if as_json:
        response = jsonify({"status": "pending", "message": message})
        response.status_code = 202
        return response
    return render_template("web/subscribers/pending.html", message=message)


def _signup_error(as_json: bool, data: dict[str, Any], code: str, message: str) -> Any:
    if as_json:
        return error_response(422, code, message)
    chosen = (
        set(data.get("categories") or []) if isinstance(data.get("categories"), list) else set()
    )
    return (
        render_template(
            "web/subscribers/subscribe.html",
            categories=all_categories(get_session()),
            values={
                "email": str(data.get("email") or "")[:320],
                "name": str(data.get("name") or "")[:200],
            },
            chosen=chosen,
            error=message,
        ),
        422,
    )


BAD_LINK = "This link is not valid. Copy the whole link from the email, or sign up again."


def _token(purpose: Purpose, token: str) -> TokenData:
    try:
        return read_token(purpose, token, settings=_settings())
    except InvalidToken:
        abort(404, BAD_LINK)


def _same_site_post() -> None:
    """Refuse a form POST a browser tells us came from another site (defence in depth)."""
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        abort(403, "This form can only be sent from this site.")
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        ours = urlsplit(request.host_url)
        theirs = urlsplit(origin)
        if (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc):
            abort(403, "This form can only be sent from this site.")


def _checked_form(token: str) -> None:
    _same_site_post()
    if not check_form(token, request.form.get("form_signature", ""), settings=_settings()):
        abort(400, "This form has expired. Open the link from the email again.")


@bp.get("/confirm/<token>")
def confirm_page(token: str) -> str:
    data = _token(Purpose.CONFIRM, token)
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
            preferences_url=preferences_url(subscriber.id, subscriber.email, settings=_settings()),
        )
    return render_template(
        "web/subscribers/confirm.html",
        token=token,
        form_signature=sign_form(token, settings=_settings()),
        result=None,
        data=data,
    )


@bp.post("/confirm/<token>")
@csrf.exempt  # authorized by the link token + form signature, see the module docstring
def confirm_submit(token: str) -> Any:
    data = _token(Purpose.CONFIRM, token)
    _checked_form(token)
    session = get_session()
    try:
        result = service.confirm(
            session, token=data, welcome_latest=_settings().welcome_latest_issue
        )
    except SubscriberNotFound:
        abort(404, "This link is no longer valid. Sign up again to get a new one.")
    preferences = None
    if result in ("confirmed", "already_active"):
        subscriber = service.load_for_token(session, data)
        preferences = preferences_url(subscriber.id, subscriber.email, settings=_settings())
    status = 200 if result in ("confirmed", "already_active") else 409
    return render_template(
        "web/subscribers/confirm.html", token=token, result=result, preferences_url=preferences
    ), status


def _preferences_context(token: str, data: TokenData, **extra: Any) -> dict[str, Any]:
    session = get_session()
    try:
        subscriber = service.load_for_token(session, data)
    except SubscriberNotFound:
        abort(404, "This link is no longer valid: we hold no data for it.")
    return {
        "token": token,
        "form_signature": sign_form(token, settings=_settings()),
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
    data = _token(Purpose.PREFERENCES, token)
    return render_template("web/subscribers/preferences.html", **_preferences_context(token, data))


@bp.post("/preferences/<token>")
@csrf.exempt  # authorized by the link token + form signature, see the module docstring
def preferences_submit(token: str) -> Any:
    data = _token(Purpose.PREFERENCES, token)
    _checked_form(token)
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
            offered_frequencies=_settings().digest_frequencies,
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


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str) -> str:
    _token(Purpose.UNSUBSCRIBE, token)
    return render_template("web/subscribers/unsubscribe.html", token=token, done=False)


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # RFC 8058: the POST carries no cookie, no Origin and no form token
@ignores_body  # ... and whatever body it carries, it unsubscribes
def unsubscribe_submit(token: str) -> Any:
    """Any POST unsubscribes, whatever its body or Content-Type.

    RFC 8058 says clients send `List-Unsubscribe=One-Click` as a form, but some
    send no body, text/plain or JSON; a POST to the link is intent enough (only
    GET and HEAD are what scanners prefetch, and they never change anything).
    """
    via = "page" if _posted_from_page() else "one-click"
    try:
        service.unsubscribe_by_token(get_session(), token=token, via=via, settings=_settings())
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
