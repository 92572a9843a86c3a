"""The confirmation and welcome emails, sent through a memory sender."""

from __future__ import annotations

import email
import email.policy
import re

from newsletter import current_settings
from newsletter.models import Subscriber, SubscriberStatus
from newsletter.subscribers.emails import send_confirmation, send_welcome


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def make(db_session, status=SubscriberStatus.PENDING, name="Ada Lovelace"):
    sub = Subscriber(email="ada@example.org", name=name, status=status, attributes={})
    db_session.add(sub)
    db_session.commit()
    return sub


def test_confirmation_email_has_link_and_no_list_unsubscribe(app, db_session, sender):
    sub = make(db_session)
    assert (
        send_confirmation(
            db_session, subscriber_id=sub.id, sender=sender, settings=current_settings()
        )
        is True
    )
    [sent] = sender.outbox
    assert sent.recipients == ["ada@example.org"]
    message = parse(sent.message)
    assert message["To"] == "Ada Lovelace <ada@example.org>"
    assert "List-Unsubscribe" not in message and "List-Unsubscribe-Post" not in message
    assert "Precedence" not in message
    text = message.get_body(("plain",)).get_content()
    assert re.search(r"http://localhost/confirm/[\w.-]+", text)


def test_confirmation_is_not_sent_to_active_or_blocked(app, db_session, sender):
    for status in (SubscriberStatus.ACTIVE, SubscriberStatus.BLOCKED):
        sub = make(db_session, status=status)
        assert (
            send_confirmation(
                db_session, subscriber_id=sub.id, sender=sender, settings=current_settings()
            )
            is False
        )
        db_session.delete(sub)
        db_session.commit()
    assert (
        send_confirmation(
            db_session, subscriber_id=999999, sender=sender, settings=current_settings()
        )
        is False
    )
    assert sender.outbox == []


def test_welcome_email_carries_one_click_headers(app, db_session, sender):
    sub = make(db_session, status=SubscriberStatus.ACTIVE)
    assert (
        send_welcome(db_session, subscriber_id=sub.id, sender=sender, settings=current_settings())
        is True
    )
    message = parse(sender.outbox[0].message)
    # https one-click first, then the mailto (RFC 2369 / RFC 8058), from mail/envelope.py.
    assert re.fullmatch(
        r"<http://localhost/unsubscribe/[\w.-]+>, <mailto:unsubscribe@[\w.-]+\?subject=unsubscribe>",
        message["List-Unsubscribe"],
    )
    assert message["List-Id"] and message["Feedback-ID"] and message["Message-ID"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",)).get_content()
    assert "http://localhost/preferences/" in text


def test_welcome_is_not_sent_unless_active(app, db_session, sender):
    sub = make(db_session, status=SubscriberStatus.UNSUBSCRIBED)
    assert (
        send_welcome(db_session, subscriber_id=sub.id, sender=sender, settings=current_settings())
        is False
    )
    assert sender.outbox == []
