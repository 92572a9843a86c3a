"""GDPR Art. 17 erasure: the person's data goes, a hash of the address stays suppressed."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from newsletter.models import Subscriber, SuppressionReason

from . import lifecycle
from .errors import SubscriberNotFound
from .lifecycle import Action
from .suppression import add_suppression


def erase(session: Session, *, subscriber_id: int) -> None:
    """Delete the subscriber and everything about them; keep only a hash so we never mail
    them again. Commits.

    Events and deliveries go with the row (ON DELETE CASCADE). The suppression is
    keyed by the SHA-256 of the address and holds no other personal data.
    Allowed from every status (lifecycle: ERASE). Raises SubscriberNotFound.
    """
    row = session.execute(
        select(Subscriber.email, Subscriber.status).where(Subscriber.id == subscriber_id)
    ).first()
    if row is None:
        raise SubscriberNotFound(f"no subscriber with id {subscriber_id}")
    lifecycle.target(row.status, Action.ERASE)
    add_suppression(session, email=row.email, reason=SuppressionReason.ERASED)
    session.execute(delete(Subscriber).where(Subscriber.id == subscriber_id))
    session.commit()
