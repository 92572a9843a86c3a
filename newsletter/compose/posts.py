"""Finding posts for the composer: search, category filter, keyset pages, subscriber match."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, selectinload

from newsletter import categories
from newsletter.categories import expand_categories
from newsletter.models import Category, Post, post_categories

from .errors import ComposeError
from .paging import Page, clamp_limit, encode_cursor, read_cursor


def check_text(value: str, *, field: str) -> str:
    """`value` unchanged when a database can store it: raises ComposeError (naming `field`)
    when it holds a NUL (PostgreSQL refuses it) or a lone surrogate (not UTF-8 encodable).
    """
    if "\x00" in value:
        raise ComposeError(f"the {field} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ComposeError(f"the {field} is not valid Unicode") from None
    return value


def most_specific(categories: Iterable[Category]) -> list[Category]:
    """A post's categories without those another one of them already implies.

    A post filed under `AI` and `AI: Large Language Models` reads as just the
    latter: its parent adds nothing a reader needs. Order is kept. Walks `.parent`
    (a few rows per post, loaded once per session), guarded against cycles.
    """
    chosen = list(categories)
    implied: set[int] = set()
    for category in chosen:
        seen = {category.id}
        parent = category.parent
        while parent is not None and parent.id not in seen:
            implied.add(parent.id)
            seen.add(parent.id)
            parent = parent.parent
    return [c for c in chosen if c.id not in implied]


def compose_category_ids(session: Session, names: Iterable[str]) -> list[int]:
    """`categories.category_ids_by_name` for the composer: raises ComposeError for an
    unknown name or text a database cannot store."""
    checked = [check_text(n, field="category") for n in names]
    try:
        return categories.category_ids_by_name(session, checked)
    except categories.UnknownCategory as exc:
        raise ComposeError(f"no such category: {exc.name!r}") from None


def in_categories(category_ids: Iterable[int]) -> ColumnElement[bool]:
    """Posts that carry any of these category ids."""
    return Post.id.in_(
        select(post_categories.c.post_id).where(
            post_categories.c.category_id.in_(list(category_ids))
        )
    )


def list_posts(
    session: Session,
    *,
    q: str | None = None,
    category: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[Post]:
    """Undated posts first, then newest first; the cursor is the (published_at, id) of the
    last post shown (published_at "" for an undated one). `q` matches a part of the title
    or excerpt (case-insensitive); `category` includes its children.

    Raises ComposeError for a `q` a database cannot store, an unknown `category`, or a
    malformed cursor.
    """
    limit = clamp_limit(limit)
    stmt = select(Post).options(selectinload(Post.categories))
    if q and q.strip():
        term = check_text(q.strip(), field="search")
        stmt = stmt.where(
            or_(
                Post.title.icontains(term, autoescape=True),
                Post.excerpt.icontains(term, autoescape=True),
            )
        )
    if category:
        stmt = stmt.where(
            in_categories(expand_categories(session, compose_category_ids(session, [category])))
        )
    if cursor:
        stmt = stmt.where(_after(*_decode_post_cursor(cursor)))
    # Posts with no date come first: they are the ones that need the author's attention.
    stmt = stmt.order_by(Post.published_at.desc().nulls_first(), Post.id.desc()).limit(limit + 1)
    rows = list(session.scalars(stmt))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(
            last.published_at.isoformat() if last.published_at else "", last.id
        )
    return Page(rows, next_cursor)


def _decode_post_cursor(cursor: str) -> tuple[datetime | None, int]:
    """(published_at or None for an undated post, id) of the last post of a page."""
    when, last_id = read_cursor(cursor, str, int)
    assert isinstance(when, str) and isinstance(last_id, int)
    if not when:
        return None, last_id
    try:
        published_at = datetime.fromisoformat(when)
    except ValueError:
        published_at = None
    if published_at is None or published_at.tzinfo is None:
        raise ComposeError("the cursor is malformed; use the `next` value of a previous page")
    return published_at.astimezone(UTC), last_id


def _after(published_at: datetime | None, last_id: int) -> ColumnElement[bool]:
    """Rows after (published_at, id) in the order newest first, undated first of all."""
    if published_at is None:
        return or_(
            and_(Post.published_at.is_(None), Post.id < last_id), Post.published_at.is_not(None)
        )
    return or_(
        Post.published_at < published_at,
        and_(Post.published_at == published_at, Post.id < last_id),
    )


def get_posts(session: Session, post_ids: Sequence[int]) -> list[Post]:
    """Posts in the order asked for ([] for none); raises ComposeError naming the first
    unknown id.
    """
    if not post_ids:
        return []
    found = {p.id: p for p in session.scalars(select(Post).where(Post.id.in_(list(post_ids))))}
    missing = [i for i in post_ids if i not in found]
    if missing:
        raise ComposeError(f"no such post: {missing[0]}")
    return [found[i] for i in post_ids]


def set_post_date(session: Session, *, post_id: int, published_at: datetime | None) -> Post:
    """Set (or clear, with None) a post's publication date; commits.

    A naive datetime is in the server's timezone (as `--since`). Raises ComposeError
    for an unknown post or a date the database cannot store.
    """
    from .issues import aware  # here: issues imports this module

    post = session.get(Post, post_id)
    if post is None:
        raise ComposeError(f"no such post: {post_id}")
    post.published_at = aware(published_at).astimezone(UTC) if published_at else None
    session.commit()
    return post
