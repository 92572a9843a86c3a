"""Finding posts for the composer: search, category filter, keyset pages, subscriber match."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, selectinload

from newsletter import categories
from newsletter.categories import expand_categories
from newsletter.models import Post, post_categories

from .errors import ComposeError
from .paging import Page, clamp_limit, decode_cursor, encode_cursor


def check_text(value: str, *, field: str) -> str:
    """Text a database can store: no NUL (PostgreSQL refuses it), no lone surrogates."""
    if "\x00" in value:
        raise ComposeError(f"the {field} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ComposeError(f"the {field} is not valid Unicode") from None
    return value


def category_ids_by_name(session: Session, names: Iterable[str]) -> list[int]:
    """Ids for full category names (see newsletter.categories); raises ComposeError for an
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
    """Newest first; the cursor is the (published_at, id) of the last post shown."""
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
            in_categories(expand_categories(session, category_ids_by_name(session, [category])))
        )
    if cursor:
        published_at, last_id = decode_cursor(cursor, datetime, int)
        stmt = stmt.where(
            or_(
                Post.published_at < published_at,
                and_(Post.published_at == published_at, Post.id < last_id),
            )
        )
    stmt = stmt.order_by(Post.published_at.desc(), Post.id.desc()).limit(limit + 1)
    rows = list(session.scalars(stmt))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].published_at, rows[-1].id)
    return Page(rows, next_cursor)


def get_posts(session: Session, post_ids: Sequence[int]) -> list[Post]:
    """Posts in the order asked for; an unknown id is an error."""
    if not post_ids:
        return []
    found = {p.id: p for p in session.scalars(select(Post).where(Post.id.in_(list(post_ids))))}
    missing = [i for i in post_ids if i not in found]
    if missing:
        raise ComposeError(f"no such post: {missing[0]}")
    return [found[i] for i in post_ids]
