"""One batch of a send: advance the checkpoint, claim, judge, personalise, rate-limit,
send, record.

A batch task (`sends.send_batch`) calls `run_batch` and, once it has claimed work,
publishes its successor, so as many batches run at once as there are free worker
slots on every host (adding a worker adds throughput, with no setting to change).

Exactly once: the ledger row of a delivery moves to `sent` only after the SMTP
server accepted it, and a claimed row is never given to anyone else while its
worker is alive (claims are renewed every RENEW_EVERY seconds, at a flush). Sent rows
are recorded every `FLUSH_EVERY` messages, so a worker killed at any moment leaves at most
`FLUSH_EVERY` accepted-but-unrecorded messages per running batch; those are
re-sent once the claim times out. That is the stated duplicate bound.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session

from newsletter.automations import digests
from newsletter.config import Settings
from newsletter.mail import envelope
from newsletter.mail.dkim import DkimError
from newsletter.mail.errors import PermanentFailure, TemporaryFailure
from newsletter.mail.message import Recipient
from newsletter.mail.ratelimit import RateLimiter
from newsletter.mail.transport import EmailSender
from newsletter.models import Frequency, IssueStatus, SuppressionReason, utcnow
from newsletter.subscribers.suppression import suppress
from newsletter.subscribers.tokens import preferences_url, unsubscribe_url
from newsletter.tracking.tokens import delivery_token

from . import audience, ledger, lifecycle, variants

FLUSH_EVERY = 20  # messages between ledger writes: the per-batch duplicate bound on a crash
FLUSH_SECONDS = 2.0  # ...or this long, so a slow rate still records what it sent
# Claims still held are renewed at a flush at most this often (and at least three times
# per SEND_CLAIM_TIMEOUT): renewing every row at every flush was most of the ledger's
# row writes, and the database shares the machine's cores with the workers.
RENEW_EVERY = 5.0
STATUS_EVERY = 0.5  # seconds between checks for pause/cancel inside a batch
REJUDGE_EVERY = 5.0  # seconds: a batch still sending after this long judges the rest again
MAX_BACKOFF = 3600.0
# RFC 3463 X.1.x: the address itself is bad (user unknown, bad domain): never mail it again.
_ADDRESS_STATUS = re.compile(r"\b5\.1\.\d{1,3}\b")


@dataclass
class BatchOutcome:
    """What one call of `run_batch` did; `more` when the send has work left now."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retried: int = 0
    stopped: bool = False  # the issue was paused or cancelled (or is not sending)
    finished: bool = False  # this call moved the issue to sent
    materialized: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(settings: Settings, attempts: int) -> float:
    """Seconds before retry number `attempts`: exponential from SEND_RETRY_DELAY, with
    jitter (x0.5 to x1.5) so a recovering server is not hit by every retry at once."""
    base = min(MAX_BACKOFF, settings.send_retry_delay * 2 ** max(0, attempts - 1))
    return float(base * random.uniform(0.5, 1.5))  # noqa: S311 - jitter, not a secret


def materialize(
    session: Session, settings: Settings, issue_id: int, *, claim: bool = False
) -> list[ledger.Claimed]:
    """Write rows for the next slice of recipients and move the checkpoint past them, in
    one transaction (commits): pending rows, or with `claim` rows already claimed by the
    caller. Returns the rows written ([]: the walk is done, or another worker won).

    The first statement is the UPDATE that locks the issue row, so two workers never
    write the same slice (and SQLite never upgrades a stale read).
    """
    peek = session.execute(lifecycle.checkpoint_query(issue_id)).one_or_none()
    session.commit()  # end the read: the write below must open its own transaction
    if peek is None or int(peek.last_subscriber_id) >= int(peek.max_subscriber_id or 0):
        return []  # the walk is over: no need to queue up on the issue row
    if not lifecycle.try_claim(session, issue_id, allowed=(IssueStatus.SENDING,)):
        session.rollback()
        return []
    row = session.execute(
        lifecycle.checkpoint_query(issue_id),
    ).one()
    seen, top = int(row.last_subscriber_id), int(row.max_subscriber_id or 0)
    if seen >= top:
        session.commit()
        return []
    ids = audience.next_recipients(
        session,
        after_id=seen,
        up_to_id=top,
        limit=settings.send_batch_size,
        only=digests.recipient_filter(session, issue_id),
    )
    to = ids[-1] if len(ids) == settings.send_batch_size else top
    lifecycle.advance_checkpoint(session, issue_id=issue_id, seen=seen, to=to)
    written = ledger.create(
        session,
        issue_id,
        [(sid, envelope.new_message_id(settings, issue_id, sid)) for sid in ids],
        claimed_at=utcnow() if claim else None,
    )
    session.commit()
    return written


