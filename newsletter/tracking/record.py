"""Recording opens and clicks, and keeping the pre-aggregated counts in step.

Each pixel fetch or click is one `events` row (kind open/click, the delivery, the
subscriber, the issue, the link, `machine` and why in `data`). Alongside, every
event adds to `tracking_counts` (issue, time bucket, kind, link, machine) and the
first event of its kind per delivery (per link, and for any link) is kept in
`tracking_firsts` and counted in `uniq`, so stats read a few hundred rows
whatever the number of events (stats.py; bench/stats.py measures it).

Buckets: 10 minutes for the first 24 hours after the send started, hourly after.
`rebuild_counts` recomputes an issue's counts from its events (the same numbers;
the tests check it) for events written by other means.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from newsletter.models import (
    NO_LINK,
    Delivery,
    Event,
    EventKind,
    Issue,
    Link,
    TrackingCount,
    TrackingFirst,
    utcnow,
)

from . import machine

FINE_PERIOD = timedelta(hours=24)
MAX_AGENT = 300  # characters of the user agent kept with the event


def fine_until(started_at: datetime) -> datetime:
    """End of the 10-minute buckets: 24 h after the start, rounded up to the hour so the
    hourly buckets after it never share a start with a 10-minute one."""
    end = started_at + FINE_PERIOD
    hour = end.replace(minute=0, second=0, microsecond=0)
    return hour if hour == end else hour + timedelta(hours=1)


def bucket_of(started_at: datetime | None, at: datetime) -> datetime:
    """The start of `at`'s bucket: 10 minutes for the first 24 h after `started_at` (see
    `fine_until`), hourly after."""
    if started_at is None or at < fine_until(started_at):
        return at.replace(minute=at.minute - at.minute % 10, second=0, microsecond=0)
    return at.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class Request:
    """What the web route knows about who is asking."""

    user_agent: str
    ip: str | None
    method: str = "GET"


@dataclass(frozen=True, slots=True)
class _Target:
    delivery_id: int
    issue_id: int
    subscriber_id: int
    sent_at: datetime | None
    started_at: datetime | None


def _insert(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    return insert


def _bump(
    session: Session,
    *,
    issue_id: int,
    bucket: datetime,
    kind: str,
    link_id: int,
    is_machine: bool,
    total: int = 0,
    uniq: int = 0,
) -> None:
    insert = _insert(session)
    stmt = insert(TrackingCount).values(
        issue_id=issue_id,
        bucket_at=bucket,
        kind=kind,
        link_id=link_id,
        machine=is_machine,
        total=total,
        uniq=uniq,
    )
    table = TrackingCount.__table__.c
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["issue_id", "bucket_at", "kind", "link_id", "machine"],
            set_={"total": table.total + total, "uniq": table.uniq + uniq},
        )
    )


def _refresh_first(
    session: Session, target: _Target, *, kind: str, link_id: int, is_machine: bool
) -> None:
    """Make `tracking_firsts` (and `uniq`) name the delivery's earliest such event."""
    query = select(Event.id, Event.occurred_at).where(
        Event.delivery_id == target.delivery_id,
        Event.kind == kind,
        Event.machine.is_(is_machine),
    )
    if link_id != NO_LINK:
        query = query.where(Event.link_id == link_id)
    earliest = session.execute(query.order_by(Event.occurred_at, Event.id).limit(1)).first()
    key = {
        "delivery_id": target.delivery_id,
        "kind": kind,
        "link_id": link_id,
        "machine": is_machine,
    }
    current = session.execute(
        select(TrackingFirst.event_id, TrackingFirst.bucket_at).filter_by(**key)
    ).first()
    if current is not None and earliest is not None and current.event_id == earliest.id:
        return
    if current is not None:
        session.execute(delete(TrackingFirst).filter_by(**key))
        _bump(
            session,
            issue_id=target.issue_id,
            kind=kind,
            link_id=link_id,
            bucket=current.bucket_at,
            is_machine=is_machine,
            uniq=-1,
        )
    if earliest is not None:
        bucket = bucket_of(target.started_at, earliest.occurred_at)
        session.add(
            TrackingFirst(**key, event_id=earliest.id, issue_id=target.issue_id, bucket_at=bucket)
        )
        session.flush()
        _bump(
            session,
            issue_id=target.issue_id,
            kind=kind,
            link_id=link_id,
            bucket=bucket,
            is_machine=is_machine,
            uniq=1,
        )


