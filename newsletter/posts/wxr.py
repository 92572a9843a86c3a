"""WordPress export files (WXR): published posts with their category tree."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from xml.etree.ElementTree import Element

from .dates import parse_date
from .errors import PostImportError
from .links import first_absolute
from .parsed import ParsedPost, make_post
from .wordpress import Attachment, render_content
from .xmlsafe import load_xml, local, root_position

_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"


def parse_wxr(
    data: bytes, *, content_type: str | None = None, base_url: str | None = None
) -> list[ParsedPost]:
    """Published posts of a WordPress export (WXR: RSS 2.0 with the `wp:` namespace), their
    content rendered as WordPress shows it; pages, attachments, drafts and trash are skipped.

    Relative links resolve against `xml:base`, then the export's `wp:base_site_url`,
    then the channel link, then `base_url` (the file's own address, from the caller).
    Raises PostImportError (with a line and column) when the XML is not safe and well
    formed (see xmlsafe.load_xml) or the root is not <rss><channel>.
    """
    root, prepared = load_xml(data, content_type=content_type)
    channel = _child(root, "channel")
    if local(root.tag) != "rss" or channel is None:
        raise PostImportError(
            "not a WordPress export: expected <rss><channel>", position=root_position(prepared)
        )
    site = first_absolute(
        channel.get(_XML_BASE),
        _text(channel, "base_site_url"),
        _text(channel, "base_blog_url"),
        _text(channel, "link"),
        base_url,
    )
    categories = _category_names(channel)
    attachments = _attachments(channel)
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
        rendered = render_content(
            _text(item, "encoded", namespace="content"),
            post_id=_text(item, "post_id"),
            attachments=attachments,
        )
        posts.append(
            make_post(
                guid=_text(item, "guid") or None,
                title=_text(item, "title"),
                url=_text(item, "link") or None,
                author=authors.get(creator) or creator or None,
                published_at=_date(item),
                date_text=_date_text(item),
                categories=[
                    categories.get(c.get("nicename", ""), _term(c.text or ""))
                    for c in _children(item, "category")
                    if c.get("domain", "category") == "category"
                ],
                html=rendered.html,
                summary=excerpt or None,
                slug_hint=_text(item, "post_name") or None,
                base_url=first_absolute(item.get(_XML_BASE), site),
                warnings=rendered.warnings,
            )
        )
    return posts


def _category_names(channel: Element) -> dict[str, str]:
    """nicename -> full name; a child of `AI` named `LLMs` becomes `AI: LLMs`.

    Blogs that already name children `AI: LLMs` keep that name as it is.
    """
    raw = {
        _text(c, "category_nicename"): (_term(_text(c, "cat_name")), _text(c, "category_parent"))
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


def _term(name: str) -> str:
    """WordPress stores term names HTML-escaped (`Tools &amp; Tips`, `Pat&#8217;s`);
    its feeds print them decoded, so the export and the feed must agree on the decoded
    name. Unescaped twice at most: some exports escape the ampersand again."""
    once = html.unescape(name.strip())
    return html.unescape(once) if "&" in once else once


def _attachments(channel: Element) -> dict[str, Attachment]:
    """wp:post_id -> the media item, for `[gallery ids=...]` and galleries of a post."""
    found: dict[str, Attachment] = {}
    for item in _children(channel, "item"):
        if _text(item, "post_type") != "attachment":
            continue
        url = _text(item, "attachment_url") or _text(item, "guid")
        if not url:
            continue
        alt = next(
            (
                _text(meta, "meta_value")
                for meta in _children(item, "postmeta")
                if _text(meta, "meta_key") == "_wp_attachment_image_alt"
            ),
            "",
        )
        found[_text(item, "post_id")] = Attachment(
            url=url,
            alt=alt or _text(item, "title"),
            caption=_text(item, "encoded", namespace="excerpt"),
            parent=_text(item, "post_parent"),
        )
    return found


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
