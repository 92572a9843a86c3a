"""The format-neutral shape every importer produces."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from .cleaning import clean_html, html_to_text, make_excerpt
from .links import resolve_links, resolve_url
from .mojibake import repair_mojibake


@dataclass(frozen=True, slots=True)
class ParsedPost:
    """One post as read from a source, already cleaned, before it meets the DB."""

    guid: str
    title: str
    url: str | None
    author: str | None
    published_at: datetime | None  # timezone-aware UTC
    categories: tuple[str, ...]
    html: str  # sanitized
    excerpt: str  # plain text
    slug_hint: str | None
    # What the writer should know about this post (e.g. its date could not be read);
    # the import reports them next to its counts. Nothing here stops the import.
    warnings: tuple[str, ...] = ()


def make_post(
    *,
    guid: str | None,
    title: str,
    url: str | None,
    author: str | None,
    published_at: datetime | None,
    categories: Iterable[str],
    html: str,
    summary: str | None = None,
    slug_hint: str | None = None,
    date_text: str | None = None,
    base_url: str | None = None,
    warnings: Iterable[str] = (),
) -> ParsedPost:
    """Build a ParsedPost the same way for every format: repaired, sanitized, bounded.

    `title` and `author` are plain text; `html` and `summary` are HTML.
    `summary` is the source's own excerpt when it has one (HTML or text).
    `date_text` is the date as the source wrote it, quoted in the warning when
    `published_at` is None because it could not be read.
    `base_url` is what relative links in `url` and `html` are resolved against (see
    links.py); when it is None, the post's own absolute `url` is. `warnings` are the
    format parser's own; unresolvable links add theirs.
    """
    notes = list(warnings)
    raw_url = (url or "").strip()
    url = resolve_url(raw_url, base_url) if raw_url else None
    if raw_url and url is None and not re.match(r"(?i)[a-z][a-z0-9+.-]*:(?!//)", raw_url):
        notes.append(f"its link {raw_url[:120]} has no address it can be resolved against")
    if url and len(url) > 2000:
        url = None  # not a canonical web address we could link to
    # Sanitized first: nh3 turns any input into well-formed HTML in linear time, and the
    # stdlib parser under resolve_links is only linear on well-formed HTML.
    body, link_notes = resolve_links(clean_html(repair_mojibake(html)), base_url or url)
    notes.extend(link_notes)
    text = html_to_text(body)
    title = _one_line(title) or make_excerpt(text, words=8) or "Untitled"
    excerpt_text = html_to_text(repair_mojibake(summary)) if summary else ""
    guid = (guid or "").strip() or url or stable_id("title", title)
    if len(guid) > 500:
        guid = stable_id("guid", guid)
    title = _clip(title, 500)
    published_at = as_utc(published_at)
    if published_at is None:
        notes.append(no_date_warning(title, date_text))
    return ParsedPost(
        guid=guid,
        title=title,
        url=url,
        author=_clip(_one_line(author), 200) or None,
        published_at=published_at,
        categories=clean_categories(categories),
        html=body,
        excerpt=make_excerpt(excerpt_text or text),
        slug_hint=(slug_hint or "").strip() or None,
        warnings=tuple(dict.fromkeys(notes)),
    )


NO_DATE_PREFIX = "no date for "


def no_date_warning(title: str, date_text: str | None) -> str:
    """`no date for “Title” (...)`: never the import time, so the writer is told instead."""
    shown = _clip(title, 80)
    if date_text:
        why = f"{_clip(_one_line(date_text), 80)!r} is not a date we can read"
    else:
        why = "the source gives none"
    return f"{NO_DATE_PREFIX}“{shown}” ({why}); set it under Posts in the author pages"


def stable_id(kind: str, value: str) -> str:
    """A GUID that is the same every time the same value is imported."""
    return f"{kind}:sha256:{hashlib.sha256(value.encode('utf-8')).hexdigest()[:40]}"


def as_utc(value: datetime | None) -> datetime | None:
    """`value` as an aware UTC datetime; a naive value is taken to be UTC already; None stays None."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # a source with no zone: UTC is the only fair guess
    return value.astimezone(UTC)


def clean_categories(names: Iterable[str]) -> tuple[str, ...]:
    """Category names with mojibake repaired, whitespace collapsed and each cut to 200
    characters; empty names dropped, duplicates dropped keeping the first's position.
    """
    seen: dict[str, None] = {}
    for name in names:
        cleaned = " ".join(repair_mojibake(name).split())[:200]
        if cleaned:
            seen.setdefault(cleaned, None)
    return tuple(seen)


def _one_line(value: str | None) -> str:
    """Plain text fields (title, author) on one line, whitespace collapsed."""
    return " ".join(repair_mojibake(value or "").split())


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"
