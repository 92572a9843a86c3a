"""Mailgun webhooks (one event per request, signed in the body).

Verification (documentation.mailgun.com, "Securing webhooks"): HMAC-SHA256 keyed with
the webhook signing key over `timestamp + token`, hex, compared in constant time; the
timestamp must be fresh and each token is accepted once, so a captured request cannot
be replayed.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime

from ..events import Kind, ProviderEvent
from ..hardness import classify_failure
from . import payload
from .errors import BadSignature, MalformedPayload, MissingCredentials
from .nonces import NonceStore

PROVIDER = "mailgun"
REPLAY_WINDOW = 300  # seconds either side of our clock

# `reason` of a failed event that is Mailgun refusing to send at all.
SUPPRESSED_BOUNCE = "suppress-bounce"
SUPPRESSED_COMPLAINT = "suppress-complaint"
EXPIRED = "old"  # a permanent failure only because the temporary ones ran out of time


def verify(
    signature: Mapping[str, object],
    *,
    signing_key: str,
    nonces: NonceStore,
    now: datetime | None = None,
) -> str:
    """Check the `signature` object (HMAC-SHA256 of timestamp + token, Mailgun "Securing
    webhooks"), its freshness (within REPLAY_WINDOW = 300 s of `now`) and that its token is
    new; returns the token it claimed (see `nonces.release`).

    Raises MissingCredentials (401) when timestamp, token or signature is missing, and
    BadSignature (403) for a wrong HMAC, a timestamp that is not Unix seconds or outside
    the window, or a token already used (a replay). Unavailable (503) comes from a
    RedisNonces store that cannot be reached.
    """
    fields = {key: signature.get(key) for key in ("timestamp", "token", "signature")}
    if not all(isinstance(v, str | int) and str(v) for v in fields.values()):
        raise MissingCredentials("signature.timestamp, token and signature are required")
    timestamp, token, given = (str(fields[k]) for k in ("timestamp", "token", "signature"))
    expected = hmac.new(
        signing_key.encode(), (timestamp + token).encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, given.lower()):
        raise BadSignature("the signature does not verify")
    if not timestamp.isdigit():
        raise BadSignature("the signature timestamp is not Unix seconds")
    current = (now or datetime.now(UTC)).timestamp()
    if abs(current - int(timestamp)) > REPLAY_WINDOW:
        raise BadSignature("the signature timestamp is outside the replay window")
    if not nonces.claim(f"mailgun:{token}", 2 * REPLAY_WINDOW):
        raise BadSignature("this token was already used (replayed request)")
    return token


def parse(
    headers: Mapping[str, str],
    body: bytes,
    *,
    signing_key: str,
    nonces: NonceStore,
    now: datetime | None = None,
) -> list[ProviderEvent]:
    """Verify then normalise the one event of the request.

    Raises MalformedPayload (400) when the body is not a JSON object or its `event-data`
    is malformed (the token is then released, so a corrected retry is accepted),
    MissingCredentials (401) when it carries no `signature` object, and what verify raises.
    """
    data = payload.obj(payload.load_json(body), "the body")
    signature = data.get("signature")
    if not isinstance(signature, dict):
        raise MissingCredentials("the body carries no signature")
    token = verify(signature, signing_key=signing_key, nonces=nonces, now=now)
    try:
        return normalise(payload.obj(data.get("event-data"), "event-data"))
    except MalformedPayload:
        nonces.release(f"mailgun:{token}")  # a fixed retry may come with the same token
        raise


def release_token(body: bytes, nonces: NonceStore) -> None:
    """Forget the token of a verified request we failed to record, so its retry is accepted."""
    try:
        signature = payload.obj(payload.load_json(body), "the body").get("signature")
    except MalformedPayload:
        return
    if isinstance(signature, dict) and isinstance(signature.get("token"), str):
        nonces.release(f"mailgun:{signature['token']}")


def normalise(event: dict[str, object]) -> list[ProviderEvent]:
    """One `event-data` object as 0 or 1 ProviderEvent (failed, complained, delivered; [] for
    the rest). Hardness follows Mailgun's severity, the RFC 3463 enhanced code and the text
    (hardness.classify_failure). Raises MalformedPayload when `event` is missing or, for an
    event we keep, `recipient` is not an address or `id` is missing.
    """
    name = payload.text(event, "event", required=True, limit=64)
    if name not in ("failed", "complained", "delivered"):
        return []  # accepted, opened, clicked, unsubscribed, stored: nothing for us
    recipient = payload.address(event.get("recipient"))
    event_id = payload.event_id(PROVIDER, payload.text(event, "id", required=True, limit=200))
    message = event.get("message")
    headers = message.get("headers") if isinstance(message, dict) else None
    message_id = None
    if isinstance(headers, dict):
        message_id = payload.message_id(payload.text(headers, "message-id", limit=255))
    occurred_at = payload.timestamp(event.get("timestamp"))
    status_info = event.get("delivery-status")
    status_info = status_info if isinstance(status_info, dict) else {}
    diagnostic = payload.text(status_info, "message") or payload.text(status_info, "description")
    make = functools.partial(
        ProviderEvent,
        provider=PROVIDER,
        provider_event_id=event_id,
        recipient=recipient,
        message_id=message_id,
        occurred_at=occurred_at,
        diagnostic=diagnostic,
    )
    if name == "delivered":
        return [make(kind=Kind.DELIVERY)]
    reason = payload.text(event, "reason", limit=64)
    if name == "complained" or reason == SUPPRESSED_COMPLAINT:
        return [make(kind=Kind.COMPLAINT, reason=reason)]
    severity = payload.text(event, "severity", limit=32)
    status = payload.text(status_info, "enhanced-code", limit=16)
    if not status and severity != "temporary":
        # Mailgun's code is the SMTP reply code (550); only its class is worth keeping.
        status = payload.status_code(diagnostic)
    if reason == SUPPRESSED_BOUNCE:
        hard: bool | None = True  # Mailgun's own list: this address bounced hard before
    else:
        provider_hard = {"permanent": True, "temporary": False}.get(severity)
        if reason == EXPIRED:
            provider_hard = False  # retried until it expired: a mailbox that did not answer
        hard = classify_failure(status, diagnostic, provider_hard=provider_hard)
    label = "/".join(part for part in (severity, reason) if part)
    return [make(kind=Kind.BOUNCE, hard=hard, status=status, reason=label)]
