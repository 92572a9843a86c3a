"""Amazon SES notifications delivered by SNS over HTTPS.

Verification, as AWS documents it ("Verifying the signatures of Amazon SNS messages")
and warehouse's `utils/sns.py` implements it:
- the TopicArn must be one we subscribed (NEWSLETTER_SES_TOPIC_ARNS), checked first
  so a stranger's topic never makes us fetch anything;
- the signing certificate is fetched only over HTTPS from an SNS host
  (`sns.<region>.amazonaws.com[.cn]`, path `/SimpleNotificationService-*.pem`), and cached;
- SignatureVersion 1 is SHA1withRSA, 2 is SHA256withRSA, over `key\\nvalue\\n` pairs in
  the documented order; a message older than an hour is refused.
A SubscriptionConfirmation for an allowed topic is confirmed by GETting its
SubscribeURL (also only on an SNS host). SNS re-uses MessageId on retries, so event
ids are built from it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
import re
import threading
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ..events import Kind, ProviderEvent
from ..hardness import classify_failure
from . import payload
from .errors import BadSignature, MalformedPayload, MissingCredentials, UpstreamFailed

log = logging.getLogger(__name__)

PROVIDER = "ses"
MAX_AGE = timedelta(hours=1)
MAX_CERT_BYTES = 64 * 1024
SNS_HOST = re.compile(r"^sns\.[a-z0-9-]{3,}\.amazonaws\.com(\.cn)?$")
CERT_PATH = re.compile(r"^/SimpleNotificationService-[A-Za-z0-9_-]+\.pem$")
TYPES = ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation")
SIGNED_KEYS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
SIGNED_KEYS["UnsubscribeConfirmation"] = SIGNED_KEYS["SubscriptionConfirmation"]
# SignatureVersion 1 is SHA1withRSA by AWS's definition; we accept what AWS signs with.
HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}

Fetch = Callable[[str], bytes]


def https_get(url: str) -> bytes:
    """GET an already-checked SNS URL: 10 s timeout, at most 64 KB."""
    request = urllib.request.Request(url, headers={"User-Agent": "newsletter-sns"})  # noqa: S310 - https SNS host checked by the caller
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - same
        return bytes(response.read(MAX_CERT_BYTES + 1))[: MAX_CERT_BYTES + 1]


class CertCache:
    """Signing certificates by URL; SNS rotates them rarely, so a process keeps a few."""

    def __init__(self, size: int = 16) -> None:
        self._certs: dict[str, x509.Certificate] = {}
        self._size = size
        self._lock = threading.Lock()

    def get(self, url: str, fetch: Fetch) -> x509.Certificate:
        """The certificate at `url` (already checked to be an SNS URL), fetched with `fetch` on
        first use and kept (at most `size`, oldest dropped).

        Raises BadSignature when the fetch fails (any exception), the answer is over
        MAX_CERT_BYTES (64 KiB), or it is not a PEM X.509 certificate.
        """
        with self._lock:
            cert = self._certs.get(url)
        if cert is not None:
            return cert
        try:
            data = fetch(url)
        except Exception as exc:  # any network failure means "cannot verify"
            log.warning("SNS signing certificate %s could not be fetched: %s", url, exc)
            raise BadSignature("the signing certificate could not be fetched") from None
        if len(data) > MAX_CERT_BYTES:
            raise BadSignature("the signing certificate is too large")
        try:
            cert = x509.load_pem_x509_certificate(data)
        except ValueError:
            raise BadSignature("the signing certificate is not a PEM certificate") from None
        with self._lock:
            if len(self._certs) >= self._size:
                self._certs.pop(next(iter(self._certs)))
            self._certs[url] = cert
        return cert


DEFAULT_CERTS = CertCache()


def is_sns_url(url: str, *, path: re.Pattern[str] | None = None) -> bool:
    """https, an SNS host, no credentials or port, and (when given) a matching path."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and parts.username is None
        and port is None
        and bool(SNS_HOST.match(parts.hostname or ""))
        and (path is None or bool(path.match(parts.path)))
    )


def string_to_sign(message: Mapping[str, Any]) -> bytes:
    """The bytes SNS signs: `key\\nvalue\\n` for each of the Type's SIGNED_KEYS present and not
    null, in that (alphabetical) order, UTF-8 ("Verifying the signatures of Amazon SNS
    messages"). Raises KeyError when `message` has no known `Type`.
    """
    keys = SIGNED_KEYS[str(message["Type"])]
    lines = []
    for key in keys:
        if key in message and message[key] is not None:
            lines.append(f"{key}\n{message[key]}\n")
    return "".join(lines).encode("utf-8")


