"""What an admin (API or admin pages) may do to a subscriber directly."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.models import (
    Event,
    EventKind,
    Frequency,
    Subscriber,
    SubscriberStatus,
    SuppressionReason,
    utcnow,
)
from newsletter.queue import enqueue_after_commit

from . import lifecycle
from .categories import resolve_categories
from .errors import Conflict, InvalidInput, SubscriberNotFound
from .lifecycle import Action
from .service import clean_name, unsubscribe
from .suppression import get_suppression, suppress
from .validation import validate_address


def create_subscriber(
    session: Session,
    *,
    email: str,
    name: str = "",
    categories: Sequence[str] = (),
    status: SubscriberStatus = SubscriberStatus.PENDING,
    source: str = "api",
) -> Subscriber:
    """Add one address; `pending` sends a confirmation, `active` asserts consent was given elsewhere.

    Commits. Raises InvalidEmail, InvalidInput (status, name, unknown category) and
    Conflict (the address exists, or is suppressed: only the person may lift that).
    """
    if status not in (SubscriberStatus.PENDING, SubscriberStatus.ACTIVE):
        raise InvalidInput("a new subscriber is pending or active")
    address = validate_address(email)
    display_name = clean_name(name)
    chosen = resolve_categories(session, categories)
    if session.scalar(select(Subscriber.id).where(Subscriber.email == address.email)):
        raise Conflict("a subscriber with this address already exists")
    if get_suppression(session, address.email) is not None:
        # Only the person confirming again may lift a suppression.
        raise Conflict("this address is on the suppression list; the person must sign up again")
    now = utcnow()
    subscriber = Subscriber(
        email=address.email,
        name=display_name,
        status=status,
        is_disposable=address.is_disposable,
        is_role_address=address.is_role,
        source=source,
        attributes={},
        confirmed_at=now if status is SubscriberStatus.ACTIVE else None,
        confirmation_sent_at=now if status is SubscriberStatus.PENDING else None,
    )
    subscriber.categories = chosen
    session.add(subscriber)
    session.flush()
    session.add(
        Event(
            kind=EventKind.SUBSCRIBE,
            subscriber_id=subscriber.id,
            occurred_at=now,
            data={"source": source, "status": status.value, "by": "admin"},
        )
    )
    if status is SubscriberStatus.PENDING:
        enqueue_after_commit(session, "subscribers.send_confirmation", subscriber.id)
    session.commit()
    return subscriber


def update_subscriber(
    session: Session,
    *,
    subscriber_id: int,
    name: str | None = None,
    categories: Sequence[str] | None = None,
    frequency: Frequency | None = None,
    status: SubscriberStatus | None = None,
) -> Subscriber:
    """Change fields; status moves only where the lifecycle allows. All or nothing; commits.

    `status`: active (ADMIN_CONFIRM: pending only, and not suppressed), unsubscribed
    (UNSUBSCRIBE; a no-op for an address already stopped) or blocked (BLOCK).
    Raises SubscriberNotFound, InvalidInput (another status, name, category) and
    Conflict / TransitionRefused (HTTP 409) for a move the table refuses.
    """
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        raise SubscriberNotFound(f"no subscriber with id {subscriber_id}")
    display_name = clean_name(name) if name is not None else None
    chosen = resolve_categories(session, categories) if categories is not None else None
    if status is not None and status is not subscriber.status:
        _check_transition(session, subscriber, status)
    if display_name is not None:
        subscriber.name = display_name
    if chosen is not None:
        subscriber.categories = chosen
    if frequency is not None:
        subscriber.frequency = frequency
    if status is None or status is subscriber.status:
        session.commit()
        return subscriber
    if status is SubscriberStatus.ACTIVE:
        _record_status(session, subscriber, status)
        subscriber.status = SubscriberStatus.ACTIVE  # lifecycle: ADMIN_CONFIRM, checked above
        subscriber.confirmed_at = utcnow()
        session.commit()
    elif status is SubscriberStatus.UNSUBSCRIBED:
        session.flush()
        unsubscribe(session, subscriber_id=subscriber.id, via="admin")  # records its own event
    else:
        _record_status(session, subscriber, status)
        session.flush()
        suppress(session, email=subscriber.email, reason=SuppressionReason.BLOCKED, note="admin")
    session.refresh(subscriber)
    return subscriber


def _record_status(session: Session, subscriber: Subscriber, status: SubscriberStatus) -> None:
    session.add(
        Event(
            kind=EventKind.STATUS,
            subscriber_id=subscriber.id,
            data={"from": subscriber.status.value, "to": status.value, "by": "admin"},
        )
    )


def _check_transition(session: Session, subscriber: Subscriber, status: SubscriberStatus) -> None:
    if status is SubscriberStatus.ACTIVE:
        # An admin may confirm a pending address (consent given elsewhere), never
        # bring back one that unsubscribed, bounced, complained or was blocked.
        lifecycle.target(subscriber.status, Action.ADMIN_CONFIRM)
        if get_suppression(session, subscriber.email) is not None:
            raise Conflict("this address is on the suppression list")
    elif status not in (SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.BLOCKED):
        raise InvalidInput("status can be set to active, unsubscribed or blocked")
    # Unsubscribing a stopped address changes nothing (service.unsubscribe is idempotent);
    # blocking is allowed from every other status (lifecycle: BLOCK).
