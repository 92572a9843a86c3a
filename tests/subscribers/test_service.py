"""Signup, confirmation, unsubscribe and eligibility as services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from newsletter.models import (
    Event,
    EventKind,
    Subscriber,
    SubscriberStatus,
    SuppressionReason,
    utcnow,
)
from newsletter.subscribers import (
    InvalidEmail,
    InvalidInput,
    confirm,
    is_mailable,
    is_suppressed,
    subscribe,
    suppress,
    unsubscribe,
)
from newsletter.subscribers.tokens import Purpose, make_token, read_token

from .conftest import snapshot


def confirm_token(sub: Subscriber, *, at=None):
    return read_token(Purpose.CONFIRM, make_token(Purpose.CONFIRM, sub.id, sub.email, issued_at=at))


def test_signup_creates_pending_and_queues_confirmation(app, db_session, categories, tasks):
    result = subscribe(db_session, email=" Ada@Example.ORG ", name="Ada", categories=["China"])
    sub = db_session.get(Subscriber, result.subscriber_id)
    assert result.outcome == "created"
    assert sub.email == "ada@example.org"
    assert sub.status is SubscriberStatus.PENDING
    assert [c.name for c in sub.categories] == ["China"]
    assert tasks == [("subscribers.send_confirmation", (sub.id,))]
    assert not is_mailable(db_session, sub.id)


def test_signup_again_while_pending_resends_at_most_every_ten_minutes(app, db_session, tasks):
    start = utcnow()
    first = subscribe(db_session, email="ada@example.org", now=start)
    again = subscribe(db_session, email="ADA@example.org", now=start + timedelta(minutes=5))
    later = subscribe(db_session, email="ada@example.org", now=start + timedelta(minutes=11))
    assert (first.outcome, again.outcome, later.outcome) == ("created", "throttled", "resent")
    assert [name for name, _ in tasks] == ["subscribers.send_confirmation"] * 2


def test_signup_while_active_changes_nothing(app, db_session, categories, tasks):
    sub_id = subscribe(db_session, email="ada@example.org", name="Ada").subscriber_id
    sub = db_session.get(Subscriber, sub_id)
    assert confirm(db_session, token=confirm_token(sub)) == "confirmed"
    tasks.clear()
    before = snapshot(db_session)
    result = subscribe(db_session, email="ada@example.org", name="Mallory", categories=["AI"])
    assert result.outcome == "already_active"
    assert snapshot(db_session) == before
    assert tasks == []


def test_confirm_activates_and_queues_welcome(app, db_session, tasks):
    sub = db_session.get(Subscriber, subscribe(db_session, email="ada@example.org").subscriber_id)
    assert confirm(db_session, token=confirm_token(sub)) == "confirmed"
    assert sub.status is SubscriberStatus.ACTIVE and sub.confirmed_at is not None
    assert ("subscribers.send_welcome", (sub.id,)) in tasks
    assert is_mailable(db_session, sub.id)
    assert confirm(db_session, token=confirm_token(sub)) == "already_active"
    kinds = db_session.scalars(select(Event.kind).where(Event.subscriber_id == sub.id)).all()
    assert kinds == [EventKind.SUBSCRIBE, EventKind.CONFIRM]


def test_confirm_token_for_another_address_with_same_id_is_refused(app, db_session, tasks):
    sub = db_session.get(Subscriber, subscribe(db_session, email="ada@example.org").subscriber_id)
    forged = read_token(Purpose.CONFIRM, make_token(Purpose.CONFIRM, sub.id, "eve@example.org"))
    from newsletter.subscribers import SubscriberNotFound

    with pytest.raises(SubscriberNotFound):
        confirm(db_session, token=forged)
    assert sub.status is SubscriberStatus.PENDING


def test_unsubscribe_is_idempotent_and_suppresses(app, db_session, tasks):
    sub = db_session.get(Subscriber, subscribe(db_session, email="ada@example.org").subscriber_id)
    confirm(db_session, token=confirm_token(sub))
    assert unsubscribe(db_session, subscriber_id=sub.id, via="one-click") is True
    assert unsubscribe(db_session, subscriber_id=sub.id, via="one-click") is False
    assert sub.status is SubscriberStatus.UNSUBSCRIBED
    assert is_suppressed(db_session, "ADA@example.org")
    assert not is_mailable(db_session, sub.id)
    events = db_session.scalars(
        select(Event).where(Event.subscriber_id == sub.id, Event.kind == EventKind.UNSUBSCRIBE)
    ).all()
    assert len(events) == 1


def test_old_confirm_link_does_not_undo_an_unsubscribe(app, db_session, tasks):
    sub = db_session.get(Subscriber, subscribe(db_session, email="ada@example.org").subscriber_id)
    old = confirm_token(sub, at=utcnow() - timedelta(hours=1))
    confirm(db_session, token=confirm_token(sub, at=utcnow() - timedelta(minutes=30)))
    unsubscribe(db_session, subscriber_id=sub.id, via="page")
    assert confirm(db_session, token=old) == "stale"
    assert sub.status is SubscriberStatus.UNSUBSCRIBED
    # Signing up again and confirming the new link brings the person back.
    later = utcnow() + timedelta(minutes=11)
    assert subscribe(db_session, email="ada@example.org", now=later).outcome == "resent"
    assert confirm(db_session, token=confirm_token(sub, at=later)) == "confirmed"
    assert not is_suppressed(db_session, "ada@example.org")
    assert is_mailable(db_session, sub.id)


def test_blocked_address_is_never_reactivated_by_signup(app, db_session, tasks):
    sub = db_session.get(Subscriber, subscribe(db_session, email="ada@example.org").subscriber_id)
    suppress(db_session, email="ada@example.org", reason=SuppressionReason.BLOCKED)
    tasks.clear()
    assert (
        subscribe(db_session, email="ada@example.org", now=utcnow() + timedelta(hours=1)).outcome
        == "refused"
    )
    assert (
        confirm(db_session, token=confirm_token(sub, at=utcnow() + timedelta(hours=2))) == "refused"
    )
    assert sub.status is SubscriberStatus.BLOCKED
    assert tasks == []


@pytest.mark.parametrize(
    "email",
    ["", "not-an-address", "a@b", "ada@@example.org", "ada@localhost", "x\r\nBcc: a@example.org"],
)
def test_bad_addresses_are_refused_and_nothing_changes(app, db_session, tasks, email):
    before = snapshot(db_session)
    with pytest.raises(InvalidEmail):
        subscribe(db_session, email=email)
    assert snapshot(db_session) == before
    assert tasks == []


def test_unknown_category_is_refused(app, db_session, categories, tasks):
    before = snapshot(db_session)
    with pytest.raises(InvalidInput, match="unknown category"):
        subscribe(db_session, email="ada@example.org", categories=["Cooking"])
    assert snapshot(db_session) == before


def test_disposable_and_role_addresses_are_allowed_but_flagged(app, db_session, tasks):
    sub = db_session.get(
        Subscriber, subscribe(db_session, email="info@mailinator.com").subscriber_id
    )
    assert sub.is_disposable and sub.is_role_address
    plain = db_session.get(Subscriber, subscribe(db_session, email="ada@example.org").subscriber_id)
    assert not plain.is_disposable and not plain.is_role_address