def verify(
    message: Mapping[str, Any],
    *,
    fetch: Fetch,
    certs: CertCache = DEFAULT_CERTS,
    now: datetime | None = None,
) -> None:
    """Check the SNS signature of an already shape-checked envelope; returns None when valid.

    Raises MissingCredentials (401) when Signature or SigningCertURL is absent; BadSignature
    (403) for an unsupported SignatureVersion (1 = SHA1withRSA, 2 = SHA256withRSA), a
    certificate URL off an SNS host, a Timestamp missing or over an hour from `now`, a
    certificate that cannot be fetched, is not valid now or holds no RSA key, or a signature
    that does not verify.
    """
    version = message.get("SignatureVersion")
    signature_text = message.get("Signature")
    cert_url = message.get("SigningCertURL") or message.get("SigningCertUrl")
    if not signature_text or not cert_url:
        raise MissingCredentials("Signature and SigningCertURL are required")
    if not isinstance(signature_text, str) or not isinstance(cert_url, str):
        raise BadSignature("the signature is not verifiable")
    if version not in HASHES:
        raise BadSignature(f"unsupported SignatureVersion {str(version)[:8]!r}")
    if not is_sns_url(cert_url, path=CERT_PATH):
        raise BadSignature("the signing certificate is not on an Amazon SNS host")
    sent = payload.timestamp(message.get("Timestamp"))
    current = now or datetime.now(UTC)
    if sent is None or current - sent > MAX_AGE or sent - current > MAX_AGE:
        raise BadSignature("the message timestamp is missing or older than an hour")
    cert = certs.get(cert_url, fetch)
    if not (cert.not_valid_before_utc <= current <= cert.not_valid_after_utc):
        raise BadSignature("the signing certificate is not valid now")
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise BadSignature("the signing certificate does not hold an RSA key")
    try:
        signature = base64.b64decode(signature_text, validate=True)
        key.verify(signature, string_to_sign(message), padding.PKCS1v15(), HASHES[version]())
    except (InvalidSignature, binascii.Error, ValueError):
        raise BadSignature("the signature does not verify") from None


def parse(
    headers: Mapping[str, str],
    body: bytes,
    *,
    topic_arns: Sequence[str],
    fetch: Fetch = https_get,
    certs: CertCache = DEFAULT_CERTS,
    now: datetime | None = None,
) -> list[ProviderEvent]:
    """Verify an SNS POST; confirm a subscription, or normalise an SES notification.

    Returns [] for a subscription or unsubscribe confirmation and for a signed notification
    that holds no SES event. Raises MalformedPayload (400) for a body that is not a JSON
    object, an unknown Type (or one the x-amz-sns-message-type header contradicts) or a
    signed field that is not a string; BadSignature (403) for a TopicArn not in
    `topic_arns`, a SubscribeURL off an SNS host, or what verify refuses; UpstreamFailed
    (502) when the SubscribeURL cannot be fetched.
    """
    envelope = payload.obj(payload.load_json(body), "the body")
    kind = envelope.get("Type")
    if kind not in TYPES:
        raise MalformedPayload(
            "Type must be Notification, SubscriptionConfirmation or UnsubscribeConfirmation"
        )
    header_type = headers.get("x-amz-sns-message-type")
    if header_type and header_type != kind:
        raise MalformedPayload("x-amz-sns-message-type does not match the body's Type")
    for key in SIGNED_KEYS[kind]:
        if key != "Subject" and not isinstance(envelope.get(key), str):
            raise MalformedPayload(f"{key} must be a string")
    if "Subject" in envelope and not isinstance(envelope["Subject"], str | None):
        raise MalformedPayload("Subject must be a string")
    if envelope["TopicArn"] not in topic_arns:
        raise BadSignature("this topic is not in NEWSLETTER_SES_TOPIC_ARNS")
    verify(envelope, fetch=fetch, certs=certs, now=now)

    if kind == "SubscriptionConfirmation":
        url = envelope["SubscribeURL"]
        if not is_sns_url(url):
            raise BadSignature("the SubscribeURL is not on an Amazon SNS host")
        try:
            fetch(url)
        except Exception as exc:  # any network failure: say so, AWS shows it as pending
            log.warning("SNS subscription to %s not confirmed: %s", envelope["TopicArn"], exc)
            raise UpstreamFailed("the subscription could not be confirmed") from None
        log.info("SNS subscription to %s confirmed", envelope["TopicArn"])
        return []
    if kind == "UnsubscribeConfirmation":
        log.warning("SNS says %s unsubscribed this endpoint", envelope["TopicArn"])
        return []
    try:
        message = json.loads(envelope["Message"])
    except (ValueError, RecursionError):
        message = None
    if not isinstance(message, dict):
        # Signed by AWS, so not an attack: a console test message, for instance.
        log.info("SNS notification %s holds no SES event; ignored", envelope["MessageId"])
        return []
    return normalise(message, sns_message_id=payload.text(envelope, "MessageId", limit=100))


