"""Watched feeds and automations (issues composed on a cron schedule)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, TimestampMixin, str_enum
from .posts import Category


class Feed(TimestampMixin, Base):
    """A feed beat polls every `every_minutes` (longer after failures: see feeds.py)."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    every_minutes: Mapped[int] = mapped_column(default=60)
    # Added on the command line (its user is the operator): may be on a private host.
    allow_private: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    next_poll_at: Mapped[datetime] = mapped_column(index=True)
    last_polled_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(default=0, server_default=text("0"))  # in a row
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))


automation_categories = Table(
    "automation_categories",
    Base.metadata,
    Column("automation_id", ForeignKey("automations.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True),
)


class AutomationAction(enum.StrEnum):
    """What a run does with the issue it composes: leave a draft, or send it at once."""

    DRAFT = "draft"  # compose and leave it for the author (who is told by email)
    SCHEDULE = "schedule"  # compose and send at once


class Automation(TimestampMixin, Base):
    """A rule that composes an issue from new posts on a cron schedule (see
    automations.rules); `next_run_at` (UTC) is when beat runs it next.
    """

    __tablename__ = "automations"
    __table_args__ = (Index("ix_automations_enabled_next_run_at", "enabled", "next_run_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    schedule: Mapped[str] = mapped_column(String(100))  # 5-field cron, in `timezone`
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    min_posts: Mapped[int] = mapped_column(default=1)
    action: Mapped[AutomationAction] = mapped_column(
        str_enum(AutomationAction), default=AutomationAction.DRAFT
    )
    subject: Mapped[str] = mapped_column(String(300))
    enabled: Mapped[bool] = mapped_column(default=True)
    last_run_at: Mapped[datetime | None]
    next_run_at: Mapped[datetime | None]
    last_result: Mapped[str | None] = mapped_column(Text)
    last_issue_id: Mapped[int | None] = mapped_column(
        ForeignKey("issues.id", ondelete="SET NULL"), index=True
    )
    # The newest publication date among the posts of this automation's latest issue: the
    # next run takes posts from there on (a post imported late still counts).
    covered_until: Mapped[datetime | None]

    categories: Mapped[list[Category]] = relationship(
        secondary=automation_categories, order_by=Category.name
    )


class RunOutcome(enum.StrEnum):
    """How one run of an automation ended: an issue made, skipped (fewer than `min_posts`
    new posts), or failed.
    """

    ISSUE = "issue"
    SKIPPED = "skipped"
    FAILED = "failed"


class AutomationRun(Base):
    """One run: a scheduled time runs once (unique), a manual run has no scheduled time."""

    __tablename__ = "automation_runs"
    __table_args__ = (UniqueConstraint("automation_id", "scheduled_for"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    automation_id: Mapped[int] = mapped_column(ForeignKey("automations.id", ondelete="CASCADE"))
    scheduled_for: Mapped[datetime | None]
    ran_at: Mapped[datetime]
    outcome: Mapped[RunOutcome] = mapped_column(str_enum(RunOutcome))
    message: Mapped[str] = mapped_column(Text, default="")
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id", ondelete="SET NULL"))
