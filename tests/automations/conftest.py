"""Digest and welcome-latest fixtures: the send tests' real SMTP server and app, plus
helpers that send an issue and read back which posts each address received."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

from newsletter.compose import create_issue
from newsletter.models import Post
from newsletter.posts import get_or_create_categories
from newsletter.sends import lifecycle

from ..sends.conftest import drain, pool, send_app, settings, smtp  # noqa: F401


def add_post(session, title: str, categories: tuple[str, ...], *, url: bool = True) -> Post:  # type: ignore[no-untyped-def]
    slug = title.lower().replace(" ", "-")
    post = Post(
        title=title,
        slug=slug,
        url=f"https://blog.example.org/{slug}" if url else None,
        html=f"<p>{title} body</p>",
        excerpt=f"{title} excerpt",
        published_at=datetime(2026, 10, 1, 9, 0, tzinfo=UTC),
    )
    post.categories = get_or_create_categories(session, categories)
    session.add(post)
    session.commit()
    return post


def send_issue(session, config, sender, subject: str, posts: list[Post]) -> int:  # type: ignore[no-untyped-def]
    """Create, start and send an issue in this process; returns its id."""
    issue = create_issue(session, subject=subject, post_ids=[p.id for p in posts])
    lifecycle.start(session, issue_id=issue.id)
    drain(session, config, issue.id, sender)
    return issue.id


def posts_in(message) -> list[int]:  # type: ignore[no-untyped-def]
    """Post ids of the cards in a received message's HTML (`<h2 id="post-ID">`)."""
    html = message.get_body(("html",)).get_content()
    return [int(n) for n in re.findall(r'<h2 id="post-(\d+)"', html)]


def received_posts(smtp_handler) -> dict[str, Counter[int]]:  # type: ignore[no-untyped-def]
    """address -> how many times each post id reached it, over every message so far."""
    out: dict[str, Counter[int]] = {}
    for rcpt, messages in smtp_handler.by_rcpt().items():
        counter: Counter[int] = Counter()
        for received in messages:
            counter.update(posts_in(received.message()))
        out[rcpt] = counter
    return out
