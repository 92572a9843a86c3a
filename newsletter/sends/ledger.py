"""The delivery rows of a send: one per issue and subscriber (a UNIQUE key), the ledger
that makes the send exactly-once.

    pending --claim--> sending --mark_sent_and_renew--> sent
                               --mark_failed--> failed
                               --mark_skipped--> skipped
                               --retry_later / release / requeue_stale--> pending

A claim is one UPDATE ... RETURNING over a sub-select of pending rows: with
`FOR UPDATE SKIP LOCKED` on PostgreSQL, so workers on many hosts take disjoint
batches without waiting on each other; SQLite serializes writers and ignores the
locking clause, and the single statement is atomic there, which is the working
equivalent for `make run`. A claim is renewed while its worker sends; one that
stays silent longer than SEND_CLAIM_TIMEOUT (a killed worker) goes back to
pending. Every function writes first and commits, so a SQLite reader never
upgrades a stale snapshot.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from newsletter.models import Delivery, DeliveryStatus, Subscriber, utcnow
from newsletter.sql import among, among_param, is_postgresql

PENDING, SENDING = DeliveryStatus.PENDING, DeliveryStatus.SENDING
# Statements here go to the Core table, not the ORM entity: an ORM-enabled bulk UPDATE
# costs several times more Python per statement, and the send's profile showed it
# (bench/send.py under py-spy). Nothing here needs ORM objects back.
_TABLE = cast(Table, Delivery.__table__)
_C = _TABLE.c
SENT, FAILED, SKIPPED = DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED
_CLAIMED = (_C.id, _C.subscriber_id, _C.message_id, _C.attempts)  # what a Claimed holds


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    subscriber_id: int
    message_id: str
    attempts: int  # including this one


def create(
    session: Session,
    issue_id: int,
    rows: Sequence[tuple[int, str]],
    *,
    claimed_at: datetime | None = None,
) -> list[Claimed]:
    """Rows for (subscriber_id, message_id) pairs: pending, or, with `claimed_at`, already
    claimed by the caller (one write per row instead of an INSERT and a claim's UPDATE).
    An existing row is left alone and not returned (the UNIQUE (issue_id, subscriber_id)
    makes a re-run harmless). Returns the rows written, lowest id first. Does not commit."""
    if not rows:
        return []
    now = utcnow()
    status, attempts = (SENDING, 1) if claimed_at else (PENDING, 0)
    if is_postgresql(session):
        stmt = _create_from_arrays(issue_id, rows, status, claimed_at, attempts, now)
        written = session.execute(stmt).all()
        return sorted((Claimed(*row) for row in written), key=lambda c: c.id)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    values = [
        {
            "issue_id": issue_id,
            "subscriber_id": sid,
            "message_id": mid,
            "status": status,
            "claimed_at": claimed_at,
            "variant": "",
            "attempts": attempts,
            "created_at": now,
            "updated_at": now,
        }
        for sid, mid in rows
    ]
    stmt = (
        sqlite_insert(_TABLE)
        .on_conflict_do_nothing(index_elements=["issue_id", "subscriber_id"])
        .returning(*_CLAIMED)
    )
    written = session.execute(stmt, values).all()
    return sorted((Claimed(*row) for row in written), key=lambda c: c.id)


def _create_from_arrays(
    issue_id: int,
    rows: Sequence[tuple[int, str]],
    status: DeliveryStatus,
    claimed_at: datetime | None,
    attempts: int,
    now: datetime,
) -> Any:
    """PostgreSQL: INSERT ... SELECT FROM unnest(ids, message ids), two array parameters
    whatever the batch size (see newsletter.sql for why the parameter count matters)."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    pairs = (
        func.unnest(
            literal([sid for sid, _ in rows], ARRAY(_C.subscriber_id.type)),
            literal([mid for _, mid in rows], ARRAY(_C.message_id.type)),
        )
        .table_valued("subscriber_id", "message_id")
        .render_derived(name="pairs")
    )
    names = ["issue_id", "subscriber_id", "message_id", "status", "claimed_at", "variant",
             "attempts", "created_at", "updated_at"]  # fmt: skip
    source = select(
        literal(issue_id, _C.issue_id.type),
        pairs.c.subscriber_id,
        pairs.c.message_id,
        literal(status, _C.status.type),
        literal(claimed_at, _C.claimed_at.type),
        literal("", _C.variant.type),
        literal(attempts, _C.attempts.type),
        literal(now, _C.created_at.type),
        literal(now, _C.updated_at.type),
    )
    return (
        pg_insert(_TABLE)
        .from_select(names, source)
        .on_conflict_do_nothing(index_elements=["issue_id", "subscriber_id"])
        .returning(*_CLAIMED)
    )


