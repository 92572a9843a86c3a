"""The one shape every source of bounces and complaints is normalised to."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class Kind(enum.StrEnum):
    """What a provider event reports: a bounce, a spam complaint, or a delivery (accepted)."""

    BOUNCE = "bounce"
    COMPLAINT = "complaint"
    DELIVERY = "delivery"  # the receiving server accepted the message


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    """One recipient's outcome as a provider (or our bounce mailbox) reported it.

    - `provider`: "ses" | "postmark" | "mailgun" | "sendgrid" | "mailbox".
    - `provider_event_id`: unique across providers (prefixed with the provider), at most
      255 characters; a retried webhook carries the same one, so it is stored once.
    - `recipient`: lower-cased address, or "" when the report redacted it (complaints).
    - `hard`: for bounces, True = the address is bad (suppress at once), False = a
      temporary failure of the mailbox (counted), None = a failure that says nothing
      about the address (policy, reputation, content: RFC 3463 x.7.x and friends),
      recorded but never counted. None for other kinds.
    - `status`: RFC 3463 enhanced status code when known ("5.1.1"), else "".
    - `diagnostic`: the remote server's words, one line, at most 1000 characters.
    - `reason`: the provider's own label ("Permanent/General", "HardBounce", "abuse").
    - `message_id`: our Message-ID without angle brackets, when the provider echoes it.
    - `delivery_id`: our delivery row when the source already knows it (VERP token).
    - `occurred_at`: aware UTC datetime from the provider, None when it gave none.
    """

    provider: str
    provider_event_id: str
    kind: Kind
    recipient: str
    hard: bool | None = None
    status: str = ""
    diagnostic: str = ""
    reason: str = ""
    message_id: str | None = None
    delivery_id: int | None = None
    occurred_at: datetime | None = None
