"""The public front door: GET / for readers, the site's name and description, a favicon."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime

import pytest
from flask import Flask

from newsletter import current_settings
from newsletter.config import ConfigError, load_settings
from newsletter.models import Category, Issue, IssueStatus, Subscriber, SubscriberStatus
from tests.conftest import make_test_app


@pytest.fixture
def site_app(connection, tmp_path):
    app = make_test_app(
        connection,
        tmp_path,
        SITE_NAME="Cranes on the Horizon",
        SITE_DESCRIPTION="Notes on AI and China, every other week.",
    )
    with app.app_context():
        yield app


@pytest.fixture
def site_client(site_app):
    from newsletter.db import _close_session

    site_app.teardown_request(_close_session)
    return site_app.test_client()


def sent_issue(db_session, subject, slug, day, status=IssueStatus.SENT):
    issue = Issue(
        subject=subject,
        slug=slug,
        status=status,
        sent_at=datetime(2026, 2, day, tzinfo=UTC) if status is IssueStatus.SENT else None,
    )
    db_session.add(issue)
    db_session.commit()
    return issue


def test_home_is_public_with_name_description_form_and_latest_issues(site_client, db_session):
    db_session.add_all([Category(name="AI", slug="ai"), Category(name="China", slug="china")])
    for day in range(1, 8):
        sent_issue(db_session, f"Issue {day}", f"issue-{day}", day)
    sent_issue(db_session, "A draft", "a-draft", 9, status=IssueStatus.DRAFT)
    response = site_client.get("/")
    assert response.status_code == 200  # not a redirect to the author login any more
    html = response.get_data(as_text=True)
    assert "<h1>Cranes on the Horizon</h1>" in html
    assert "Notes on AI and China, every other week." in html
    assert '<form method="post" action="/subscribe"' in html
    assert 'name="email"' in html and 'value="AI"' in html and 'value="China"' in html
    assert 'name="website"' in html  # the same honeypot as /subscribe
    # The five latest sent issues, newest first, linked to the archive; never a draft.
    links = re.findall(r'href="/archive/(issue-\d)"', html)
    assert links == ["issue-7", "issue-6", "issue-5", "issue-4", "issue-3"]
    assert "A draft" not in html
    assert 'href="/archive"' in html


def test_home_with_nothing_sent_and_no_description(client):
    html = client.get("/").get_data(as_text=True)
    # No SITE_NAME: the display name of FROM_ADDRESS, as in the emails.
    assert "<h1>Newsletter</h1>" in html
    assert "No issues have been sent yet." in html
    assert 'class="lead"' not in html


def test_home_stays_public_for_a_logged_in_author(client, login):
    login("author")
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'action="/subscribe"' in html and 'href="/author/"' in html


def test_signing_up_from_the_home_form(site_client, db_session, site_app, monkeypatch):
    published = []
    monkeypatch.setattr(
        site_app.extensions["celery"],
        "send_task",
        lambda name, args=(), **_: published.append((name, tuple(args))),
    )
    html = site_client.get("/").get_data(as_text=True)
    action = re.search(r'<form method="post" action="([^"]+)" class="signup"', html).group(1)
    response = site_client.post(action, data={"email": "reader@example.org", "website": ""})
    assert response.status_code == 200 and "Check your inbox" in response.get_data(as_text=True)
    sub = db_session.query(Subscriber).filter_by(email="reader@example.org").one()
    assert sub.status is SubscriberStatus.PENDING
    assert published == [("subscribers.send_confirmation", (sub.id,))]


@pytest.mark.parametrize("path", ["/", "/subscribe", "/archive", "/login"])
def test_public_pages_name_the_site_link_home_and_carry_the_favicon(site_client, path):
    html = site_client.get(path).get_data(as_text=True)
    assert '<a class="brand" href="/">Cranes on the Horizon</a>' in html
    assert "Cranes on the Horizon</title>" in html
    assert '<link rel="icon" href="/favicon.ico"' in html
    assert 'href="/static/favicon.svg" type="image/svg+xml"' in html


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    assert response.data[:4] == b"\x00\x00\x01\x00"  # ICO header: reserved 0, type 1 (icon)
    assert "max-age=86400" in response.headers["Cache-Control"]
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200 and b"<svg" in svg.data


def test_welcome_email_links_to_the_home_page(site_app, db_session):
    from newsletter.mail.transport import MemorySender
    from newsletter.subscribers.emails import send_welcome

    sender = MemorySender()
    sub = Subscriber(email="ada@example.org", status=SubscriberStatus.ACTIVE, attributes={})
    db_session.add(sub)
    db_session.commit()
    assert send_welcome(
        db_session, subscriber_id=sub.id, sender=sender, settings=current_settings()
    )
    message = email.message_from_bytes(sender.outbox[0].message, policy=email.policy.default)
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert "Cranes on the Horizon" in html
    assert 'href="http://localhost/"' in html
    assert "The latest posts are at http://localhost/\r\n" in text


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"SITE_NAME": "  The Dispatch "}, ("The Dispatch", "")),
        ({"FROM_ADDRESS": "Jane Writer <jane@example.org>"}, ("Jane Writer", "")),
        ({"FROM_ADDRESS": "jane@example.org"}, ("Newsletter", "")),
        ({"SITE_DESCRIPTION": "Weekly notes."}, ("Newsletter", "Weekly notes.")),
    ],
)
def test_site_settings(tmp_path, settings, expected):
    app = Flask("t", instance_path=str(tmp_path))
    loaded = load_settings(app, {"ENV": "testing", "SECRET_KEY": "x" * 40, **settings})
    assert (loaded.site_name, loaded.site_description) == expected


@pytest.mark.parametrize(
    "settings",
    [
        {"SITE_DESCRIPTION": "two\nlines"},
        {"SITE_NAME": "a\rb"},
        {"SITE_NAME": "x" * 101},
        {"SITE_DESCRIPTION": "y" * 301},
    ],
)
def test_bad_site_settings_stop_start_up(tmp_path, settings):
    app = Flask("t", instance_path=str(tmp_path))
    with pytest.raises(ConfigError, match=r"NEWSLETTER_SITE_"):
        load_settings(app, {"ENV": "testing", "SECRET_KEY": "x" * 40, **settings})
