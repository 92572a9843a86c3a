"""/unsubscribe/<token> (unsubscribe.py): RFC 8058 one-click POST; a GET never unsubscribes."""

from __future__ import annotations

from sqlalchemy import select

from newsletter.models import SubscriberStatus
from newsletter.subscribers import is_suppressed
from newsletter.subscribers.tokens import unsubscribe_url

from .test_subscribe import active_subscriber, path


def test_one_click_unsubscribe_rfc8058(app, client, db_session):
    sub = active_subscriber(db_session)
    url = path(unsubscribe_url(sub.id, sub.email))
    client = app.test_client(use_cookies=False)
    # What Gmail sends: urlencoded, no cookie, no Origin, no CSRF token.
    response = client.post(
        url,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200 and "Location" not in response.headers
    assert "Set-Cookie" not in response.headers
    db_session.expire_all()
    assert sub.status is SubscriberStatus.UNSUBSCRIBED
    assert is_suppressed(db_session, sub.email)
    # Idempotent; multipart/form-data works too (RFC 8058 SHOULD).
    again = client.post(
        url, data={"List-Unsubscribe": "One-Click"}, content_type="multipart/form-data"
    )
    assert again.status_code == 200


def test_unsubscribe_get_never_unsubscribes(client, db_session):
    sub = active_subscriber(db_session)
    url = path(unsubscribe_url(sub.id, sub.email))
    for _ in range(3):
        html = client.get(url).get_data(as_text=True)
    assert 'name="List-Unsubscribe" value="One-Click"' in html
    db_session.expire_all()
    assert sub.status is SubscriberStatus.ACTIVE


def test_unsubscribe_for_erased_subscriber_is_200(client, db_session):
    url = path(unsubscribe_url(4242, "gone@example.org"))
    assert client.post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 200


def test_unsubscribe_link_credits_the_issue(client, db_session):
    from newsletter.models import Event, EventKind, Issue

    issue = Issue(subject="Hello", slug="hello")
    db_session.add(issue)
    sub = active_subscriber(db_session)
    url = path(unsubscribe_url(sub.id, sub.email, issue_id=issue.id))
    client.post(url, data={"List-Unsubscribe": "One-Click"})
    event = db_session.scalar(select(Event).where(Event.kind == EventKind.UNSUBSCRIBE))
    assert event.issue_id == issue.id and event.data == {"via": "one-click"}
