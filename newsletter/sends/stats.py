"""The stats of one issue, in the shape of DESIGN.md ("stats").

`sent`, `failed`, `skipped` come from the ledger; `remaining` is what the send has
yet to decide: pending and in-flight rows plus the active subscribers the walk
has not reached. `recipients` is their sum. `rate_per_s` is messages accepted over
the last RATE_WINDOW seconds. `bounces` and `complaints` come from the events
(newsletter.bounces.stats). Opens, clicks and unsubscribes are filled by later work
and zero until then.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.bounces.stats import issue_bounce_stats
from newsletter.compose.errors import IssueNotFound
from newsletter.models import Delivery, DeliveryStatus, Issue, Subscriber, SubscriberStatus, utcnow

from . import ledger

RATE_WINDOW = 10.0  # seconds


def issue_stats(session: Session, issue_id: int) -> dict[str, Any]:
    """`{status, recipients, sent, failed, skipped, remaining, rate_per_s, bounces: {hard,
    soft}, complaints, unsubscribes, opens: {unique, total, machine}, clicks: {unique,
    total, links: []}, series: []}`; raises IssueNotFound."""
    row = session.execute(
        select(Issue.status, Issue.last_subscriber_id, Issue.max_subscriber_id).where(
            Issue.id == issue_id
        )
    ).one_or_none()
    if row is None:
        raise IssueNotFound(issue_id)
    counts = ledger.counts(session, issue_id)
    unwalked = 0
    if row.max_subscriber_id is not None and row.last_subscriber_id < row.max_subscriber_id:
        unwalked = int(
            session.scalar(
                select(func.count()).where(
                    Subscriber.status == SubscriberStatus.ACTIVE,
                    Subscriber.id > row.last_subscriber_id,
                    Subscriber.id <= row.max_subscriber_id,
                )
            )
            or 0
        )
    since = utcnow() - timedelta(seconds=RATE_WINDOW)
    recent = int(
        session.scalar(
            select(func.count()).where(
                Delivery.issue_id == issue_id,
                Delivery.status == DeliveryStatus.SENT,
                Delivery.sent_at >= since,
            )
        )
        or 0
    )
    bounce_stats = issue_bounce_stats(session, issue_id)
    session.commit()
    remaining = counts[DeliveryStatus.PENDING] + counts[DeliveryStatus.SENDING] + unwalked
    sent, failed = counts[DeliveryStatus.SENT], counts[DeliveryStatus.FAILED]
    skipped = counts[DeliveryStatus.SKIPPED]
    return {
        "status": str(row.status),
        "recipients": sent + failed + skipped + remaining,
        "sent": sent,
        "failed": failed,
        "skipped": skipped,
        "remaining": remaining,
        "rate_per_s": round(recent / RATE_WINDOW, 1),
        "bounces": bounce_stats["bounces"],
        "complaints": bounce_stats["complaints"],
        "unsubscribes": 0,
        "opens": {"unique": 0, "total": 0, "machine": 0},
        "clicks": {"unique": 0, "total": 0, "links": []},
        "series": [],
    }
