"""The suppression list: addresses we must never mail, keyed by a hash of the address.

Invariant kept by every function here: a subscriber whose address is suppressed
never has status `active`. The send pipeline can therefore select by status in SQL
(hashes cannot be computed in SQLite) and re-check `is_mailable` per message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from newsletter.models import Subscriber, SubscriberStatus, Suppression, SuppressionReason, utcnow
from newsletter.sql import among

from . import lifecycle
from .lifecycle import Action

# The subscriber status each suppression reason implies.
STATUS_FOR_REASON = {
    SuppressionReason.UNSUBSCRIBED: SubscriberStatus.UNSUBSCRIBED,
    SuppressionReason.BOUNCED: SubscriberStatus.BOUNCED,
    SuppressionReason.COMPLAINED: SubscriberStatus.COMPLAINED,
    SuppressionReason.BLOCKED: SubscriberStatus.BLOCKED,
}
REASON_FOR_STATUS = {status: reason for reason, status in STATUS_FOR_REASON.items()}
# The lifecycle action each suppression reason is.
ACTION_FOR_REASON = {
    SuppressionReason.UNSUBSCRIBED: Action.UNSUBSCRIBE,
    SuppressionReason.BOUNCED: Action.BOUNCE,
    SuppressionReason.COMPLAINED: Action.COMPLAIN,
    SuppressionReason.BLOCKED: Action.BLOCK,
}


def email_hash(email: str) -> str:
    """The suppression key: SHA-256 hex (64 characters) of the trimmed, lower-cased address."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def get_suppression(session: Session, email: str) -> Suppression | None:
    """The suppression row for this address, or None."""
    return session.scalar(select(Suppression).where(Suppression.email_hash == email_hash(email)))


def is_suppressed(session: Session, email: str) -> bool:
    """True if we must never mail this address."""
    return get_suppression(session, email) is not None


def suppressed_hashes(session: Session, emails: Iterable[str]) -> set[str]:
    """Which of `emails` are suppressed, as hashes (one query per call; callers batch)."""
    hashes = [email_hash(e) for e in emails]
    if not hashes:
        return set()
    rows = session.scalars(
        select(Suppression.email_hash).where(among(session, Suppression.email_hash, hashes))
    )
    return set(rows)


def add_suppression(
    session: Session, *, email: str, reason: SuppressionReason, note: str = ""
) -> Suppression:
    """Record (or upgrade) a suppression; does not commit. `note` is cut to 500 characters.

    An existing row keeps its reason unless the new one is stronger: a complaint or
    a block outranks an unsubscribe, so the admin sees why an address is blocked.
    """
    existing = get_suppression(session, email)
    if existing is not None:
        if _rank(reason) > _rank(existing.reason):
            existing.reason = reason
            existing.note = note[:500]
        return existing
    row = Suppression(email_hash=email_hash(email), reason=reason, note=note[:500])
    session.add(row)
    session.flush()
    return row


def suppress(session: Session, *, email: str, reason: SuppressionReason, note: str = "") -> bool:
    """Stop mailing `email` (bounce, complaint, block...). Commits; True if a subscriber changed.

    This is the entry point for other parts (bounce processing, webhooks): it keeps
    the subscriber's status and the suppression list in step. The status moves only
    from the statuses the lifecycle table allows for the reason's action (BOUNCE,
    COMPLAIN, BLOCK, UNSUBSCRIBE), so a stop never weakens a stronger one.
    """
    add_suppression(session, email=email, reason=reason, note=note)
    changed = 0
    status = STATUS_FOR_REASON.get(reason)
    action = ACTION_FOR_REASON.get(reason)
    if status is not None and action is not None:
        values: dict[str, object] = {"status": status}
        if status is SubscriberStatus.UNSUBSCRIBED:
            values["unsubscribed_at"] = utcnow()
        result = session.execute(
            update(Subscriber)
            .where(
                Subscriber.email == email.strip().lower(),
                Subscriber.status.in_(lifecycle.sources(action)),
            )
            .values(**values)
        )
        changed = result.rowcount or 0  # type: ignore[attr-defined]
    session.commit()
    return changed > 0


def lift_suppression(session: Session, *, email: str) -> None:
    """Only ever called when the person confirms again; does not commit."""
    session.execute(delete(Suppression).where(Suppression.email_hash == email_hash(email)))


_ORDER = [
    SuppressionReason.UNSUBSCRIBED,
    SuppressionReason.BOUNCED,
    SuppressionReason.ERASED,
    SuppressionReason.COMPLAINED,
    SuppressionReason.BLOCKED,
]


def _rank(reason: SuppressionReason) -> int:
    return _ORDER.index(reason)
