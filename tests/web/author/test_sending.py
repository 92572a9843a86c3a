"""The send in the author UI, the archive from the first message, and test-send unsubscribe."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from newsletter.compose import create_issue
from newsletter.mail.transport import MemorySender
from newsletter.models import (
    Delivery,
    DeliveryStatus,
    Issue,
    IssueStatus,
    Subscriber,
    SubscriberStatus,
)
from newsletter.posts import import_posts
from newsletter.sends import lifecycle
from tests.conftest import csrf_token_from

SEED = Path(__file__).resolve().parents[2] / "data" / "posts" / "seed.txt"


@pytest.fixture
def published(app, monkeypatch):
    found: list[tuple[str, tuple]] = []
    monkeypatch.setattr(
        app.extensions["celery"],
        "send_task",
        lambda name, args=(), kwargs=None, **_: found.append((name, tuple(args or ()))),
    )
    return found


@pytest.fixture
def issue(db_session):
    post_ids = sorted(import_posts(db_session, SEED).post_ids)
    db_session.add(Subscriber(email="reader@example.org", status=SubscriberStatus.ACTIVE))
    db_session.commit()
    return create_issue(db_session, subject="Seed issue", post_ids=post_ids)


def test_send_now_with_confirmation_then_progress_pause_and_resume(
    client, login, issue, published, db_session
):
    login("author")
    page = client.get(f"/author/issues/{issue.id}").get_data(as_text=True)
    assert re.search(r'data-confirm="Send this issue to every subscriber now\?', page)
    assert 'id="send-now"' in page and 'id="send-progress"' not in page

    sent = client.post(
        f"/author/issues/{issue.id}/send", data={"csrf_token": csrf_token_from(page)}
    )
    assert sent.status_code == 302
    assert published == [("sends.send_batch", (issue.id,))]
    page = client.get(f"/author/issues/{issue.id}").get_data(as_text=True)
    assert 'id="send-progress"' in page and 'id="pause-send"' in page
    stats = client.get(f"/author/issues/{issue.id}/stats.json").json
    assert stats["status"] == "sending" and stats["recipients"] == 1 and stats["remaining"] == 1

    client.post(f"/author/issues/{issue.id}/pause", data={"csrf_token": csrf_token_from(page)})
    db_session.expire_all()
    assert db_session.get(Issue, issue.id).status is IssueStatus.PAUSED
    page = client.get(f"/author/issues/{issue.id}").get_data(as_text=True)
    assert 'id="resume-send"' in page
    client.post(f"/author/issues/{issue.id}/resume", data={"csrf_token": csrf_token_from(page)})
    db_session.expire_all()
    assert db_session.get(Issue, issue.id).status is IssueStatus.SENDING

    again = client.post(
        f"/author/issues/{issue.id}/send", data={"csrf_token": csrf_token_from(page)}
    )
    assert again.status_code == 409


def test_send_needs_the_form_token_and_a_login(client, login, issue, published):
    assert client.post(f"/author/issues/{issue.id}/send").status_code in (302, 400, 401)
    login("author")
    assert client.post(f"/author/issues/{issue.id}/send").status_code == 400
    assert published == []
    assert client.get("/author/issues/999999/stats.json").status_code == 404


def test_the_archive_page_exists_from_the_first_message_sent(client, issue, db_session):
    lifecycle.start(db_session, issue_id=issue.id)
    slug = db_session.get(Issue, issue.id).slug
    assert client.get(f"/archive/{slug}").status_code == 404  # nothing sent yet
    subscriber_id = db_session.scalar(select(Subscriber.id))
    db_session.add(
        Delivery(
            issue_id=issue.id,
            subscriber_id=subscriber_id,
            message_id="<x@example.org>",
            status=DeliveryStatus.SENT,
        )
    )
    db_session.commit()
    page = client.get(f"/archive/{slug}")
    assert page.status_code == 200 and "Seed issue" in page.get_data(as_text=True)


def test_a_test_sends_unsubscribe_link_answers_one_click_with_200_and_changes_nothing(
    app, client, issue, db_session
):
    from newsletter.compose import send_test

    sender = MemorySender()
    send_test(
        db_session,
        issue_id=issue.id,
        emails=["reader@example.org"],  # also a subscriber: must stay subscribed
        sender=sender,
        settings=app.extensions["settings"],
    )
    import email
    import email.policy

    message = email.message_from_bytes(sender.outbox[0].message, policy=email.policy.default)
    url = re.match(r"<([^>]+)>", message["List-Unsubscribe"]).group(1)
    path = url.removeprefix("http://localhost")
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    db_session.expire_all()
    assert (
        db_session.scalar(select(func.count()).where(Subscriber.status == SubscriberStatus.ACTIVE))
        == 1
    )
