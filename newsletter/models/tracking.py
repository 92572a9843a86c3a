"""Opens and clicks counted as they are recorded, so an issue's stats read a few hundred
rows instead of every event (newsletter/tracking/record.py keeps them; stats.py reads)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

#: `link_id` of a row that is not about one link: opens, and the "any link" clicks row.
NO_LINK = 0


class TrackingCount(Base):
    """Events of one kind in one time bucket of an issue, human or machine apart.

    `total` counts events; `uniq` counts deliveries whose first event of that kind
    (and link) fell in this bucket. Click rows with a link id count that link; the
    click row with `link_id` 0 holds only `uniq`: deliveries that clicked any link.
    """

    __tablename__ = "tracking_counts"

    issue_id: Mapped[int] = mapped_column(
        ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True
    )
    bucket_at: Mapped[datetime] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(11), primary_key=True)
    link_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    machine: Mapped[bool] = mapped_column(primary_key=True)
    total: Mapped[int] = mapped_column(default=0)
    uniq: Mapped[int] = mapped_column(default=0)


class TrackingFirst(Base):
    """Which event of a delivery is its first of a kind (per link, and any link), human or
    machine apart: what `TrackingCount.uniq` counts, kept so it can be corrected when an
    event is found to be a machine's after the fact (a scanner's burst of clicks)."""

    __tablename__ = "tracking_firsts"

    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(11), primary_key=True)
    link_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    machine: Mapped[bool] = mapped_column(primary_key=True)
    event_id: Mapped[int]
    issue_id: Mapped[int]
    bucket_at: Mapped[datetime]
