"""Who gets an issue, and which of its posts each person gets.

- Only `active` subscribers are recipients; pending, unsubscribed, bounced,
  complained and blocked never are, nor is an address on the suppression list.
- A subscriber's categories include their subcategories and choosing none means
  everything (the rule itself is `newsletter.categories`, shared with the preview).
- Someone with no matching post in the issue is recorded as skipped
  ("no matching posts"); someone who chose a digest frequency (weekly, monthly) is
  skipped with reason "digest", and that row is what their next digest carries
  (`newsletter.automations.digests`, which also judges the digests themselves).

The send walks recipients in id order (`next_recipients`) and judges each batch
again just before sending it (`judge`), and the rest of a batch again every
`deliver.REJUDGE_EVERY` seconds while it sends, so an unsubscribe or a suppression
takes effect within seconds of a running send.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Row, select
from sqlalchemy.orm import Session

from newsletter.categories import (
    allowed_from_choice,
    category_tree,
    post_matches,
    subscriber_choices,
)
from newsletter.models import (
    Frequency,
    IssueItem,
    Subscriber,
    SubscriberStatus,
    post_categories,
)
from newsletter.sql import among
from newsletter.subscribers.suppression import email_hash, suppressed_hashes

SKIP_DIGEST = "digest"
SKIP_NO_POSTS = "no matching posts"
SKIP_SUPPRESSED = "suppressed"
DIGEST_FREQUENCIES = (Frequency.WEEKLY, Frequency.MONTHLY)


@dataclass(frozen=True, slots=True)
class IssuePlan:
    """An issue's posts in order with their categories, and the category tree: all a
    judgement needs, read once per batch."""

    issue_id: int
    items: tuple[tuple[int, frozenset[int]], ...]  # (post_id, category ids), issue order
    tree: dict[int, list[int]]

    def posts_for(self, chosen: Sequence[int]) -> tuple[int, ...]:
        """Post ids, in issue order, for someone who chose these category ids."""
        allowed = allowed_from_choice(self.tree, chosen)
        return tuple(post_id for post_id, cats in self.items if post_matches(cats, allowed))


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one subscriber gets: `post_ids` to send, or a `skip` reason."""

    subscriber_id: int
    email: str
    name: str
    post_ids: tuple[int, ...] = ()
    skip: str | None = None


def issue_plan(session: Session, issue_id: int) -> IssuePlan:
    """Read the issue's items and their categories (two small queries)."""
    post_ids = list(
        session.scalars(
            select(IssueItem.post_id)
            .where(IssueItem.issue_id == issue_id)
            .order_by(IssueItem.position)
        )
    )
    cats: dict[int, set[int]] = {p: set() for p in post_ids}
    if post_ids:
        rows = session.execute(
            select(post_categories.c.post_id, post_categories.c.category_id).where(
                post_categories.c.post_id.in_(post_ids)
            )
        )
        for post_id, category_id in rows:
            cats[post_id].add(category_id)
    items = tuple((p, frozenset(cats[p])) for p in post_ids)
    return IssuePlan(issue_id=issue_id, items=items, tree=category_tree(session))


def next_recipients(
    session: Session,
    *,
    after_id: int,
    up_to_id: int,
    limit: int,
    only: Sequence[ColumnElement[bool]] = (),
) -> list[int]:
    """Ids of active subscribers with after_id < id <= up_to_id, ascending, at most `limit`
    (uses the (status, id) index: a keyset walk that never loads the list); `only` adds
    conditions on Subscriber (a digest's readers)."""
    return list(
        session.scalars(
            select(Subscriber.id)
            .where(
                Subscriber.status == SubscriberStatus.ACTIVE,
                Subscriber.id > after_id,
                Subscriber.id <= up_to_id,
                *only,
            )
            .order_by(Subscriber.id)
            .limit(limit)
        )
    )


def recipient_rows(
    session: Session, subscriber_ids: Sequence[int]
) -> Sequence[Row[int, str, str, SubscriberStatus, Frequency]]:
    """(id, email, name, status, frequency) of these subscribers as stored now, one query;
    deleted ones are simply absent. Shared by the issue and the digest judgements."""
    return session.execute(
        select(
            Subscriber.id,
            Subscriber.email,
            Subscriber.name,
            Subscriber.status,
            Subscriber.frequency,
        ).where(among(session, Subscriber.id, subscriber_ids))
    ).all()


def judge(session: Session, plan: IssuePlan, subscriber_ids: Sequence[int]) -> dict[int, Verdict]:
    """A verdict for each id (a deleted subscriber gets skip "deleted"); three queries."""
    rows = recipient_rows(session, subscriber_ids)
    suppressed = suppressed_hashes(session, [r.email for r in rows])
    choices = subscriber_choices(session, [r.id for r in rows])
    verdicts: dict[int, Verdict] = {
        sid: Verdict(sid, "", "", skip="deleted") for sid in subscriber_ids
    }
    by_choice: dict[tuple[int, ...], tuple[int, ...]] = {}  # choices repeat across readers
    for r in rows:
        skip: str | None = None
        posts: tuple[int, ...] = ()
        if r.status is not SubscriberStatus.ACTIVE:
            skip = str(r.status)
        elif email_hash(r.email) in suppressed:
            skip = SKIP_SUPPRESSED
        elif r.frequency in DIGEST_FREQUENCIES:
            skip = SKIP_DIGEST
        else:
            chosen = tuple(sorted(choices.get(r.id, ())))
            found = by_choice.get(chosen)
            posts = by_choice[chosen] = found if found is not None else plan.posts_for(chosen)
            if not posts:
                skip = SKIP_NO_POSTS
        verdicts[r.id] = Verdict(r.id, r.email, r.name, posts, skip)
    return verdicts
