"""RSS 2.0 / RSS 1.0 / Atom feeds, read by feedparser after the safe XML check."""

from __future__ import annotations

import html
import io
from calendar import timegm
from datetime import UTC, datetime
from typing import Any

import feedparser

from .cleaning import autop, html_to_text, paragraphs_to_html
from .dates import parse_date
from .errors import PostImportError
from .links import first_absolute, resolve_url
from .parsed import ParsedPost, make_post
from .xmlsafe import load_xml, local, root_position


def parse_feed(
    data: bytes, *, content_type: str | None = None, base_url: str | None = None
) -> list[ParsedPost]:
    """Entries of an RSS 2.0, RSS 1.0 (RDF) or Atom (RFC 4287) feed, in document order.

    `base_url` is the feed's own address (the final URL after redirects, or the user's
    --base-url). Relative links resolve against the enclosing `xml:base`, then `base_url`,
    then the channel's link. Raises PostImportError (with a line and column) when the
    document is not safe, well-formed XML (see xmlsafe.load_xml) or its root is not <rss>,
    <rdf:RDF> or <feed>.
    """
    # Well-formed and free of entity tricks, or an error with a position; `prepared` is
    # the same document as UTF-8 with HTML entities as numeric references.
    root, prepared = load_xml(data, content_type=content_type)
    if local(root.tag) not in ("rss", "RDF", "feed"):
        raise PostImportError(
            f"not an RSS or Atom feed: the document's root element is <{local(root.tag)}>",
            position=root_position(prepared),
        )
    headers = {"content-type": "application/xml; charset=utf-8"}
    if base_url:
        headers["content-location"] = base_url  # feedparser's base for xml:base and links
    # A stream, never bytes or str: feedparser would treat those as a path or URL to open.
    # Content links are resolved by make_post (feedparser leaves srcset relative).
    parsed = feedparser.parse(
        io.BytesIO(prepared),
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    # feedparser has joined each link onto the xml:base around it; what stays relative
    # still needs the feed's address or, failing that, the link the channel gives.
    site = first_absolute(base_url, parsed.feed.get("link"))
    return [_entry(entry, site) for entry in parsed.entries]


def _entry(entry: Any, site: str | None) -> ParsedPost:
    body, summary, content_base = _body(entry)
    title_detail = entry.get("title_detail") or {}
    title = entry.get("title", "")
    if "html" in title_detail.get("type", ""):
        title = html_to_text(title)
    author_detail = entry.get("author_detail") or {}
    # dict.get: feedparser's own get() maps updated <-> published with a DeprecationWarning.
    date_text = dict.get(entry, "published") or dict.get(entry, "updated")
    published = _date(dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed"))
    return make_post(
        guid=entry.get("id"),
        title=title,
        url=resolve_url(entry.get("link"), site) or entry.get("link"),
        author=author_detail.get("name") or entry.get("author"),
        # feedparser reads RFC 822 and ISO dates; other languages are ours to read.
        published_at=published or parse_date(date_text),
        date_text=date_text,
        categories=[t.get("term") or t.get("label") or "" for t in entry.get("tags", [])],
        html=body,
        summary=summary,
        base_url=first_absolute(content_base, site),
    )


def _body(entry: Any) -> tuple[str, str | None, str | None]:
    """(body HTML, summary, the body's xml:base) preferring full content over the summary."""
    summary = entry.get("summary")
    contents = entry.get("content") or []
    chosen = next((c for c in contents if "html" in c.get("type", "")), None)
    chosen = chosen or (contents[0] if contents else None)
    if chosen is None:
        detail = entry.get("summary_detail") or {}
        html_ = _as_html(summary or "", detail.get("type", "text/html"))
        return html_, None, detail.get("base")
    return (
        _as_html(chosen.get("value", ""), chosen.get("type", "text/html")),
        summary,
        chosen.get("base"),
    )


def _as_html(value: str, media_type: str) -> str:
    if "html" in media_type:
        return autop(value)  # RSS descriptions are often bare text marked as HTML
    return paragraphs_to_html(value) if value.strip() else html.escape(value)


def _date(value: Any) -> datetime | None:
    if not value:
        return None
    # feedparser hands out UTC struct_time values.
    return datetime.fromtimestamp(timegm(value), tz=UTC)
