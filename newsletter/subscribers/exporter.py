"""Exports: every subscriber as CSV or JSON, streamed in id order; the GDPR export (Art. 15).

CSV cells that start with `=`, `+`, `-`, `@` (or a tab / carriage return) are
prefixed with `'` so a spreadsheet shows them as text instead of running them as
formulas (OWASP "CSV injection"). Our importer strips that prefix again, so an
export imports back unchanged.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.models import (
    Category,
    Delivery,
    Event,
    Issue,
    Subscriber,
    subscriber_categories,
)

from .errors import SubscriberNotFound
from .suppression import get_suppression

EXPORT_COLUMNS = ("id", "email", "name", "status", "categories", "created_at", "confirmed_at")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse_formula(cell: str) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula (OWASP "CSV Injection").

    A leading `=`, `+`, `-`, `@`, tab or CR gets a `'` in front; anything else is unchanged.
    """
    return f"'{cell}" if cell.startswith(_FORMULA_STARTS) else cell


def iter_subscribers(session: Session, *, batch_size: int = 1000) -> Iterator[dict[str, Any]]:
    """Every subscriber in the documented JSON shape, one keyset page at a time."""
    last_id = 0
    names = dict(session.execute(select(Category.id, Category.name)).all())
    while True:
        rows = session.execute(
            select(
                Subscriber.id,
                Subscriber.email,
                Subscriber.name,
                Subscriber.status,
                Subscriber.created_at,
                Subscriber.confirmed_at,
            )
            .where(Subscriber.id > last_id)
            .order_by(Subscriber.id)
            .limit(batch_size)
        ).all()
        if not rows:
            return
        chosen: dict[int, list[str]] = defaultdict(list)
        pairs = session.execute(
            select(
                subscriber_categories.c.subscriber_id, subscriber_categories.c.category_id
            ).where(subscriber_categories.c.subscriber_id.in_([r.id for r in rows]))
        )
        for subscriber_id, category_id in pairs:
            chosen[subscriber_id].append(names[category_id])
        for r in rows:
            yield {
                "id": r.id,
                "email": r.email,
                "name": r.name,
                "status": r.status.value,
                "categories": sorted(chosen.get(r.id, [])),
                "created_at": r.created_at.isoformat(),
                "confirmed_at": r.confirmed_at.isoformat() if r.confirmed_at else None,
            }
        last_id = rows[-1].id


def export_csv(session: Session, *, excel: bool = False) -> Iterator[str]:
    """CSV text (RFC 4180: CRLF line ends, quoted where needed) in chunks of 500 rows; the
    header (EXPORT_COLUMNS) matches what the importer reads, categories `|`-separated, and
    cells that could run as spreadsheet formulas are defused (defuse_formula).

    `excel`: start with a UTF-8 byte order mark. Excel opens a CSV without one in
    the system's legacy code page, so `Zoë` shows as `ZoÃ«`; with it, Excel reads
    UTF-8. Our importer skips the mark, so such a file imports back unchanged.
    """
    if excel:
        yield "\ufeff"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for count, item in enumerate(iter_subscribers(session), start=1):
        writer.writerow(
            [
                str(item["id"]),
                defuse_formula(item["email"]),
                defuse_formula(item["name"]),
                item["status"],
                defuse_formula("|".join(item["categories"])),
                item["created_at"],
                item["confirmed_at"] or "",
            ]
        )
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def export_json(session: Session) -> Iterator[str]:
    """A JSON array, streamed one object per line."""
    yield "["
    first = True
    for item in iter_subscribers(session):
        yield ("\n" if first else ",\n") + json.dumps(item, ensure_ascii=False)
        first = False
    yield "\n]\n"


def personal_data(session: Session, *, subscriber_id: int) -> dict[str, Any]:
    """GDPR Art. 15: everything we hold about one subscriber, events included.

    Shape: `{"subscriber": {...all columns...}, "events": [...], "deliveries": [...],
    "suppression": {"reason", "since"} | None}`, datetimes as ISO 8601 strings.
    Raises SubscriberNotFound.
    """
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        raise SubscriberNotFound(f"no subscriber with id {subscriber_id}")
    events = session.scalars(
        select(Event)
        .where(Event.subscriber_id == subscriber_id)
        .order_by(Event.occurred_at, Event.id)
    )
    deliveries = session.execute(
        select(Delivery, Issue.subject)
        .join(Issue, Issue.id == Delivery.issue_id)
        .where(Delivery.subscriber_id == subscriber_id)
        .order_by(Delivery.id)
    )
    suppression = get_suppression(session, subscriber.email)

    def when(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "subscriber": {
            "id": subscriber.id,
            "email": subscriber.email,
            "name": subscriber.name,
            "status": subscriber.status.value,
            "frequency": subscriber.frequency.value,
            "categories": [c.name for c in subscriber.categories],
            "created_at": when(subscriber.created_at),
            "confirmed_at": when(subscriber.confirmed_at),
            "unsubscribed_at": when(subscriber.unsubscribed_at),
            "confirmation_sent_at": when(subscriber.confirmation_sent_at),
            "bounce_count": subscriber.bounce_count,
            "is_disposable": subscriber.is_disposable,
            "is_role_address": subscriber.is_role_address,
            "source": subscriber.source,
            "signup_ip": subscriber.signup_ip,
            "attributes": subscriber.attributes,
        },
        "events": [
            {
                "kind": e.kind.value,
                "occurred_at": when(e.occurred_at),
                "issue_id": e.issue_id,
                "delivery_id": e.delivery_id,
                "link_id": e.link_id,
                "machine": e.machine,
                "hard": e.hard,
                "data": e.data,
            }
            for e in events
        ],
        "deliveries": [
            {
                "issue_id": d.issue_id,
                "issue_subject": subject,
                "status": d.status.value,
                "message_id": d.message_id,
                "attempts": d.attempts,
                "last_error": d.last_error,
                "sent_at": when(d.sent_at),
            }
            for d, subject in deliveries
        ],
        "suppression": (
            {"reason": suppression.reason.value, "since": when(suppression.created_at)}
            if suppression
            else None
        ),
    }
