"""Per-recipient delivery records and the events that follow a send."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, TimestampMixin, str_enum, utcnow


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class Delivery(TimestampMixin, Base):
    """One issue to one subscriber; the unique key is what makes a re-run harmless."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("issue_id", "subscriber_id"),
        Index("ix_deliveries_issue_id_status_id", "issue_id", "status", "id"),
        # The stats' send rate counts the messages of the last seconds (tracking/stats.py).
        Index("ix_deliveries_issue_id_sent_at", "issue_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus), default=DeliveryStatus.PENDING
    )
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    variant: Mapped[str] = mapped_column(String(64), default="")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)  # or why it was skipped
    claimed_at: Mapped[datetime | None]  # renewed while a worker holds the claim
    next_attempt_at: Mapped[datetime | None]  # a pending retry waits until then
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # On a row skipped for a digest reader: the digest delivery that carries its posts.
    digested_in: Mapped[int | None] = mapped_column(
        ForeignKey("deliveries.id", ondelete="SET NULL"), index=True
    )


class EventKind(enum.StrEnum):
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
