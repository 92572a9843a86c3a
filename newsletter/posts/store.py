"""Writing parsed posts: upsert by GUID then canonical URL, categories linked to parents."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.models import Category, Post

from .parsed import NO_DATE_PREFIX, ParsedPost
from .parsing import DEFAULT_MAX_BYTES, check_args, check_base_url, parse_loaded
from .slugs import slugify, unique_slug
from .sources import load_source

PARENT_SEPARATOR = ": "  # `AI: Large Language Models` is a child of `AI`


@dataclass
class ImportResult:
    """What one import wrote: counts of `created` and `updated` posts, their ids in source
    order, and per-post `warnings` (shown beside the counts by the CLI, API and web form).
    """

    created: int = 0
    updated: int = 0
    post_ids: list[int] = field(default_factory=list)
    # Per-post notes, in order: "Title: what could not be kept" and dates that could
    # not be read; shown next to the counts (CLI stderr, API, web form).
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Posts written: `created + updated`."""
        return self.created + self.updated


def import_posts(
    session: Session,
    source: str | Path | bytes,
    *,
    fmt: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    allow_private_urls: bool = False,
    content_type: str | None = None,
    base_url: str | None = None,
) -> ImportResult:
    """Parse the whole source first, then write it in one transaction (and commit).

    A bad source raises PostImportError before anything touches the database. URLs on
    private or local hosts are refused unless `allow_private_urls` (see fetch_url).
    `content_type` goes with bytes given directly: its charset says how to read them
    (text that was already Unicode, such as a JSON string, is `charset=utf-8`).
    `base_url` (absolute http(s)) is where a file was published, for its relative links.
    """
    base_url = check_base_url(base_url)
    loaded = load_source(
        source,
        max_bytes=check_args(fmt, max_bytes),
        allow_private_urls=allow_private_urls,
        content_type=content_type,
    )
    # Names already in the DB tell a plain-text category line where names end.
    known = session.scalars(select(Category.name)).all()
    parsed = parse_loaded(
        loaded, fmt=fmt, max_bytes=max_bytes, known_categories=known, base_url=base_url
    )
    return save_posts(session, parsed, source_label=loaded.label)


def save_posts(
    session: Session, parsed: Sequence[ParsedPost], *, source_label: str
) -> ImportResult:
    """Create new posts and update known ones in place; commits, or rolls back on error."""
    result = ImportResult()
    reserved: set[str] = set()
    try:
        for item in _last_per_guid(parsed):
            post = _find(session, item)
            if post is None:
                post = _new_post(session, item, reserved)
                result.created += 1
            elif post.id in result.post_ids:
                continue  # two entries of one source named the same post
            else:
                result.updated += 1
            _apply(session, post, item, source_label)
            for note in item.warnings:
                if not note.startswith(NO_DATE_PREFIX):
                    result.warnings.append(f"{item.title}: {note}")
                # A date set in the author pages (or read before) stands: nothing to report.
                elif post.published_at is None:
                    result.warnings.append(note)  # names the post itself
            session.add(post)  # added only now so no half-filled row is ever flushed
            session.flush()
            result.post_ids.append(post.id)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return result


def get_or_create_categories(session: Session, names: Iterable[str]) -> list[Category]:
    """Categories by full name, in the given order; parents are created and linked too."""
    found: dict[str, Category] = {}
    for raw in names:
        name = " ".join(raw.split())
        if name and name not in found:
            found[name] = _category(session, name)
    return list(found.values())


def _category(session: Session, name: str) -> Category:
    parent_name = name.rsplit(PARENT_SEPARATOR, 1)[0].strip() if PARENT_SEPARATOR in name else ""
    parent = _category(session, parent_name) if parent_name else None
    category = session.scalars(select(Category).where(Category.name == name)).first()
    if category is None:
        slug = unique_slug(
            slugify(name, fallback="category"),
            taken=lambda s: (
                session.scalar(select(Category.id).where(Category.slug == s)) is not None
            ),
        )
        category = Category(name=name, slug=slug, parent=parent)
        session.add(category)
        session.flush()
    elif category.parent_id is None and parent is not None:
        category.parent = parent  # created earlier without its parent: link it now
    return category


def _last_per_guid(parsed: Sequence[ParsedPost]) -> list[ParsedPost]:
    """One entry per GUID; a later entry wins (feeds list the newest edit last)."""
    by_guid: dict[str, ParsedPost] = {}
    for item in parsed:
        by_guid[item.guid] = item
    return list(by_guid.values())


def _find(session: Session, item: ParsedPost) -> Post | None:
    post = session.scalars(select(Post).where(Post.guid == item.guid)).first()
    if post is None and item.url:
        post = session.scalars(select(Post).where(Post.url == item.url).order_by(Post.id)).first()
    return post


def _new_post(session: Session, item: ParsedPost, reserved: set[str]) -> Post:
    slug = unique_slug(
        slugify(item.slug_hint or item.title),
        taken=lambda s: session.scalar(select(Post.id).where(Post.slug == s)) is not None,
        reserved=reserved,
    )
    reserved.add(slug)
    return Post(guid=item.guid, slug=slug)


def _apply(session: Session, post: Post, item: ParsedPost, source_label: str) -> None:
    # The slug and an existing GUID stay put: links to the post must keep working.
    post.guid = post.guid or item.guid
    post.title = item.title
    post.html = item.html
    post.excerpt = item.excerpt
    post.source = source_label[:500]
    # Fields a source does not carry (a text scrape has no URL or date) keep their value;
    # a post with no date stays without one (never the import time): the author sets it.
    post.url = item.url or post.url
    post.author = item.author or post.author
    post.published_at = item.published_at or post.published_at
    post.categories = get_or_create_categories(session, item.categories)
