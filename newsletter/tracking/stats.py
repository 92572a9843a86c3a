"""The stats of one issue, in the shape of DESIGN.md ("stats"), and as CSV rows.

- `sent`, `failed`, `skipped` come from the ledger; `remaining` is what the send has
  yet to decide: pending and in-flight rows plus the active subscribers the walk has
  not reached; `recipients` is their sum. `rate_per_s`: messages accepted over the
  last RATE_WINDOW seconds.
- `bounces` and `complaints`: newsletter.bounces.stats (distinct subscribers).
- `unsubscribes`: distinct subscribers whose unsubscribe event names this issue
  (the link they used carried it: the one-click URL of this issue's email).
- `opens` and `clicks`: `unique` (deliveries) and `total` (events) from people;
  `machine` (events) and `machine_unique` (deliveries) from machines (machine.py).
  `clicks.links`: every link of the issue with its own figures. Read from the
  pre-aggregated `tracking_counts` (record.py), so the cost does not grow with the
  number of events.
- `rates`: fractions of `sent` (`click_to_open`: of unique opens), 4 decimals.
- `series`: human (and machine) opens and clicks per bucket, 10 minutes for the first
  day after the send started and hourly after, from the first bucket to the last
  with an event, empty buckets included.

Test sends carry no tracking and no issue in their unsubscribe link, so nothing they
cause is counted.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.bounces.stats import issue_bounce_stats
from newsletter.compose.errors import IssueNotFound
from newsletter.models import (
    NO_LINK,
    Delivery,
    DeliveryStatus,
    Event,
    EventKind,
    Issue,
    Link,
    Subscriber,
    SubscriberStatus,
    TrackingCount,
    utcnow,
)
from newsletter.sends import ledger

from .record import bucket_of, fine_until

RATE_WINDOW = 10.0  # seconds
_FINE = timedelta(minutes=10)
_HOUR = timedelta(hours=1)


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _delivery_figures(session: Session, issue_id: int, row: Any) -> dict[str, Any]:
    counts = ledger.counts(session, issue_id)
    unwalked = 0
    if row.max_subscriber_id is not None and row.last_subscriber_id < row.max_subscriber_id:
        unwalked = int(
            session.scalar(
                select(func.count()).where(
                    Subscriber.status == SubscriberStatus.ACTIVE,
                    Subscriber.id > row.last_subscriber_id,
                    Subscriber.id <= row.max_subscriber_id,
                )
            )
            or 0
        )
    since = utcnow() - timedelta(seconds=RATE_WINDOW)
    recent = int(
        session.scalar(
            select(func.count()).where(
                Delivery.issue_id == issue_id,
                Delivery.status == DeliveryStatus.SENT,
                Delivery.sent_at >= since,
            )
        )
        or 0
    )
    remaining = counts[DeliveryStatus.PENDING] + counts[DeliveryStatus.SENDING] + unwalked
    sent, failed = counts[DeliveryStatus.SENT], counts[DeliveryStatus.FAILED]
    skipped = counts[DeliveryStatus.SKIPPED]
    return {
        "status": str(row.status),
        "recipients": sent + failed + skipped + remaining,
        "sent": sent,
        "failed": failed,
        "skipped": skipped,
        "remaining": remaining,
        "rate_per_s": round(recent / RATE_WINDOW, 1),
    }


def _series(
    started_at: datetime | None, per_bucket: dict[datetime, dict[str, int]]
) -> list[dict[str, Any]]:
    if not per_bucket:
        return []
    first, last = min(per_bucket), max(per_bucket)
    grid: set[datetime] = set(per_bucket)
    if started_at is not None:
        at = min(first, bucket_of(started_at, started_at))
        end = fine_until(started_at)
        while at <= last:
            grid.add(at)
            at = at + _FINE if at < end else at + _HOUR
    empty = {"opens": 0, "clicks": 0, "machine_opens": 0, "machine_clicks": 0}
    return [{"at": at, **per_bucket.get(at, empty)} for at in sorted(grid)]


def engagement_figures(
    session: Session, issue_id: int, started_at: datetime | None
) -> dict[str, Any]:
    """`{opens, clicks (with links), series}` of the issue from `tracking_counts`."""
    # Summed in the database: a few dozen rows per link and kind, one per bucket and kind.
    totals = session.execute(
        select(
            TrackingCount.kind,
            TrackingCount.link_id,
            TrackingCount.machine,
            func.sum(TrackingCount.total),
            func.sum(TrackingCount.uniq),
        )
        .where(TrackingCount.issue_id == issue_id)
        .group_by(TrackingCount.kind, TrackingCount.link_id, TrackingCount.machine)
    ).all()
    buckets = session.execute(
        select(
            TrackingCount.bucket_at,
            TrackingCount.kind,
            TrackingCount.machine,
            func.sum(TrackingCount.total),
        )
        .where(TrackingCount.issue_id == issue_id)
        .group_by(TrackingCount.bucket_at, TrackingCount.kind, TrackingCount.machine)
    ).all()
    links = session.execute(
        select(Link.id, Link.url).where(Link.issue_id == issue_id).order_by(Link.id)
    ).all()
    opens = {"unique": 0, "total": 0, "machine": 0, "machine_unique": 0}
    clicks = {"unique": 0, "total": 0, "machine": 0, "machine_unique": 0}
    per_link: dict[int, dict[str, int]] = defaultdict(
        lambda: {"unique": 0, "total": 0, "machine": 0}
    )
    per_bucket: dict[datetime, dict[str, int]] = defaultdict(
        lambda: {"opens": 0, "clicks": 0, "machine_opens": 0, "machine_clicks": 0}
    )
    for kind, link_id, is_machine, total_sum, uniq_sum in totals:
        figure = opens if kind == EventKind.OPEN else clicks
        total, uniq = int(total_sum or 0), int(uniq_sum or 0)
        if is_machine:
            figure["machine"] += total
        else:
            figure["total"] += total
        if link_id == NO_LINK:
            figure["machine_unique" if is_machine else "unique"] += uniq
        else:
            link = per_link[link_id]
            if is_machine:
                link["machine"] += total
            else:
                link["total"] += total
                link["unique"] += uniq
    for bucket, kind, is_machine, total_sum in buckets:
        name = "opens" if kind == EventKind.OPEN else "clicks"
        per_bucket[bucket][("machine_" if is_machine else "") + name] += int(total_sum or 0)
    # A link's counts are only those of rows with that id: opens never have one.
    ranked = sorted(
        links, key=lambda r: (-per_link[r.id]["total"], -per_link[r.id]["unique"], r.id)
    )
    link_list = [{"id": link_id, "url": url, **per_link[link_id]} for link_id, url in ranked]
    return {
        "opens": opens,
        "clicks": {**clicks, "links": link_list},
        "series": _series(started_at, per_bucket),
    }


def issue_stats(session: Session, issue_id: int) -> dict[str, Any]:
    """`{status, recipients, sent, failed, skipped, remaining, rate_per_s, bounces: {hard,
    soft}, complaints, unsubscribes, opens: {unique, total, machine, machine_unique},
    clicks: {unique, total, machine, machine_unique, links: [{id, url, unique, total,
    machine}]}, rates: {open, click, click_to_open, bounce, unsubscribe, complaint},
    series: [{at, opens, clicks, machine_opens, machine_clicks}]}` (`at` a UTC datetime);
    raises IssueNotFound."""
    row = session.execute(
        select(
            Issue.status, Issue.last_subscriber_id, Issue.max_subscriber_id, Issue.started_at
        ).where(Issue.id == issue_id)
    ).one_or_none()
    if row is None:
        raise IssueNotFound(issue_id)
    figures = _delivery_figures(session, issue_id, row)
    bounce_stats = issue_bounce_stats(session, issue_id)
    unsubscribes = int(
        session.scalar(
            select(func.count(func.distinct(Event.subscriber_id))).where(
                Event.issue_id == issue_id, Event.kind == EventKind.UNSUBSCRIBE
            )
        )
        or 0
    )
    engagement = engagement_figures(session, issue_id, row.started_at)
    session.commit()
    opens, clicks = engagement["opens"], engagement["clicks"]
    sent = figures["sent"]
    bounces = bounce_stats["bounces"]
    return {
        **figures,
        "bounces": bounces,
        "complaints": bounce_stats["complaints"],
        "unsubscribes": unsubscribes,
        "opens": opens,
        "clicks": clicks,
        "rates": {
            "open": _rate(opens["unique"], sent),
            "click": _rate(clicks["unique"], sent),
            "click_to_open": _rate(clicks["unique"], opens["unique"]),
            "bounce": _rate(bounces["hard"] + bounces["soft"], sent),
            "unsubscribe": _rate(unsubscribes, sent),
            "complaint": _rate(bounce_stats["complaints"], sent),
        },
        "series": engagement["series"],
    }


CSV_HEADER = ("section", "at", "url", "metric", "value")


def stats_csv_rows(session: Session, issue_id: int) -> Iterator[tuple[str, ...]]:
    """The issue's stats as long-format CSV rows, header first: `summary` rows (one per
    figure, nested ones as `opens.unique`), one `link` row per link and figure, one
    `series` row per bucket and figure (`at` in ISO 8601 UTC). Raises IssueNotFound
    before yielding anything."""
    stats = issue_stats(session, issue_id)

    def rows() -> Iterator[tuple[str, ...]]:
        yield CSV_HEADER
        for key in ("status", "recipients", "sent", "failed", "skipped", "remaining"):
            yield ("summary", "", "", key, str(stats[key]))
        for key in ("hard", "soft"):
            yield ("summary", "", "", f"bounces.{key}", str(stats["bounces"][key]))
        yield ("summary", "", "", "complaints", str(stats["complaints"]))
        yield ("summary", "", "", "unsubscribes", str(stats["unsubscribes"]))
        for group in ("opens", "clicks"):
            for key in ("unique", "total", "machine", "machine_unique"):
                yield ("summary", "", "", f"{group}.{key}", str(stats[group][key]))
        for key, value in stats["rates"].items():
            yield ("summary", "", "", f"rates.{key}", str(value))
        for link in stats["clicks"]["links"]:
            for key in ("unique", "total", "machine"):
                yield ("link", "", link["url"], key, str(link[key]))
        for point in stats["series"]:
            at = point["at"].isoformat()
            for key in ("opens", "clicks", "machine_opens", "machine_clicks"):
                yield ("series", at, "", key, str(point[key]))

    return rows()


def csv_text(rows: Iterable[Sequence[str]]) -> str:
    """Rows as one CSV document (RFC 4180: CRLF line ends, quoted where needed)."""
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()
