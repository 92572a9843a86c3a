"""/api/v1/issues/ID/send|pause|resume|cancel and /stats: transitions and the stats shape."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.models import Subscriber, SubscriberStatus
from newsletter.posts import import_posts

SEED = Path(__file__).resolve().parents[2] / "data" / "posts" / "seed.txt"
STATS_KEYS = {
    "status", "recipients", "sent", "failed", "skipped", "remaining", "rate_per_s",
    "bounces", "complaints", "unsubscribes", "opens", "clicks", "series",
}  # fmt: skip


@pytest.fixture
def auth(api_token):
    return {"Authorization": f"Bearer {api_token}"}


@pytest.fixture
def published(app, monkeypatch):
    """Tasks the API publishes, recorded (no worker runs in these tests)."""
    found: list[tuple[str, tuple]] = []

    def send_task(name, args=(), kwargs=None, **_):
        found.append((name, tuple(args or ())))

    monkeypatch.setattr(app.extensions["celery"], "send_task", send_task)
    return found


@pytest.fixture
def issue_id(client, auth, db_session):
    post_ids = sorted(import_posts(db_session, SEED).post_ids)
    for n in range(3):
        db_session.add(Subscriber(email=f"r{n}@example.org", status=SubscriberStatus.ACTIVE))
    db_session.commit()
    created = client.post(
        "/api/v1/issues", json={"subject": "Hello", "post_ids": post_ids}, headers=auth
    )
    assert created.status_code == 201
    return created.json["id"]


def test_send_pause_resume_cancel_walk_the_lifecycle(client, auth, issue_id, published):
    sent = client.post(f"/api/v1/issues/{issue_id}/send", headers=auth)
    assert sent.status_code == 200 and sent.json["status"] == "sending"
    assert published == [("sends.send_batch", (issue_id,))]

    again = client.post(f"/api/v1/issues/{issue_id}/send", headers=auth)
    assert again.status_code == 409 and again.json["error"]["code"] == "conflict"

    paused = client.post(f"/api/v1/issues/{issue_id}/pause", headers=auth)
    assert paused.status_code == 200 and paused.json["status"] == "paused"
    assert client.post(f"/api/v1/issues/{issue_id}/pause", headers=auth).status_code == 409

    resumed = client.post(f"/api/v1/issues/{issue_id}/resume", headers=auth)
    assert resumed.status_code == 200 and resumed.json["status"] == "sending"
    assert published[-1] == ("sends.send_batch", (issue_id,))

    cancelled = client.post(f"/api/v1/issues/{issue_id}/cancel", headers=auth)
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert client.post(f"/api/v1/issues/{issue_id}/resume", headers=auth).status_code == 409
    assert client.post(f"/api/v1/issues/{issue_id}/send", headers=auth).status_code == 409


def test_stats_have_the_design_shape(client, auth, issue_id, published):
    client.post(f"/api/v1/issues/{issue_id}/send", headers=auth)
    stats = client.get(f"/api/v1/issues/{issue_id}/stats", headers=auth)
    assert stats.status_code == 200
    body = stats.json
    assert set(body) == STATS_KEYS | {"rates"}  # DESIGN.md's keys, and the rates
    assert body["status"] == "sending"
    assert (body["recipients"], body["remaining"], body["sent"]) == (3, 3, 0)
    assert body["opens"] == {"unique": 0, "total": 0, "machine": 0, "machine_unique": 0}
    assert body["clicks"] == {
        "unique": 0, "total": 0, "machine": 0, "machine_unique": 0, "links": []
    }  # fmt: skip
    assert body["rates"]["open"] == 0.0 and body["series"] == []


@pytest.mark.parametrize("action", ["send", "pause", "resume", "cancel"])
def test_unknown_issue_is_404_and_nothing_is_published(client, auth, published, action):
    response = client.post(f"/api/v1/issues/999999/{action}", headers=auth)
    assert response.status_code == 404
    assert published == []
    assert client.get("/api/v1/issues/999999/stats", headers=auth).status_code == 404


def test_send_needs_a_token(client, issue_id):
    assert client.post(f"/api/v1/issues/{issue_id}/send").status_code == 401
