"""Signing up again: the resend throttle reads only the current state, and the page is true.

The fault: after confirm + unsubscribe, a new signup within ten minutes was
throttled by the first signup's timestamp, so the page said "check your inbox"
and nothing was sent.
"""

from __future__ import annotations

import quopri
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from newsletter import current_settings
from newsletter.models import Subscriber, SubscriberStatus, SuppressionReason, utcnow
from newsletter.subscribers import emails, service
from newsletter.subscribers.suppression import suppress
from newsletter.subscribers.tokens import unsubscribe_url

from .test_subscribe import path, signature


def deliver(tasks, db_session, sender) -> list[str]:
    """Run the published email tasks through the real email functions; the confirm links sent."""
    for name, args in tasks:
        if name == "subscribers.send_confirmation":
            emails.send_confirmation(
                db_session, subscriber_id=args[0], sender=sender, settings=current_settings()
            )
        elif name == "subscribers.send_welcome":
            emails.send_welcome(
                db_session, subscriber_id=args[0], sender=sender, settings=current_settings()
            )
    tasks.clear()
    links = []
    for sent in sender.outbox:
        text = quopri.decodestring(sent.message).decode()
        # One link per message (it shows in the text and the HTML part).
        links += list(dict.fromkeys(re.findall(r"http://localhost/confirm/[\w.\-]+", text)))
    sender.outbox.clear()
    return links


def confirm(client, link: str) -> int:
    page = client.get(path(link)).get_data(as_text=True)
    return client.post(path(link), data={"form_signature": signature(page)}).status_code


def subscriber(db_session, email="ada@example.org") -> Subscriber:
    db_session.expire_all()
    return db_session.scalar(select(Subscriber).where(Subscriber.email == email))


def test_signup_again_right_after_unsubscribing_sends_a_confirmation(
    client, db_session, tasks, sender
):
    assert client.post("/subscribe", data={"email": "ada@example.org"}).status_code == 200
    [first_link] = deliver(tasks, db_session, sender)
    assert confirm(client, first_link) == 200
    sub = subscriber(db_session)
    unsubscribe = client.post(
        path(unsubscribe_url(sub.id, sub.email)), data={"List-Unsubscribe": "One-Click"}
    )
    assert unsubscribe.status_code == 200
    assert subscriber(db_session).status is SubscriberStatus.UNSUBSCRIBED

    # Within a minute of the first signup: not the same pending state, so not throttled.
    again = client.post("/subscribe", data={"email": "ada@example.org"})
    assert again.status_code == 200 and "we have sent it an email" in again.get_data(as_text=True)
    [new_link] = deliver(tasks, db_session, sender)
    assert new_link != first_link
    # The old link is stale (older than the unsubscribe); the new one works.
    assert confirm(client, first_link) == 409
    assert subscriber(db_session).status is SubscriberStatus.UNSUBSCRIBED
    assert confirm(client, new_link) == 200
    assert subscriber(db_session).status is SubscriberStatus.ACTIVE


def test_pending_twice_within_ten_minutes_is_throttled_and_the_page_stays_true(
    client, db_session, tasks, sender
):
    first = client.post("/subscribe", data={"email": "ada@example.org"})
    assert len(deliver(tasks, db_session, sender)) == 1
    second = client.post("/subscribe", data={"email": "ada@example.org"})
    assert deliver(tasks, db_session, sender) == []  # throttled: the first email still stands
    # The same page either way, and what it says holds: an email went out < 10 minutes ago.
    assert first.get_data() == second.get_data()
    assert "at most one every 10 minutes" in second.get_data(as_text=True)


def test_pending_after_the_interval_gets_a_new_email(db_session, app, tasks, sender):
    start = utcnow()
    service.subscribe(db_session, email="ada@example.org", now=start)
    later = service.subscribe(db_session, email="ada@example.org", now=start + timedelta(minutes=9))
    last = service.subscribe(db_session, email="ada@example.org", now=start + timedelta(minutes=10))
    assert (later.outcome, last.outcome) == ("throttled", "resent")
    assert len(deliver(tasks, db_session, sender)) == 2


def test_unsubscribed_resignup_is_then_throttled_like_any_pending_signup(
    db_session, app, tasks, sender
):
    start = utcnow()
    created = service.subscribe(db_session, email="ada@example.org", now=start)
    service.unsubscribe(db_session, subscriber_id=created.subscriber_id, via="preferences")
    outcomes = [
        service.subscribe(db_session, email="ada@example.org", now=utcnow()).outcome
        for _ in range(2)
    ]
    assert outcomes == ["resent", "throttled"]
    assert len(deliver(tasks, db_session, sender)) == 2  # the first signup's and the resend


@pytest.mark.parametrize(
    "reason", [SuppressionReason.BOUNCED, SuppressionReason.COMPLAINED], ids=lambda r: r.value
)
def test_bounced_or_complained_address_signing_up_again_gets_an_email(
    client, db_session, tasks, sender, reason
):
    client.post("/subscribe", data={"email": "ada@example.org"})
    [first_link] = deliver(tasks, db_session, sender)
    assert confirm(client, first_link) == 200
    suppress(db_session, email="ada@example.org", reason=reason)
    assert subscriber(db_session).status is not SubscriberStatus.ACTIVE
    client.post("/subscribe", data={"email": "ada@example.org"})
    [link] = deliver(tasks, db_session, sender)
    assert confirm(client, link) == 200
    assert subscriber(db_session).status is SubscriberStatus.ACTIVE


def test_blocked_address_gets_nothing_and_the_same_true_page(client, db_session, tasks, sender):
    client.post("/subscribe", data={"email": "ada@example.org"})
    deliver(tasks, db_session, sender)
    suppress(db_session, email="ada@example.org", reason=SuppressionReason.BLOCKED)
    blocked = client.post("/subscribe", data={"email": "ada@example.org"})
    fresh = client.post("/subscribe", data={"email": "bob@example.org"})
    bob = subscriber(db_session, "bob@example.org")
    assert tasks == [("subscribers.send_confirmation", (bob.id,))]  # nothing for ada
    # No enumeration, and no promise the blocked address could rely on:
    # "if this address may join" is false for it, so the page says nothing untrue.
    assert blocked.get_data() == fresh.get_data()
    assert "if this address may join" in blocked.get_data(as_text=True)
    assert subscriber(db_session).status is SubscriberStatus.BLOCKED
