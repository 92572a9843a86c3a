"""The one place that decides the headers and the envelope sender of every email we send.

Issues, test sends, confirmations and welcomes all get their `MessageTemplate`
and their MAIL FROM here, so the list headers cannot drift apart:

- `List-Id` (RFC 2919): `<newsletter.DOMAIN>`.
- `List-Unsubscribe` (RFC 2369) with the https one-click URL and a mailto, and
  `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058): written by
  `MessageTemplate.personalise` from the recipient's URL.
- `Message-ID` (RFC 5322 3.6.4): unique per message; a delivery's is stored on
  its row and reused on every retry, so a receiver can de-duplicate.
- `Feedback-ID` (Gmail FBL): `CAMPAIGN:KIND:newsletter:DOMAIN`.
- `Date`: the moment of personalisation.
- `DKIM-Signature` (dkim.py) when DKIM_SELECTOR and DKIM_PRIVATE_KEY_PATH are set:
  every personalised message passes through `seal`.
- Envelope sender: `bounces+TOKEN@RETURN_PATH_DOMAIN` (VERP, see verp.py) for a
  delivery, so a bounce names the delivery; the From address otherwise.
"""

from __future__ import annotations

import functools
import secrets
from email.utils import parseaddr

from newsletter.config import Settings
from newsletter.render.content import RenderedEmail

from . import dkim, verp
from .message import MessageTemplate


def domain(settings: Settings) -> str:
    """The domain our Message-IDs, List-Id and bounce addresses live under."""
    return _domain(settings.return_path_domain, settings.from_address)


@functools.lru_cache(maxsize=8)
def _domain(return_path_domain: str, from_address: str) -> str:
    # Cached: parsing FROM_ADDRESS for every message showed up in the send's profile.
    return return_path_domain or parseaddr(from_address)[1].rpartition("@")[2] or "localhost"


def list_id(settings: Settings) -> str:
    """The list identifier for List-Id (RFC 2919): `newsletter.<mail domain>`."""
    return f"newsletter.{domain(settings)}"


def unsubscribe_mailto(settings: Settings) -> str:
    """The mailto: half of List-Unsubscribe (RFC 2369), for clients without one-click."""
    return f"mailto:unsubscribe@{domain(settings)}?subject=unsubscribe"


def feedback_id(settings: Settings, campaign: str, kind: str) -> str:
    """Gmail's Feedback-ID value: `campaign:kind:newsletter:<mail domain>` (four fields)."""
    return f"{campaign}:{kind}:newsletter:{domain(settings)}"


def new_message_id(settings: Settings, *parts: object) -> str:
    """`<PARTS.RANDOM@DOMAIN>`: readable prefix for logs, random part for uniqueness."""
    prefix = ".".join(str(p) for p in parts)
    return f"<{prefix}.{secrets.token_hex(6)}@{domain(settings)}>"


def issue_template(
    rendered: RenderedEmail, settings: Settings, *, issue_id: int
) -> MessageTemplate:
    """An issue's content variant, with every list header (bulk)."""
    return MessageTemplate.build(
        rendered,
        from_address=settings.from_address,
        list_id=list_id(settings),
        feedback_id=feedback_id(settings, f"issue{issue_id}", "issue"),
        unsubscribe_mailto=unsubscribe_mailto(settings),
    )


def test_template(rendered: RenderedEmail, settings: Settings, *, issue_id: int) -> MessageTemplate:
    """A test send carries the same headers as the real issue, under its own feedback id."""
    return MessageTemplate.build(
        rendered,
        from_address=settings.from_address,
        list_id=list_id(settings),
        feedback_id=feedback_id(settings, f"issue{issue_id}", "test"),
        unsubscribe_mailto=unsubscribe_mailto(settings),
    )


def transactional_template(
    rendered: RenderedEmail, settings: Settings, *, kind: str, list_mail: bool
) -> MessageTemplate:
    """Confirmation (`list_mail=False`: no list headers are meaningful yet, not bulk) or
    welcome (`list_mail=True`: the first list mail, with the mailto unsubscribe too)."""
    return MessageTemplate.build(
        rendered,
        from_address=settings.from_address,
        list_id=list_id(settings),
        feedback_id=feedback_id(settings, kind, "transactional"),
        unsubscribe_mailto=unsubscribe_mailto(settings) if list_mail else None,
        bulk=False,
    )


def envelope_sender(settings: Settings, *, delivery_id: int | None = None) -> str:
    """MAIL FROM: VERP `bounces+TOKEN@domain` for a delivery, else the From address."""
    if delivery_id is None:
        return settings.from_email
    return verp.return_path(delivery_id, domain=domain(settings), key=settings.secret_key)


def seal(settings: Settings, message: bytes) -> bytes:
    """The finished message: DKIM-signed when a key is configured, else unchanged."""
    if not settings.dkim_selector or not settings.dkim_private_key_path:
        return message  # asked once per message sent: skip the signer lookup
    signer = dkim.get_signer(
        selector=settings.dkim_selector,
        domain=settings.from_email.rpartition("@")[2],
        path=settings.dkim_private_key_path,
    )
    return signer.sign(message) if signer else message
