"""A digest in the author's pages: listed as a digest, its page and stats open, and it
stays out of the public archive, the home page and "everything since the last issue"."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from sqlalchemy import select

from newsletter.automations import digests
from newsletter.compose import create_issue
from newsletter.compose.issues import last_sent_at
from newsletter.models import Delivery, DeliveryStatus, Frequency, Issue, IssueStatus
from newsletter.sends import lifecycle

from ..sends.conftest import add_subscriber
from .conftest import add_post


def make_sent_digest(session, settings) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """One sent issue with a weekly reader's owed row, then that week's digest, marked sent."""
    post = add_post(session, "Digest page post", ("AI",))
    reader = add_subscriber(session, "weekly@example.org", frequency=Frequency.WEEKLY)
    with time_machine.travel(datetime(2026, 11, 2, 9, tzinfo=UTC), tick=True) as clock:
        digests.run_due(session, settings)
        issue = create_issue(session, subject="Single", post_ids=[post.id])
        lifecycle.start(session, issue_id=issue.id)
        session.add(
            Delivery(
                issue_id=issue.id,
                subscriber_id=reader.id,
                status=DeliveryStatus.SKIPPED,
                last_error="digest",
                message_id="<single@example.org>",
            )
        )
        session.commit()
        lifecycle.finish_if_possible(session, issue_id=issue.id)
        clock.move_to(datetime(2026, 11, 9, 8, tzinfo=UTC))
        [digest_id] = digests.run_due(session, settings)
        lifecycle.finish_if_possible(session, issue_id=digest_id)
    return issue.id, digest_id


def test_the_author_sees_a_digest_as_an_issue_with_its_stats(app, client, login, db_session):
    issue_id, digest_id = make_sent_digest(db_session, app.extensions["settings"])
    login("author")
    listing = client.get("/author/issues").get_data(as_text=True)
    assert "weekly digest</span>" in listing and "your weekly digest, November 9, 2026" in listing
    page = client.get(f"/author/issues/{digest_id}")
    assert page.status_code == 200
    stats = client.get(f"/author/issues/{digest_id}/stats.json")
    assert stats.status_code == 200 and stats.get_json()["failed"] == 0

    # Not in the public archive, nor on the home page; "since the last issue" ignores it.
    db_session.expire_all()  # the status changes were Core UPDATEs
    single = db_session.get(Issue, issue_id)
    digest = db_session.get(Issue, digest_id)
    assert digest.status is IssueStatus.SENT and digest.slug is None
    archive = client.get("/archive").get_data(as_text=True)
    assert "Single" in archive and "weekly digest" not in archive
    assert client.get(f"/archive/{digest_id}").status_code == 404
    assert "weekly digest" not in client.get("/").get_data(as_text=True)
    assert last_sent_at(db_session) == single.sent_at
    assert db_session.scalar(select(Issue.sent_at).where(Issue.id == digest_id)) > single.sent_at
