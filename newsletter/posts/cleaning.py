"""HTML in, safe HTML and plain text out: the allow-list every import goes through."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import nh3

EXCERPT_WORDS = 50

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "dl",
    "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
    "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "strong",
    "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "srcset", "alt", "title", "width", "height"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}
# Dropped together with their content: their text is code or chrome, not prose.
_DROP_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "noscript", "template"}
_SCHEMES = {"http", "https", "mailto"}

_BLOCK_END = re.compile(r"(?i)<br\s*/?>|</(?:p|div|li|h[1-6]|blockquote|pre|tr|figcaption)>")
_SPACE = re.compile(r"\s+")


def clean_html(markup: str, *, base_url: str | None = None) -> str:
    """Keep formatting and links; drop scripts, handlers, styles, frames, odd schemes.

    Relative links are made absolute against the post's URL because an email
    client has no page to resolve them against.
    """
    relative: object = "pass_through"
    if base_url and urlsplit(base_url).scheme in ("http", "https"):
        relative = ("rewrite_with_base", base_url)
    return nh3.clean(
        markup,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        clean_content_tags=_DROP_WITH_CONTENT,
        url_schemes=_SCHEMES,
        url_relative=relative,  # type: ignore[arg-type]
        attribute_filter=_filter_attribute,
    ).strip()


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """nh3 checks the schemes of href and src but not of srcset: keep http(s) candidates
    and relative ones (the importer resolves those or drops them, see links.py)."""
    if attribute != "srcset":
        return value
    kept = [c.strip() for c in value.split(",") if c.strip() and _web_or_relative(c.split()[0])]
    return ", ".join(kept) or None


def _web_or_relative(url: str) -> bool:
    try:
        return urlsplit(url).scheme in ("", "http", "https")
    except ValueError:  # `http://[oops`
        return False


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment, whitespace collapsed."""
    spaced = _BLOCK_END.sub(" ", markup)
    stripped = nh3.clean(spaced, tags=set(), clean_content_tags=_DROP_WITH_CONTENT)
    return _SPACE.sub(" ", html.unescape(stripped)).strip()


def make_excerpt(text: str, *, words: int = EXCERPT_WORDS) -> str:
    """The first `words` words of plain text, cut between words."""
    parts = text.split()
    if len(parts) <= words:
        return " ".join(parts)
    return " ".join(parts[:words]).rstrip(",;:-–—") + "…"


def paragraphs_to_html(text: str) -> str:
    """Plain text with blank-line paragraphs as HTML (WordPress's wpautop, simplified).

    Bullet lines become a list; a short single line with no closing punctuation
    between paragraphs reads as a heading.
    """
    blocks = [b for b in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if b.strip()]
    out: list[str] = []
    for block in blocks:
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if all(line[0] in "•*·-–" and len(line) > 1 for line in lines):
            items = "".join(f"<li>{html.escape(line[1:].strip())}</li>" for line in lines)
            if out and out[-1].endswith("</ul>"):
                out[-1] = out[-1][: -len("</ul>")] + items + "</ul>"  # a loose list is one list
            else:
                out.append(f"<ul>{items}</ul>")
        elif len(lines) == 1 and _looks_like_heading(lines[0]):
            out.append(f"<h3>{html.escape(lines[0])}</h3>")
        else:
            out.append("<p>" + "<br>".join(html.escape(line) for line in lines) + "</p>")
    return "\n".join(out)


def has_block_markup(markup: str) -> bool:
    """True when `markup` has a block-level HTML tag (p, div, lists, headings, blockquote, pre,
    table, figure), i.e. it needs no paragraphs added (autop).
    """
    return (
        re.search(r"(?i)<(?:p|div|ul|ol|h[1-6]|blockquote|pre|table|figure)\b", markup) is not None
    )


def _looks_like_heading(line: str) -> bool:
    return len(line) <= 80 and line[-1] not in ".:;,!?…\"'”’" and len(line.split()) <= 10


def autop(markup: str) -> str:
    """WordPress stores posts without <p>: blank lines are paragraphs, newlines breaks."""
    if has_block_markup(markup):
        return markup
    blocks = [b.strip() for b in re.split(r"\n\s*\n", markup.replace("\r\n", "\n")) if b.strip()]
    return "\n".join("<p>" + block.replace("\n", "<br>\n") + "</p>" for block in blocks)