def run_batch(
    session: Session,
    settings: Settings,
    *,
    issue_id: int,
    sender: EmailSender,
    limiter: RateLimiter,
    on_claimed: Callable[[], None] | None = None,
) -> BatchOutcome:
    """Send one batch of an issue. Never raises for a recipient's problem: SMTP 5xx fails
    that delivery (5.1.x also suppresses the address), 4xx and connection errors retry it
    later with back-off up to SEND_MAX_ATTEMPTS, a message that cannot be built fails it.
    """
    outcome = BatchOutcome()
    status = lifecycle.status_of(session, issue_id)
    session.commit()
    if status is not IssueStatus.SENDING:
        outcome.stopped = True
        return outcome
    # A fresh slice is written already claimed by this batch; a batch with room left
    # (the walk is over) takes due pending rows: retries, and claims of dead workers.
    claimed = materialize(session, settings, issue_id, claim=True)
    outcome.materialized = len(claimed)
    if len(claimed) < settings.send_batch_size:
        claimed += ledger.claim(session, issue_id, limit=settings.send_batch_size - len(claimed))
    outcome.claimed = len(claimed)
    if not claimed:
        outcome.finished = finish_if_done(session, issue_id)
        return outcome
    if on_claimed is not None:
        on_claimed()

    pace = digests.pace_of(session, issue_id)
    to_send = _judge(session, issue_id, pace, claimed, outcome)

    renew_every = min(RENEW_EVERY, settings.send_claim_timeout / 3)
    sent: list[tuple[int, str]] = []  # (delivery id, variant key), recorded at the flush
    last_flush = last_check = last_renew = last_judged = time.monotonic()
    position = 0
    while position < len(to_send):
        if sent and (len(sent) >= FLUSH_EVERY or time.monotonic() - last_flush > FLUSH_SECONDS):
            renew = time.monotonic() - last_renew >= renew_every
            _flush(session, sent, [x.id for x, _ in to_send[position:]] if renew else [])
            outcome.sent += len(sent)
            sent = []
            last_flush = time.monotonic()
            if renew:
                last_renew = last_flush
            if last_flush - last_check < STATUS_EVERY:
                continue_sending = True
            else:
                last_check = last_flush
                continue_sending = lifecycle.status_of(session, issue_id) is IssueStatus.SENDING
            if not continue_sending:
                session.commit()
                ledger.release(session, [x.id for x, _ in to_send[position:]])
                session.commit()
                outcome.stopped = True
                return outcome
            session.commit()
            if pace is None and last_flush - last_judged >= REJUDGE_EVERY:
                # A slow batch (a low SEND_RATE) judges the rest again, so an unsubscribe
                # takes effect within seconds whatever the batch size and rate. (A digest's
                # judgement also assigns the owed rows it carries: judged once per batch.)
                rest = _judge(session, issue_id, pace, [x for x, _ in to_send[position:]], outcome)
                to_send = to_send[:position] + rest
                last_judged = time.monotonic()
                if position >= len(to_send):
                    break
        c, verdict = to_send[position]
        position += 1
        try:
            message = build_message(
                session, settings, issue_id=issue_id, claimed=c, verdict=verdict
            )
            if session.in_transaction():  # a first render read: end it before the next
                session.commit()  # write (SQLite); a no-op commit per message is not free
        except (ValueError, DkimError) as exc:  # e.g. a local part our headers cannot carry
            ledger.mark_failed(session, c.id, f"cannot build the message: {exc}")
            session.commit()
            outcome.failed += 1
            continue
        limiter.acquire()
        try:
            sender.send(
                envelope_from=envelope.envelope_sender(settings, delivery_id=c.id),
                recipients=[verdict.email],
                message=message,
            )
        except PermanentFailure as exc:
            ledger.mark_failed(session, c.id, str(exc))
            session.commit()
            outcome.failed += 1
            if is_address_failure(str(exc)):
                suppress(
                    session, email=verdict.email, reason=SuppressionReason.BOUNCED, note=str(exc)
                )
        except TemporaryFailure as exc:
            if c.attempts >= settings.send_max_attempts:
                ledger.mark_failed(session, c.id, f"gave up after {c.attempts} attempts: {exc}")
                outcome.failed += 1
            else:
                at = utcnow() + timedelta(seconds=backoff(settings, c.attempts))
                ledger.retry_later(session, c.id, str(exc), at=at)
                outcome.retried += 1
            session.commit()
        else:
            sent.append((c.id, variants.variant_key(verdict.post_ids)))
    _flush(session, sent, [])
    outcome.sent += len(sent)
    outcome.finished = finish_if_done(session, issue_id)
    return outcome


