"""Factories for composer tests: posts with categories, subscribers, the seed import."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsletter.models import Post, Subscriber, SubscriberStatus
from newsletter.posts import get_or_create_categories, import_posts

SEED = Path(__file__).resolve().parent.parent / "data" / "posts" / "seed.txt"


@pytest.fixture
def seed_posts(db_session):  # type: ignore[no-untyped-def]
    """The two seed posts, imported by the real importer, oldest first."""
    result = import_posts(db_session, SEED)
    posts = [db_session.get(Post, i) for i in result.post_ids]
    return sorted(posts, key=lambda p: (p.published_at, p.id))


@pytest.fixture
def make_post(db_session):  # type: ignore[no-untyped-def]
    counter = {"n": 0}

    def _make(
        title: str = "A post",
        categories: tuple[str, ...] = (),
        published_at: datetime | None = None,
        **fields,
    ) -> Post:
        counter["n"] += 1
        post = Post(
            title=title,
            slug=f"post-{counter['n']}-{title.lower().replace(' ', '-')}"[:200],
            url=f"https://blog.example.org/{counter['n']}",
            html=f"<p>{title} body</p>",
            excerpt=f"{title} excerpt",
            published_at=published_at or datetime(2026, 2, counter["n"], 9, 0, tzinfo=UTC),
            **fields,
        )
        post.categories = get_or_create_categories(db_session, categories)
        db_session.add(post)
        db_session.commit()
        return post

    return _make


@pytest.fixture
def make_subscriber(db_session):  # type: ignore[no-untyped-def]
    def _make(
        email: str = "reader@example.org", categories: tuple[str, ...] = (), name: str = ""
    ) -> Subscriber:
        sub = Subscriber(email=email, name=name, status=SubscriberStatus.ACTIVE)
        sub.categories = get_or_create_categories(db_session, categories)
        db_session.add(sub)
        db_session.commit()
        return sub

    return _make
