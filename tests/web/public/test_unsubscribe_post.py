"""Any POST to an unsubscribe URL unsubscribes and answers 200; GET and HEAD never do.

The fault: RFC 8058 one-click POSTs with no body or a non-form Content-Type
(some mail clients send them that way) answered 400 and unsubscribed nobody.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from newsletter.models import Event, EventKind, SubscriberStatus
from newsletter.subscribers import is_suppressed
from newsletter.subscribers.tokens import unsubscribe_url
from tests.subscribers.conftest import snapshot

from .test_subscribe import active_subscriber, path

BODIES = {
    "no body": {},
    "empty form": {"data": "", "content_type": "application/x-www-form-urlencoded"},
    "form without the key": {"data": {"List-Unsubscribe": "yes"}},
    "text/plain": {"data": "List-Unsubscribe=One-Click", "content_type": "text/plain"},
    "json": {"json": {"List-Unsubscribe": "One-Click"}},
    "malformed json": {"data": "{not json", "content_type": "application/json"},
    "octet-stream": {"data": b"\x00\xff\x10", "content_type": "application/octet-stream"},
    "broken multipart": {"data": "--x\r\n", "content_type": "multipart/form-data; boundary=x"},
    "unknown type": {"data": "One-Click", "content_type": "application/x-whatever"},
    # Text no database holds is refused everywhere else; this body is never read.
    "form with NUL": {"data": {"List-Unsubscribe": "One-Click", "x": "\x00"}},
    "json with NUL": {"data": '{"a": "\\u0000\\ud800"}', "content_type": "application/json"},
}


@pytest.mark.parametrize("body", list(BODIES.values()), ids=list(BODIES))
def test_any_post_unsubscribes_and_answers_200(app, db_session, body):
    sub = active_subscriber(db_session)
    client = app.test_client(use_cookies=False)
    response = client.post(path(unsubscribe_url(sub.id, sub.email)), **body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "Location" not in response.headers
    db_session.expire_all()
    assert sub.status is SubscriberStatus.UNSUBSCRIBED
    assert is_suppressed(db_session, sub.email)
    event = db_session.scalar(select(Event).where(Event.kind == EventKind.UNSUBSCRIBE))
    assert event.data == {"via": "one-click"}
    # Idempotent: a second POST is 200 too and records nothing more.
    assert client.post(path(unsubscribe_url(sub.id, sub.email)), **body).status_code == 200
    events = db_session.scalars(select(Event).where(Event.kind == EventKind.UNSUBSCRIBE)).all()
    assert len(events) == 1


def test_get_and_head_never_unsubscribe(client, db_session):
    sub = active_subscriber(db_session)
    url = path(unsubscribe_url(sub.id, sub.email))
    before = snapshot(db_session)
    for _ in range(2):
        assert client.get(url).status_code == 200
        assert client.head(url).status_code == 200
        assert client.get(url, query_string={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert snapshot(db_session) == before


def test_the_page_button_is_credited_to_the_page(client, db_session):
    sub = active_subscriber(db_session)
    url = path(unsubscribe_url(sub.id, sub.email))
    html = client.get(url).get_data(as_text=True)
    assert 'name="from" value="page"' in html
    client.post(url, data={"List-Unsubscribe": "One-Click", "from": "page"})
    event = db_session.scalar(select(Event).where(Event.kind == EventKind.UNSUBSCRIBE))
    assert event.data == {"via": "page"}


def test_post_for_an_erased_subscriber_is_200_with_any_body(app, db_session):
    client = app.test_client(use_cookies=False)
    url = path(unsubscribe_url(4242, "gone@example.org"))
    before = snapshot(db_session)
    assert client.post(url).status_code == 200
    assert client.post(url, data="x", content_type="text/plain").status_code == 200
    assert snapshot(db_session) == before
