"""Tracking written into a content variant at render time: links rewritten, pixel added.

`track_variant` runs once per variant (newsletter/sends/variants.py), never per
recipient. Each trackable link of the HTML part (`<a href>`) becomes
`BASE/c/%%nl~track~%%.LINK.MAC`, and the same URL in the text part the same; the
pixel `<img src="BASE/o/%%nl~track~%%.gif">` takes the place of the open-pixel
placeholder. The only per-recipient part is the `track` placeholder, filled with
the delivery's token by the message byte join (tokens.py).

Never rewritten: links to our own site (BASE_URL: the archive, the home page, the
unsubscribe and preferences pages), placeholders, anything that is not http(s)
(mailto:, tel:, #anchors), and URLs with whitespace or control characters or
longer than a `links` row holds (they stay as written).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.models import Link
from newsletter.render.content import RenderedEmail
from newsletter.render.placeholders import OPEN, placeholder

from .tokens import link_part

MAX_URL = 2000  # links.url
TRACK = placeholder("track", html=False)
_PIXEL_MARKER = placeholder("open_pixel", html=False)
# After mjml_to_html no raw `>` is left inside an attribute value (pipeline.py), so a tag
# ends at the first `>`; values are double-quoted with `&` escaped (css-inline's output).
_ANCHOR = re.compile(r"<a\b[^>]*>", re.IGNORECASE)
_HREF = re.compile(r'(\shref=")([^"]*)(")', re.IGNORECASE)
_TEXT_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]'"
_UNSAFE = re.compile(r"[\x00-\x20\x7f]")


def trackable(url: str, base_url: str) -> bool:
    """Whether a link may be rewritten (see the module docstring for what is not)."""
    lowered = url.lower()
    if not lowered.startswith(("http://", "https://")) or OPEN in url:
        return False
    if len(url) > MAX_URL or _UNSAFE.search(url):
        return False
    own = base_url.rstrip("/").lower()
    rest = lowered[len(own) :]
    return not (lowered.startswith(own) and (rest == "" or rest[0] in "/?#"))


def html_links(rendered: RenderedEmail, base_url: str) -> list[str]:
    """The trackable link URLs of the HTML part, in order of first appearance."""
    found: dict[str, None] = {}
    for tag in _ANCHOR.finditer(rendered.html):
        href = _HREF.search(tag.group(0))
        if href is not None:
            url = html.unescape(href.group(2))
            if trackable(url, base_url):
                found.setdefault(url, None)
    return list(found)


def register(session: Session, issue_id: int, urls: Sequence[str]) -> dict[str, int]:
    """The `links` row id of each URL of an issue, inserting the missing ones (commits).

    Two workers rendering the same variant at once insert each URL once (the UNIQUE
    (issue_id, url) key); committed before any message carrying the ids is sent.
    """
    if not urls:
        return {}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert  # type: ignore[assignment]
    wanted = list(dict.fromkeys(urls))
    known = _ids(session, issue_id, wanted)
    missing = [u for u in wanted if u not in known]
    if missing:
        session.execute(
            dialect_insert(Link).on_conflict_do_nothing(index_elements=["issue_id", "url"]),
            [{"issue_id": issue_id, "url": u} for u in missing],
        )
        known = _ids(session, issue_id, wanted)
    session.commit()
    return known


def _ids(session: Session, issue_id: int, urls: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(urls), 500):  # bounded IN lists
        chunk = urls[start : start + 500]
        rows = session.execute(
            select(Link.url, Link.id).where(Link.issue_id == issue_id, Link.url.in_(chunk))
        ).all()
        found.update(
            dict(rows)
        )  # a list of rows (pairs); dict() of the Result would read its keys()
    return found


def click_url(settings: Settings, link_id: int) -> str:
    """The rewritten link, with the per-recipient token left as a placeholder."""
    return f"{settings.base_url}/c/{TRACK}.{link_part(settings, link_id)}"


def pixel_html(settings: Settings) -> str:
    """The open-tracking pixel: a 1x1 <img> of `{base_url}/o/<token>.gif`, the per-recipient
    token left as the `track` placeholder; shown as a block so it adds no line height.
    """
    return (
        f'<img src="{settings.base_url}/o/{TRACK}.gif" width="1" height="1" alt="" '
        'style="display:block;width:1px;height:1px;border:0;">'
    )


def rewrite(
    rendered: RenderedEmail, settings: Settings, link_ids: Mapping[str, int]
) -> RenderedEmail:
    """The variant with its links rewritten and the pixel in place (no database)."""

    def anchor(match: re.Match[str]) -> str:
        def href(h: re.Match[str]) -> str:
            link_id = link_ids.get(html.unescape(h.group(2)))
            if link_id is None:
                return h.group(0)
            return f"{h.group(1)}{html.escape(click_url(settings, link_id))}{h.group(3)}"

        return _HREF.sub(href, match.group(0), count=1)

    def text_url(match: re.Match[str]) -> str:
        url = match.group(0)
        stripped = url.rstrip(_TRAILING)
        for candidate in (url, stripped):
            link_id = link_ids.get(candidate)
            if link_id is not None:
                return click_url(settings, link_id) + url[len(candidate) :]
        return url

    body = _ANCHOR.sub(anchor, rendered.html)
    pixel = pixel_html(settings)
    if _PIXEL_MARKER in body:
        body = body.replace(_PIXEL_MARKER, pixel)
    else:
        at = body.lower().rfind("</body>")
        body = body[:at] + pixel + body[at:] if at >= 0 else body + pixel
    text = _TEXT_URL.sub(text_url, rendered.text)
    return replace(rendered, html=body, text=text)


def track_variant(
    session: Session, settings: Settings, rendered: RenderedEmail, *, issue_id: int
) -> RenderedEmail:
    """Register the variant's links for the issue and rewrite them (commits)."""
    link_ids = register(session, issue_id, html_links(rendered, settings.base_url))
    return rewrite(rendered, settings, link_ids)