def claim(
    session: Session, issue_id: int, *, limit: int, now: datetime | None = None
) -> list[Claimed]:
    """Take up to `limit` due pending rows of the issue, lowest id first (commits)."""
    now = now or utcnow()
    due = (
        select(_C.id)
        .where(
            _C.issue_id == issue_id,
            _C.status == PENDING,
            or_(_C.next_attempt_at.is_(None), _C.next_attempt_at <= now),
        )
        .order_by(_C.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # rendered on PostgreSQL only
        # A MATERIALIZED CTE runs once: as a plain IN (sub-select) PostgreSQL may
        # re-run the sub-select and update more rows than LIMIT.
        .cte("due")
        .prefix_with("MATERIALIZED")
    )
    stmt = (
        update(_TABLE)
        .where(_C.id.in_(select(due.c.id)), _C.status == PENDING)
        .values(status=SENDING, claimed_at=now, attempts=_C.attempts + 1, updated_at=now)
        .returning(*_CLAIMED)
    )
    rows = session.execute(stmt).all()
    session.commit()
    return sorted((Claimed(*row) for row in rows), key=lambda c: c.id)


def _set(session: Session, ids: Sequence[int], **values: object) -> int:
    if not ids:
        return 0
    values.setdefault("updated_at", utcnow())
    result = session.execute(
        update(_TABLE).where(among(session, _C.id, ids), _C.status == SENDING).values(**values)
    )
    return int(getattr(result, "rowcount", 0))


def mark_failed(session: Session, delivery_id: int, error: str) -> None:
    """Permanent failure for this address. Does not commit."""
    _set(session, [delivery_id], status=FAILED, last_error=error[:2000], next_attempt_at=None)


def mark_skipped(session: Session, ids: Sequence[int], reason: str) -> None:
    """Not sent, and never will be for this issue (`reason` says why). Does not commit."""
    _set(session, ids, status=SKIPPED, last_error=reason)


def retry_later(session: Session, delivery_id: int, error: str, *, at: datetime) -> None:
    """Back to pending, not to be claimed before `at`. Does not commit."""
    _set(session, [delivery_id], status=PENDING, last_error=error[:2000], next_attempt_at=at)


def mark_sent_and_renew(
    session: Session,
    sent: Sequence[tuple[int, str]],
    still_mine: Sequence[int],
    *,
    now: datetime | None = None,
) -> None:
    """The SMTP server accepted these `(delivery id, variant key)` messages: mark them
    sent with their content variant (variants.variant_key, for stats and tracking), and
    renew the claims `still_mine` (may be empty). One prepared UPDATE run once per
    variant in `sent` (a single executemany round trip), plus one for the renewal:
    the send loop's flush. Does not commit."""
    now = now or utcnow()
    groups: dict[str, list[int]] = {}
    for delivery_id, key in sent:
        groups.setdefault(key, []).append(delivery_id)
    connection = session.connection()
    postgresql = connection.dialect.name == "postgresql"
    params = [{"ids": ids, "sent_variant": key, "now": now} for key, ids in groups.items()]
    if postgresql and params:
        connection.execute(_statements(postgresql).mark_sent, params)
    else:  # SQLite: an expanding IN cannot be run as an executemany
        for one in params:
            connection.execute(_statements(postgresql).mark_sent, one)
    if still_mine:
        connection.execute(_statements(postgresql).renew, {"ids": list(still_mine), "now": now})


def renew(session: Session, ids: Sequence[int], *, now: datetime | None = None) -> None:
    """Keep these claims alive: the worker holding them is still working. Does not commit."""
    mark_sent_and_renew(session, [], ids, now=now)


@dataclass(frozen=True)
class _Prepared:
    mark_sent: Any
    renew: Any


@functools.cache
def _statements(postgresql: bool) -> _Prepared:
    """The flush's statements, built once per dialect: building an UPDATE through
    SQLAlchemy's constructors per flush was most of the flush's CPU in the send's
    profile (bench/send.py under py-spy), and the flush runs every FLUSH_EVERY messages."""
    mine = (among_param(_C.id, "ids", postgresql=postgresql), _C.status == SENDING)
    now = bindparam("now", type_=_C.updated_at.type)
    return _Prepared(
        mark_sent=update(_TABLE)
        .where(*mine)
        .values(
            status=SENT,
            sent_at=now,
            last_error=None,
            next_attempt_at=None,
            variant=bindparam("sent_variant", type_=_C.variant.type),
            updated_at=now,
        ),
        renew=update(_TABLE).where(*mine).values(claimed_at=now, updated_at=now),
    )


def release(session: Session, ids: Sequence[int]) -> None:
    """Give unsent claims back (pause, cancel, shutdown); the attempt is not counted.
    Does not commit."""
    _set(session, ids, status=PENDING, attempts=_C.attempts - 1)


def requeue_stale(
    session: Session, issue_id: int, *, older_than: timedelta, now: datetime | None = None
) -> int:
    """Claims silent for longer than `older_than` go back to pending (their worker died);
    returns how many (commits). A message that worker had handed to SMTP but not yet
    recorded is sent again: that is the duplicate bound of a crash."""
    cutoff = (now or utcnow()) - older_than
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.issue_id == issue_id,
            Delivery.status == SENDING,
            Delivery.claimed_at < cutoff,
        )
        .values(status=PENDING, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return int(getattr(result, "rowcount", 0))


def counts(session: Session, issue_id: int) -> dict[DeliveryStatus, int]:
    """Rows per status (every status present, zero when none)."""
    found = dict(
        session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.issue_id == issue_id)
            .group_by(Delivery.status)
        ).all()
    )
    return {status: int(found.get(status, 0)) for status in DeliveryStatus}


