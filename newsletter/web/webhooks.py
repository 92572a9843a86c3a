"""Provider webhooks: POST /webhooks/ses | postmark | mailgun | sendgrid.

Thin on purpose: read the raw body (capped), hand it to the provider module that
verifies and normalises it (newsletter/bounces/webhooks), record the events, answer.
Each endpoint exists only when its setting is set (else 404). The text guard leaves
these bodies alone (`ignores_body`): a provider's event holding a NUL must not be
refused and retried forever; payload.py cleans what it keeps. Errors answer
`{"error": {"code", "message"}}` with 400 / 401 / 403 / 413; nothing is recorded then.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, request
from sqlalchemy.exc import OperationalError

from newsletter import current_settings
from newsletter.bounces import record
from newsletter.bounces.events import ProviderEvent
from newsletter.bounces.policy import SoftBouncePolicy
from newsletter.bounces.webhooks import WebhookError, mailgun, postmark, sendgrid, ses
from newsletter.bounces.webhooks.nonces import MemoryNonces, NonceStore, RedisNonces
from newsletter.config import Settings
from newsletter.db import get_session

from .api.framework import error_response
from .textguard import ignores_body

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

MAX_BODY = 1024 * 1024  # SendGrid batches stay far below this; anything larger is refused
HTTP_GET = "webhooks.http_get"  # app.extensions key: the SNS fetcher (tests put a fake there)
NONCES = "webhooks.nonces"
SNS_CERTS = "webhooks.sns_certs"


class BodyTooLarge(WebhookError):
    status = 413
    code = "payload_too_large"


@bp.post("/ses")
@ignores_body
def ses_hook() -> Response:
    """POST /webhooks/ses: Amazon SES notifications delivered by SNS (signature checked
    against the certificate, topic among NEWSLETTER_SES_TOPIC_ARNS; a subscription
    confirmation is confirmed); the events are recorded (bounces.record).

    200 `{"received", "recorded"}`; 400 malformed, 401 unsigned, 403 a bad signature, an
    unknown topic or a stale message, 413 over MAX_BODY, 502 when SNS does not answer,
    503 when the database is away (Retry-After: 60); 404 when no topic is configured.
    """
    settings = _enabled(lambda s: bool(s.ses_topic_arns))
    fetch = current_app.extensions.get(HTTP_GET, ses.https_get)
    certs = current_app.extensions.setdefault(SNS_CERTS, ses.CertCache())
    return _handle(
        "ses",
        lambda headers, body: ses.parse(
            headers, body, topic_arns=settings.ses_topic_arns, fetch=fetch, certs=certs
        ),
    )


@bp.post("/postmark")
@ignores_body
def postmark_hook() -> Response:
    """POST /webhooks/postmark: Postmark bounce, complaint and delivery records, authorized
    by the Basic Auth credentials in the webhook URL (NEWSLETTER_POSTMARK_WEBHOOK_AUTH).

    200 `{"received", "recorded"}`; 400 malformed, 401 without credentials (with
    WWW-Authenticate), 403 wrong credentials, 413 over MAX_BODY, 503 when the database
    is away; 404 when not configured.
    """
    settings = _enabled(lambda s: bool(s.postmark_webhook_auth))
    return _handle(
        "postmark",
        lambda headers, body: postmark.parse(headers, body, auth=settings.postmark_webhook_auth),
    )


@bp.post("/mailgun")
@ignores_body
def mailgun_hook() -> Response:
    """POST /webhooks/mailgun: one Mailgun event, its HMAC signature checked with
    NEWSLETTER_MAILGUN_SIGNING_KEY, each token accepted once (replay cache).

    200 `{"received", "recorded"}`; 400 malformed, 401 unsigned, 403 a bad, stale or
    replayed signature, 413 over MAX_BODY, 503 when the replay cache or the database is
    away (after a database failure the token is released, so the retry is accepted);
    404 when not configured.
    """
    settings = _enabled(lambda s: bool(s.mailgun_signing_key))
    nonces = _nonces(settings)
    return _handle(
        "mailgun",
        lambda headers, body: mailgun.parse(
            headers, body, signing_key=settings.mailgun_signing_key, nonces=nonces
        ),
        on_failure=lambda body: mailgun.release_token(body, nonces),
    )


@bp.post("/sendgrid")
@ignores_body
def sendgrid_hook() -> Response:
    """POST /webhooks/sendgrid: a SendGrid batch of events, its ECDSA signature checked with
    NEWSLETTER_SENDGRID_PUBLIC_KEY over the raw body.

    200 `{"received", "recorded"}`; 400 malformed, 401 unsigned, 403 a bad signature,
    413 over MAX_BODY, 503 when the database is away; 404 when not configured.
    """
    settings = _enabled(lambda s: bool(s.sendgrid_public_key))
    return _handle(
        "sendgrid",
        lambda headers, body: sendgrid.parse(
            headers, body, public_key=settings.sendgrid_public_key
        ),
    )


def _enabled(check: Callable[[Settings], bool]) -> Settings:
    settings = current_settings()
    if not check(settings):
        abort(404)
    return settings


def _nonces(settings: Settings) -> NonceStore:
    store = current_app.extensions.get(NONCES)
    if store is None:
        store = RedisNonces(settings.redis_url) if settings.redis_url else MemoryNonces()
        current_app.extensions[NONCES] = store
    return store


def _handle(
    provider: str,
    parse: Callable[[Any, bytes], list[ProviderEvent]],
    on_failure: Callable[[bytes], None] | None = None,
) -> Response:
    body = b""
    try:
        body = _body()
        events = parse(request.headers, body)
    except WebhookError as exc:
        log.warning("webhook %s refused (%s): %s", provider, exc.status, exc.message)
        response = error_response(exc.status, exc.code, exc.message)
        if exc.status == 401 and provider == "postmark":
            response.headers["WWW-Authenticate"] = 'Basic realm="webhooks"'
        if exc.status == 503:
            response.headers["Retry-After"] = "60"
        return response
    settings = current_settings()
    session = get_session()
    try:
        outcomes = record.record_events(
            session,
            events,
            soft_policy=SoftBouncePolicy(settings.bounce_soft_limit, settings.bounce_soft_days),
        )
    except OperationalError as exc:
        # The database is busy or away: every provider retries a 5xx later, and what
        # was committed before is stored once, so the retry finishes the job.
        session.rollback()
        log.warning("webhook %s: database unavailable, asking for a retry: %s", provider, exc)
        if on_failure is not None:
            on_failure(body)
        response = error_response(503, "unavailable", "try again later")
        response.headers["Retry-After"] = "60"
        return response
    recorded = sum(1 for o in outcomes if o.result == "recorded")
    return jsonify({"received": len(events), "recorded": recorded})


def _body() -> bytes:
    """The raw request bytes (signatures cover them exactly), at most MAX_BODY.

    `get_data` rather than the stream: an app-wide hook that looked at a JSON body
    first (a text guard, say) leaves the stream drained but the bytes cached. A body
    without Content-Length is bounded by the app's MAX_CONTENT_LENGTH while read.
    """
    length = request.content_length
    if length is not None and length > MAX_BODY:
        raise BodyTooLarge(f"the body is larger than {MAX_BODY} bytes")
    body = request.get_data(cache=True)
    if len(body) > MAX_BODY:
        raise BodyTooLarge(f"the body is larger than {MAX_BODY} bytes")
    return body
