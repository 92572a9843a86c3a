"""Blog posts and their hierarchical categories."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, TimestampMixin, utcnow

post_categories = Table(
    "post_categories",
    Base.metadata,
    Column("post_id", ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_post_categories_category_id", "category_id"),
)


class Category(Base):
    """`AI: Large Language Models` keeps its full name and points at its parent `AI`."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL"), index=True
    )

    parent: Mapped[Category | None] = relationship(remote_side=[id])


class Post(TimestampMixin, Base):
    """An imported blog post; `guid` identifies it across re-imports, `published_at` (UTC)
    is None until a date is known.
    """

    __tablename__ = "posts"
    __table_args__ = (Index("ix_posts_published_at_id", "published_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guid: Mapped[str | None] = mapped_column(String(500), unique=True)
    url: Mapped[str | None] = mapped_column(String(2000), index=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    author: Mapped[str | None] = mapped_column(String(200))
    # None: the source gave no date we could read; the author sets it (never the import time).
    published_at: Mapped[datetime | None] = mapped_column()
    excerpt: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    categories: Mapped[list[Category]] = relationship(
        secondary=post_categories, order_by=Category.name
    )
