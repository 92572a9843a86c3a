"""/confirm/<token> (confirm.py): a GET never confirms, a POST needs the form signature."""

from __future__ import annotations

from sqlalchemy import select

from newsletter.models import Subscriber, SubscriberStatus
from newsletter.subscribers.tokens import Purpose, make_token
from tests.subscribers.conftest import snapshot

from .test_subscribe import signature


def test_confirm_get_never_confirms_and_post_does(client, db_session, tasks):
    client.post("/subscribe", json={"email": "ada@example.org"})
    sub = db_session.scalar(select(Subscriber).where(Subscriber.email == "ada@example.org"))
    token = make_token(Purpose.CONFIRM, sub.id, sub.email)
    for _ in range(3):  # a mail scanner prefetching the link
        page = client.get(f"/confirm/{token}")
        assert page.status_code == 200
    db_session.expire_all()
    assert sub.status is SubscriberStatus.PENDING
    html = page.get_data(as_text=True)
    response = client.post(f"/confirm/{token}", data={"form_signature": signature(html)})
    assert response.status_code == 200
    assert "You are subscribed" in response.get_data(as_text=True)
    db_session.expire_all()
    assert sub.status is SubscriberStatus.ACTIVE


def test_confirm_post_needs_the_form_signature(client, db_session, tasks):
    client.post("/subscribe", json={"email": "ada@example.org"})
    sub = db_session.scalar(select(Subscriber).where(Subscriber.email == "ada@example.org"))
    token = make_token(Purpose.CONFIRM, sub.id, sub.email)
    other = make_token(Purpose.CONFIRM, 999, "eve@example.org")
    other_sig = signature(client.get(f"/confirm/{other}").get_data(as_text=True))
    before = snapshot(db_session)
    assert client.post(f"/confirm/{token}").status_code == 400
    assert client.post(f"/confirm/{token}", data={"form_signature": other_sig}).status_code == 400
    sig = signature(client.get(f"/confirm/{token}").get_data(as_text=True))
    cross = client.post(
        f"/confirm/{token}",
        data={"form_signature": sig},
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    assert snapshot(db_session) == before
