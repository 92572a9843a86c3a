"""A confirm link opened again after confirming: "already subscribed", nothing to press."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from newsletter.models import Subscriber, SubscriberStatus
from newsletter.subscribers.tokens import Purpose, make_token
from tests.subscribers.conftest import snapshot


def signature(html: str) -> str:
    match = re.search(r'name="form_signature" value="([^"]+)"', html)
    assert match, "page has no form signature"
    return match.group(1)


def signed_up(client, db_session, email="ada@example.org"):
    client.post("/subscribe", json={"email": email})
    sub = db_session.scalar(select(Subscriber).where(Subscriber.email == email))
    return sub, make_token(Purpose.CONFIRM, sub.id, sub.email)


def assert_already_subscribed(response) -> None:
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "already subscribed" in html
    assert "<button" not in html.split("<main>", 1)[1]  # nothing to press
    assert "<form" not in html.split("<main>", 1)[1]
    assert re.search(r'href="http://localhost/preferences/[\w.-]+"', html)


def test_confirm_link_opened_again_after_confirming(client, db_session, tasks):
    _sub, token = signed_up(client, db_session)
    first = client.get(f"/confirm/{token}").get_data(as_text=True)
    assert "Yes, subscribe me" in first
    client.post(f"/confirm/{token}", data={"form_signature": signature(first)})
    before = snapshot(db_session)
    for _ in range(2):  # and again: a mail scanner, or the person a week later
        assert_already_subscribed(client.get(f"/confirm/{token}"))
    assert snapshot(db_session) == before


def test_confirm_link_of_an_address_made_active_another_way(client, db_session, tasks):
    # An admin confirmed the address, or an import with --confirmed: the old link says so too.
    sub, token = signed_up(client, db_session, "grace@example.org")
    sub.status = SubscriberStatus.ACTIVE
    db_session.commit()
    assert_already_subscribed(client.get(f"/confirm/{token}"))


@pytest.mark.parametrize("status", [SubscriberStatus.PENDING, SubscriberStatus.UNSUBSCRIBED])
def test_confirm_link_still_asks_when_not_active(client, db_session, tasks, status):
    sub, token = signed_up(client, db_session)
    sub.status = status
    db_session.commit()
    html = client.get(f"/confirm/{token}").get_data(as_text=True)
    assert "Yes, subscribe me" in html and "already subscribed" not in html


def test_confirm_link_for_an_erased_address_never_claims_a_subscription(client, db_session, tasks):
    sub, token = signed_up(client, db_session)
    db_session.delete(sub)
    db_session.commit()
    page = client.get(f"/confirm/{token}").get_data(as_text=True)
    assert "already subscribed" not in page
    response = client.post(f"/confirm/{token}", data={"form_signature": signature(page)})
    assert response.status_code == 404
