"""An issue's bounce and complaint figures, for the issue stats (DESIGN.md "stats")."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.models import Event, EventKind


def issue_bounce_stats(session: Session, issue_id: int) -> dict[str, Any]:
    """`{"bounces": {"hard": n, "soft": n}, "complaints": n}`: distinct subscribers each.

    `hard` counts addresses that bounced hard; `soft` those that bounced otherwise
    (temporary failures and rejections that were not the address's fault) and never
    hard; a provider reporting one bounce several times counts once.
    """
    rows = session.execute(
        select(Event.kind, Event.hard, func.count(func.distinct(Event.subscriber_id)))
        .where(
            Event.issue_id == issue_id,
            Event.kind.in_((EventKind.BOUNCE, EventKind.COMPLAINT)),
        )
        .group_by(Event.kind, Event.hard)
    ).all()
    hard = sum(n for kind, is_hard, n in rows if kind is EventKind.BOUNCE and is_hard is True)
    hard_ids = select(Event.subscriber_id).where(
        Event.issue_id == issue_id, Event.kind == EventKind.BOUNCE, Event.hard.is_(True)
    )
    soft = session.scalar(
        select(func.count(func.distinct(Event.subscriber_id))).where(
            Event.issue_id == issue_id,
            Event.kind == EventKind.BOUNCE,
            Event.hard.is_not(True),
            Event.subscriber_id.not_in(hard_ids),
        )
    )
    complaints = sum(n for kind, _, n in rows if kind is EventKind.COMPLAINT)
    return {"bounces": {"hard": hard, "soft": int(soft or 0)}, "complaints": complaints}
