"""Relative links made absolute, or turned into text with a warning.

An email has no page address to resolve `/blog/photos/` or `img/a.jpg` against, so every
`href`, `src` and `srcset` must be absolute before a post is stored. The base comes from
the source (RFC 3986 section 5.1: the enclosing `xml:base`, then the document's own
address, then an address the document names for itself); when there is none, a link
keeps only its text and an image only its alt text, and the import reports it.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from html.parser import HTMLParser
from urllib.parse import SplitResult, urljoin, urlsplit

WEB_SCHEMES = ("http", "https")
_LINK_SCHEMES = ("http", "https", "mailto")


def first_absolute(*candidates: str | None) -> str | None:
    """The first candidate that is an absolute http(s) URL, joined onto the ones before.

    `first_absolute(xml_base, feed_url, channel_link)`: a relative `xml:base` counts once
    it is joined onto a later absolute one, as XML Base says.
    """
    relative: list[str] = []
    for candidate in candidates:
        value = (candidate or "").strip()
        if not value:
            continue
        if is_web_url(value):
            for rel in reversed(relative):
                value = urljoin(value, rel)
            return value
        relative.append(value)
    return None


def is_web_url(value: str) -> bool:
    """True for an absolute URL with a web scheme (WEB_SCHEMES) and a host; never raises."""
    parts = _split(value)
    return parts is not None and parts.scheme.lower() in WEB_SCHEMES and bool(parts.netloc)


def resolve_url(
    value: str | None, base: str | None, *, schemes: Iterable[str] = WEB_SCHEMES
) -> str | None:
    """`value` as an absolute URL with one of `schemes`, or None when that cannot be.

    Whitespace inside is dropped; a relative reference is joined onto an http(s) `base`
    (RFC 3986 section 5.2, urljoin); a protocol-relative `//host/...` with no base gets
    https. `mailto:` needs no host. Never raises.
    """
    value = "".join((value or "").split())  # line breaks inside attributes happen
    parts = _split(value)
    if not value or parts is None:
        return None
    scheme = parts.scheme.lower()
    if scheme:
        return value if scheme in schemes and (scheme == "mailto" or parts.netloc) else None
    if base and is_web_url(base):
        joined = urljoin(base, value)
        return joined if is_web_url(joined) else None
    if value.startswith("//") and is_web_url("https:" + value):
        return "https:" + value  # protocol-relative: every mail client fetches over https
    return None


def _split(value: str) -> SplitResult | None:
    """urlsplit, or None for what it refuses (`http://[oops/` raises ValueError)."""
    try:
        return urlsplit(value)
    except ValueError:
        return None


def resolve_links(markup: str, base: str | None) -> tuple[str, list[str]]:
    """(HTML with every link and image absolute, warnings for what could not be).

    A link with no resolvable target becomes its text; an image with no resolvable
    source becomes its alt text; `srcset` keeps only the candidates that resolve.
    """
    rewriter = _Rewriter(base)
    rewriter.feed(markup)
    rewriter.close()
    return "".join(rewriter.out), rewriter.warnings


class _Rewriter(HTMLParser):
    def __init__(self, base: str | None) -> None:
        super().__init__(convert_charrefs=False)
        self.base = base
        self.out: list[str] = []
        self.warnings: list[str] = []
        self.open_links: list[bool] = []  # per <a>: kept (True) or unwrapped (False)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs, closed=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs, closed=True)

    def _tag(self, tag: str, attrs: list[tuple[str, str | None]], *, closed: bool) -> None:
        values = dict(attrs)
        if tag == "a":
            href = values.get("href")
            target = resolve_url(href, self.base, schemes=_LINK_SCHEMES)
            if target is None:
                if href and href.strip():
                    self.warnings.append(f"link to {_short(href)} {_why(href)}; kept its text")
                if not closed:
                    self.open_links.append(False)
                return
            if not closed:
                self.open_links.append(True)
            self.out.append(_start(tag, _replace(attrs, {"href": target}), closed))
        elif tag == "img":
            src = resolve_url(values.get("src"), self.base)
            srcset = self._srcset(values.get("srcset"))
            if src is None and srcset:
                src = srcset.split(",")[0].split()[0]  # the first candidate stands in
            if src is None:
                alt = (values.get("alt") or "").strip()
                what = _short(values.get("src") or values.get("srcset") or "")
                self.warnings.append(
                    f"image {what or 'with no source'} {_why(what)};"
                    + (f' kept its alt text "{alt}"' if alt else " dropped it")
                )
                if alt:
                    self.out.append(html.escape(alt, quote=False))
                return
            self.out.append(_start(tag, _replace(attrs, {"src": src, "srcset": srcset}), closed))
        else:
            self.out.append(self.get_starttag_text() or "")

    def _srcset(self, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        kept: list[str] = []
        for candidate in value.split(","):
            parts = candidate.split()
            if not parts:
                continue
            url = resolve_url(parts[0], self.base)
            if url is None:
                self.warnings.append(
                    f"image candidate {_short(parts[0])} in srcset has no address it can be"
                    " resolved against; left it out"
                )
                continue
            kept.append(" ".join([url, *parts[1:2]]))
        return ", ".join(kept) or None

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.open_links and not self.open_links.pop():
            return
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.out.append(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        pass  # comments never reach an email

    def handle_decl(self, decl: str) -> None:
        pass

    def unknown_decl(self, data: str) -> None:
        pass

    def handle_pi(self, data: str) -> None:
        pass


def _replace(
    attrs: list[tuple[str, str | None]], changes: dict[str, str | None]
) -> list[tuple[str, str | None]]:
    out = [(k, changes.get(k, v)) for k, v in attrs]
    out = [(k, v) for k, v in out if not (k in changes and v is None)]
    present = {k for k, _ in attrs}
    out += [(k, v) for k, v in changes.items() if k not in present and v is not None]
    return out


def _start(tag: str, attrs: list[tuple[str, str | None]], closed: bool) -> str:
    parts = [tag] + [k if v is None else f'{k}="{html.escape(v, quote=True)}"' for k, v in attrs]
    return "<" + " ".join(parts) + (" />" if closed else ">")


def _why(value: str) -> str:
    parts = _split(value.strip())
    if parts is None:
        return "is not a valid address"
    if parts.scheme:
        return "is not a web address"
    return "has no address it can be resolved against"


def _short(value: str, limit: int = 120) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"