def has_unfinished(session: Session, issue_id: int) -> bool:
    """Whether any row is still pending or being sent. An EXISTS that stops at the first
    such row: every batch asks this, and a GROUP BY over the whole issue made each
    batch cost grow with the list."""
    found = session.scalar(
        select(Delivery.id)
        .where(Delivery.issue_id == issue_id, Delivery.status.in_((PENDING, SENDING)))
        .limit(1)
    )
    return found is not None


def has_due(session: Session, issue_id: int, *, now: datetime | None = None) -> bool:
    """Whether a pending row could be claimed now (retries wait for their time)."""
    now = now or utcnow()
    found = session.scalar(
        select(Delivery.id)
        .where(
            Delivery.issue_id == issue_id,
            Delivery.status == PENDING,
            or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
        )
        .limit(1)
    )
    return found is not None


def last_activity(session: Session, issue_id: int) -> datetime | None:
    """The newest claim or renewal among rows being sent (None: nobody is sending)."""
    return session.scalar(
        select(func.max(Delivery.claimed_at)).where(
            Delivery.issue_id == issue_id, Delivery.status == SENDING
        )
    )


@dataclass(frozen=True, slots=True)
class DeliveryError:
    email: str
    status: DeliveryStatus  # failed (for good) or pending (a retry is due later)
    attempts: int
    error: str
    at: datetime


def recent_errors(session: Session, issue_id: int, *, limit: int = 10) -> list[DeliveryError]:
    """The newest errors of the send, newest first: permanent failures and the last
    temporary error of rows waiting for a retry (commits)."""
    rows = session.execute(
        select(
            Subscriber.email,
            Delivery.status,
            Delivery.attempts,
            Delivery.last_error,
            Delivery.updated_at,
        )
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(
            Delivery.issue_id == issue_id,
            Delivery.status.in_((FAILED, PENDING)),
            Delivery.last_error.is_not(None),
        )
        .order_by(Delivery.updated_at.desc(), Delivery.id.desc())
        .limit(limit)
    ).all()
    session.commit()
    return [
        DeliveryError(email, status, attempts, error or "", at)
        for email, status, attempts, error, at in rows
    ]
