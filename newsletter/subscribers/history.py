"""One subscriber's history for the admin page: events and issue emails, newest first.

Issue emails are deliveries (one row per issue and subscriber, see models/deliveries.py);
everything else a person or an admin did, and the confirm and welcome emails, are events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.models import Delivery, DeliveryStatus, Event, EventKind, Issue

MAX_ENTRIES = 200

_EMAILS = {"confirm": "Confirmation email sent", "welcome": "Welcome email sent"}
_DELIVERY = {
    DeliveryStatus.SENT: "Issue email sent",
    DeliveryStatus.FAILED: "Issue email failed",
    DeliveryStatus.SKIPPED: "Issue email skipped",
    DeliveryStatus.PENDING: "Issue email queued",
    DeliveryStatus.SENDING: "Issue email sending",
}


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the history: when, what (a short label), and details as text."""

    at: datetime
    what: str
    detail: str
    issue_id: int | None = None
    issue_subject: str | None = None


def subscriber_history(
    session: Session, *, subscriber_id: int, limit: int = MAX_ENTRIES
) -> list[Entry]:
    """Up to `limit` entries, newest first, from events and deliveries together."""
    entries: list[Entry] = []
    events = session.execute(
        select(Event, Issue.subject)
        .outerjoin(Issue, Issue.id == Event.issue_id)
        .where(Event.subscriber_id == subscriber_id)
        .order_by(Event.occurred_at.desc(), Event.id.desc())
        .limit(limit)
    )
    for event, subject in events:
        what, detail = describe(event)
        entries.append(Entry(event.occurred_at, what, detail, event.issue_id, subject))
    deliveries = session.execute(
        select(Delivery, Issue.subject)
        .join(Issue, Issue.id == Delivery.issue_id)
        .where(Delivery.subscriber_id == subscriber_id)
        .order_by(Delivery.id.desc())
        .limit(limit)
    )
    for delivery, subject in deliveries:
        failed = delivery.status is DeliveryStatus.FAILED
        detail = (delivery.last_error or "") if failed else ""
        entries.append(
            Entry(
                delivery.sent_at or delivery.updated_at,
                _DELIVERY[delivery.status],
                detail,
                delivery.issue_id,
                subject,
            )
        )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


def describe(event: Event) -> tuple[str, str]:
    """A short label and a one-line detail for an event."""
    data = event.data or {}
    kind = event.kind
    if kind is EventKind.EMAIL:
        return _EMAILS.get(str(data.get("email")), "Email sent"), ""
    if kind is EventKind.IMPORT:
        result = "created" if data.get("result") == "created" else "updated"
        return (
            "Imported",
            f"{result} by a CSV import ({data.get('source', 'import')}), status {data.get('status', '?')}",
        )
    if kind is EventKind.PREFERENCES:
        chosen = ", ".join(data.get("categories") or []) or "all topics"
        detail = f"topics: {chosen}; frequency: {data.get('frequency', 'every')}"
        if data.get("name_changed"):
            detail += "; name changed"
        return "Preferences changed", detail
    if kind is EventKind.STATUS:
        return "Status changed", f"{data.get('from', '?')} → {data.get('to', '?')} by an admin"
    if kind is EventKind.SUBSCRIBE:
        if data.get("by") == "admin":
            return "Added", f"by an admin via {data.get('source', '?')}, {data.get('status', '?')}"
        again = " again" if data.get("again") else ""
        return f"Signed up{again}", f"via {data.get('source', '?')}"
    if kind is EventKind.CONFIRM:
        return "Confirmed", ""
    if kind is EventKind.UNSUBSCRIBE:
        return "Unsubscribed", f"via {data.get('via', '?')}"
    if kind is EventKind.BOUNCE:
        if event.hard is None:
            return "Bounce (not the address's fault)", _provider_detail(data)
        return ("Hard bounce" if event.hard else "Soft bounce"), _provider_detail(data)
    if kind is EventKind.COMPLAINT:
        return "Marked as spam", _provider_detail(data)
    if kind is EventKind.DELIVERED:
        return "Delivered", _provider_detail(data)
    if kind is EventKind.OPEN:
        return "Opened", "by a machine" if event.machine else ""
    if kind is EventKind.CLICK:
        return "Clicked", str(data.get("url", ""))
    return kind.value, ""


def _provider_detail(data: dict[str, object]) -> str:
    """`5.1.1 smtp; 550 user unknown (ses: Permanent/General)` from a bounce event's data."""
    words = " ".join(str(data[k]) for k in ("status", "diagnostic") if data.get(k))
    source = ": ".join(str(data[k]) for k in ("provider", "reason") if data.get(k))
    if words and source:
        return f"{words} ({source})"
    return words or source
