"""Per-recipient delivery records (the events that follow a send are in events.py)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, TimestampMixin, str_enum, utcnow


class DeliveryStatus(enum.StrEnum):
    """One message's state: pending -> sending (claimed) -> sent, failed or skipped."""

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
