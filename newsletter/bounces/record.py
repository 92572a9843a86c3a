"""Storing normalised bounce, complaint and delivery events once, then applying the policy.

One path for every source: the provider webhooks (webhooks/*) and the bounce mailbox
(`events_from_classified`) both end in `record_event`. The unique
`events.provider_event_id` is the claim: a webhook retried or replayed finds its event
already stored and changes nothing (warehouse's SES handling does the same).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsletter.models import Delivery, Event, EventKind, Subscriber, utcnow

from . import policy
from .events import Kind, ProviderEvent
from .hardness import classify_failure, from_reason
from .webhooks import payload

log = logging.getLogger(__name__)

EVENT_KINDS = {
    Kind.BOUNCE: EventKind.BOUNCE,
    Kind.COMPLAINT: EventKind.COMPLAINT,
    Kind.DELIVERY: EventKind.DELIVERED,
}
# A provider clock ahead of ours must not put a bounce in our future.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What recording one event did.

    `result`: recorded | duplicate | unknown (no delivery and no subscriber match) |
    skipped (a delivery event that resets nothing); `action`: policy.apply's answer
    when recorded, else "".
    """

    event: ProviderEvent
    result: str
    action: str = ""
    subscriber_id: int | None = None
    delivery_id: int | None = None


def record_events(
    session: Session,
    events: Iterable[ProviderEvent],
    *,
    soft_policy: policy.SoftBouncePolicy,
    now: datetime | None = None,
) -> list[Outcome]:
    """`record_event` for each, in order; each one commits on its own."""
    return [record_event(session, e, soft_policy=soft_policy, now=now) for e in events]


def record_event(
    session: Session,
    event: ProviderEvent,
    *,
    soft_policy: policy.SoftBouncePolicy,
    now: datetime | None = None,
) -> Outcome:
    """Store `event` once on its delivery, subscriber and issue; apply the policy. Commits.

    The delivery is found by `event.delivery_id`, else by our Message-ID
    (deliveries.message_id, with or without angle brackets), else the subscriber by
    address (and their latest delivery). An event for an address we never mailed is
    logged and changes nothing.
    """
    now = now or utcnow()
    if _already_stored(session, event.provider_event_id):
        session.rollback()
        return Outcome(event, "duplicate")
    delivery = _find_delivery(session, event)
    subscriber: Subscriber | None
    if delivery is not None:
        subscriber = session.get(Subscriber, delivery.subscriber_id, with_for_update=True)
    elif event.recipient:
        subscriber = session.scalar(
            select(Subscriber).where(Subscriber.email == event.recipient).with_for_update()
        )
        if subscriber is not None:
            delivery = session.scalar(
                select(Delivery)
                .where(Delivery.subscriber_id == subscriber.id)
                .order_by(Delivery.id.desc())
                .limit(1)
            )
    else:
        subscriber = None
    if subscriber is None:
        log.warning(
            "%s %s for %s (message %s): no delivery or subscriber matches; ignored",
            event.provider,
            event.kind.value,
            event.recipient or "an undisclosed recipient",
            event.message_id or "unknown",
        )
        session.rollback()
        return Outcome(event, "unknown")
    if event.kind is Kind.DELIVERY and subscriber.bounce_count == 0:
        # Only worth a row when it resets a soft-bounce count: providers report every
        # delivery, and the events table should not grow by one row per message sent.
        session.rollback()
        return Outcome(event, "skipped", subscriber_id=subscriber.id)

    occurred_at = min(event.occurred_at or now, now + CLOCK_SKEW)
    row = Event(
        kind=EVENT_KINDS[event.kind],
        occurred_at=occurred_at,
        issue_id=delivery.issue_id if delivery else None,
        subscriber_id=subscriber.id,
        delivery_id=delivery.id if delivery else None,
        provider_event_id=event.provider_event_id,
        hard=event.hard if event.kind is Kind.BOUNCE else None,
        data=_data(event),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Another request stored the same event between our check and our insert.
        session.rollback()
        return Outcome(event, "duplicate")
    action = policy.apply(session, subscriber=subscriber, event=event, now=now, policy=soft_policy)
    log.info(
        "%s %s for subscriber %s: %s",
        event.provider,
        event.kind.value,
        subscriber.id,
        action,
    )
    return Outcome(
        event,
        "recorded",
        action=action,
        subscriber_id=subscriber.id,
        delivery_id=delivery.id if delivery else None,
    )


def events_from_classified(
    *,
    message_key: str,
    kind: str,
    recipients: Sequence[Mapping[str, Any]],
    message_id: str | None = None,
    delivery_id: int | None = None,
    occurred_at: datetime | None = None,
) -> list[ProviderEvent]:
    """A message from the bounce mailbox, classified, as events for `record_events`.

    `message_key`: stable per mailbox message (its Message-ID or a hash of its bytes),
    so re-reading the mailbox after a crash stores nothing twice. `kind`: "bounce" |
    "complaint" (anything else - autoreply, not-bounce - gives no events).
    `recipients`: `{"address", "status", "reason", "hard"}` each, the shape of
    `newsletter bounces classify --json` (DESIGN.md); a complaint whose recipient is redacted may pass none and be found by
    `message_id` or `delivery_id` (the VERP token) instead.
    """
    if kind not in (Kind.BOUNCE.value, Kind.COMPLAINT.value):
        return []
    event_kind = Kind(kind)
    make = functools.partial(
        ProviderEvent,
        provider="mailbox",
        kind=event_kind,
        message_id=payload.message_id(message_id) if message_id else None,
        delivery_id=delivery_id,
        occurred_at=occurred_at,
    )
    if not recipients:
        if event_kind is Kind.COMPLAINT and (message_id or delivery_id):
            return [make(provider_event_id=payload.event_id("mailbox", message_key), recipient="")]
        return []
    events = []
    for item in recipients:
        recipient = str(item.get("address") or "").strip().lower()
        if not recipient:
            continue
        status = str(item.get("status") or "")
        reason = str(item.get("reason") or "")[: payload.MAX_TEXT]
        hard = item.get("hard") if isinstance(item.get("hard"), bool) else None
        if event_kind is not Kind.BOUNCE:
            hard = None
        elif hard is False and (
            from_reason(reason, False, provider_hard=False) is None  # a reason name
            or classify_failure(status, reason, provider_hard=False) is None  # code or text
        ):
            hard = None  # a soft verdict on a policy rejection (5.7.x) must never add up
        events.append(
            make(
                provider_event_id=payload.event_id("mailbox", message_key, recipient),
                recipient=recipient,
                hard=hard,
                status=status,
                diagnostic=reason,
            )
        )
    return events


def _already_stored(session: Session, provider_event_id: str) -> bool:
    return (
        session.scalar(select(Event.id).where(Event.provider_event_id == provider_event_id))
        is not None
    )


def _find_delivery(session: Session, event: ProviderEvent) -> Delivery | None:
    if event.delivery_id is not None:
        delivery = session.get(Delivery, event.delivery_id)
        if delivery is not None:
            return delivery
    if event.message_id:
        bare = event.message_id.strip("<>")
        return session.scalar(
            select(Delivery).where(Delivery.message_id.in_([f"<{bare}>", bare])).limit(1)
        )
    return None


def _data(event: ProviderEvent) -> dict[str, Any]:
    """What the admin pages show: provider, code, the server's words, the provider's label."""
    data: dict[str, Any] = {"provider": event.provider}
    if event.status:
        data["status"] = event.status
    if event.diagnostic:
        data["diagnostic"] = event.diagnostic
    if event.reason:
        data["reason"] = event.reason
    return data
