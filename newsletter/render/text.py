"""HTML fragments to readable plain text for the text/plain part.

Headings are underlined, paragraphs wrapped at 72 columns, lists bulleted,
quotes prefixed with "> ", and links become numbered references ("text [1]")
listed once at the end of the email, the way careful plain-text newsletters do.
Entities are decoded by the parser; no tag survives.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from html.parser import HTMLParser

WIDTH = 72

_BLOCKS = frozenset(
    {
        "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote",
        "pre", "hr", "table", "tr", "figure", "figcaption", "thead", "tbody", "tfoot",
    }
)  # fmt: skip
_SPACE = re.compile(r"[ \t\n\r\f\v]+")
_BR = "\x1e"  # stands for <br> until wrapping; whitespace collapsing leaves it alone


@dataclass
class LinkRefs:
    """Numbered link references shared by every fragment of one email."""

    urls: list[str] = field(default_factory=list)

    def number(self, url: str) -> int:
        """The 1-based reference number of `url`, adding it at the end when it is new."""
        if url not in self.urls:
            self.urls.append(url)
        return self.urls.index(url) + 1

    def render(self) -> str:
        """The reference list, one `[N] URL` line each, numbers right-aligned; "" when empty."""
        width = len(str(len(self.urls)))
        return "\n".join(f"[{i:>{width}}] {u}" for i, u in enumerate(self.urls, 1))


def wrap(text: str, first: str = "", rest: str = "") -> str:
    """Wrap one paragraph; URLs and long words are never broken."""
    return textwrap.fill(
        text,
        WIDTH,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )


class _TextWriter(HTMLParser):
    def __init__(self, refs: LinkRefs) -> None:
        super().__init__(convert_charrefs=True)
        self.refs = refs
        # Finished blocks with their quote depth and whether they are list items.
        self.out: list[tuple[str, int, bool]] = []
        self.inline: list[str] = []
        self.quote = 0
        self.lists: list[list[int]] = []  # per open list: [next number] or [] for bullets
        self.bullet: str | None = None  # marker waiting for the next paragraph
        self.pre = 0
        self.heading: str | None = None
        self.links: list[tuple[str, int]] = []  # open <a>: (href, position in inline)

    # Blocks ----------------------------------------------------------------
    def _prefix(self) -> tuple[str, str]:
        quote = "> " * self.quote
        depth = max(len(self.lists) - 1, 0)
        if self.bullet is not None:
            indent = "  " * depth
            return quote + indent + self.bullet, quote + indent + " " * len(self.bullet)
        if self.lists:
            pad = "  " * depth + "   "
            return quote + pad, quote + pad
        return quote, quote

    def _flush(self) -> None:
        raw = "".join(self.inline)
        self.inline = []
        if self.pre:
            return
        text = _SPACE.sub(" ", raw).strip()
        if not text:
            return
        first, rest = self._prefix()
        self.bullet = None
        lines: list[str] = []
        for part in text.split(_BR):
            lines.append(wrap(part.strip(), first, rest) if part.strip() else first.rstrip())
            first = rest
        block = "\n".join(lines)
        if self.heading is not None:
            underline = "=" if self.heading in ("h1", "h2") else "-"
            width = min(max(len(line) for line in lines), WIDTH)
            block = f"{block}\n{first.rstrip() if self.quote else ''}{underline * width}"
        self._emit(block)

    def _emit(self, block: str) -> None:
        self.out.append((block, self.quote, bool(self.lists)))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self._flush()
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.heading = tag
        elif tag == "blockquote":
            self.quote += 1
        elif tag in ("ul", "ol"):
            start = dict(attrs).get("start") or "1"
            self.lists.append([int(start)] if tag == "ol" and start.isdigit() else [])
        elif tag == "li":
            counter = self.lists[-1] if self.lists else []
            if counter:
                self.bullet = f"{counter[0]}. "
                counter[0] += 1
            else:
                self.bullet = "* "
        elif tag == "pre":
            self.pre += 1
        elif tag == "br":
            self.inline.append("\n" if self.pre else _BR)
        elif tag == "hr":
            self._emit("-" * 24)
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt:
                self.inline.append(f"[{alt}]")
        elif tag == "a":
            href = (dict(attrs).get("href") or "").strip()
            self.links.append((href, len(self.inline)))
        elif tag in ("td", "th"):
            self.inline.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.links:
            href, start = self.links.pop()
            label = _SPACE.sub(" ", "".join(self.inline[start:])).strip()
            if href:
                self.inline.append(self._link_suffix(href, label))
            return
        if tag == "pre" and self.pre:
            self.pre -= 1
            if not self.pre:
                body = "".join(self.inline).strip("\n")
                self.inline = []
                if body:
                    quote = "> " * self.quote
                    self._emit("\n".join(f"{quote}    {line}" for line in body.split("\n")))
            return
        if tag in _BLOCKS:
            self._flush()
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.heading = None
        elif tag == "blockquote" and self.quote:
            self.quote -= 1
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        elif tag == "li":
            self.bullet = None

    def _link_suffix(self, href: str, label: str) -> str:
        shown = href.removeprefix("mailto:")
        if not label:
            return shown
        if label in (href, shown) or label.rstrip("/") == href.rstrip("/"):
            return ""  # the visible text already is the address
        return f" [{self.refs.number(href)}]"

    def handle_data(self, data: str) -> None:
        self.inline.append(data)

    def text(self) -> str:
        self.close()
        self._flush()
        parts: list[str] = []
        previous: tuple[str, int, bool] | None = None
        for block in self.out:
            if previous is not None:
                if previous[2] and block[2]:
                    parts.append("\n")  # list items stay together
                else:
                    # A blank line inside a quote keeps its ">" so the quote reads as one.
                    parts.append("\n" + ("> " * min(previous[1], block[1])).rstrip() + "\n")
            parts.append(block[0])
            previous = block
        return "".join(parts)


def html_to_text(html: str, refs: LinkRefs) -> str:
    """Readable text for one sanitized HTML fragment; its links join `refs`."""
    writer = _TextWriter(refs)
    writer.feed(html)
    return writer.text()
