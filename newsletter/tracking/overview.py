"""The whole list at a glance, for the admin dashboard: growth per day and subscribers
per category; and the key rates of each issue for the admin's issues table.

List growth counts people, not events: on each UTC day, the distinct subscribers who

- `subscribed`: signed up (or were added by an admin, or signed up again) - a
  `subscribe` event - or were created by a CSV import (an `import` event whose
  result is `created`);
- `confirmed`: confirmed their address (double opt-in, a `confirm` event);
- `unsubscribed`: unsubscribed by any route (link, one-click, preferences, admin);
- `bounced`: bounced hard (the address does not exist; such an address is suppressed
  at once). Soft bounces that reach the soft limit are not counted here.

Each count is one GROUP BY day over `events (kind, occurred_at)` (the index
`ix_events_kind_occurred_at`), so the cost follows the events in the window, not the
size of the list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from newsletter.models import (
    Category,
    Event,
    EventKind,
    Issue,
    IssueStatus,
    Subscriber,
    SubscriberStatus,
    subscriber_categories,
    utcnow,
)

MAX_DAYS = 366
GROWTH_SERIES = ("subscribed", "confirmed", "unsubscribed", "bounced")


@dataclass(frozen=True, slots=True)
class GrowthDay:
    """One UTC day of list growth; each figure is a number of distinct subscribers."""

    day: date
    subscribed: int = 0
    confirmed: int = 0
    unsubscribed: int = 0
    bounced: int = 0


@dataclass(frozen=True, slots=True)
class CategoryCount:
    """One category and how many active subscribers chose it themselves."""

    name: str
    subscribers: int  # active subscribers who chose this category themselves


@dataclass(frozen=True, slots=True)
class CategoryOverview:
    """Active subscribers per category (largest first), those who chose none, and the total."""

    categories: list[CategoryCount]  # every category, largest first, then by name
    everything: int  # active subscribers who chose no category: they get every post
    active: int  # all active subscribers


def _utc_day(session: Session, column: Any) -> ColumnElement[Any]:
    """The UTC calendar day of a timestamp column (the server's time zone plays no part)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)  # SQLite stores UTC text: 'YYYY-MM-DD HH:MM:SS...'


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def list_growth(session: Session, *, days: int = 30, today: date | None = None) -> list[GrowthDay]:
    """The last `days` UTC days up to `today` (default: now), oldest first, every day
    present (zeros included). Raises ValueError unless 1 <= days <= MAX_DAYS."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}")
    today = today or utcnow().date()
    first = today - timedelta(days=days - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = datetime(today.year, today.month, today.day, tzinfo=UTC) + timedelta(days=1)
    created_by_import = and_(
        Event.kind == EventKind.IMPORT, Event.data["result"].as_string() == "created"
    )
    series = case(
        (Event.kind.in_((EventKind.SUBSCRIBE, EventKind.IMPORT)), literal("subscribed")),
        (Event.kind == EventKind.CONFIRM, literal("confirmed")),
        (Event.kind == EventKind.UNSUBSCRIBE, literal("unsubscribed")),
        else_=literal("bounced"),
    ).label("series")
    day = _utc_day(session, Event.occurred_at).label("day")
    rows = session.execute(
        select(day, series, func.count(func.distinct(Event.subscriber_id)))
        .where(
            Event.occurred_at >= start,
            Event.occurred_at < end,
            Event.subscriber_id.is_not(None),
            or_(
                Event.kind.in_((EventKind.SUBSCRIBE, EventKind.CONFIRM, EventKind.UNSUBSCRIBE)),
                created_by_import,
                and_(Event.kind == EventKind.BOUNCE, Event.hard.is_(True)),
            ),
        )
        .group_by(day, series)
    ).all()
    session.commit()  # end the read, so a SQLite reader never holds a stale snapshot
    found: dict[date, dict[str, int]] = {}
    for raw_day, name, count in rows:
        found.setdefault(_as_date(raw_day), {})[str(name)] = int(count)
    return [
        GrowthDay(first + timedelta(days=n), **found.get(first + timedelta(days=n), {}))
        for n in range(days)
    ]


def category_counts(session: Session) -> CategoryOverview:
    """Active subscribers per category they chose (a subscriber of `AI` is counted under
    `AI`, not under its subcategories), and those who chose none (they get everything)."""
    active = Subscriber.status == SubscriberStatus.ACTIVE
    chosen: dict[int, int] = dict(
        session.execute(
            select(subscriber_categories.c.category_id, func.count())
            .join(Subscriber, Subscriber.id == subscriber_categories.c.subscriber_id)
            .where(active)
            .group_by(subscriber_categories.c.category_id)
        ).all()
    )
    names = session.execute(select(Category.id, Category.name)).all()
    total = int(session.scalar(select(func.count()).select_from(Subscriber).where(active)) or 0)
    with_choice = int(
        session.scalar(
            select(func.count(func.distinct(subscriber_categories.c.subscriber_id)))
            .join(Subscriber, Subscriber.id == subscriber_categories.c.subscriber_id)
            .where(active)
        )
        or 0
    )
    session.commit()
    counts = [CategoryCount(name, int(chosen.get(cid, 0))) for cid, name in names]
    counts.sort(key=lambda c: (-c.subscribers, c.name))
    return CategoryOverview(counts, total - with_choice, total)


@dataclass(frozen=True, slots=True)
class IssueRow:
    """An issue with its key figures; `stats` is None for an issue never started."""

    issue: Issue
    stats: dict[str, Any] | None

    def rate(self, unique: int) -> float | None:
        """`unique` as a share of the messages sent (None before any was sent)."""
        sent = int(self.stats["sent"]) if self.stats else 0
        return unique / sent if sent else None

    @property
    def open_rate(self) -> float | None:
        """Unique opens per message sent (0.0-1.0), or None before any was sent."""
        return self.rate(int(self.stats["opens"]["unique"])) if self.stats else None

    @property
    def click_rate(self) -> float | None:
        """Unique clicks per message sent (0.0-1.0), or None before any was sent."""
        return self.rate(int(self.stats["clicks"]["unique"])) if self.stats else None

    @property
    def bounce_rate(self) -> float | None:
        """Hard plus soft bounces per message sent (0.0-1.0), or None before any was sent."""
        if not self.stats:
            return None
        return self.rate(int(self.stats["bounces"]["hard"]) + int(self.stats["bounces"]["soft"]))

    @property
    def unsubscribe_rate(self) -> float | None:
        """Unsubscribes per message sent (0.0-1.0), or None before any was sent."""
        return self.rate(int(self.stats["unsubscribes"])) if self.stats else None


NEVER_STARTED = (IssueStatus.DRAFT, IssueStatus.SCHEDULED)


def issue_rows(session: Session, issues: Sequence[Issue]) -> list[IssueRow]:
    """Each issue with its stats (newsletter.sends.stats.issue_stats, the API's shape);
    a page of the issues table costs one stats call per started issue."""
    from newsletter.sends.stats import issue_stats

    rows = []
    for issue in issues:
        started = issue.status not in NEVER_STARTED or issue.started_at is not None
        rows.append(IssueRow(issue, issue_stats(session, issue.id) if started else None))
    return rows
