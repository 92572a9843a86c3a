"""Digests and welcome-latest for real: a Celery worker process on Redis, PostgreSQL, and
an SMTP server on loopback. The test publishes `digests.run_due` as beat would (beat's
entry itself is checked in test_beat_entry) and `digests.welcome_latest` as the confirm
page does."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from celery import Celery
from sqlalchemy import insert, select

from newsletter.models import (
    DeliveryStatus,
    DigestRun,
    Frequency,
    Issue,
    IssueKind,
    IssueStatus,
    Subscriber,
    SubscriberStatus,
)
from newsletter.posts import get_or_create_categories
from worker.beat import schedule

from ..sends.conftest import add_post
from ..sends.test_live_send import BROKER_URL, make_stack  # noqa: F401
from .conftest import posts_in

pytestmark = pytest.mark.slow


def test_beat_entry(settings):  # type: ignore[no-untyped-def]
    entry = schedule(settings)["digests-run-due"]
    assert entry["task"] == "digests.run_due" and entry["schedule"] == 60.0


def test_weekly_digest_and_welcome_latest_through_a_real_worker(make_stack):
    stack = make_stack(
        "postgresql",
        "redis",
        NEWSLETTER_DIGEST_WEEKLY_CRON="* * * * *",  # due whenever asked
        NEWSLETTER_WELCOME_LATEST_ISSUE="on",
    )
    with stack.session() as s:
        ai = add_post(s, "AI live", ("AI",))
        china = add_post(s, "China live", ("China",))
        cats = {c.name: c for c in get_or_create_categories(s, ["AI", "China"])}
        for i in range(6):
            s.add(Subscriber(email=f"every{i}@example.org", status=SubscriberStatus.ACTIVE))
        for i in range(6):
            sub = Subscriber(
                email=f"weekly{i}@example.org",
                status=SubscriberStatus.ACTIVE,
                frequency=Frequency.WEEKLY,
            )
            sub.categories = [cats["China"]] if i == 0 else []
            s.add(sub)
        s.commit()
        from newsletter.compose import create_issue

        issue_id = create_issue(s, subject="Live one", post_ids=[ai.id, china.id]).id
        # A marker from long ago: the next check runs the weekly digest.
        s.execute(
            insert(DigestRun),
            [{"frequency": Frequency.WEEKLY, "last_slot": datetime(2000, 1, 3, tzinfo=UTC)}],
        )
        s.commit()
    stack.start("worker")
    result = stack.cli("issues", "send", str(issue_id), "--wait")
    assert result.returncode == 0, result.stderr
    assert stack.ledger(issue_id) == {DeliveryStatus.SENT: 6, DeliveryStatus.SKIPPED: 6}

    client = Celery(broker=BROKER_URL)
    client.send_task("digests.run_due")

    def digest_sent() -> bool:
        with stack.session() as s:
            found = s.scalar(select(Issue.status).where(Issue.kind == IssueKind.DIGEST))
        return found is IssueStatus.SENT

    stack.wait(digest_sent, 60, "the weekly digest")
    client.send_task("digests.run_due")  # the same slot again: nothing more

    got = stack.smtp.by_rcpt()
    for i in range(6):
        [single] = got[f"every{i}@example.org"]
        assert posts_in(single.message()) == [ai.id, china.id]
        [digest] = got[f"weekly{i}@example.org"]
        assert "weekly digest" in digest.message()["Subject"]
        assert posts_in(digest.message()) == ([china.id] if i == 0 else [ai.id, china.id])

    # A newcomer confirmed: the latest issue once, however often the task runs.
    with stack.session() as s:
        newcomer = Subscriber(email="new@example.org", status=SubscriberStatus.ACTIVE)
        s.add(newcomer)
        s.commit()
        newcomer_id = newcomer.id
    client.send_task("digests.welcome_latest", args=[newcomer_id])
    client.send_task("digests.welcome_latest", args=[newcomer_id])
    stack.wait(lambda: stack.ledger(issue_id).get(DeliveryStatus.SENT) == 7, 60, "welcome-latest")
    stack.wait(lambda: len(stack.smtp.received) >= 13, 30, "the newcomer's message")
    time.sleep(3)  # let the second welcome task and the second digest check finish
    with stack.session() as s:
        assert s.scalar(select(Issue.id).where(Issue.kind == IssueKind.DIGEST)) is not None
        digests_made = len(list(s.scalars(select(Issue.id).where(Issue.kind == IssueKind.DIGEST))))
    assert digests_made == 1
    [welcomed] = stack.smtp.by_rcpt()["new@example.org"]
    assert welcomed.message()["Subject"] == "Live one"
    assert len(stack.smtp.received) == 13  # 6 singles + 6 digests + 1 welcome, no more
    client.close()
