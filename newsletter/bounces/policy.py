"""What a bounce or complaint does to the subscriber (EMAIL-REFERENCE.md 1.3, 3.4).

- complaint: `complained` and suppressed at once (RFC 5965 reports; Gmail/Yahoo rules);
- hard bounce (`hard is True`, the address is bad): `bounced` and suppressed at once;
- soft bounce (`hard is False`): suppressed when `limit` messages soft-bounced within the
  last `days` days *and* after the latest sign of life (a provider's delivery, an
  open, a click, a confirmation): a mailbox that was full last week and took mail
  since starts from zero (listmonk's per-type thresholds; warehouse counts transient
  bounces the same way);
- a failure that is not the address's fault (`hard is None`: 5.7.x policy, blocks,
  content) is recorded and never counts.
Status changes go through subscribers.suppression.suppress, the one place that keeps
the subscriber's status and the suppression list in step; the table in
subscribers/lifecycle.py (BOUNCE, COMPLAIN) decides which statuses a bounce or
complaint may overwrite.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.models import Event, EventKind, Subscriber, SuppressionReason
from newsletter.subscribers.suppression import suppress

from .events import Kind, ProviderEvent

# Events that prove the address takes mail; a later soft bounce starts a new count.
SIGNS_OF_LIFE = (EventKind.DELIVERED, EventKind.OPEN, EventKind.CLICK, EventKind.CONFIRM)


@dataclass(frozen=True, slots=True)
class SoftBouncePolicy:
    """NEWSLETTER_BOUNCE_SOFT_LIMIT soft bounces in NEWSLETTER_BOUNCE_SOFT_DAYS days."""

    limit: int = 3
    days: int = 30


def counted_soft_bounces(
    session: Session, *, subscriber_id: int, now: datetime, policy: SoftBouncePolicy
) -> int:
    """Messages to this subscriber that soft-bounced in the window and after their latest
    sign of life (an event with no delivery counts on its own)."""
    since = now - timedelta(days=policy.days)
    alive_at = session.scalar(
        select(func.max(Event.occurred_at)).where(
            Event.subscriber_id == subscriber_id, Event.kind.in_(SIGNS_OF_LIFE)
        )
    )
    if alive_at is not None and alive_at > since:
        since = alive_at
    delivery_ids = session.scalars(
        select(Event.delivery_id).where(
            Event.subscriber_id == subscriber_id,
            Event.kind == EventKind.BOUNCE,
            Event.hard.is_(False),
            Event.occurred_at > since,
        )
    ).all()
    # One message reported several times (Mailgun reports each retry, MTAs send
    # "delayed" DSNs) is one soft bounce: count messages, not reports.
    return len({d for d in delivery_ids if d is not None}) + delivery_ids.count(None)


def apply(
    session: Session,
    *,
    subscriber: Subscriber,
    event: ProviderEvent,
    now: datetime,
    policy: SoftBouncePolicy,
) -> str:
    """Act on an event already added to the session; commits. Returns what it did:
    "suppressed" | "counted" | "noted" | "reset"."""
    if event.kind is Kind.COMPLAINT:
        suppress(
            session,
            email=subscriber.email,
            reason=SuppressionReason.COMPLAINED,
            note=_note("complaint", event),
        )
        return "suppressed"
    if event.kind is Kind.DELIVERY:
        subscriber.bounce_count = 0
        session.commit()
        return "reset"
    if event.hard is True:
        subscriber.bounce_count += 1
        session.flush()
        suppress(
            session,
            email=subscriber.email,
            reason=SuppressionReason.BOUNCED,
            note=_note("hard bounce", event),
        )
        return "suppressed"
    if event.hard is None:
        session.commit()
        return "noted"
    session.flush()
    count = counted_soft_bounces(session, subscriber_id=subscriber.id, now=now, policy=policy)
    subscriber.bounce_count = count
    if count < policy.limit:
        session.commit()
        return "counted"
    session.flush()
    suppress(
        session,
        email=subscriber.email,
        reason=SuppressionReason.BOUNCED,
        note=_note(f"{count} soft bounces in {policy.days} days, the last", event),
    )
    return "suppressed"


def _note(what: str, event: ProviderEvent) -> str:
    """Why, for the admin's subscriber page: `hard bounce via ses: 5.1.1 smtp; 550 ...`."""
    detail = " ".join(part for part in (event.status, event.diagnostic or event.reason) if part)
    return f"{what} via {event.provider}" + (f": {detail}" if detail else "")
