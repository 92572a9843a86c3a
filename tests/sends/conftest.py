"""Fixtures for send tests: a scripted SMTP server, an app pointed at it, a small world."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newsletter.compose import create_issue
from newsletter.mail.pool import SmtpPool
from newsletter.mail.ratelimit import Unlimited
from newsletter.mail.smtp import SmtpTarget
from newsletter.models import Frequency, Post, Subscriber, SubscriberStatus
from newsletter.posts import get_or_create_categories
from newsletter.sends import deliver, lifecycle

from ..conftest import make_test_app
from ..live import free_port
from .smtp_server import ScriptedHandler, start_server


@pytest.fixture
def smtp():  # type: ignore[no-untyped-def]
    handler = ScriptedHandler()
    port = free_port()
    controller = start_server(port, handler)
    handler.url = f"smtp://127.0.0.1:{port}"  # type: ignore[attr-defined]
    yield handler
    controller.stop()


@pytest.fixture
def send_app(connection, tmp_path, smtp):  # type: ignore[no-untyped-def]
    app = make_test_app(
        connection,
        tmp_path,
        SMTP_URL=smtp.url,
        SEND_RETRY_DELAY=0,
        SEND_BATCH_SIZE=7,  # small batches, so every test crosses batch boundaries
        FROM_ADDRESS="Newsletter <news@example.org>",
        RETURN_PATH_DOMAIN="bounce.example.org",
    )
    with app.app_context():
        yield app


@pytest.fixture
def settings(send_app):  # type: ignore[no-untyped-def]
    return send_app.extensions["settings"]


@pytest.fixture
def pool(smtp):  # type: ignore[no-untyped-def]
    pool = SmtpPool(SmtpTarget.from_url(smtp.url, timeout=10), 2)
    yield pool
    pool.close()


def add_post(session, title: str, categories: tuple[str, ...]) -> Post:  # type: ignore[no-untyped-def]
    post = Post(
        title=title,
        slug=title.lower().replace(" ", "-").replace(":", ""),
        url=f"https://blog.example.org/{title.lower().replace(' ', '-')}",
        html=f"<p>{title} body</p>",
        excerpt=f"{title} excerpt",
        published_at=datetime(2026, 2, 1, 9, 0, tzinfo=UTC),
    )
    post.categories = get_or_create_categories(session, categories)
    session.add(post)
    session.commit()
    return post


def add_subscriber(  # type: ignore[no-untyped-def]
    session,
    email: str,
    categories: tuple[str, ...] = (),
    status: SubscriberStatus = SubscriberStatus.ACTIVE,
    frequency: Frequency = Frequency.EVERY_ISSUE,
) -> Subscriber:
    sub = Subscriber(email=email, status=status, frequency=frequency)
    sub.categories = get_or_create_categories(session, categories)
    session.add(sub)
    session.commit()
    return sub


@pytest.fixture
def world(db_session, send_app):  # type: ignore[no-untyped-def]
    """Posts in AI, AI: LLMs (a child of AI) and China; subscribers of every kind."""
    posts = {
        "llm": add_post(db_session, "Transformers explained", ("AI: Large Language Models",)),
        "china": add_post(db_session, "Shenzhen notes", ("China",)),
    }
    issue = create_issue(
        db_session, subject="Weekly", post_ids=[posts["llm"].id, posts["china"].id]
    )
    add_post(db_session, "Cooking", ("Cooking",))  # a category nobody's issue has
    subs = {
        "all": add_subscriber(db_session, "all@example.org"),
        "ai": add_subscriber(db_session, "ai@example.org", ("AI",)),
        "china": add_subscriber(db_session, "china@example.org", ("China",)),
        "cooking": add_subscriber(db_session, "cooking@example.org", ("Cooking",)),
        "weekly": add_subscriber(db_session, "weekly@example.org", frequency=Frequency.WEEKLY),
        "pending": add_subscriber(
            db_session, "pending@example.org", status=SubscriberStatus.PENDING
        ),
        "gone": add_subscriber(
            db_session, "gone@example.org", status=SubscriberStatus.UNSUBSCRIBED
        ),
        "bounced": add_subscriber(
            db_session, "bounced@example.org", status=SubscriberStatus.BOUNCED
        ),
        "blocked": add_subscriber(
            db_session, "blocked@example.org", status=SubscriberStatus.BLOCKED
        ),
    }
    for n in range(20):
        subs[f"bulk{n}"] = add_subscriber(db_session, f"bulk{n}@example.org")
    return {"issue": issue, "posts": posts, "subs": subs}


def drain(
    session, settings, issue_id: int, sender, rounds: int = 200
) -> list[deliver.BatchOutcome]:  # type: ignore[no-untyped-def]
    """Run batches in this process until the send has nothing left to do now."""
    outcomes = []
    for _ in range(rounds):
        outcome = deliver.run_batch(
            session, settings, issue_id=issue_id, sender=sender, limiter=Unlimited()
        )
        outcomes.append(outcome)
        if outcome.claimed == 0 or outcome.stopped:
            break
    return outcomes


def start(session, issue_id: int) -> None:  # type: ignore[no-untyped-def]
    lifecycle.start(session, issue_id=issue_id)
