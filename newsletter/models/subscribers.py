"""Subscribers, their category preferences, and the suppression list."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, TimestampMixin, str_enum
from .posts import Category


class SubscriberStatus(enum.StrEnum):
    """A subscriber's state; only `active` receives issues (see subscribers.lifecycle)."""

    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    BLOCKED = "blocked"


class Frequency(enum.StrEnum):
    """How often a subscriber gets mail: every issue, or a weekly or monthly digest."""

    EVERY_ISSUE = "every"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


subscriber_categories = Table(
    "subscriber_categories",
    Base.metadata,
    Column("subscriber_id", ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_subscriber_categories_category_id", "category_id"),
)


class Subscriber(TimestampMixin, Base):
    """Emails are stored lower-cased; the CHECK keeps uniqueness case-insensitive."""

    __tablename__ = "subscribers"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lower"),
        Index("ix_subscribers_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[SubscriberStatus] = mapped_column(
        str_enum(SubscriberStatus), default=SubscriberStatus.PENDING
    )
    frequency: Mapped[Frequency] = mapped_column(str_enum(Frequency), default=Frequency.EVERY_ISSUE)
    confirmed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    confirmation_sent_at: Mapped[datetime | None]
    bounce_count: Mapped[int] = mapped_column(default=0)
    is_disposable: Mapped[bool] = mapped_column(default=False)
    is_role_address: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(String(50), default="")
    signup_ip: Mapped[str | None] = mapped_column(String(45))
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)

    # No categories chosen means "everything".
    categories: Mapped[list[Category]] = relationship(
        secondary=subscriber_categories, order_by=Category.name
    )


class SuppressionReason(enum.StrEnum):
    """Why an address is on the suppression list (never mailed again until it confirms)."""

    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    BLOCKED = "blocked"
    ERASED = "erased"


class Suppression(TimestampMixin, Base):
    """An address we must never mail; keyed by a hash so an erased person leaves no address."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[SuppressionReason] = mapped_column(str_enum(SuppressionReason))
    note: Mapped[str] = mapped_column(String(500), default="")
