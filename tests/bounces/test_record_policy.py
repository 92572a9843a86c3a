"""Recording events once and what they do to the subscriber (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from newsletter.bounces.events import Kind, ProviderEvent
from newsletter.bounces.policy import SoftBouncePolicy
from newsletter.bounces.record import events_from_classified, record_event, record_events
from newsletter.models import Event, EventKind, SubscriberStatus, Suppression, utcnow
from newsletter.subscribers import history
from newsletter.subscribers.suppression import get_suppression, is_suppressed

from .conftest import subscriber_of

POLICY = SoftBouncePolicy(limit=3, days=30)


def bounce(n: int, email: str, *, hard: bool | None, status: str = "", days_ago: float = 0, **kw):  # type: ignore[no-untyped-def]
    return ProviderEvent(
        provider="ses",
        provider_event_id=f"ses:m{n}:{email}",
        kind=kw.pop("kind", Kind.BOUNCE),
        recipient=email,
        hard=hard,
        status=status,
        diagnostic=kw.pop("diagnostic", f"smtp; 550 {status} test"),
        occurred_at=utcnow() - timedelta(days=days_ago),
        **kw,
    )


def events_count(db_session) -> int:  # type: ignore[no-untyped-def]
    return db_session.scalar(
        select(func.count()).select_from(Event).where(Event.provider_event_id.is_not(None))
    )


def test_hard_bounce_suppresses_at_once_and_says_why(db_session, mailed):
    delivery = mailed("jane@example.com")
    outcome = record_event(
        db_session, bounce(1, "jane@example.com", hard=True, status="5.1.1"), soft_policy=POLICY
    )
    assert (outcome.result, outcome.action) == ("recorded", "suppressed")
    subscriber = subscriber_of(db_session, delivery)
    assert subscriber.status is SubscriberStatus.BOUNCED
    suppression = get_suppression(db_session, "jane@example.com")
    assert (
        suppression is not None
        and "5.1.1" in suppression.note
        and "hard bounce" in suppression.note
    )
    event = db_session.scalar(select(Event).where(Event.kind == EventKind.BOUNCE))
    assert (event.delivery_id, event.issue_id, event.subscriber_id) == (
        delivery.id,
        delivery.issue_id,
        delivery.subscriber_id,
    )
    assert event.hard is True and event.data["diagnostic"] == "smtp; 550 5.1.1 test"
    entries = history.subscriber_history(db_session, subscriber_id=subscriber.id)
    assert any(e.what == "Hard bounce" and "5.1.1" in e.detail for e in entries)


def test_replayed_event_changes_nothing_the_second_time(db_session, mailed):
    mailed("jane@example.com")
    event = bounce(1, "jane@example.com", hard=False, status="4.2.2")
    assert record_event(db_session, event, soft_policy=POLICY).result == "recorded"
    before = events_count(db_session)
    assert record_event(db_session, event, soft_policy=POLICY).result == "duplicate"
    assert events_count(db_session) == before == 1


def test_policy_failure_5_7_1_never_suppresses(db_session, mailed):
    delivery = mailed("jane@example.com")
    for n in range(5):
        outcome = record_event(
            db_session, bounce(n, "jane@example.com", hard=None, status="5.7.1"), soft_policy=POLICY
        )
        assert outcome.action == "noted"
    assert subscriber_of(db_session, delivery).status is SubscriberStatus.ACTIVE
    assert not is_suppressed(db_session, "jane@example.com")


def soft_bounce_of_a_new_issue(db_session, mail_again, delivery, n: int, days_ago: float = 0):  # type: ignore[no-untyped-def]
    """Mail the subscriber another issue, which then soft-bounces; returns the action."""
    mail_again(delivery)  # the latest delivery: where an address-only event is filed
    event = bounce(n, "jane@example.com", hard=False, status="4.2.2", days_ago=days_ago)
    return record_event(db_session, event, soft_policy=POLICY).action


def test_soft_bounces_suppress_after_three_in_thirty_days(db_session, mailed, mail_again):
    delivery = mailed("jane@example.com")
    actions = [
        soft_bounce_of_a_new_issue(db_session, mail_again, delivery, n, days_ago)
        for n, days_ago in enumerate([20, 10, 1])
    ]
    assert actions == ["counted", "counted", "suppressed"]
    subscriber = subscriber_of(db_session, delivery)
    assert subscriber.status is SubscriberStatus.BOUNCED
    assert "3 soft bounces in 30 days" in get_suppression(db_session, "jane@example.com").note


def test_one_message_reported_soft_several_times_counts_once(db_session, mailed):
    # Mailgun reports every retry of a temporary failure; an MTA sends "delayed" DSNs.
    delivery = mailed("jane@example.com")
    for n in range(4):
        event = bounce(n, "jane@example.com", hard=False, status="4.2.2", days_ago=1)
        assert record_event(db_session, event, soft_policy=POLICY).action == "counted"
    subscriber = subscriber_of(db_session, delivery)
    assert subscriber.status is SubscriberStatus.ACTIVE and subscriber.bounce_count == 1


def test_soft_bounces_outside_the_window_do_not_count(db_session, mailed, mail_again):
    delivery = mailed("jane@example.com")
    for n, days_ago in enumerate([45, 35, 1]):
        soft_bounce_of_a_new_issue(db_session, mail_again, delivery, n, days_ago)
    assert subscriber_of(db_session, delivery).status is SubscriberStatus.ACTIVE


def test_a_later_delivery_resets_the_soft_count(db_session, mailed, mail_again):
    delivery = mailed("jane@example.com")
    soft_bounce_of_a_new_issue(db_session, mail_again, delivery, 1, days_ago=5)
    soft_bounce_of_a_new_issue(db_session, mail_again, delivery, 2, days_ago=4)
    delivered = record_event(
        db_session,
        bounce(
            3, "jane@example.com", hard=None, kind=Kind.DELIVERY, days_ago=3, diagnostic="250 ok"
        ),
        soft_policy=POLICY,
    )
    assert delivered.action == "reset"
    assert soft_bounce_of_a_new_issue(db_session, mail_again, delivery, 4, days_ago=1) == "counted"
    assert subscriber_of(db_session, delivery).bounce_count == 1
    assert soft_bounce_of_a_new_issue(db_session, mail_again, delivery, 5) == "counted"
    assert subscriber_of(db_session, delivery).status is SubscriberStatus.ACTIVE
    assert soft_bounce_of_a_new_issue(db_session, mail_again, delivery, 6) == "suppressed"
    assert subscriber_of(db_session, delivery).status is SubscriberStatus.BOUNCED


def test_without_the_delivery_the_same_bounces_suppress(db_session, mailed, mail_again):
    """The control for the test above: the reset is what kept the address."""
    delivery = mailed("jane@example.com")
    for n, days_ago in enumerate([5, 4, 1]):
        soft_bounce_of_a_new_issue(db_session, mail_again, delivery, n, days_ago)
    assert subscriber_of(db_session, delivery).status is SubscriberStatus.BOUNCED


def test_an_open_resets_the_soft_count_too(db_session, mailed, mail_again):
    delivery = mailed("jane@example.com")
    soft_bounce_of_a_new_issue(db_session, mail_again, delivery, 1, days_ago=5)
    soft_bounce_of_a_new_issue(db_session, mail_again, delivery, 2, days_ago=4)
    db_session.add(
        Event(
            kind=EventKind.OPEN,
            subscriber_id=delivery.subscriber_id,
            issue_id=delivery.issue_id,
            occurred_at=utcnow() - timedelta(days=2),
        )
    )
    db_session.commit()
    soft_bounce_of_a_new_issue(db_session, mail_again, delivery, 3, days_ago=1)
    assert subscriber_of(db_session, delivery).status is SubscriberStatus.ACTIVE


def test_a_delivery_with_nothing_to_reset_stores_nothing(db_session, mailed):
    mailed("jane@example.com")
    outcome = record_event(
        db_session, bounce(1, "jane@example.com", hard=None, kind=Kind.DELIVERY), soft_policy=POLICY
    )
    assert outcome.result == "skipped" and events_count(db_session) == 0


def test_complaint_marks_complained_and_suppresses(db_session, mailed):
    delivery = mailed("jane@example.com")
    complaint = bounce(
        1, "jane@example.com", hard=None, kind=Kind.COMPLAINT, reason="abuse", diagnostic=""
    )
    assert record_event(db_session, complaint, soft_policy=POLICY).action == "suppressed"
    subscriber = subscriber_of(db_session, delivery)
    assert subscriber.status is SubscriberStatus.COMPLAINED
    suppression = get_suppression(db_session, "jane@example.com")
    assert suppression.reason.value == "complained" and "complaint via ses" in suppression.note


def test_found_by_our_message_id_whatever_the_recipient_says(db_session, mailed):
    delivery = mailed("jane@example.com", message_id="<c1.s1.xyz@news.example.org>")
    mailed("other@example.com")
    event = bounce(1, "", hard=None, kind=Kind.COMPLAINT, message_id="c1.s1.xyz@news.example.org")
    outcome = record_event(db_session, event, soft_policy=POLICY)
    assert outcome.delivery_id == delivery.id
    assert subscriber_of(db_session, delivery).status is SubscriberStatus.COMPLAINED


def test_address_we_never_mailed_changes_nothing(db_session, mailed, caplog):
    mailed("jane@example.com")
    outcome = record_event(
        db_session, bounce(1, "stranger@example.com", hard=True, status="5.1.1"), soft_policy=POLICY
    )
    assert outcome.result == "unknown"
    assert events_count(db_session) == 0
    assert db_session.scalar(select(func.count()).select_from(Suppression)) == 0
    assert "stranger@example.com" in caplog.text


def test_mailbox_messages_share_the_recording_path(db_session, mailed):
    delivery = mailed("jane@example.com")
    events = events_from_classified(
        message_key="<dsn-1@mx.example.com>",
        kind="bounce",
        recipients=[
            {
                "address": "Jane@Example.com",
                "status": "5.1.1",
                "reason": "550 5.1.1 user unknown",
                "hard": True,
            }
        ],
    )
    [first] = record_events(db_session, events, soft_policy=POLICY)
    assert first.action == "suppressed"
    assert subscriber_of(db_session, delivery).status is SubscriberStatus.BOUNCED
    # Re-reading the same mailbox message after a crash stores nothing twice.
    assert [o.result for o in record_events(db_session, events, soft_policy=POLICY)] == [
        "duplicate"
    ]
    assert (
        events_from_classified(
            message_key="x",
            kind="autoreply",
            recipients=[{"address": "a@b.c", "status": "", "reason": "", "hard": None}],
        )
        == []
    )


def test_redacted_complaint_from_the_mailbox_found_by_delivery(db_session, mailed):
    delivery = mailed("jane@example.com")
    events = events_from_classified(
        message_key="arf-1", kind="complaint", recipients=[], delivery_id=delivery.id
    )
    [outcome] = record_events(db_session, events, soft_policy=POLICY)
    assert outcome.action == "suppressed"
    assert subscriber_of(db_session, delivery).status is SubscriberStatus.COMPLAINED


def test_issue_stats_count_each_address_once(db_session, mailed):
    from newsletter.bounces.stats import issue_bounce_stats

    jane = mailed("jane@example.com")
    mailed("joe@example.com")
    mailed("ann@example.com")
    mailed("bob@example.com")
    record_event(
        db_session, bounce(1, "jane@example.com", hard=False, status="4.2.2"), soft_policy=POLICY
    )
    record_event(
        db_session, bounce(2, "jane@example.com", hard=True, status="5.1.1"), soft_policy=POLICY
    )
    record_event(
        db_session, bounce(3, "joe@example.com", hard=False, status="4.2.2"), soft_policy=POLICY
    )
    record_event(
        db_session, bounce(4, "joe@example.com", hard=False, status="4.2.2"), soft_policy=POLICY
    )
    record_event(
        db_session, bounce(5, "ann@example.com", hard=None, status="5.7.1"), soft_policy=POLICY
    )
    record_event(
        db_session, bounce(6, "bob@example.com", hard=None, kind=Kind.COMPLAINT), soft_policy=POLICY
    )
    assert issue_bounce_stats(db_session, jane.issue_id) == {
        "bounces": {"hard": 1, "soft": 2},
        "complaints": 1,
    }


def test_the_unique_insert_is_the_claim_when_two_requests_race(db_session, mailed, monkeypatch):
    """Two deliveries of one event both pass the quick check; the unique key stops the second."""
    from newsletter.bounces import record

    delivery = mailed("jane@example.com")
    event = bounce(1, "jane@example.com", hard=False, status="4.2.2")
    assert record_event(db_session, event, soft_policy=POLICY).action == "counted"
    monkeypatch.setattr(record, "_already_stored", lambda session, event_id: False)
    outcome = record_event(db_session, event, soft_policy=POLICY)
    assert outcome.result == "duplicate"
    assert events_count(db_session) == 1
    assert subscriber_of(db_session, delivery).bounce_count == 1


def test_mailbox_policy_rejections_never_add_up(db_session, mailed):
    delivery = mailed("jane@example.com")
    for n in range(4):
        events = events_from_classified(
            message_key=f"dsn-{n}",
            kind="bounce",
            recipients=[
                {
                    "address": "jane@example.com",
                    "status": "5.7.1",
                    "reason": "550 5.7.1 spam",
                    "hard": False,
                }
            ],
        )
        assert [e.hard for e in events] == [None]
        record_events(db_session, events, soft_policy=POLICY)
    assert subscriber_of(db_session, delivery).status is SubscriberStatus.ACTIVE