def normalise(message: dict[str, Any], *, sns_message_id: str) -> list[ProviderEvent]:
    """An SES notification (`notificationType`, or `eventType` for event publishing) as its
    ProviderEvents: one per bounced, complained or delivered recipient; [] for other
    types and for a `not-spam` complaint.

    Raises MalformedPayload when a Bounce, Complaint or Delivery lacks its object or a
    recipient address is not one.
    """
    kind = payload.text(message, "notificationType", limit=64) or payload.text(
        message, "eventType", limit=64
    )
    mail = message.get("mail")
    mail = mail if isinstance(mail, dict) else {}
    common = mail.get("commonHeaders")
    our_id = payload.text(common, "messageId") if isinstance(common, dict) else ""
    if not our_id:
        our_id = _header(mail.get("headers"), "Message-ID")
    message_id = payload.message_id(our_id) if our_id else None
    make = functools.partial(ProviderEvent, provider=PROVIDER, message_id=message_id)

    if kind == "Bounce":
        bounce = payload.obj(message.get("bounce"), "bounce")
        bounce_type = payload.text(bounce, "bounceType", limit=32)
        sub_type = payload.text(bounce, "bounceSubType", limit=64)
        provider_hard = _ses_verdict(bounce_type, sub_type)
        occurred_at = payload.timestamp(bounce.get("timestamp"))
        events = []
        for item in _list(bounce, "bouncedRecipients"):
            recipient = payload.address(item.get("emailAddress"))
            diagnostic = payload.text(item, "diagnosticCode")
            status = payload.status_code(payload.text(item, "status", limit=32), diagnostic)
            if sub_type in ("Suppressed", "OnAccountSuppressionList"):
                hard: bool | None = True  # SES itself refused: the address bounced hard before
            else:
                hard = classify_failure(status, diagnostic, provider_hard=provider_hard)
            events.append(
                make(
                    provider_event_id=payload.event_id(PROVIDER, sns_message_id, recipient),
                    kind=Kind.BOUNCE,
                    recipient=recipient,
                    hard=hard,
                    status=status,
                    diagnostic=diagnostic,
                    reason="/".join(p for p in (bounce_type, sub_type) if p),
                    occurred_at=occurred_at,
                )
            )
        return events
    if kind == "Complaint":
        complaint = payload.obj(message.get("complaint"), "complaint")
        if payload.text(complaint, "complaintFeedbackType", limit=32) == "not-spam":
            return []  # the recipient said it is *not* spam
        occurred_at = payload.timestamp(complaint.get("timestamp"))
        reason = payload.text(complaint, "complaintFeedbackType", limit=32) or "complaint"
        return [
            make(
                provider_event_id=payload.event_id(PROVIDER, sns_message_id, recipient),
                kind=Kind.COMPLAINT,
                recipient=recipient,
                reason=reason,
                occurred_at=occurred_at,
            )
            for recipient in (
                payload.address(item.get("emailAddress"))
                for item in _list(complaint, "complainedRecipients")
            )
        ]
    if kind == "Delivery":
        delivery = payload.obj(message.get("delivery"), "delivery")
        recipients = delivery.get("recipients")
        if not isinstance(recipients, list):
            raise MalformedPayload("delivery.recipients must be a list")
        occurred_at = payload.timestamp(delivery.get("timestamp"))
        return [
            make(
                provider_event_id=payload.event_id(PROVIDER, sns_message_id, recipient),
                kind=Kind.DELIVERY,
                recipient=recipient,
                diagnostic=payload.text(delivery, "smtpResponse"),
                occurred_at=occurred_at,
            )
            for recipient in (payload.address(r) for r in recipients)
        ]
    return []  # Send, Reject, Open, Click, DeliveryDelay...: nothing for us


def _ses_verdict(bounce_type: str, sub_type: str) -> bool | None:
    """SES bounce types (EMAIL-REFERENCE.md 2.1) as a verdict on the address."""
    if bounce_type == "Permanent":
        return True
    if bounce_type == "Transient":
        if sub_type in ("MessageTooLarge", "ContentRejected", "AttachmentRejected"):
            return None  # the message was refused, not the address
        return False
    return None  # Undetermined


def _list(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = data.get(key)
    if not isinstance(items, list):
        raise MalformedPayload(f"{key} must be a list")
    return [payload.obj(item, key) for item in items]


def _header(headers: Any, name: str) -> str:
    if not isinstance(headers, list):
        return ""
    for header in headers:
        if isinstance(header, dict) and str(header.get("name", "")).lower() == name.lower():
            return payload.text(header, "value")
    return ""
