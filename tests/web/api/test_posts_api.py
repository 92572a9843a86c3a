"""/api/v1/posts: list with search, category filter and keyset paging; read one; import."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsletter.models import Post
from newsletter.posts import get_or_create_categories

SEED = Path(__file__).resolve().parents[2] / "data" / "posts" / "seed.txt"


@pytest.fixture
def auth(api_token):
    return {"Authorization": f"Bearer {api_token}"}


@pytest.fixture
def posts(db_session):
    made = []
    for n, (title, cats) in enumerate(
        [
            ("LLM news", ("AI: Large Language Models",)),
            ("China report", ("China",)),
            ("AI roundup", ("AI",)),
            ("Gardening 100% tips", ()),
        ],
        start=1,
    ):
        post = Post(
            title=title,
            slug=f"p{n}",
            url=f"https://blog.example.org/p{n}",
            excerpt=f"{title} excerpt",
            html=f"<p>{title}</p>",
            published_at=datetime(2026, 2, n, tzinfo=UTC),
        )
        post.categories = get_or_create_categories(db_session, cats)
        db_session.add(post)
        made.append(post)
    db_session.commit()
    return made


def test_list_newest_first_with_keyset_paging(client, auth, posts):
    first = client.get("/api/v1/posts?limit=3", headers=auth)
    assert first.status_code == 200
    body = first.json
    assert [p["title"] for p in body["items"]] == [
        "Gardening 100% tips",
        "AI roundup",
        "China report",
    ]
    assert body["next"]
    second = client.get(f"/api/v1/posts?limit=3&cursor={body['next']}", headers=auth).json
    assert [p["title"] for p in second["items"]] == ["LLM news"]
    assert second["next"] is None
    item = second["items"][0]
    assert set(item) == {
        "id", "title", "slug", "url", "author", "published_at", "categories", "excerpt", "html"
    }  # fmt: skip
    assert item["categories"] == ["AI: Large Language Models"]


def test_search_and_category_filter(client, auth, posts):
    found = client.get("/api/v1/posts?q=100%25", headers=auth).json["items"]
    assert [p["title"] for p in found] == ["Gardening 100% tips"]  # % is literal, not a wildcard
    ai = client.get("/api/v1/posts", query_string={"category": "AI"}, headers=auth).json["items"]
    assert {p["title"] for p in ai} == {"LLM news", "AI roundup"}  # children included
    missing = client.get("/api/v1/posts?category=Nope", headers=auth)
    assert missing.status_code == 422
    assert "no such category" in missing.json["error"]["message"]


def test_bad_cursor_is_a_clear_error(client, auth, posts):
    response = client.get("/api/v1/posts?cursor=garbage", headers=auth)
    assert response.status_code == 422
    assert "cursor" in response.json["error"]["message"]


def test_get_one(client, auth, posts):
    response = client.get(f"/api/v1/posts/{posts[0].id}", headers=auth)
    assert response.json["title"] == "LLM news"
    for missing in (999999, 0, 99999999999999999999):
        response = client.get(f"/api/v1/posts/{missing}", headers=auth)
        assert response.status_code == 404
        assert response.json["error"]["code"] == "not_found"


def test_needs_token(client, posts):
    assert client.get("/api/v1/posts").status_code == 401


def test_import_raw_text_body(client, auth, db_session):
    response = client.post(
        "/api/v1/posts", data=SEED.read_bytes(), content_type="text/plain", headers=auth
    )
    assert response.status_code == 200, response.json
    assert response.json["created"] == 2
    titles = {db_session.get(Post, i).title for i in response.json["post_ids"]}
    assert "Cranes on the Horizon" in titles
    again = client.post(
        "/api/v1/posts",
        json={"content": SEED.read_text(), "format": "text"},
        headers=auth,
    )
    assert again.json["created"] == 0 and again.json["updated"] == 2


def test_import_errors_import_nothing(client, auth, db_session):
    broken = b'<?xml version="1.0"?>\n<rss><channel><item><title>x</title></item>\n<oops'
    response = client.post(
        "/api/v1/posts", data=broken, content_type="application/rss+xml", headers=auth
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == "import_failed"
    assert db_session.query(Post).count() == 0

    for body, status in [
        ({"url": "https://example.org/feed", "content": "x"}, 422),
        ({}, 422),
        ({"content": "x", "format": "docx"}, 422),
        ({"content": "x", "extra": 1}, 422),
    ]:
        response = client.post("/api/v1/posts", json=body, headers=auth)
        assert response.status_code == status, body
    response = client.post(
        "/api/v1/posts", data=b"x", content_type="application/octet-stream", headers=auth
    )
    assert response.status_code == 415
    response = client.post("/api/v1/posts", data=b"  ", content_type="text/plain", headers=auth)
    assert response.status_code == 422
    assert db_session.query(Post).count() == 0


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/feed", "http://169.254.169.254/latest/meta-data/"]
)
def test_import_by_url_refuses_the_servers_own_network(client, auth, db_session, url):
    response = client.post("/api/v1/posts", json={"url": url}, headers=auth)
    assert response.status_code == 422
    assert "private or local address" in response.json["error"]["message"]
    assert db_session.query(Post).count() == 0
