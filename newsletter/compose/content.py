"""From an issue (and maybe one subscriber) to the plain values the renderer takes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from newsletter.categories import allowed_categories, post_matches, subscriber_choices
from newsletter.models import Issue, IssueItem, Subscriber
from newsletter.render import IssueContent, PostBlock

# Re-exported for newsletter/sends/variants.py until it imports from newsletter.render.
from .posts import most_specific


def archive_url(base_url: str, issue: Issue) -> str | None:
    """`{base_url}/archive/{slug}` for an issue with a slug, else None."""
    return f"{base_url.rstrip('/')}/archive/{issue.slug}" if issue.slug else None


def posts_for_subscriber(
    session: Session, issue: Issue, subscriber: Subscriber | None
) -> list[IssueItem]:
    """The issue's items this subscriber gets, in issue order.

    A post matches when any of its categories is one the subscriber chose or a
    descendant of one ("AI" brings "AI: Large Language Models"); a subscriber who
    chose nothing gets everything.
    """
    if subscriber is None:
        return list(issue.items)
    allowed = allowed_categories(
        session, subscriber_choices(session, [subscriber.id]).get(subscriber.id, [])
    )
    return [
        item for item in issue.items if post_matches((c.id for c in item.post.categories), allowed)
    ]


def post_block(item: IssueItem) -> PostBlock:
    """One issue item as the renderer takes it: the post's title, URL, HTML, excerpt,
    mode (`full` or `excerpt`), its most specific categories, author and date."""
    post = item.post
    return PostBlock(
        title=post.title,
        url=post.url,
        html=post.html,
        excerpt=post.excerpt,
        mode=str(item.mode),
        categories=tuple(c.name for c in most_specific(post.categories)),
        author=post.author,
        published_at=post.published_at,
        anchor=f"post-{post.id}",
    )


def build_issue_content(
    session: Session,
    issue: Issue,
    *,
    subscriber: Subscriber | None = None,
    base_url: str | None = None,
) -> IssueContent:
    """One content variant; with a subscriber, only the posts their categories select."""
    items = posts_for_subscriber(session, issue, subscriber)
    return IssueContent(
        subject=issue.subject,
        preheader=issue.preheader,
        intro_markdown=issue.intro,
        outro_markdown=issue.outro,
        posts=tuple(post_block(item) for item in items),
        web_url=archive_url(base_url, issue) if base_url else None,
    )
