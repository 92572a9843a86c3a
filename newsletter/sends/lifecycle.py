"""Every status change of an issue after draft, each one conditional UPDATE.

    draft --schedule--> scheduled --unschedule--> draft
    draft|scheduled --start--> sending --pause--> paused --resume--> sending
    sending --finish--> sent
    draft|scheduled|sending|paused --cancel--> cancelled

The UPDATE is the claim, not any read before it: `... WHERE id = ? AND status IN
(...)` matches one row for exactly one caller, so two beats, two dispatchers, or
an author clicking twice still start an issue once. On PostgreSQL the row stays
locked until commit; on SQLite writes are serialized. Losers learn why from
`InvalidTransition` (or get False from the `*_if_possible` forms used by tasks).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from newsletter.compose.errors import (
    ComposeError,
    InvalidSchedule,
    InvalidTransition,
    IssueNotFound,
)
from newsletter.models import Issue, IssueItem, IssueStatus, Subscriber, utcnow

D, SC, SE, P = IssueStatus.DRAFT, IssueStatus.SCHEDULED, IssueStatus.SENDING, IssueStatus.PAUSED
EDITABLE = (D,)
STARTABLE = (D, SC)
CANCELLABLE = (D, SC, SE, P)
RUNNING = (SE, P)  # a send that has begun and not ended


def rowcount(session: Session, stmt: Any) -> int:
    """Rows an UPDATE matched: the answer to "did we win the claim?"."""
    result = cast("CursorResult[Any]", session.execute(stmt))
    return int(result.rowcount)


def try_claim(
    session: Session, issue_id: int, *, allowed: Sequence[IssueStatus], **values: Any
) -> bool:
    """The one conditional UPDATE behind every transition; True when this caller won.

    Does not commit: the caller commits once everything that belongs with the change
    is written.
    """
    values.setdefault("updated_at", utcnow())
    stmt = (
        update(Issue)
        .where(Issue.id == issue_id, Issue.status.in_(list(allowed)))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return rowcount(session, stmt) == 1


def claim(
    session: Session,
    issue_id: int,
    *,
    allowed: Sequence[IssueStatus],
    action: str,
    **values: Any,
) -> None:
    """`try_claim`, or raise IssueNotFound / InvalidTransition saying why not."""
    if not try_claim(session, issue_id, allowed=allowed, **values):
        session.rollback()
        status = session.scalar(select(Issue.status).where(Issue.id == issue_id))
        if status is None:
            raise IssueNotFound(issue_id)
        raise InvalidTransition(issue_id, action=action, status=str(status))


def _require_items(session: Session, issue_id: int, action: str) -> None:
    # Checked under the claim, so no concurrent edit can empty the issue afterwards.
    if session.scalar(select(func.count()).where(IssueItem.issue_id == issue_id)) == 0:
        session.rollback()
        raise ComposeError(f"the issue has no posts; add at least one before {action}")


def _assign_slug(session: Session, issue_id: int) -> None:
    from newsletter.compose.issues import assign_slug, get_issue

    assign_slug(session, get_issue(session, issue_id))


def schedule(
    session: Session, *, issue_id: int, send_at: datetime, now: datetime | None = None
) -> None:
    """draft -> scheduled; beat starts the send when send_at comes (commits).

    Raises InvalidSchedule (naive or past send_at), ComposeError (no posts),
    IssueNotFound, InvalidTransition (not a draft).
    """
    if send_at.tzinfo is None:
        raise InvalidSchedule("send_at needs a timezone (e.g. 2026-03-01T09:00:00+01:00)")
    try:
        send_at = send_at.astimezone(UTC)
    except (OverflowError, ValueError):
        raise InvalidSchedule("send_at is out of range") from None
    if send_at <= (now or utcnow()):
        raise InvalidSchedule("send_at must be in the future")
    claim(session, issue_id, allowed=EDITABLE, action="scheduled", status=SC, send_at=send_at)
    _require_items(session, issue_id, "scheduling")
    _assign_slug(session, issue_id)
    session.commit()


def unschedule(session: Session, *, issue_id: int) -> None:
    """scheduled -> draft, so the author can edit again before the send starts (commits)."""
    claim(session, issue_id, allowed=(SC,), action="moved back to draft", status=D, send_at=None)
    session.commit()


def _start_values(now: datetime) -> dict[str, Any]:
    # The send walks subscriber ids up to the largest one now: people who join
    # mid-send wait for the next issue, and the walk has a known end.
    top = select(func.coalesce(func.max(Subscriber.id), 0)).scalar_subquery()
    return {
        "status": SE,
        "started_at": now,
        "last_subscriber_id": 0,
        "max_subscriber_id": top,
        "updated_at": now,
    }


def start(session: Session, *, issue_id: int, now: datetime | None = None) -> None:
    """draft|scheduled -> sending, fixing the subscriber bound (commits).

    The caller then publishes `sends.send_batch` (after this commit). Raises
    ComposeError (no posts), IssueNotFound, InvalidTransition (already sending,
    sent, cancelled...): a sent issue can never be sent again.
    """
    claim(session, issue_id, allowed=STARTABLE, action="sent", **_start_values(now or utcnow()))
    _require_items(session, issue_id, "sending")
    _assign_slug(session, issue_id)
    session.commit()


def start_due(session: Session, *, now: datetime | None = None) -> list[int]:
    """Start every scheduled issue whose time has come; the ids this caller started.

    Two beats calling this at once each get a disjoint list (commits per issue).
    """
    now = now or utcnow()
    due = list(
        session.scalars(
            select(Issue.id).where(Issue.status == SC, Issue.send_at <= now).order_by(Issue.id)
        )
    )
    session.commit()  # end the read before writing (SQLite WAL snapshots)
    started: list[int] = []
    for issue_id in due:
        if try_claim(session, issue_id, allowed=(SC,), **_start_values(now)):
            _assign_slug(session, issue_id)
            session.commit()
            started.append(issue_id)
        else:
            session.rollback()
    return started


def pause(session: Session, *, issue_id: int) -> None:
    """sending -> paused; running batches stop within a few messages (commits)."""
    claim(session, issue_id, allowed=(SE,), action="paused", status=P)
    session.commit()


def resume(session: Session, *, issue_id: int) -> None:
    """paused -> sending; the caller publishes `sends.send_batch` again (commits)."""
    claim(session, issue_id, allowed=(P,), action="resumed", status=SE)
    session.commit()


def cancel(session: Session, *, issue_id: int) -> None:
    """Any issue that has not finished -> cancelled; a running send stops within a few
    messages, because send tasks re-check the status as they go (commits)."""
    claim(session, issue_id, allowed=CANCELLABLE, action="cancelled", status=IssueStatus.CANCELLED)
    session.commit()


def finish_if_possible(session: Session, *, issue_id: int, now: datetime | None = None) -> bool:
    """sending -> sent; False when someone else finished it or it is paused (commits)."""
    now = now or utcnow()
    won = try_claim(session, issue_id, allowed=(SE,), status=IssueStatus.SENT, sent_at=now)
    session.commit()
    return won


def touch_draft(session: Session, *, issue_id: int, action: str) -> None:
    """Take a draft for an edit (no status change), or raise InvalidTransition."""
    claim(session, issue_id, allowed=EDITABLE, action=action)


def advance_checkpoint(session: Session, *, issue_id: int, seen: int, to: int) -> bool:
    """Move the send's checkpoint from `seen` to `to`; False if another worker moved it
    first or the issue is no longer sending. Does not commit."""
    stmt = (
        update(Issue)
        .where(Issue.id == issue_id, Issue.status == SE, Issue.last_subscriber_id == seen)
        .values(last_subscriber_id=to, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return rowcount(session, stmt) == 1


def status_of(session: Session, issue_id: int) -> IssueStatus | None:
    """The issue's status as stored now (never a stale identity-map copy); None when the
    issue does not exist."""
    return session.scalar(
        select(Issue.status).where(Issue.id == issue_id).execution_options(populate_existing=True)
    )


def checkpoint_query(issue_id: int) -> Any:
    """status, last_subscriber_id, max_subscriber_id, updated_at of one issue."""
    return select(
        Issue.status, Issue.last_subscriber_id, Issue.max_subscriber_id, Issue.updated_at
    ).where(Issue.id == issue_id)


def sending_issue_ids(session: Session) -> list[int]:
    """Issues whose send is running (not paused), oldest first (ends the read)."""
    ids = list(session.scalars(select(Issue.id).where(Issue.status == SE).order_by(Issue.id)))
    session.commit()
    return ids