def _judge(
    session: Session,
    issue_id: int,
    pace: Frequency | None,
    claimed: list[ledger.Claimed],
    outcome: BatchOutcome,
) -> list[tuple[ledger.Claimed, audience.Verdict]]:
    """Judge claimed rows now: record the skipped ones (reason in last_error) and return
    the others, in order, with what each recipient gets (commits)."""
    if not claimed:
        return []
    if pace is None:
        plan = audience.issue_plan(session, issue_id)
        verdicts = audience.judge(session, plan, [c.subscriber_id for c in claimed])
    else:  # a digest: each reader's posts are the rows it carries for them
        verdicts = digests.judge(session, issue_id, pace, {c.subscriber_id: c.id for c in claimed})
    session.commit()
    by_reason: dict[str, list[int]] = {}
    to_send = []
    for c in claimed:
        verdict = verdicts[c.subscriber_id]
        if verdict.skip is not None:
            by_reason.setdefault(verdict.skip, []).append(c.id)
        else:
            to_send.append((c, verdict))
    for reason, ids in by_reason.items():
        ledger.mark_skipped(session, ids, reason)
        outcome.skipped += len(ids)
    session.commit()
    return to_send


def build_message(
    session: Session,
    settings: Settings,
    *,
    issue_id: int,
    claimed: ledger.Claimed,
    verdict: audience.Verdict,
) -> bytes:
    """One recipient's finished message (personalised variant, DKIM-sealed), shared by the
    batches and the welcome-latest path. Raises ValueError (an address or name our
    headers cannot carry) or DkimError."""
    template = variants.template_for(
        session, settings, issue_id=issue_id, post_ids=verdict.post_ids
    )
    message = template.personalise(
        Recipient(
            email=verdict.email,
            name=verdict.name,
            message_id=claimed.message_id,
            unsubscribe_url=unsubscribe_url(
                verdict.subscriber_id, verdict.email, issue_id=issue_id, settings=settings
            ),
            preferences_url=preferences_url(
                verdict.subscriber_id, verdict.email, issue_id=issue_id, settings=settings
            ),
            tracking_token=delivery_token(settings, claimed.id) if "track" in template.keys else "",
        )
    )
    return envelope.seal(settings, message)


def is_address_failure(error: str) -> bool:
    """An SMTP 5.1.x reply: the address itself is bad, so it is suppressed (RFC 3463)."""
    return _ADDRESS_STATUS.search(error) is not None


def _flush(session: Session, sent: list[tuple[int, str]], still_mine: list[int]) -> None:
    ledger.mark_sent_and_renew(session, sent, still_mine)
    session.commit()


def finish_if_done(session: Session, issue_id: int) -> bool:
    """Mark the issue sent when every recipient has a final row; True if this call did."""
    row = session.execute(lifecycle.checkpoint_query(issue_id)).one_or_none()
    if row is None or row.status is not IssueStatus.SENDING:
        session.commit()
        return False
    if int(row.last_subscriber_id) < int(row.max_subscriber_id or 0):
        session.commit()
        return False
    unfinished = ledger.has_unfinished(session, issue_id)
    session.commit()
    if unfinished:
        return False
    return lifecycle.finish_if_possible(session, issue_id=issue_id)


@dataclass
class Tick:
    """What one dispatcher pass did."""

    started: list[int] = field(default_factory=list)
    kicked: list[int] = field(default_factory=list)
    finished: list[int] = field(default_factory=list)
    requeued: int = 0


IDLE_SECONDS = 15.0  # a send with no claim renewed this long (or claim timeout) has no live batch


def dispatch(session: Session, settings: Settings, *, kick: Callable[[int], None]) -> Tick:
    """One beat pass: start due scheduled issues, and keep every running send going.

    For each sending issue: claims silent past SEND_CLAIM_TIMEOUT go back to pending,
    a finished one is marked sent, and one with work but no live batch (its worker
    died, or its retries just came due) gets `kick(issue_id)` (publish a batch).
    Two dispatchers at once start each issue once; a spare kick is harmless.
    """
    tick = Tick()
    tick.started = lifecycle.start_due(session)
    for issue_id in tick.started:
        kick(issue_id)
    now = utcnow()
    for issue_id in lifecycle.sending_issue_ids(session):
        tick.requeued += ledger.requeue_stale(
            session, issue_id, older_than=timedelta(seconds=settings.send_claim_timeout)
        )
        if finish_if_done(session, issue_id):
            tick.finished.append(issue_id)
            continue
        active = ledger.last_activity(session, issue_id)
        row = session.execute(lifecycle.checkpoint_query(issue_id)).one()
        session.commit()
        recent = timedelta(seconds=min(IDLE_SECONDS, settings.send_claim_timeout))
        if active is not None and active > now - recent:
            continue
        if row.updated_at is not None and row.updated_at > now - recent:
            continue
        more_to_walk = int(row.last_subscriber_id) < int(row.max_subscriber_id or 0)
        if more_to_walk or ledger.has_due(session, issue_id, now=now):
            session.commit()
            kick(issue_id)
            tick.kicked.append(issue_id)
        session.commit()
    return tick
