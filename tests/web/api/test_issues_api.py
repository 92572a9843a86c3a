"""/api/v1/issues: create, read, edit drafts, preview, test-send, schedule, cancel."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from newsletter.compose.posts import set_post_date
from newsletter.mail.transport import MemorySender
from newsletter.models import Delivery, Issue, IssueStatus, Subscriber, SubscriberStatus
from newsletter.posts import get_or_create_categories, import_posts

SEED = Path(__file__).resolve().parents[2] / "data" / "posts" / "seed.txt"
ISSUE_KEYS = {
    "id", "subject", "preheader", "intro", "outro", "status", "send_at", "tracking",
    "post_ids", "items", "created_at", "sent_at",
}  # fmt: skip


@pytest.fixture
def auth(api_token):
    return {"Authorization": f"Bearer {api_token}"}


@pytest.fixture
def seed(db_session):
    ids = import_posts(db_session, SEED).post_ids
    # A text scrape has no dates; give them one, as the author would, so "since" finds them.
    for n, post_id in enumerate(sorted(ids), start=1):
        set_post_date(db_session, post_id=post_id, published_at=datetime(2026, 2, n, tzinfo=UTC))
    return sorted(ids)


@pytest.fixture
def sender(app):
    app.extensions["mail_sender"] = MemorySender()
    return app.extensions["mail_sender"]


def _create(client, auth, **body):
    response = client.post("/api/v1/issues", json=body, headers=auth)
    assert response.status_code == 201, response.json
    return response.json


def test_create_get_and_list(client, auth, seed):
    issue = _create(client, auth, subject="Two posts", post_ids=[seed[1], seed[0]])
    assert set(issue) == ISSUE_KEYS
    assert issue["status"] == "draft"
    assert issue["post_ids"] == [seed[1], seed[0]]
    assert issue["items"] == [
        {"post_id": seed[1], "mode": "full"},
        {"post_id": seed[0], "mode": "full"},
    ]
    assert issue["send_at"] is None and issue["sent_at"] is None
    assert client.get(f"/api/v1/issues/{issue['id']}", headers=auth).json == issue

    second = _create(client, auth, subject="Since", since="2000-01-01", categories=["AI"])
    assert sorted(second["post_ids"]) == seed
    page = client.get("/api/v1/issues?limit=1", headers=auth).json
    assert [i["id"] for i in page["items"]] == [second["id"]]
    rest = client.get(f"/api/v1/issues?limit=1&cursor={page['next']}", headers=auth).json
    assert [i["id"] for i in rest["items"]] == [issue["id"]] and rest["next"] is None
    drafts = client.get("/api/v1/issues?status=sent", headers=auth).json
    assert drafts == {"items": [], "next": None}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"subject": "x", "post_ids": [99999]}, "no such post: 99999"),
        ({"subject": "x", "post_ids": []}, "at least one post"),
        ({"subject": "", "post_ids": [1]}, "subject"),
        ({"subject": "x", "since": "2000-01-01", "categories": ["Nope"]}, "no such category"),
        ({"subject": "x", "since": "2999-01-01"}, "no posts"),
        ({"subject": "x", "post_ids": [1], "since": "2000-01-01"}, "not both"),
        ({"subject": "x\u0000", "post_ids": [1]}, "NUL"),
        ({"subject": "x", "post_ids": [0]}, "post_ids.0"),
        ({"subject": "x", "surprise": 1}, "surprise"),
    ],
)
def test_create_rejects_bad_input(client, auth, seed, db_session, body, message):
    response = client.post("/api/v1/issues", json=body, headers=auth)
    assert response.status_code == 422, response.json
    assert message in response.json["error"]["message"]
    assert db_session.query(Issue).count() == 0


def test_patch_edits_drafts_only(client, auth, seed, db_session):
    issue = _create(client, auth, subject="S", post_ids=seed)
    url = f"/api/v1/issues/{issue['id']}"
    patched = client.patch(
        url,
        json={
            "subject": "New",
            "intro": "**Hello**",
            "items": [{"post_id": seed[1], "mode": "excerpt"}, {"post_id": seed[0]}],
        },
        headers=auth,
    )
    assert patched.status_code == 200, patched.json
    assert patched.json["subject"] == "New" and patched.json["intro"] == "**Hello**"
    assert patched.json["items"] == [
        {"post_id": seed[1], "mode": "excerpt"},
        {"post_id": seed[0], "mode": "full"},
    ]
    reordered = client.patch(url, json={"post_ids": [seed[0], seed[1]]}, headers=auth).json
    assert reordered["items"][1] == {"post_id": seed[1], "mode": "excerpt"}  # mode kept

    bad = client.patch(url, json={"post_ids": [seed[0], 424242]}, headers=auth)
    assert bad.status_code == 422
    assert client.get(url, headers=auth).json["post_ids"] == [seed[0], seed[1]]

    db_session.execute(update(Issue).where(Issue.id == issue["id"]).values(status="sent"))
    db_session.commit()
    conflict = client.patch(url, json={"subject": "Too late"}, headers=auth)
    assert conflict.status_code == 409
    assert conflict.json["error"]["code"] == "conflict"
    assert "it is sent" in conflict.json["error"]["message"]
    assert client.patch("/api/v1/issues/999999", json={}, headers=auth).status_code == 404


def test_preview_html_text_and_as_subscriber(client, auth, seed, db_session):
    issue = _create(client, auth, subject="Seed", post_ids=seed)
    html = client.get(f"/api/v1/issues/{issue['id']}/preview", headers=auth)
    assert html.status_code == 200
    assert html.mimetype == "text/html"
    assert html.headers["Content-Security-Policy"] == "sandbox"
    assert "Cranes on the Horizon" in html.get_data(as_text=True)
    text = client.get(f"/api/v1/issues/{issue['id']}/preview?format=text", headers=auth)
    assert text.mimetype == "text/plain"
    assert "Cranes on the Horizon" in text.get_data(as_text=True)
    assert text.headers["X-Newsletter-Posts"] == "2"

    reader = Subscriber(email="llm@example.org", status=SubscriberStatus.ACTIVE)
    reader.categories = get_or_create_categories(db_session, ["AI: Large Language Models"])
    db_session.add(reader)
    db_session.commit()
    as_reader = client.get(
        f"/api/v1/issues/{issue['id']}/preview?format=text&subscriber={reader.id}", headers=auth
    )
    body = as_reader.get_data(as_text=True)
    assert as_reader.headers["X-Newsletter-Posts"] == "1"
    assert "Cranes on the Horizon" in body and "new in AI from China" not in body

    missing = client.get(f"/api/v1/issues/{issue['id']}/preview?subscriber=99999", headers=auth)
    assert missing.status_code == 422
    assert client.get("/api/v1/issues/99999/preview", headers=auth).status_code == 404


def test_test_send(client, auth, seed, sender, db_session):
    issue = _create(client, auth, subject="Seed", post_ids=seed)
    url = f"/api/v1/issues/{issue['id']}/test"
    response = client.post(url, json={"emails": ["a@example.org", "b@example.org"]}, headers=auth)
    assert response.status_code == 200, response.json
    assert response.json == {"sent_to": ["a@example.org", "b@example.org"]}
    message = email.message_from_bytes(sender.outbox[0].message, policy=email.policy.default)
    assert message["Subject"] == "[Test] Seed"
    assert db_session.query(Delivery).count() == 0

    too_many = client.post(
        url, json={"emails": [f"{i}@example.org" for i in range(6)]}, headers=auth
    )
    assert too_many.status_code == 422
    invalid = client.post(url, json={"emails": ["nope"]}, headers=auth)
    assert invalid.status_code == 422 and "nope" in invalid.json["error"]["message"]
    assert len(sender.outbox) == 2


def test_schedule_and_cancel(client, auth, seed, db_session):
    issue = _create(client, auth, subject="Hello world", post_ids=seed)
    base = f"/api/v1/issues/{issue['id']}"
    past = client.post(f"{base}/schedule", json={"send_at": "2001-01-01T00:00:00Z"}, headers=auth)
    assert past.status_code == 422 and "future" in past.json["error"]["message"]
    naive = client.post(f"{base}/schedule", json={"send_at": "2099-01-01T00:00:00"}, headers=auth)
    assert naive.status_code == 422

    when = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    scheduled = client.post(f"{base}/schedule", json={"send_at": when.isoformat()}, headers=auth)
    assert scheduled.status_code == 200, scheduled.json
    assert scheduled.json["status"] == "scheduled"
    assert datetime.fromisoformat(scheduled.json["send_at"]) == when
    assert db_session.get(Issue, issue["id"]).slug == "hello-world"
    db_session.commit()  # end this session's savepoint before the app's next request
    again = client.post(f"{base}/schedule", json={"send_at": when.isoformat()}, headers=auth)
    assert again.status_code == 409

    cancelled = client.post(f"{base}/cancel", headers=auth)
    assert cancelled.json["status"] == "cancelled"
    assert client.post(f"{base}/cancel", headers=auth).status_code == 409
    assert client.post("/api/v1/issues/99999/cancel", headers=auth).status_code == 404
    db_session.expire_all()
    assert db_session.get(Issue, issue["id"]).status == IssueStatus.CANCELLED


def test_openapi_documents_the_operations(client):
    doc = client.get("/api/v1/openapi.json").json
    paths = doc["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/issues"])
    assert {"get", "patch"} <= set(paths["/api/v1/issues/{issue_id}"])
    preview = paths["/api/v1/issues/{issue_id}/preview"]["get"]["responses"]["200"]["content"]
    assert "text/*" in preview
    assert "409" in paths["/api/v1/issues/{issue_id}/schedule"]["post"]["responses"]
    post_import = paths["/api/v1/posts"]["post"]["requestBody"]["content"]
    assert {"application/json", "text/plain", "application/rss+xml"} <= set(post_import)