def _count(session: Session, target: _Target, event: Event, sign: int) -> None:
    """Add (`sign` 1) or take away (-1) one event's total; then refresh the firsts."""
    link_id = event.link_id if event.kind is EventKind.CLICK and event.link_id else NO_LINK
    _bump(
        session,
        issue_id=target.issue_id,
        bucket=bucket_of(target.started_at, event.occurred_at),
        kind=str(event.kind),
        link_id=link_id,
        is_machine=event.machine,
        total=sign,
    )
    _refresh_first(session, target, kind=str(event.kind), link_id=link_id, is_machine=event.machine)
    if link_id != NO_LINK:
        _refresh_first(
            session, target, kind=str(event.kind), link_id=NO_LINK, is_machine=event.machine
        )


def _target_query() -> Any:
    return select(
        Delivery.id, Delivery.issue_id, Delivery.subscriber_id, Delivery.sent_at, Issue.started_at
    ).join(Issue, Issue.id == Delivery.issue_id)


def _target(row: Any) -> _Target:
    return _Target(
        delivery_id=row.id,
        issue_id=row.issue_id,
        subscriber_id=row.subscriber_id,
        sent_at=row.sent_at,
        started_at=row.started_at,
    )


def _data(request: Request, why: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {"ua": request.user_agent[:MAX_AGENT]}
    if why:
        data["why"] = why
    return data


def _store(
    session: Session,
    target: _Target,
    kind: EventKind,
    delivery_id: int,
    link_id: int | None,
    now: datetime,
    request: Request,
    why: str | None,
) -> None:
    """One open or click event (machine when `why` names a rule), counted; commits."""
    event = Event(
        kind=kind,
        occurred_at=now,
        issue_id=target.issue_id,
        subscriber_id=target.subscriber_id,
        delivery_id=delivery_id,
        link_id=link_id,
        machine=why is not None,
        data=_data(request, why),
    )
    session.add(event)
    session.flush()
    _count(session, target, event, 1)
    session.commit()


def record_open(
    session: Session, *, delivery_id: int, request: Request, now: datetime | None = None
) -> bool:
    """Store one pixel fetch of a delivery (commits). False when no such delivery exists."""
    now = now or utcnow()
    row = session.execute(_target_query().where(Delivery.id == delivery_id)).first()
    if row is None:
        session.rollback()
        return False
    target = _target(row)
    why = machine.open_verdict(
        user_agent=request.user_agent, ip=request.ip, sent_at=target.sent_at, now=now
    )
    _store(session, target, EventKind.OPEN, delivery_id, None, now, request, why)
    return True


def record_click(
    session: Session,
    *,
    delivery_id: int,
    link_id: int,
    request: Request,
    now: datetime | None = None,
) -> str | None:
    """Store one click and answer the URL to redirect to (commits); None when the delivery
    does not exist or the link is not one of its issue's (the route answers 404)."""
    now = now or utcnow()
    row = session.execute(
        _target_query()
        .add_columns(Link.url)
        .join(Link, Link.issue_id == Delivery.issue_id)
        .where(Delivery.id == delivery_id, Link.id == link_id)
    ).first()
    if row is None:
        session.rollback()
        return None
    target = _target(row)
    window = timedelta(seconds=machine.BURST_SECONDS)
    nearby = list(
        session.scalars(
            select(Event).where(
                Event.delivery_id == delivery_id,
                Event.kind == EventKind.CLICK,
                Event.link_id != link_id,
                Event.occurred_at >= now - window,
                Event.occurred_at <= now + window,
            )
        )
    )
    why = machine.click_verdict(
        user_agent=request.user_agent,
        method=request.method,
        sent_at=target.sent_at,
        now=now,
        other_links_nearby=bool(nearby),
    )
    for earlier in nearby:  # the rest of the scanner's burst was not a person either
        if not earlier.machine:
            _count(session, target, earlier, -1)
            earlier.machine = True
            earlier.data = {**earlier.data, "why": "burst"}
            session.flush()
            _refresh_first(
                session, target, kind="click", link_id=earlier.link_id or NO_LINK, is_machine=False
            )
            _refresh_first(session, target, kind="click", link_id=NO_LINK, is_machine=False)
            _count(session, target, earlier, 1)
    _store(session, target, EventKind.CLICK, delivery_id, link_id, now, request, why)
    return str(row.url)


def rebuild_counts(session: Session, issue_id: int) -> int:
    """Recompute an issue's `tracking_counts` and `tracking_firsts` from its events
    (commits); returns the number of events read. For events loaded in bulk (the
    benchmark) or a repair; live recording keeps them in step by itself."""
    started_at = session.scalar(select(Issue.started_at).where(Issue.id == issue_id))
    session.execute(delete(TrackingCount).where(TrackingCount.issue_id == issue_id))
    session.execute(delete(TrackingFirst).where(TrackingFirst.issue_id == issue_id))
    totals: dict[tuple[datetime, str, int, bool], list[int]] = defaultdict(lambda: [0, 0])
    firsts: dict[tuple[int, str, int, bool], tuple[datetime, int, datetime]] = {}
    read = 0
    rows = session.execute(
        select(
            Event.id, Event.delivery_id, Event.kind, Event.link_id, Event.machine, Event.occurred_at
        )
        .where(
            Event.issue_id == issue_id,
            Event.kind.in_((EventKind.OPEN, EventKind.CLICK)),
            Event.delivery_id.is_not(None),
        )
        .execution_options(yield_per=10_000)
    )
    for event_id, delivery_id, event_kind, link, is_machine, at in rows:
        read += 1
        kind = str(event_kind)
        link_id = (link or NO_LINK) if event_kind is EventKind.CLICK else NO_LINK
        totals[(bucket_of(started_at, at), kind, link_id, bool(is_machine))][0] += 1
        keys = [link_id] if link_id == NO_LINK else [link_id, NO_LINK]
        for key_link in keys:
            key = (int(delivery_id or 0), kind, key_link, bool(is_machine))
            seen = firsts.get(key)
            if seen is None or (at, event_id) < (seen[0], seen[1]):
                firsts[key] = (at, event_id, bucket_of(started_at, at))
    for (_delivery, kind, key_link, is_machine), (_at, _id, bucket) in firsts.items():
        totals[(bucket, kind, key_link, is_machine)][1] += 1
    insert = _insert(session)
    count_rows = [
        {
            "issue_id": issue_id,
            "bucket_at": bucket,
            "kind": kind,
            "link_id": link_id,
            "machine": is_machine,
            "total": total,
            "uniq": uniq,
        }
        for (bucket, kind, link_id, is_machine), (total, uniq) in totals.items()
    ]
    first_rows = [
        {
            "delivery_id": delivery_id,
            "kind": kind,
            "link_id": key_link,
            "machine": is_machine,
            "event_id": event_id,
            "issue_id": issue_id,
            "bucket_at": bucket,
        }
        for (delivery_id, kind, key_link, is_machine), (_at, event_id, bucket) in firsts.items()
    ]
    for start in range(0, len(count_rows), 5000):
        session.execute(insert(TrackingCount), count_rows[start : start + 5000])
    for start in range(0, len(first_rows), 5000):
        session.execute(insert(TrackingFirst), first_rows[start : start + 5000])
    session.commit()
    return read
