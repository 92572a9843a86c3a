"""HTML fragments that go inside an email: sanitized post HTML and author Markdown.

Everything here is data. Markdown is rendered with raw HTML disabled, and every
fragment goes through nh3 with an allowlist that suits mail clients, so what a
feed or an author supplies can never add scripts, forms or styles.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

import nh3
from markdown_it import MarkdownIt

from .chars import drop_invalid_chars
from .placeholders import neutralize

_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "cite", "code", "del", "div", "em",
        "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
        "ins", "li", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub",
        "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
    }
)  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height", "title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "ol": {"start"},
}
_SCHEMES = frozenset({"http", "https", "mailto"})
# The content column is 600px minus side padding; wider fixed widths break Outlook.
_MAX_IMG_WIDTH = 552
_IMG_WITHOUT_ALT = re.compile(r"<img(?![^>]*\salt=)")


def sanitize_html(html: str, *, base_url: str | None = None) -> str:
    """Allowlisted, absolute-linked HTML with every <img> carrying an alt."""

    def attribute_filter(tag: str, attr: str, value: str) -> str | None:
        if attr in ("href", "src"):
            url = urljoin(base_url, value.strip()) if base_url else value.strip()
            return url if urlsplit(url).scheme.lower() in _SCHEMES else None
        if tag == "img" and attr in ("width", "height"):
            # Unknown or too wide: let max-width:100% size the image instead.
            return value if value.isdigit() and int(value) <= _MAX_IMG_WIDTH else None
        return value

    clean = nh3.clean(
        drop_invalid_chars(html),
        tags=set(_TAGS),
        clean_content_tags={"script", "style", "template", "noscript"},
        attributes=_ATTRIBUTES,
        attribute_filter=attribute_filter,
        url_schemes=set(_SCHEMES),
        link_rel=None,
    )
    return neutralize(_IMG_WITHOUT_ALT.sub('<img alt=""', clean))


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # "html": False makes raw HTML in Markdown plain text, so it is escaped.
    md = MarkdownIt("commonmark", {"html": False, "typographer": True})
    return md.enable(["table", "strikethrough", "replacements", "smartquotes"])


def markdown_to_html(text: str) -> str:
    """Author Markdown (intro, outro) as safe HTML; raw HTML in the source stays text."""
    if not text.strip():
        return ""
    return sanitize_html(_markdown().render(drop_invalid_chars(text)))
