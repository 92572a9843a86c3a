"""A mail-client lint for rendered HTML: what Gmail, Outlook and Apple Mail punish.

`check_email_html(html)` returns human-readable problems (empty list = fine). It is
used by tests and can back an author-facing preview warning.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from .placeholders import OPEN

#: Gmail clips messages whose HTML is larger than about 102 KB.
GMAIL_CLIP_BYTES = 102 * 1024

# Elements that carry visible text styling; clients that drop <head> styles (Gmail
# apps with non-Google accounts, many webmails) only keep inline style attributes.
_NEEDS_INLINE_STYLE = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "a", "ul", "ol", "li", "blockquote", "pre",
     "img", "table", "td", "th"}
)  # fmt: skip
_FORBIDDEN = {
    "script": "<script> is stripped or blocked by every mail client",
    "iframe": "<iframe> is not rendered by mail clients",
    "object": "<object> is not rendered by mail clients",
    "embed": "<embed> is not rendered by mail clients",
    "form": "<form> is blocked or broken in most mail clients",
    "input": "<input> is blocked or broken in most mail clients",
    "base": "<base> changes every link and is stripped by webmail",
    "mj-": "unrendered MJML tag",
}
_URL_OK = re.compile(r"^(https?:|mailto:|cid:|#)", re.IGNORECASE)
_IMPORT = re.compile(r"@import\b", re.IGNORECASE)


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.in_body = False
        self.in_style = False

    def _add(self, problem: str) -> None:
        if problem not in self.problems:
            self.problems.append(problem)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, reason in _FORBIDDEN.items():
            if tag == name or (name.endswith("-") and tag.startswith(name)):
                self._add(f"<{tag}>: {reason}")
        if tag == "body":
            self.in_body = True
        elif tag == "style":
            self.in_style = True
        elif tag == "link" and "stylesheet" in (values.get("rel") or "").lower():
            self._add(f"external stylesheet <link href={values.get('href')!r}> is dropped")
        if tag == "img" and "alt" not in values:
            self._add(f"<img src={values.get('src')!r}> has no alt text")
        for name, value in attrs:
            if name.startswith("on"):
                self._add(f"<{tag} {name}=...>: event handlers are stripped")
            if name in ("href", "src") and value is not None:
                self._check_url(tag, name, value)
        if self.in_body and tag in _NEEDS_INLINE_STYLE and not (values.get("style") or "").strip():
            self._add(f"<{tag}> in the body has no inline style")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def _check_url(self, tag: str, name: str, value: str) -> None:
        value = value.strip()
        if value.startswith(OPEN):
            return  # a per-recipient placeholder, filled with an absolute URL later
        if not _URL_OK.match(value):
            self._add(f"<{tag} {name}={value[:60]!r}>: not an absolute http(s)/mailto URL")

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self.in_style = False
        elif tag == "body":
            self.in_body = False

    def handle_data(self, data: str) -> None:
        if self.in_style and _IMPORT.search(data):
            self._add("@import in <style>: remote CSS is not loaded by mail clients")


def check_email_html(html: str) -> list[str]:
    """Problems that would break or degrade this HTML in common mail clients."""
    checker = _Checker()
    size = len(html.encode("utf-8"))
    if size > GMAIL_CLIP_BYTES:
        checker.problems.append(f"HTML is {size} bytes; Gmail clips above {GMAIL_CLIP_BYTES}")
    if "<body" not in html.lower():
        checker.problems.append("no <body>")
    checker.feed(html)
    checker.close()
    return checker.problems
