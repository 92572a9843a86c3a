"""Events: what a recipient, a provider or a person did, one row each, in time order.

Opens, clicks, bounces, complaints, unsubscribes, signups and the rest of a
subscriber's history; provider events carry a unique id so a replay is stored once.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, str_enum, utcnow


class EventKind(enum.StrEnum):
    """What a subscriber event records (the `kind` column, at most 11 characters)."""

    OPEN = "open"
    CLICK = "click"
    BOUNCE = "bounce"
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"
    SUBSCRIBE = "subscribe"
    CONFIRM = "confirm"
    # The subscriber's history on the admin page (values fit the column's 11 characters).
    IMPORT = "import"  # created or changed by a CSV import
    PREFERENCES = "preferences"  # the person saved their preferences
    EMAIL = "email"  # a transactional email (confirm, welcome) went out; issues are deliveries
    STATUS = "status"  # an admin changed the status by hand
    DELIVERED = "delivered"  # a provider saw the receiving server accept it (resets soft bounces)


class Event(Base):
    """Something a recipient or a provider did; provider events are stored once."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_issue_id_kind_occurred_at", "issue_id", "kind", "occurred_at"),
        Index("ix_events_subscriber_id_occurred_at", "subscriber_id", "occurred_at"),
        # The dashboard's list growth: one kind over a range of days (tracking/overview.py).
        Index("ix_events_kind_occurred_at", "kind", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE")
    )
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    link_id: Mapped[int | None] = mapped_column(ForeignKey("links.id", ondelete="SET NULL"))
    provider_event_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    machine: Mapped[bool] = mapped_column(default=False)
    hard: Mapped[bool | None]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
