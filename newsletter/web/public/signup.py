"""Signing up: GET and POST /subscribe, as an HTML form (also the embeddable snippet) or JSON.

The POST is CSRF-exempt on purpose (see subscribe.py): the form is pasted into other sites.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import jsonify, render_template, request

from newsletter.db import get_session
from newsletter.extensions import csrf, limiter
from newsletter.subscribers import service
from newsletter.subscribers.categories import all_categories
from newsletter.subscribers.errors import InvalidEmail, InvalidInput

from ..api.framework import error_response
from .subscribe import MAX_CATEGORIES, bp, settings

HONEYPOT = "website"  # hidden from people; bots fill in anything that looks like a URL field


def _ip_limit() -> str:
    return settings().subscribe_rate_limit


def _address_limit() -> str:
    return settings().subscribe_address_rate_limit


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
    return settings().subscribe_check_dns


@bp.get("/subscribe")
def subscribe_form() -> str:
    """GET /subscribe: the signup form, for everyone (no login).

    Renders web/subscribers/subscribe.html, or with `?embed=1` (any non-empty value)
    web/subscribers/snippet.html: the bare form to paste into another site. `?email=`
    prefills the address (its first 320 characters). Always 200.
    """
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
    """POST /subscribe: a signup from the form (urlencoded email, name, categories) or as
    JSON `{"email": ..., "name": ..., "categories": [...]}`; the work is service.subscribe.

    CSRF-exempt on purpose (see subscribe.py). Answers 202 with JSON
    `{"status": "pending", "message": ...}`, or 200 with web/subscribers/pending.html, the
    same for a new, pending, active or blocked address and for a filled honeypot (no
    enumeration; a honeypot signup stores nothing). 400 `malformed_json` for a JSON body
    that is not an object; 422 `invalid_email` or `invalid_input` (as JSON, or the form
    again with the message and what was typed) for a bad address, a name too long, an
    unknown category, more than MAX_CATEGORIES or non-string fields; 429 past the
    per-IP (NEWSLETTER_SUBSCRIBE_RATE_LIMIT) or per-address
    (NEWSLETTER_SUBSCRIBE_ADDRESS_RATE_LIMIT) limit.
    """
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
