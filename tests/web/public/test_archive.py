"""The public archive: sent issues only, as web pages without personal links, and a feed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from defusedxml.ElementTree import fromstring
from sqlalchemy import update

from newsletter.compose import create_issue
from newsletter.models import Issue, IssueStatus
from newsletter.posts import import_posts
from newsletter.render.placeholders import OPEN

SEED = Path(__file__).resolve().parents[2] / "data" / "posts" / "seed.txt"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def issues(db_session):
    ids = sorted(import_posts(db_session, SEED).post_ids)
    sent = create_issue(db_session, subject="China & AI: February", post_ids=ids, intro="Hi *all*")
    draft = create_issue(db_session, subject="Still a draft", post_ids=ids)
    no_slug = create_issue(db_session, subject="Old one", post_ids=ids[:1])
    db_session.execute(
        update(Issue)
        .where(Issue.id == sent.id)
        .values(
            status=IssueStatus.SENT,
            slug="china-ai-february",
            sent_at=datetime(2026, 2, 20, tzinfo=UTC),
        )
    )
    db_session.execute(
        update(Issue)
        .where(Issue.id == no_slug.id)
        .values(status=IssueStatus.SENT, sent_at=datetime(2026, 1, 5, tzinfo=UTC))
    )
    db_session.commit()
    return sent, draft, no_slug


def test_archive_lists_sent_issues_only(client, issues):
    _sent, _draft, no_slug = issues
    page = client.get("/archive").get_data(as_text=True)
    assert "China &amp; AI: February" in page
    assert "Still a draft" not in page
    assert 'href="/archive/china-ai-february"' in page
    assert f'href="/archive/{no_slug.id}"' in page
    assert page.index("China &amp; AI") < page.index("Old one")  # newest first


def test_issue_page_is_the_email_without_personal_links(client, issues, app):
    response = client.get("/archive/china-ai-february")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Cranes on the Horizon" in html
    assert "<em>all</em>" in html
    assert OPEN not in html
    assert "/unsubscribe/" not in html and "/preferences/" not in html
    assert "Hi there," in html
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert client.get(f"/archive/{issues[2].id}").status_code == 200


def test_unsent_or_unknown_issues_are_404(client, issues):
    _sent, draft, _ = issues
    assert client.get(f"/archive/{draft.id}").status_code == 404
    assert client.get("/archive/nope").status_code == 404
    assert client.get("/archive/99999999999999999999").status_code == 404


def test_feed_is_atom(client, issues):
    response = client.get("/feed.xml")
    assert response.mimetype == "application/atom+xml"
    root = fromstring(response.data)
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["China & AI: February", "Old one"]
    first = entries[0]
    assert first.find(f"{ATOM}link").get("href") == "http://localhost/archive/china-ai-february"
    content = first.findtext(f"{ATOM}content")
    assert "<em>all</em>" in content and "Cranes on the Horizon" in content
    assert root.findtext(f"{ATOM}updated").startswith("2026-02-20")


def test_empty_feed_is_valid(client):
    root = fromstring(client.get("/feed.xml").data)
    assert root.findall(f"{ATOM}entry") == []
