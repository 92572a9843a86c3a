"""Postmark bounce, spam-complaint and delivery webhooks.

Postmark signs nothing: the webhook URL carries Basic Auth credentials
(`https://user:pass@host/webhooks/postmark`), compared here in constant time
(postmarkapp.com webhooks overview; listmonk does the same). One record per request.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping

from ..events import Kind, ProviderEvent
from ..hardness import classify_failure
from . import payload
from .errors import BadSignature, MissingCredentials

PROVIDER = "postmark"

# Bounce `Type` -> the provider's verdict on the address (EMAIL-REFERENCE.md 2.2):
# True hard, False soft, None "a failure, but not the address's fault".
BOUNCE_TYPES: dict[str, bool | None] = {
    "HardBounce": True,
    "BadEmailAddress": True,
    "ManuallyDeactivated": True,
    "SoftBounce": False,
    "Transient": False,
    "DnsError": False,
    "SpamNotification": None,
    "VirusNotification": None,
    "Blocked": None,
    "DMARCPolicy": None,
    "Unknown": None,
}
# Types that are not failures of a message to this address (auto-replies, challenges...).
IGNORED_TYPES = frozenset(
    {
        "AutoResponder",
        "Subscribe",
        "Unsubscribe",
        "AddressChange",
        "OpenRelayTest",
        "ChallengeVerification",
        "Unconfirmed",
        "InboundError",
        "SMTPApiError",
        "TemplateRenderingFailed",
    }
)


def check_auth(headers: Mapping[str, str], expected: str) -> None:
    """Basic Auth (RFC 7617) against `expected` = "user:password", compared in constant time.

    Raises MissingCredentials (401) when there is no Basic Authorization header, and
    BadSignature (403) when its value is not base64 or not the expected credentials.
    """
    header = headers.get("Authorization") or ""
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise MissingCredentials("Basic Auth credentials are required")
    try:
        given = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise BadSignature("the credentials are wrong") from None
    if not hmac.compare_digest(given, expected.encode("utf-8")):
        raise BadSignature("the credentials are wrong")


def parse(headers: Mapping[str, str], body: bytes, *, auth: str) -> list[ProviderEvent]:
    """Verify Basic Auth (`auth` = "user:password"), then normalise the one record.

    Returns [] for record types and bounce types that change nothing for us. Raises what
    check_auth raises, and MalformedPayload (400) when the body is not a JSON object, has
    no RecordType, or (for a record we keep) lacks its ID or MessageID or a valid address.
    """
    check_auth(headers, auth)
    record = payload.obj(payload.load_json(body), "the body")
    record_type = payload.text(record, "RecordType", required=True, limit=64)
    if record_type == "Delivery":
        recipient = payload.address(record.get("Recipient"))
        postmark_id = payload.text(record, "MessageID", required=True, limit=100)
        return [
            ProviderEvent(
                provider=PROVIDER,
                provider_event_id=payload.event_id(PROVIDER, "delivery", postmark_id, recipient),
                kind=Kind.DELIVERY,
                recipient=recipient,
                diagnostic=payload.text(record, "Details"),
                occurred_at=payload.timestamp(record.get("DeliveredAt")),
            )
        ]
    if record_type not in ("Bounce", "SpamComplaint"):
        return []  # opens, clicks, subscription changes: ours to track, not Postmark's
    bounce_type = payload.text(record, "Type", limit=64)
    record_id = payload.text(record, "ID", required=True, limit=64)
    recipient = payload.address(record.get("Email"))
    details = payload.text(record, "Details")
    diagnostic = details or payload.text(record, "Description")
    event_id = payload.event_id(PROVIDER, record_id)
    occurred_at = payload.timestamp(record.get("BouncedAt"))
    if record_type == "SpamComplaint" or bounce_type == "SpamComplaint":
        kind, hard, status = Kind.COMPLAINT, None, ""
    elif bounce_type in IGNORED_TYPES:
        return []
    else:
        # A type Postmark adds later is still a bounce; its code and text decide.
        kind, status = Kind.BOUNCE, payload.status_code(details)
        hard = classify_failure(status, details, provider_hard=BOUNCE_TYPES.get(bounce_type))
    return [
        ProviderEvent(
            provider=PROVIDER,
            provider_event_id=event_id,
            kind=kind,
            recipient=recipient,
            hard=hard,
            status=status,
            diagnostic=diagnostic,
            reason=bounce_type,
            occurred_at=occurred_at,
        )
    ]
