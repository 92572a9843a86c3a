"""Every import reports its warnings next to the counts: CLI stderr, API result, web form."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from sqlalchemy import select

from newsletter.models import Post

from ..conftest import csrf_token_from, make_test_app
from ..live import run_cli, stack_environment

CASES = Path(__file__).resolve().parent.parent / "data" / "posts" / "cases"
CASE_03 = CASES / "03-relative-links-feed.xml"
SHORTCODES = CASES.parent / "export.wxr"


@pytest.fixture
def cli(tmp_path):
    env = stack_environment(tmp_path, NEWSLETTER_DATABASE_URL=f"sqlite:///{tmp_path / 'w.db'}")
    run = functools.partial(run_cli, env)
    assert run("db", "upgrade").returncode == 0
    return run


def test_cli_prints_warnings_on_stderr_and_succeeds(cli) -> None:
    result = cli("posts", "import", str(CASE_03))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "imported 2 posts (2 new, 0 updated)\n"
    lines = result.stderr.splitlines()
    assert len(lines) == 3 and all(line.startswith("warning: Seed swap recap: ") for line in lines)
    assert "/blog/photos/" in result.stderr and "img/swap.jpg" in result.stderr


def test_cli_base_url_resolves_and_silences_them(cli) -> None:
    result = cli("posts", "import", str(CASE_03), "--base-url", "https://pat.example.org/blog/")
    assert result.returncode == 0 and result.stderr == ""
    bad = cli("posts", "import", str(CASE_03), "--base-url", "pat.example.org")
    assert bad.returncode != 0
    assert bad.stderr.count("\n") == 1
    assert bad.stderr.startswith("error: base URL must be an absolute http(s) URL")


def test_cli_shortcode_warning(cli, tmp_path: Path) -> None:
    from .test_wordpress import wxr

    path = tmp_path / "export.xml"
    path.write_bytes(wxr('Hello.\n\n[contact-form-7 id="3"]'))
    result = cli("posts", "import", str(path))
    assert result.returncode == 0
    assert result.stderr == "warning: A post: removed the unsupported shortcode [contact-form-7]\n"


@pytest.fixture
def auth(api_token):
    return {"Authorization": f"Bearer {api_token}"}


def test_api_result_carries_warnings(client, auth, db_session) -> None:
    response = client.post(
        "/api/v1/posts", data=CASE_03.read_bytes(), content_type="application/rss+xml", headers=auth
    )
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["created"], body["updated"]) == (2, 0)
    assert len(body["warnings"]) == 3
    assert body["warnings"][1].startswith("Seed swap recap: link to /blog/photos/")


def test_api_base_url_in_query_and_json(client, auth, db_session) -> None:
    raw = client.post(
        "/api/v1/posts?base_url=https://pat.example.org/blog/feed.xml",
        data=CASE_03.read_bytes(),
        content_type="application/xml",
        headers=auth,
    )
    assert raw.status_code == 200 and raw.json["warnings"] == []
    html = db_session.scalars(select(Post.html).where(Post.guid == "seed-swap-2024")).one()
    assert 'src="https://pat.example.org/blog/img/swap.jpg"' in html
    inline = client.post(
        "/api/v1/posts",
        json={"content": CASE_03.read_text(), "base_url": "https://other.example.org/b/"},
        headers=auth,
    )
    assert inline.status_code == 200 and inline.json["warnings"] == []
    assert inline.json["updated"] == 2
    bad = client.post("/api/v1/posts", json={"content": "x", "base_url": "not a url"}, headers=auth)
    assert bad.status_code == 422


def test_api_by_url_uses_the_feed_location(tmp_path, connection, db_session, http_server):
    base, routes = http_server
    routes["/blog/feed.xml"] = (200, "application/rss+xml", CASE_03.read_bytes())
    app = make_test_app(connection, tmp_path, IMPORT_ALLOW_PRIVATE_URLS=True)
    from newsletter.accounts import create_api_token

    with app.app_context():
        token = create_api_token(db_session, name="warn")
        response = app.test_client().post(
            "/api/v1/posts",
            json={"url": f"{base}/blog/feed.xml"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.json
    assert response.json["warnings"] == []
    html = db_session.scalars(select(Post.html).where(Post.guid == "seed-swap-2024")).one()
    assert f'src="{base}/blog/img/swap.jpg"' in html


def test_openapi_documents_warnings_and_base_url(client) -> None:
    document = client.get("/api/v1/openapi.json").json
    text = str(document)
    assert "warnings" in text and "base_url" in text
    import_out = document["components"]["schemas"]["ImportOut"]
    assert "warnings" in import_out["required"]
    assert import_out["properties"]["warnings"] == {
        "description": "what could not be kept as the source had it, one line per problem",
        "items": {"type": "string"},
        "title": "Warnings",
        "type": "array",
    }


@pytest.fixture
def author(login):
    return login("author")


def test_web_form_shows_warnings_on_the_page(client, author, db_session) -> None:
    page = client.get("/author/posts/import").get_data(as_text=True)
    assert 'name="base_url"' in page
    response = client.post(
        "/author/posts/import",
        data={"csrf_token": csrf_token_from(page), "content": CASE_03.read_text(), "format": ""},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Imported 2 posts (2 new, 0 updated)." in body
    assert body.count("<li>Seed swap recap: ") == 3
    assert (
        "kept its alt text &#34;Seed table&#34;" in body or "kept its alt text &quot;Seed" in body
    )
    assert len(db_session.scalars(select(Post)).all()) == 2


def test_web_form_without_warnings_redirects_and_takes_base_url(client, author, db_session):
    page = client.get("/author/posts/import").get_data(as_text=True)
    response = client.post(
        "/author/posts/import",
        data={
            "csrf_token": csrf_token_from(page),
            "content": CASE_03.read_text(),
            "base_url": "https://pat.example.org/blog/",
            "format": "",
        },
    )
    assert response.status_code == 302
    html = db_session.scalars(select(Post.html).where(Post.guid == "seed-swap-2024")).one()
    assert 'src="https://pat.example.org/blog/img/swap.jpg"' in html
    bad = client.post(
        "/author/posts/import",
        data={"csrf_token": csrf_token_from(page), "content": "x", "base_url": "/relative/"},
    )
    assert bad.status_code == 422
