"""Minimal rows for tracking tests: an issue that has started, deliveries, links."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from newsletter.models import (
    Delivery,
    DeliveryStatus,
    Issue,
    IssueStatus,
    Link,
    Subscriber,
    SubscriberStatus,
)

STARTED = datetime(2026, 3, 2, 9, 3, tzinfo=UTC)
_numbers = itertools.count(1)


def make_issue(session: Session, subject: str = "Weekly", started_at: datetime = STARTED) -> Issue:
    issue = Issue(subject=subject, status=IssueStatus.SENT, started_at=started_at)
    session.add(issue)
    session.commit()
    return issue


def make_delivery(
    session: Session, issue: Issue, sent_at: datetime = STARTED, email: str | None = None
) -> Delivery:
    n = next(_numbers)
    subscriber = Subscriber(email=email or f"reader{n}@example.org", status=SubscriberStatus.ACTIVE)
    session.add(subscriber)
    session.flush()
    delivery = Delivery(
        issue_id=issue.id,
        subscriber_id=subscriber.id,
        status=DeliveryStatus.SENT,
        message_id=f"<t{n}.{issue.id}@example.org>",
        sent_at=sent_at,
    )
    session.add(delivery)
    session.commit()
    return delivery


def make_link(session: Session, issue: Issue, url: str) -> Link:
    link = Link(issue_id=issue.id, url=url)
    session.add(link)
    session.commit()
    return link
