"""SendGrid Event Webhook (a JSON array of events per request, signed in headers).

Verification (Twilio SendGrid "Event Webhook security"): ECDSA P-256 with SHA-256 over
the timestamp header followed by the raw body bytes, signature base64 DER, public
key base64 DER SubjectPublicKeyInfo. The raw bytes matter: re-encoding the JSON or
dropping the trailing CRLF breaks the signature (EMAIL-REFERENCE.md 2.4). SendGrid
delivers events several times; each is stored once by `sg_event_id`.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

from ..events import Kind, ProviderEvent
from ..hardness import classify_failure
from . import payload
from .errors import BadSignature, MalformedPayload, MissingCredentials

PROVIDER = "sendgrid"
SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"

# `bounce_classification` values that blame the sender or the content, not the address.
NOT_ADDRESS_CLASSES = frozenset({"Reputation", "Content", "Frequency or Volume Too High"})
# `reason` of a `dropped` event: SendGrid refused to send because of an earlier outcome.
DROPPED_HARD = frozenset({"Bounced Address", "Invalid"})
DROPPED_COMPLAINT = "Spam Reporting Address"


@functools.lru_cache(maxsize=8)
def load_public_key(text: str) -> ec.EllipticCurvePublicKey:
    """The base64 DER P-256 key from SendGrid's Mail Settings (cached); raises ValueError when
    `text` is not base64 DER SubjectPublicKeyInfo or not an ECDSA P-256 (secp256r1) key.
    """
    try:
        key = load_der_public_key(base64.b64decode(text.strip(), validate=True))
    except (binascii.Error, ValueError, TypeError) as exc:
        raise ValueError("not a base64 DER public key") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValueError("not an ECDSA P-256 public key")
    return key


def verify(headers: Mapping[str, str], body: bytes, *, public_key: str) -> None:
    """Check the ECDSA P-256 / SHA-256 signature over the timestamp header + the raw body
    (Twilio SendGrid "Event Webhook security"); returns None when it verifies.

    Raises MissingCredentials (401) when the signature or timestamp header is absent, and
    BadSignature (403) when the signature does not verify or `public_key` is not a valid key.
    """
    signature = (headers.get(SIGNATURE_HEADER) or "").strip()
    timestamp = (headers.get(TIMESTAMP_HEADER) or "").strip()
    if not signature or not timestamp:
        raise MissingCredentials(f"{SIGNATURE_HEADER} and {TIMESTAMP_HEADER} are required")
    try:
        der = base64.b64decode(signature, validate=True)
        load_public_key(public_key).verify(
            der, timestamp.encode("utf-8") + body, ec.ECDSA(hashes.SHA256())
        )
    except (InvalidSignature, binascii.Error, ValueError, UnicodeEncodeError):
        raise BadSignature("the signature does not verify") from None


def parse(headers: Mapping[str, str], body: bytes, *, public_key: str) -> list[ProviderEvent]:
    """Verify then normalise every event; one malformed event refuses the whole request.

    Returns the events that matter to us (bounce, dropped, spamreport, delivered), in body
    order. Raises MissingCredentials or BadSignature (see verify), and MalformedPayload when
    the body is not a JSON array of objects or an event is malformed (see normalise).
    """
    verify(headers, body, public_key=public_key)
    events = payload.load_json(body)
    if not isinstance(events, list):
        raise MalformedPayload("the body must be a JSON array of events")
    result: list[ProviderEvent] = []
    for item in events:
        event = normalise(payload.obj(item, "each event"))
        if event is not None:
            result.append(event)
    return result


def normalise(event: dict[str, object]) -> ProviderEvent | None:
    """One SendGrid event as a ProviderEvent, or None for events that change nothing for us
    (processed, deferred, opens, clicks, a `dropped` for SendGrid's own reasons).

    `bounce` hardness follows the RFC 3463 status and the reason (hardness.classify_failure);
    a `blocked` bounce or a sender-side `bounce_classification` is neither hard nor soft
    (None). Raises MalformedPayload when `event` is missing or, for an event we keep,
    `sg_event_id` is missing or `email` is not an address.
    """
    name = payload.text(event, "event", required=True, limit=64)
    if name not in ("bounce", "dropped", "spamreport", "delivered"):
        return None  # processed, deferred (SendGrid retries), opens, clicks, unsubscribes
    make = functools.partial(
        ProviderEvent,
        provider=PROVIDER,
        provider_event_id=payload.event_id(
            PROVIDER, payload.text(event, "sg_event_id", required=True, limit=200)
        ),
        recipient=payload.address(event.get("email")),
        message_id=payload.message_id(payload.text(event, "smtp-id", limit=255)),
        occurred_at=payload.timestamp(event.get("timestamp")),
    )
    reason = payload.text(event, "reason")
    if name == "delivered":
        return make(kind=Kind.DELIVERY, diagnostic=payload.text(event, "response"))
    if name == "spamreport":
        return make(kind=Kind.COMPLAINT)
    if name == "dropped":
        if reason == DROPPED_COMPLAINT:
            return make(kind=Kind.COMPLAINT, reason=f"dropped: {reason}")
        if reason in DROPPED_HARD:
            return make(kind=Kind.BOUNCE, hard=True, diagnostic=reason, reason="dropped")
        return None  # unsubscribed, over the limit...: SendGrid's own bookkeeping
    bounce_type = payload.text(event, "type", limit=32) or "bounce"
    classification = payload.text(event, "bounce_classification", limit=64)
    status = payload.status_code(payload.text(event, "status", limit=32), reason)
    if bounce_type == "blocked" or classification in NOT_ADDRESS_CLASSES:
        hard: bool | None = None  # the receiver refused us, not the address
    else:
        # SendGrid's `bounce` is its permanent failure; the code and text may still say
        # mailbox full (soft) or policy (not the address).
        hard = classify_failure(status, reason, provider_hard=True)
    label = "/".join(part for part in (bounce_type, classification) if part)
    return make(kind=Kind.BOUNCE, hard=hard, status=status, diagnostic=reason, reason=label)
