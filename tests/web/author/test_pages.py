"""The author's composer pages: posts, import, new issue, issue list; login and CSRF."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from newsletter.models import Issue, Post
from newsletter.posts import get_or_create_categories, import_posts
from tests.conftest import csrf_token_from

SEED = Path(__file__).resolve().parents[2] / "data" / "posts" / "seed.txt"


@pytest.fixture
def author(login):
    return login("author")


@pytest.fixture
def seed(db_session):
    return sorted(import_posts(db_session, SEED).post_ids)


def test_pages_need_a_login(client):
    for path in ("/author/posts", "/author/posts/import", "/author/issues", "/author/issues/new"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_posts_list_search_filter_and_paging(client, author, db_session):
    for n in range(1, 30):
        post = Post(
            title=f"Post {n:02d}{' about China' if n % 10 == 0 else ''}",
            slug=f"post-{n}",
            published_at=datetime(2026, 1, n, tzinfo=UTC),
        )
        post.categories = get_or_create_categories(db_session, ["China"] if n % 10 == 0 else [])
        db_session.add(post)
    db_session.commit()

    page = client.get("/author/posts").get_data(as_text=True)
    assert "Post 29" in page and "Post 04" not in page  # 25 per page, newest first
    assert 'rel="next"' in page
    next_url = (
        page.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    )
    older = client.get(next_url).get_data(as_text=True)
    assert "Post 04" in older and "Post 29" not in older

    found = client.get("/author/posts?q=about+china").get_data(as_text=True)
    assert "Post 10 about China" in found and "Post 11" not in found
    by_category = client.get("/author/posts?category=China").get_data(as_text=True)
    assert "Post 20 about China" in by_category and "Post 21" not in by_category
    assert client.get("/author/posts?category=Nope").status_code == 422
    assert client.get("/author/posts?cursor=bad").status_code == 422


def test_import_upload(client, author, db_session):
    page = client.get("/author/posts/import").get_data(as_text=True)
    response = client.post(
        "/author/posts/import",
        data={
            "csrf_token": csrf_token_from(page),
            "file": (io.BytesIO(SEED.read_bytes()), "seed.txt"),
            "format": "",
        },
        content_type="multipart/form-data",
    )
    # The scrape's posts have no date: the page itself shows the counts and why.
    assert response.status_code == 200, response.get_data(as_text=True)
    shown = response.get_data(as_text=True)
    assert "Imported 2 posts (2 new, 0 updated)." in shown
    assert shown.count("no date for") == 2
    listing = client.get("/author/posts").get_data(as_text=True)
    assert "Cranes on the Horizon" in listing


def test_import_error_shows_position_and_imports_nothing(client, author, db_session):
    page = client.get("/author/posts/import").get_data(as_text=True)
    broken = b'<?xml version="1.0"?>\n<rss version="2.0"><channel>\n<item><title>x</title>\n<oops'
    response = client.post(
        "/author/posts/import",
        data={"csrf_token": csrf_token_from(page), "content": broken.decode(), "format": "rss"},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing was imported." in body
    assert "line " in body  # the position in the source
    assert db_session.scalars(select(Post)).all() == []

    both = client.post(
        "/author/posts/import",
        data={"csrf_token": csrf_token_from(page), "content": "x", "url": "https://e.org/f"},
    )
    assert both.status_code == 422 and "Choose one source" in both.get_data(as_text=True)


def test_import_without_csrf_is_refused(client, author, db_session):
    response = client.post("/author/posts/import", data={"content": SEED.read_text()})
    assert response.status_code == 400
    assert db_session.scalars(select(Post)).all() == []


def test_new_issue_from_selected_posts(client, author, seed, db_session):
    page = client.get(f"/author/issues/new?post={seed[1]}").get_data(as_text=True)
    assert f'value="{seed[1]}" checked' in page
    response = client.post(
        "/author/issues/new",
        data={
            "csrf_token": csrf_token_from(page),
            "subject": "Hello",
            "source": "posts",
            "post": [str(seed[1]), str(seed[0])],
        },
    )
    assert response.status_code == 302
    issue = db_session.scalars(select(Issue)).one()
    assert response.headers["Location"].endswith(f"/author/issues/{issue.id}")
    assert [i.post_id for i in issue.items] == [seed[1], seed[0]]


def test_new_issue_since_with_categories(client, author, seed, db_session):
    # The seed is a text scrape, so its posts have no date; "since" picks only dated posts.
    for post in db_session.scalars(select(Post)):
        post.published_at = datetime(2026, 2, 1, tzinfo=UTC)
    db_session.commit()
    page = client.get("/author/issues/new").get_data(as_text=True)
    response = client.post(
        "/author/issues/new",
        data={
            "csrf_token": csrf_token_from(page),
            "subject": "AI",
            "source": "since",
            "since": "",
            "category": ["AI: Large Language Models"],
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    issue = db_session.scalars(select(Issue)).one()
    assert len(issue.items) == 1  # only the post in the subcategory


def test_new_issue_errors_are_shown(client, author, seed, db_session):
    page = client.get("/author/issues/new").get_data(as_text=True)
    response = client.post(
        "/author/issues/new",
        data={"csrf_token": csrf_token_from(page), "subject": "Empty", "source": "posts"},
    )
    assert response.status_code == 422
    assert "choose at least one post" in response.get_data(as_text=True)
    assert db_session.scalars(select(Issue)).all() == []


def test_issue_list(client, author, seed, db_session):
    from newsletter.compose import create_issue

    create_issue(db_session, subject="First draft", post_ids=seed)
    page = client.get("/author/issues").get_data(as_text=True)
    assert "First draft" in page and "draft" in page
