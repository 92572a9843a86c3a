"""Reading subscribers: the JSON shape, keyset paging and the admin's filters.

Paging is by id (keyset), never OFFSET: page 20,000 of a million rows costs the
same index seek as page 1. The cursor (newsletter.paging's codec: the direction and
the last id seen) is opaque to clients so its form can change without breaking them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, selectinload

from newsletter import paging
from newsletter.categories import UnknownCategory, category_ids_by_name
from newsletter.models import Subscriber, SubscriberStatus, subscriber_categories

from .errors import InvalidInput


def subscriber_json(subscriber: Subscriber) -> dict[str, Any]:
    """The documented shape: {id, email, name, status, categories, created_at, confirmed_at}."""
    return {
        "id": subscriber.id,
        "email": subscriber.email,
        "name": subscriber.name,
        "status": subscriber.status.value,
        "categories": [c.name for c in subscriber.categories],
        "created_at": subscriber.created_at.isoformat(),
        "confirmed_at": subscriber.confirmed_at.isoformat() if subscriber.confirmed_at else None,
    }


def encode_cursor(last_id: int, *, descending: bool = False) -> str:
    """The cursor after subscriber `last_id` in ascending (or descending) id order."""
    return paging.encode_cursor("d" if descending else "a", last_id)


def decode_cursor(cursor: str, *, descending: bool = False) -> int:
    """The last id a cursor from `encode_cursor` names; InvalidInput (422) if it is not one
    of ours or was made for the other direction."""
    try:
        direction, last_id = paging.decode_cursor(cursor, str, int)
    except paging.InvalidCursor as exc:
        raise InvalidInput(str(exc)) from None
    if direction != ("d" if descending else "a") or not isinstance(last_id, int):
        raise InvalidInput(paging.CURSOR_MESSAGE)
    return last_id


@dataclass(frozen=True, slots=True)
class Page:
    """One page of subscribers and the cursor of the next one (None on the last page)."""

    items: list[Subscriber]
    next: str | None


def list_subscribers(
    session: Session,
    *,
    cursor: str | None = None,
    limit: int = 50,
    status: SubscriberStatus | None = None,
    category: str | None = None,
    search: str | None = None,
    descending: bool = False,
) -> Page:
    """One page of subscribers in id order (or descending); `search` matches a part of the
    address or the name (case-insensitive); `category` is an exact category name.

    Raises InvalidInput for an unknown `category` or a malformed `cursor`.
    """
    query = select(Subscriber).options(selectinload(Subscriber.categories))
    if status is not None:
        query = query.where(Subscriber.status == status)
    if category:
        try:
            (category_id,) = category_ids_by_name(session, [category])
        except (UnknownCategory, ValueError):
            raise InvalidInput(f"unknown category: {category!r}") from None
        query = query.where(
            exists().where(
                subscriber_categories.c.subscriber_id == Subscriber.id,
                subscriber_categories.c.category_id == category_id,
            )
        )
    if search and search.strip():
        needle = f"%{_escape_like(search.strip().lower())}%"
        query = query.where(
            or_(
                Subscriber.email.like(needle, escape="\\"),
                Subscriber.name.ilike(needle, escape="\\"),
            )
        )
    if cursor:
        last = decode_cursor(cursor, descending=descending)
        query = query.where(Subscriber.id < last if descending else Subscriber.id > last)
    query = query.order_by(Subscriber.id.desc() if descending else Subscriber.id)
    rows = list(session.scalars(query.limit(limit + 1)))
    more = len(rows) > limit
    items = rows[:limit]
    next_cursor = encode_cursor(items[-1].id, descending=descending) if more and items else None
    return Page(items=items, next=next_cursor)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def get_subscriber(session: Session, subscriber_id: int) -> Subscriber | None:
    """The subscriber with its categories loaded, or None."""
    return session.get(Subscriber, subscriber_id, options=[selectinload(Subscriber.categories)])


def status_counts(session: Session) -> dict[str, int]:
    """How many subscribers have each status: `{"active": 120, "pending": 3, ...}`
    (statuses with none are absent).
    """
    from sqlalchemy import func

    rows = session.execute(select(Subscriber.status, func.count()).group_by(Subscriber.status))
    return {status.value: count for status, count in rows}


def parse_status(
    value: str | None, *, allowed: Sequence[SubscriberStatus] | None = None
) -> SubscriberStatus | None:
    """The status a query or form names (None for empty); InvalidInput for an unknown one
    or one outside `allowed`.
    """
    if not value:
        return None
    try:
        status = SubscriberStatus(value)
    except ValueError:
        raise InvalidInput(f"unknown status: {value!r}") from None
    if allowed is not None and status not in allowed:
        raise InvalidInput(f"status must be one of {', '.join(s.value for s in allowed)}")
    return status
