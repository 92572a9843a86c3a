"""Welcome with the latest issue: with `WELCOME_LATEST_ISSUE` on, a newly confirmed
subscriber also receives the most recent sent issue (never a digest), with their
categories applied.

It is a normal delivery of that issue: one ledger row (the UNIQUE (issue, subscriber)
key makes confirming twice, or signing up again after unsubscribing, send nothing
more), built and sealed by `sends.deliver.build_message`, and counted in the issue's
stats. A reader who chose a weekly or monthly digest gets the row skipped "digest",
so their next digest carries the issue's posts instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, and_, or_, select, update
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.mail import envelope
from newsletter.mail.dkim import DkimError
from newsletter.mail.ratelimit import RateLimiter
from newsletter.mail.transport import EmailSender, PermanentFailure, TemporaryFailure
from newsletter.models import (
    Delivery,
    DeliveryStatus,
    Issue,
    IssueKind,
    IssueStatus,
    SuppressionReason,
    utcnow,
)
from newsletter.sends import audience, deliver, ledger, variants
from newsletter.subscribers.suppression import suppress

_TABLE = cast(Table, Delivery.__table__)
_C = _TABLE.c


@dataclass(frozen=True, slots=True)
class WelcomeOutcome:
    """`result`: sent | skipped | failed | retry (try again in `retry_in` seconds) |
    done (this subscriber already has their row handled, or it is being sent) |
    no issue (nothing has been sent yet)."""

    result: str
    issue_id: int | None = None
    detail: str = ""
    retry_in: float = 0.0


def latest_issue_id(session: Session) -> int | None:
    """The most recently sent issue written by an author (digests are per reader)."""
    return session.scalar(
        select(Issue.id)
        .where(Issue.status == IssueStatus.SENT, Issue.kind == IssueKind.ISSUE)
        .order_by(Issue.sent_at.desc(), Issue.id.desc())
        .limit(1)
    )


def _claim(
    session: Session, issue_id: int, subscriber_id: int, *, stale: timedelta, now: datetime
) -> ledger.Claimed | None:
    """Take this subscriber's row of the issue: pending and due, or held by a worker
    silent for longer than `stale` (it died mid-send). One UPDATE; commits."""
    due = or_(_C.next_attempt_at.is_(None), _C.next_attempt_at <= now)
    row = session.execute(
        update(_TABLE)
        .where(
            _C.issue_id == issue_id,
            _C.subscriber_id == subscriber_id,
            or_(
                and_(_C.status == DeliveryStatus.PENDING, due),
                and_(_C.status == DeliveryStatus.SENDING, _C.claimed_at < now - stale),
            ),
        )
        .values(
            status=DeliveryStatus.SENDING,
            claimed_at=now,
            attempts=_C.attempts + 1,
            updated_at=now,
        )
        .returning(_C.id, _C.subscriber_id, _C.message_id, _C.attempts)
    ).one_or_none()
    session.commit()
    return ledger.Claimed(*row) if row is not None else None


def send_latest(
    session: Session,
    settings: Settings,
    *,
    subscriber_id: int,
    sender: EmailSender,
    limiter: RateLimiter,
) -> WelcomeOutcome:
    """Deliver the latest sent issue to one subscriber, at most once (commits).

    SMTP 5xx fails the delivery (5.1.x also suppresses the address); 4xx and connection
    errors put it back to pending and answer `retry` with the back-off delay, up to
    SEND_MAX_ATTEMPTS. Never raises for the recipient's problems.
    """
    issue_id = latest_issue_id(session)
    session.commit()  # end the read before writing (SQLite WAL snapshots)
    if issue_id is None:
        return WelcomeOutcome("no issue")
    message_id = envelope.new_message_id(settings, issue_id, subscriber_id)
    ledger.create(session, issue_id, [(subscriber_id, message_id)])
    session.commit()
    now = utcnow()
    claimed = _claim(
        session,
        issue_id,
        subscriber_id,
        stale=timedelta(seconds=settings.send_claim_timeout),
        now=now,
    )
    if claimed is None:
        return WelcomeOutcome("done", issue_id)

    plan = audience.issue_plan(session, issue_id)
    verdict = audience.judge(session, plan, [subscriber_id])[subscriber_id]
    if verdict.skip is not None:
        ledger.mark_skipped(session, [claimed.id], verdict.skip)
        session.commit()
        return WelcomeOutcome("skipped", issue_id, verdict.skip)
    try:
        message = deliver.build_message(
            session, settings, issue_id=issue_id, claimed=claimed, verdict=verdict
        )
        session.commit()
    except (ValueError, DkimError) as exc:
        return _fail(session, claimed.id, issue_id, f"cannot build the message: {exc}")
    limiter.acquire()
    try:
        sender.send(
            envelope_from=envelope.envelope_sender(settings, delivery_id=claimed.id),
            recipients=[verdict.email],
            message=message,
        )
    except PermanentFailure as exc:
        outcome = _fail(session, claimed.id, issue_id, str(exc))
        if deliver.is_address_failure(str(exc)):
            suppress(session, email=verdict.email, reason=SuppressionReason.BOUNCED, note=str(exc))
        return outcome
    except TemporaryFailure as exc:
        if claimed.attempts >= settings.send_max_attempts:
            return _fail(session, claimed.id, issue_id, f"gave up after {claimed.attempts}: {exc}")
        delay = deliver.backoff(settings, claimed.attempts)
        ledger.retry_later(session, claimed.id, str(exc), at=utcnow() + timedelta(seconds=delay))
        session.commit()
        return WelcomeOutcome("retry", issue_id, str(exc), retry_in=delay)
    ledger.mark_sent_and_renew(session, [(claimed.id, variants.variant_key(verdict.post_ids))], [])
    session.commit()
    return WelcomeOutcome("sent", issue_id)


def _fail(session: Session, delivery_id: int, issue_id: int, error: str) -> WelcomeOutcome:
    ledger.mark_failed(session, delivery_id, error)
    session.commit()
    return WelcomeOutcome("failed", issue_id, error)
