"""Factories for bounce tests: an active subscriber with one sent issue email."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from newsletter.models import (
    Delivery,
    DeliveryStatus,
    Issue,
    IssueStatus,
    Subscriber,
    SubscriberStatus,
    utcnow,
)
from newsletter.subscribers.manage import create_subscriber


@pytest.fixture
def issue(db_session: Session) -> Issue:
    row = Issue(subject="Issue 42", status=IssueStatus.SENT, sent_at=utcnow())
    db_session.add(row)
    db_session.commit()
    return row


@pytest.fixture
def mailed(db_session: Session, issue: Issue) -> Callable[..., Delivery]:
    """mailed("jane@example.com") -> the Delivery of issue 42 to a new active subscriber."""

    def _make(email: str, message_id: str | None = None) -> Delivery:
        subscriber = create_subscriber(db_session, email=email, status=SubscriberStatus.ACTIVE)
        delivery = Delivery(
            issue_id=issue.id,
            subscriber_id=subscriber.id,
            message_id=message_id or f"<c{issue.id}.s{subscriber.id}.abc@news.example.org>",
            status=DeliveryStatus.SENT,
            sent_at=utcnow(),
        )
        db_session.add(delivery)
        db_session.commit()
        return delivery

    return _make


@pytest.fixture
def mail_again(db_session: Session) -> Callable[[Delivery], Delivery]:
    """mail_again(delivery) -> a Delivery of a new issue to the same subscriber."""

    def _make(previous: Delivery) -> Delivery:
        issue = Issue(subject="Another issue", status=IssueStatus.SENT, sent_at=utcnow())
        db_session.add(issue)
        db_session.flush()
        delivery = Delivery(
            issue_id=issue.id,
            subscriber_id=previous.subscriber_id,
            message_id=f"<c{issue.id}.s{previous.subscriber_id}.abc@news.example.org>",
            status=DeliveryStatus.SENT,
            sent_at=utcnow(),
        )
        db_session.add(delivery)
        db_session.commit()
        return delivery

    return _make


def subscriber_of(db_session: Session, delivery: Delivery) -> Subscriber:
    subscriber = db_session.get(Subscriber, delivery.subscriber_id)
    assert subscriber is not None
    db_session.refresh(subscriber)
    return subscriber
