"""Newsletter issues and their ordered items."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, TimestampMixin, str_enum, utcnow
from .posts import Post
from .subscribers import Frequency


class IssueStatus(enum.StrEnum):
    """An issue's state; the moves between them are in newsletter.sends.lifecycle."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"
    CANCELLED = "cancelled"


class IssueKind(enum.StrEnum):
    """Who made an issue: an author (`issue`) or a digest run (`digest`)."""

    ISSUE = "issue"  # written by an author, sent to everyone who takes single issues
    DIGEST = "digest"  # made by a digest run for weekly or monthly readers


class ItemMode(enum.StrEnum):
    """How a post shows in an issue: in full, or as an excerpt with a link."""

    FULL = "full"
    EXCERPT = "excerpt"


class Issue(TimestampMixin, Base):
    """One newsletter issue: subject, intro/outro Markdown, its posts (`items`, in order),
    status and send checkpoint. Datetimes are UTC.
    """

    __tablename__ = "issues"
    __table_args__ = (Index("ix_issues_status_send_at", "status", "send_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(300))
    preheader: Mapped[str] = mapped_column(String(300), default="")
    intro: Mapped[str] = mapped_column(Text, default="")
    outro: Mapped[str] = mapped_column(Text, default="")
    slug: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[IssueStatus] = mapped_column(str_enum(IssueStatus), default=IssueStatus.DRAFT)
    tracking: Mapped[bool] = mapped_column(default=True)
    kind: Mapped[IssueKind] = mapped_column(
        str_enum(IssueKind), default=IssueKind.ISSUE, server_default=IssueKind.ISSUE.value
    )
    frequency: Mapped[Frequency | None] = mapped_column(str_enum(Frequency))  # digests only
    send_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The send walks subscribers in id order up to a bound fixed at start (listmonk's checkpoint).
    last_subscriber_id: Mapped[int] = mapped_column(default=0)
    max_subscriber_id: Mapped[int | None]

    items: Mapped[list[IssueItem]] = relationship(
        back_populates="issue",
        order_by="IssueItem.position",
        cascade="all, delete-orphan",
    )


class IssueItem(Base):
    """One post in an issue, at `position` (0-based), shown in full or as an excerpt."""

    __tablename__ = "issue_items"
    __table_args__ = (
        UniqueConstraint("issue_id", "post_id"),
        Index("ix_issue_items_issue_id_position", "issue_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int]
    mode: Mapped[ItemMode] = mapped_column(str_enum(ItemMode), default=ItemMode.FULL)

    issue: Mapped[Issue] = relationship(back_populates="items")
    post: Mapped[Post] = relationship()


class Link(Base):
    """A link that appears in an issue; /c/TOKEN only ever redirects to one of these."""

    __tablename__ = "links"
    __table_args__ = (UniqueConstraint("issue_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2000))
