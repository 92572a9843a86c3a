"""WordPress export files (WXR): published posts with their category tree."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree.ElementTree import Element

from .cleaning import autop
from .dates import parse_date
from .errors import PostImportError
from .parsed import ParsedPost, make_post
from .xmlsafe import load_xml, local, root_position


def parse_wxr(data: bytes, *, content_type: str | None = None) -> list[ParsedPost]:
    root, prepared = load_xml(data, content_type=content_type)
    channel = _child(root, "channel")
    if local(root.tag) != "rss" or channel is None:
        raise PostImportError(
            "not a WordPress export: expected <rss><channel>", position=root_position(prepared)
        )
    categories = _category_names(channel)
    authors = {
        _text(a, "author_login"): _text(a, "author_display_name")
        for a in _children(channel, "author")
    }
    posts = []
    for item in _children(channel, "item"):
        if _text(item, "post_type") not in ("", "post") or _text(item, "status") not in (
            "",
            "publish",
        ):
            continue  # pages, attachments, menus, drafts and trash are not newsletter posts
        creator = _text(item, "creator")
        excerpt = _text(item, "encoded", namespace="excerpt")
        posts.append(
            make_post(
                guid=_text(item, "guid") or None,
                title=_text(item, "title"),
                url=_text(item, "link") or None,
                author=authors.get(creator) or creator or None,
                published_at=_date(item),
                date_text=_date_text(item),
                categories=[
                    categories.get(c.get("nicename", ""), (c.text or "").strip())
                    for c in _children(item, "category")
                    if c.get("domain", "category") == "category"
                ],
                html=autop(_text(item, "encoded", namespace="content")),
                summary=excerpt or None,
                slug_hint=_text(item, "post_name") or None,
            )
        )
    return posts


def _category_names(channel: Element) -> dict[str, str]:
    """nicename -> full name; a child of `AI` named `LLMs` becomes `AI: LLMs`.

    Blogs that already name children `AI: LLMs` keep that name as it is.
    """
    raw = {
        _text(c, "category_nicename"): (_text(c, "cat_name"), _text(c, "category_parent"))
        for c in _children(channel, "category")
    }
    full: dict[str, str] = {}

    def resolve(nicename: str, depth: int = 0) -> str:
        if nicename in full:
            return full[nicename]
        name, parent = raw[nicename]
        if parent in raw and parent != nicename and depth < 20:  # depth: cycles in bad exports
            prefix = resolve(parent, depth + 1)
            if not name.startswith(prefix + ":"):
                name = f"{prefix}: {name}"
        full[nicename] = name
        return name

    for nicename in raw:
        resolve(nicename)
    return full


def _date(item: Element) -> datetime | None:
    gmt = _text(item, "post_date_gmt")
    if gmt and not gmt.startswith("0000"):
        try:
            return datetime.fromisoformat(gmt).replace(tzinfo=UTC)
        except ValueError:
            pass
    # pubDate may be in the site's language; post_date is local time with no zone.
    return parse_date(_text(item, "pubDate")) or parse_date(_date_text(item))


def _date_text(item: Element) -> str | None:
    """The date as the export wrote it, for the warning when it cannot be read."""
    for name in ("pubDate", "post_date", "post_date_gmt"):
        text = _text(item, name)
        if text and not text.startswith("0000"):
            return text
    return None


def _children(parent: Element, name: str) -> list[Element]:
    return [c for c in parent if local(c.tag) == name]


def _child(parent: Element, name: str, namespace: str | None = None) -> Element | None:
    for c in parent:
        if local(c.tag) == name and (namespace is None or f"/{namespace}/" in c.tag):
            return c
    return None


def _text(parent: Element, name: str, *, namespace: str | None = None) -> str:
    found = _child(parent, name, namespace)
    return (found.text or "").strip() if found is not None else ""
