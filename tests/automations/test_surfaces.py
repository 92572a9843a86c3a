"""The API, the author pages and the draft-ready email for feeds and automations."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from newsletter.automations import notify, rules
from newsletter.mail.transport import MemorySender
from newsletter.models import Automation, Feed, Post
from newsletter.posts import get_or_create_categories

from ..conftest import csrf_token_from
from .feedfixtures import app, feed_server  # noqa: F401 - fixtures


@pytest.fixture
def auth(api_token):  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {api_token}"}


def count(db_session, model) -> int:  # type: ignore[no-untyped-def]
    return db_session.scalar(select(func.count()).select_from(model))


def test_feeds_api_add_list_delete(client, auth, db_session, feed_server):
    created = client.post(
        "/api/v1/feeds", json={"url": feed_server.url(), "every_minutes": 15}, headers=auth
    )
    assert created.status_code == 201, created.json
    body = created.json
    assert body["imported"] == 2 and body["every_minutes"] == 15
    assert set(body) >= {
        "id",
        "url",
        "every_minutes",
        "last_polled_at",
        "last_error",
        "etag",
        "last_modified",
    }
    listed = client.get("/api/v1/feeds", headers=auth).json
    assert [f["url"] for f in listed["items"]] == [feed_server.url()] and listed["next"] is None
    again = client.post("/api/v1/feeds", json={"url": feed_server.url()}, headers=auth)
    assert again.status_code == 409 and again.json["error"]["code"] == "conflict"
    assert client.delete(f"/api/v1/feeds/{body['id']}", headers=auth).status_code == 204
    assert client.delete(f"/api/v1/feeds/{body['id']}", headers=auth).status_code == 404
    assert count(db_session, Feed) == 0 and count(db_session, Post) == 2  # the posts stay


@pytest.mark.parametrize(
    ("payload", "status", "words"),
    [
        ({"url": "/loop0"}, 422, "infinite loop"),
        ({"url": "/huge.xml"}, 422, "larger than the limit"),
        ({"url": "/page.html"}, 422, "not an RSS or Atom feed"),
        ({"url": "ftp://example.org/x"}, 422, "http:// or https://"),
        ({"url": "/feed.xml", "every_minutes": 1}, 422, "every_minutes"),
        ({"every_minutes": 60}, 422, "url"),
    ],
)
def test_feeds_api_bad_input(client, auth, db_session, feed_server, payload, status, words):
    if payload.get("url", "").startswith("/"):
        payload = {**payload, "url": feed_server.url(payload["url"])}
    response = client.post("/api/v1/feeds", json=payload, headers=auth)
    assert response.status_code == status and words in response.json["error"]["message"]
    assert count(db_session, Feed) == 0


def test_feeds_api_refuses_private_hosts_unless_allowed(
    db_session, connection, tmp_path, feed_server, api_token
):
    from ..conftest import make_test_app

    strict = make_test_app(connection, tmp_path)  # IMPORT_ALLOW_PRIVATE_URLS off
    with strict.app_context():
        response = strict.test_client().post(
            "/api/v1/feeds",
            json={"url": feed_server.url()},
            headers={"Authorization": f"Bearer {api_token}"},
        )
    assert response.status_code == 422 and "private or local" in response.json["error"]["message"]
    assert count(db_session, Feed) == 0


def _category(db_session, name: str) -> None:  # type: ignore[no-untyped-def]
    get_or_create_categories(db_session, [name])
    db_session.commit()


def test_automations_api_crud(client, auth, db_session):
    _category(db_session, "AI")
    body = {
        "name": "Weekly",
        "schedule": "0 8 * * 1",
        "timezone": "Europe/Berlin",
        "categories": ["ai"],
        "min_posts": 3,
        "action": "draft",
        "subject": "{count} posts: {first_title}",
    }
    created = client.post("/api/v1/automations", json=body, headers=auth)
    assert created.status_code == 201, created.json
    out = created.json
    assert out["categories"] == ["AI"] and out["enabled"] is True and out["next_run_at"]
    assert set(out) >= {"id", "name", "schedule", "timezone", "categories", "min_posts", "action",
                        "subject", "enabled", "last_run_at", "next_run_at"}  # fmt: skip
    aid = out["id"]
    patched = client.patch(
        f"/api/v1/automations/{aid}",
        json={"schedule": "30 6 * * *", "enabled": False},
        headers=auth,
    )
    assert patched.status_code == 200 and patched.json["schedule"] == "30 6 * * *"
    assert patched.json["enabled"] is False
    assert client.get(f"/api/v1/automations/{aid}", headers=auth).json["min_posts"] == 3
    assert len(client.get("/api/v1/automations", headers=auth).json["items"]) == 1
    assert client.delete(f"/api/v1/automations/{aid}", headers=auth).status_code == 204
    assert client.get(f"/api/v1/automations/{aid}", headers=auth).status_code == 404


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"schedule": "* * * * *"}, "more than once an hour"),
        ({"schedule": "0 8 * *"}, "5"),
        ({"schedule": "not cron at all"}, "fields"),
        ({"timezone": "Nowhere/Special"}, "unknown timezone"),
        ({"categories": ["Nope"]}, "unknown category"),
        ({"subject": "{date.__class__.__init__.__globals__}"}, "not {date.__class__"),
        ({"action": "explode"}, "action"),
        ({"min_posts": 0}, "min_posts"),
    ],
)
def test_automations_api_bad_input(client, auth, db_session, change, words):
    body = {"name": "W", "schedule": "0 8 * * 1", "subject": "{date}", **change}
    response = client.post("/api/v1/automations", json=body, headers=auth)
    assert response.status_code == 422, response.json
    assert words in response.json["error"]["message"]
    assert count(db_session, Automation) == 0


def test_patch_with_bad_input_changes_nothing(client, auth, db_session):
    aid = client.post(
        "/api/v1/automations",
        json={"name": "W", "schedule": "0 8 * * 1", "subject": "{date}"},
        headers=auth,
    ).json["id"]
    response = client.patch(
        f"/api/v1/automations/{aid}", json={"name": "New", "schedule": "* * * * *"}, headers=auth
    )
    assert response.status_code == 422
    assert client.get(f"/api/v1/automations/{aid}", headers=auth).json["name"] == "W"


def test_author_pages_add_feed_and_automation_and_dry_run(client, login, db_session, feed_server):
    login("author")
    page = client.get("/author/feeds")
    assert page.status_code == 200 and "Watched feeds" in page.get_data(as_text=True)
    token = csrf_token_from(page.get_data(as_text=True))
    added = client.post(
        "/author/feeds",
        data={"csrf_token": token, "url": feed_server.url(), "every": "60"},
        follow_redirects=True,
    )
    assert "Watching feed" in added.get_data(as_text=True) and feed_server.url() in added.get_data(
        as_text=True
    )
    refused = client.post(
        "/author/feeds",
        data={"csrf_token": token, "url": feed_server.url("/page.html"), "every": "60"},
    )
    assert refused.status_code == 422 and "not an RSS or Atom feed" in refused.get_data(
        as_text=True
    )
    no_csrf = client.post("/author/feeds", data={"url": feed_server.url("/x"), "every": "60"})
    assert no_csrf.status_code in (400, 422) and count(db_session, Feed) == 1

    page = client.get("/author/automations").get_data(as_text=True)
    token = csrf_token_from(page)
    form = {"csrf_token": token, "name": "Weekly", "schedule": "0 8 * * 1", "timezone": "UTC",
            "min_posts": "1", "action": "draft", "subject": "{count} posts", "enabled": "y"}  # fmt: skip
    bad = client.post("/author/automations", data={**form, "schedule": "* * * * *"})
    assert bad.status_code == 422 and "more than once an hour" in bad.get_data(as_text=True)
    assert count(db_session, Automation) == 0
    saved = client.post("/author/automations", data=form, follow_redirects=True)
    assert "Automation &#39;Weekly&#39; saved." in saved.get_data(as_text=True)
    aid = db_session.scalar(select(Automation.id))
    dry = client.post(f"/author/automations/{aid}/dry_run", data={"csrf_token": token})
    assert dry.status_code == 200 and "The next run would take" in dry.get_data(as_text=True)


def test_the_draft_email_reaches_every_author(app, db_session, make_user):
    make_user("writer@example.org", "author")
    make_user("boss@example.org", "admin")
    post = Post(
        title="Ready <b>",
        slug="ready",
        html="<p>x</p>",
        excerpt="x",
        published_at=datetime.now(UTC) - timedelta(hours=1),
    )
    db_session.add(post)
    db_session.commit()
    automation = rules.create_automation(
        db_session,
        name="Daily & co",
        schedule="0 6 * * *",
        subject="{first_title}",
        now=datetime.now(UTC) - timedelta(days=1),
    )
    report = rules.run_now(db_session, automation_id=automation.id)
    assert report.issue_id
    sender = MemorySender()
    sent = notify.notify_draft(db_session, issue_id=report.issue_id, automation_id=automation.id,
                               settings=app.extensions["settings"], sender=sender)  # fmt: skip
    assert sent == ["writer@example.org", "boss@example.org"]
    message = email.message_from_bytes(sender.outbox[0].message, policy=email.policy.default)
    assert message["Subject"] == "Draft ready: Ready <b>"
    assert "List-Unsubscribe" not in message
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert f"http://localhost/author/issues/{report.issue_id}" in text
    assert "Daily &amp; co" in html and "Ready &lt;b&gt;" in html


def test_a_failing_feed_shows_its_error_on_the_page(client, login, db_session, feed_server):
    from newsletter.automations import feeds

    feed, _ = feeds.add_feed(db_session, url=feed_server.url(), allow_private=True)
    feed_server.state.fail = True
    feeds.poll_feed(db_session, feed_id=feed.id)
    login("author")
    page = client.get("/author/feeds").get_data(as_text=True)
    assert "Failing (1 in a row):" in page and "HTTP 500" in page


def test_feed_and_automation_lists_are_keyset_paged(client, auth, db_session):
    # DESIGN.md "Lists": {"items", "next"}, ?cursor= and ?limit=; every row once, in id order.
    now = datetime.now(UTC)
    for n in range(7):
        db_session.add(Feed(url=f"https://blog{n}.example.org/feed.xml", every_minutes=60,
                            allow_private=False, failures=0, next_poll_at=now))  # fmt: skip
        rules.create_automation(db_session, name=f"A{n}", schedule="0 8 * * 1", subject="S")
    db_session.commit()
    for path in ("/api/v1/feeds", "/api/v1/automations"):
        seen: list[int] = []
        cursor = None
        pages = 0
        while True:
            query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
            page = client.get(path, query_string=query, headers=auth)
            assert page.status_code == 200, page.json
            seen += [item["id"] for item in page.json["items"]]
            assert len(page.json["items"]) <= 3
            pages += 1
            cursor = page.json["next"]
            if cursor is None:
                break
        assert pages == 3 and seen == sorted(seen) and len(set(seen)) == 7, (path, seen)
        assert len(client.get(path, headers=auth).json["items"]) == 7  # default 25 a page
        for bad in ({"cursor": "garbage"}, {"limit": 0}, {"limit": 101}):
            answer = client.get(path, query_string=bad, headers=auth)
            assert answer.status_code == 422, (path, bad, answer.json)
