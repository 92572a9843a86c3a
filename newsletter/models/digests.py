"""What each digest covers, and when each digest pace last ran."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Table
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, str_enum
from .subscribers import Frequency

# The sent issues whose posts a digest carries (each reader gets their own share).
digest_sources = Table(
    "digest_sources",
    Base.metadata,
    Column("digest_id", ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True),
    Column("issue_id", ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_digest_sources_issue_id", "issue_id"),
)


class DigestRun(Base):
    """The last scheduled time a pace's digest was made for: the marker two beats race
    for with one conditional UPDATE, so a scheduled time runs once."""

    __tablename__ = "digest_runs"

    frequency: Mapped[Frequency] = mapped_column(str_enum(Frequency), primary_key=True)
    last_slot: Mapped[datetime | None]
