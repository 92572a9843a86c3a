"""WordPress post content as WordPress shows it: blocks, shortcodes, autoembeds, wpautop.

A WXR export holds `post_content` raw: WordPress makes the HTML a reader sees only when
it displays the post, through the `the_content` filters (do_blocks, autoembed, wpautop,
do_shortcode). This module replays the parts an email needs, in WordPress's order.

Our own code, on purpose: no maintained Python port of wpautop or of the shortcode
parser exists (PyPI has none; the known ports are unmaintained Django gists), and the
`shortcodes` package only runs registered handlers, while we must also find and drop
the unregistered ones. The regular expressions follow wp-includes/formatting.php
(wpautop) and wp-includes/shortcodes.php (get_shortcode_regex, shortcode_parse_atts).
"""

from __future__ import annotations

import html
import re
from bisect import bisect_left
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class Attachment:
    """A media item of the export (`post_type` attachment)."""

    url: str
    alt: str = ""
    caption: str = ""
    parent: str = ""  # the wp:post_id of the post it was uploaded to


@dataclass
class Rendered:
    """A post's content as WordPress would display it, and what could not be kept."""

    html: str
    warnings: list[str] = field(default_factory=list)


def render_content(
    content: str,
    *,
    post_id: str = "",
    attachments: Mapping[str, Attachment] | None = None,
) -> Rendered:
    """Raw `post_content` -> (HTML as WordPress displays it, warnings).

    Gutenberg block comments are dropped; `[caption]` becomes a <figure> with a
    <figcaption>; `[gallery]` the attachments' images; `[embed]`, `[audio]`, `[video]`
    and bare URLs on their own line links (images for image URLs); any other shortcode
    is removed, its enclosed text kept, with a warning. Classic-editor content then gets
    wpautop's paragraphs; block-editor content already carries its own <p> (WordPress
    skips wpautop for it too). The result is not yet sanitized.
    """
    warnings: list[str] = []
    has_blocks = "<!-- wp:" in content
    text = _BLOCK_COMMENT.sub("", content)
    text = autoembed(text)
    text = do_shortcodes(text, post_id=post_id, attachments=attachments or {}, warnings=warnings)
    # WordPress unwraps a shortcode standing alone in a paragraph (shortcode_unautop);
    # a <figure> inside <p> would otherwise leave empty paragraphs around it.
    text = _WRAPPED_FIGURES.sub(r"\1", text)
    if not has_blocks:
        text = wpautop(text)
    return Rendered(html=text.strip(), warnings=warnings)


# --- Gutenberg -------------------------------------------------------------------------

# `<!-- wp:paragraph {"align":"center"} -->`, `<!-- /wp:paragraph -->`, `<!-- wp:image /-->`
_BLOCK_COMMENT = re.compile(r"<!--\s*/?wp:[^>]*?-->\n?", re.DOTALL)


_WRAPPED_FIGURES = re.compile(r"(?is)<p>\s*((?:<figure\b(?:(?!<figure\b).)*?</figure>\s*)+)</p>")


# --- autoembed: a URL alone on its line --------------------------------------------------

_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".svg")
_BARE_URL = re.compile(r"(?im)^([ \t]*)(https?://[^\s<>\"]+)([ \t]*)$")


def autoembed(text: str) -> str:
    """WordPress turns a URL alone on its own line into an embed (WP_Embed::autoembed).

    An email cannot play a video: a link (an image for an image URL) is what stays.
    Lines inside <pre> are left alone.
    """
    return _outside_pre(text, lambda part: _BARE_URL.sub(_embed_line, part))


def _embed_line(match: re.Match[str]) -> str:
    return match.group(1) + embed_html(match.group(2)) + match.group(3)


def embed_html(url: str, *, text: str | None = None) -> str:
    """What an email shows for an embedded URL: an <img> (alt = `text`) when the path ends in
    an image suffix, else a link whose text is `text` or the URL; both escaped.
    """
    url = url.strip()
    quoted = html.escape(url, quote=True)
    if _path(url).lower().endswith(_IMAGE_SUFFIXES):
        return f'<img src="{quoted}" alt="{html.escape(text or "", quote=True)}">'
    return f'<a href="{quoted}">{html.escape(text or url)}</a>'


# --- shortcodes --------------------------------------------------------------------------

# The opening tag of get_shortcode_regex() with any tag name. Attributes may hold `[`
# only inside quotes, so a scan stops at the next bracket and a page of `[a [a [a`
# costs linear time; the closing tag is found by position, not by regex.
_OPEN = re.compile(
    r"\[(?P<open>\[?)"
    r"(?P<tag>[A-Za-z][\w-]*)(?![\w-])"
    r"(?P<attrs>(?:\"[^\"\]]*\"|'[^'\]]*'|[^\[\]/\"']|/(?!\]))*)"
    r"(?P<selfclose>/)?\]"
)
_CLOSE = re.compile(r"\[/(?P<tag>[A-Za-z][\w-]*)\]")
_MAX_DEPTH = 8  # shortcodes inside shortcodes inside ...: real posts nest two or three
# shortcode_parse_atts()
_ATTR = re.compile(
    r"""([\w-]+)\s*=\s*"([^"]*)"(?:\s|$)|([\w-]+)\s*=\s*'([^']*)'(?:\s|$)"""
    r"""|([\w-]+)\s*=\s*([^\s'"]+)(?:\s|$)|"([^"]*)"(?:\s|$)|'([^']*)'(?:\s|$)|(\S+)(?:\s|$)"""
)
_MEDIA_KEYS = ("src", "mp3", "m4a", "ogg", "wav", "wma", "flac", "mp4", "m4v", "webm", "ogv")


def parse_atts(text: str) -> tuple[dict[str, str], list[str]]:
    """Shortcode attributes: (named, lower-cased keys; positional values)."""
    named: dict[str, str] = {}
    positional: list[str] = []
    text = re.sub(r"[\u00a0\u200b]", " ", html.unescape(text))
    for m in _ATTR.finditer(text):
        if m.group(1):
            named[m.group(1).lower()] = m.group(2)
        elif m.group(3):
            named[m.group(3).lower()] = m.group(4)
        elif m.group(5):
            named[m.group(5).lower()] = m.group(6)
        elif m.group(7) is not None:
            positional.append(m.group(7))
        elif m.group(8) is not None:
            positional.append(m.group(8))
        elif m.group(9):
            positional.append(m.group(9))
    return named, positional


def do_shortcodes(
    text: str,
    *,
    post_id: str = "",
    attachments: Mapping[str, Attachment] | None = None,
    warnings: list[str] | None = None,
    depth: int = 0,
) -> str:
    """Replace every shortcode in `text`; unknown ones are removed and reported.

    `[sic]` or `[1]` inside a sentence is prose, not a shortcode: a bracketed word
    counts as one only when it has attributes (`a=b`), a closing tag, a `/]`, a name
    with `-` or `_`, a known name, or stands alone on its line. `[[tag]]` is
    WordPress's way of writing a shortcode as text and stays text. Linear time.
    """
    found = warnings if warnings is not None else []
    media = attachments or {}
    return _outside_pre(text, lambda part: _shortcodes(part, post_id, media, found, depth))


def _shortcodes(
    text: str, post_id: str, media: Mapping[str, Attachment], found: list[str], depth: int
) -> str:
    closers: dict[str, list[int]] = {}
    for c in _CLOSE.finditer(text):
        closers.setdefault(c.group("tag"), []).append(c.start())
    out: list[str] = []
    handled: set[str] = set()
    pos = 0
    while (m := _OPEN.search(text, pos)) is not None:
        tag, end, content = m.group("tag"), m.end(), None
        if not m.group("selfclose") and (starts := closers.get(tag)):
            i = bisect_left(starts, end)
            if i < len(starts):
                content, end = text[end : starts[i]], starts[i] + len(tag) + 3
        escaped = bool(m.group("open")) and text.startswith("]", end)
        out.append(text[pos : m.start()])
        pos = end + 1 if escaped else end
        if escaped:
            out.append(text[m.start() + 1 : end])  # [[tag]] shows as [tag]
            continue
        if not _is_shortcode(text, m, end, content):
            out.append(text[m.start() : end])
            continue
        out.append(m.group("open"))
        handled.add(tag)
        named, positional = parse_atts(m.group("attrs"))
        handler = _HANDLERS.get(tag.lower())
        if handler is not None:
            result = handler(named, positional, content or "", post_id, media, found)
        else:
            found.append(f"removed the unsupported shortcode [{tag.lower()}]")
            result = content or ""
        if depth + 1 < _MAX_DEPTH:  # enclosed text may hold shortcodes of its own
            result = _shortcodes(result, post_id, media, found, depth + 1)
        else:
            result = _CLOSE.sub("", _OPEN.sub("", result))
        out.append(result)
    out.append(text[pos:])
    joined = "".join(out)
    if not handled:
        return joined
    # A closing tag with no opening one left (`[row][row]x[/row][/row]`) must not show.
    return _CLOSE.sub(lambda c: "" if c.group("tag") in handled else c.group(0), joined)


_KNOWN = {
    "caption", "wp_caption", "gallery", "embed", "audio", "video", "playlist", "toc",
    "contact-form", "contact-form-7", "googlemaps", "youtube", "vimeo", "soundcloud",
    "spotify", "tweet", "instagram", "code", "sourcecode", "button", "column", "row",
}  # fmt: skip


def _is_shortcode(text: str, m: re.Match[str], end: int, content: str | None) -> bool:
    tag = m.group("tag").lower()
    if tag in _KNOWN or content is not None or m.group("selfclose"):
        return True
    if "=" in m.group("attrs") or "-" in tag or "_" in tag:
        return True
    # Alone on its line (perhaps in a <p> of its own): looked at within a few characters,
    # so a long line of `[x]` costs no more than a short one.
    before = text[max(0, m.start() - 16) : m.start()]
    after = text[end : end + 16]
    alone_before = re.search(r"(?:\A|\n)[ \t]*(?:<p>)?[ \t]*\Z", before) is not None and (
        m.start() <= 16 or "\n" in before
    )
    tail = re.match(r"[ \t]*(?:</p>)?[ \t]*(\n|\Z)", after)
    alone_after = tail is not None and (tail.group(1) == "\n" or end + 16 >= len(text))
    return alone_before and alone_after


_Handler = Callable[[dict[str, str], list[str], str, str, Mapping[str, Attachment], list[str]], str]


def _caption(
    named: dict[str, str],
    _pos: list[str],
    content: str,
    _post: str,
    _media: Mapping[str, Attachment],
    _warnings: list[str],
) -> str:
    """img_caption_shortcode(): the caption is the attribute or the text after the image."""
    caption = named.get("caption", "")
    if not caption:
        split = re.match(r"(?is)\s*((?:<a [^>]+>\s*)?<img [^>]+>(?:\s*</a>)?)(.*)", content)
        if split:
            content, caption = split.group(1), split.group(2).strip()
    body = content.strip()
    if not caption:
        return body
    return f"<figure>{body}<figcaption>{caption}</figcaption></figure>"


def _gallery(
    named: dict[str, str],
    _pos: list[str],
    _content: str,
    post_id: str,
    media: Mapping[str, Attachment],
    warnings: list[str],
) -> str:
    """gallery_shortcode(): `ids`/`include`, else the images uploaded to this post."""
    wanted = named.get("ids") or named.get("include") or ""
    ids = [i.strip() for i in wanted.split(",") if i.strip()]
    if not ids:
        ids = [key for key, item in media.items() if item.parent and item.parent == post_id]
    missing = [i for i in ids if i not in media]
    if missing:
        warnings.append(
            f"[gallery]: image(s) {', '.join(missing)} are not in the export and were left out"
        )
    images = [media[i] for i in ids if i in media]
    if not images and not missing:
        warnings.append("[gallery]: no images found for it; it was removed")
    return "".join(_figure(item) for item in images)


def _figure(item: Attachment) -> str:
    img = (
        f'<img src="{html.escape(item.url, quote=True)}" alt="{html.escape(item.alt, quote=True)}">'
    )
    if not item.caption:
        return f"<figure>{img}</figure>"
    return f"<figure>{img}<figcaption>{html.escape(item.caption)}</figcaption></figure>"


def _embed(
    named: dict[str, str],
    positional: list[str],
    content: str,
    _post: str,
    _media: Mapping[str, Attachment],
    warnings: list[str],
) -> str:
    url = html.unescape(content).strip() or named.get("src", "") or next(iter(positional), "")
    if not url.startswith(("http://", "https://", "/")):
        warnings.append("[embed] without an address was removed")
        return ""
    return f"<p>{embed_html(url)}</p>"


def _media_link(kind: str) -> _Handler:
    def handler(
        named: dict[str, str],
        positional: list[str],
        content: str,
        _post: str,
        _media: Mapping[str, Attachment],
        warnings: list[str],
    ) -> str:
        url = next((named[k] for k in _MEDIA_KEYS if named.get(k)), "")
        url = url or html.unescape(content).strip()
        if not url:
            warnings.append(f"[{kind.lower()}] without a file was removed")
            return ""
        name = _path(url).rsplit("/", 1)[-1] or url
        quoted = html.escape(url, quote=True)
        return f'<p><a href="{quoted}">{kind}: {html.escape(name)}</a></p>'

    return handler


_HANDLERS: dict[str, _Handler] = {
    "caption": _caption,
    "wp_caption": _caption,
    "gallery": _gallery,
    "embed": _embed,
    "audio": _media_link("Audio"),
    "video": _media_link("Video"),
}


# --- wpautop -----------------------------------------------------------------------------

_ALLBLOCKS = (
    r"(?:table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre"
    r"|form|map|area|blockquote|address|style|p|h[1-6]|hr|fieldset|legend|section|article"
    r"|aside|hgroup|header|footer|nav|figure|figcaption|details|menu|summary)"
)
_NL = " <!-- wpnl --> "


def wpautop(text: str, *, br: bool = True) -> str:
    """wpautop() from wp-includes/formatting.php (WordPress 6.x), line for line.

    A blank line starts a new paragraph, a single newline becomes <br />, text next to
    block tags (<h2>, <ul>, ...) is wrapped in its own <p>; <pre> is left as it is.
    """
    if not text.strip():
        return ""
    pre_tags: dict[str, str] = {}
    text += "\n"
    if "<pre" in text:
        parts = text.split("</pre>")
        last = parts.pop()
        text = ""
        for i, part in enumerate(parts):
            start = part.find("<pre")
            if start < 0:
                text += part
                continue
            name = f"<pre wp-pre-tag-{i}></pre>"
            pre_tags[name] = part[start:] + "</pre>"
            text += part[:start] + name
        text += last
    text = re.sub(r"<br\s*/?>\s*<br\s*/?>", "\n\n", text)
    text = re.sub(r"(<" + _ALLBLOCKS + r"[\s/>])", r"\n\n\1", text)
    text = re.sub(r"(</" + _ALLBLOCKS + r">)", "\\1\n\n", text)
    text = re.sub(r"(<hr\s*?/?>)", "\\1\n\n", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Newlines inside tags and comments are not line breaks (wp_replace_in_html_tags).
    text = _in_tags(text, "\n", _NL)
    if "<figcaption" in text:
        text = re.sub(r"\s*(<figcaption[^>]*>)", r"\1", text)
        text = re.sub(r"</figcaption>\s*", "</figcaption>", text)
    text = re.sub(r"\n\n+", "\n\n", text)
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p]
    text = "".join("<p>" + p.strip("\n") + "</p>\n" for p in paragraphs)
    text = re.sub(r"<p>\s*</p>", "", text)
    text = re.sub(r"<p>([^<]+)</(div|address|form)>", r"<p>\1</p></\2>", text)
    text = re.sub(r"<p>\s*(</?" + _ALLBLOCKS + r"[^>]*>)\s*</p>", r"\1", text)
    text = _unwrap_li(text)  # preg_replace('|<p>(<li.+?)</p>|', '$1'), in linear time
    text = re.sub(r"(?i)<p><blockquote([^>]*)>", r"<blockquote\1><p>", text)
    text = text.replace("</blockquote></p>", "</p></blockquote>")
    text = re.sub(r"<p>\s*(</?" + _ALLBLOCKS + r"[^>]*>)", r"\1", text)
    text = re.sub(r"(</?" + _ALLBLOCKS + r"[^>]*>)\s*</p>", r"\1", text)
    if br:
        text = re.sub(
            r"(?s)<(script|style|svg|math).*?</\1>",
            lambda m: m.group(0).replace("\n", "<WPPreserveNewline />"),
            text,
        )
        text = text.replace("<br>", "<br />").replace("<br/>", "<br />")
        text = _newlines_to_br(text)
        text = text.replace("<WPPreserveNewline />", "\n")
    text = re.sub(r"(</?" + _ALLBLOCKS + r"[^>]*>)\s*<br />", r"\1", text)
    text = re.sub(r"<br />(\s*</?(?:p|li|div|dl|dd|dt|th|pre|td|ul|ol)[^>]*>)", r"\1", text)
    text = re.sub(r"\n</p>$", "</p>", text)
    for name, original in pre_tags.items():
        text = text.replace(name, original)
    return text.replace(_NL, "\n").replace("<!-- wpnl -->", "\n")


def _newlines_to_br(text: str) -> str:
    """`preg_replace('|(?<!<br />)\\s*\\n|', "<br />\\n")`, line by line: the regex costs
    quadratic time on a long run of spaces (Python's re has no PCRE start-of-match
    optimisation), and a post of 200,000 spaces must not hang an import."""
    lines = text.split("\n")
    out = []
    for line in lines[:-1]:
        kept = line.rstrip(" \t\r\f\v")
        out.append(kept + "\n" if kept.endswith("<br />") else kept + "<br />\n")
    return "".join(out) + lines[-1]


def _path(url: str) -> str:
    try:
        return urlsplit(url).path
    except ValueError:  # `http://[oops`: links.py drops such a link with a warning
        return url


def _outside_pre(text: str, change: Callable[[str], str]) -> str:
    """Apply `change` to the text between <pre>...</pre> sections only (linear time)."""
    lower = text.lower()
    out: list[str] = []
    pos = 0
    while (start := _PRE_OPEN.search(lower, pos)) is not None:
        close = lower.find("</pre>", start.end())
        if close < 0:
            break  # an unclosed <pre> is not preformatted for us
        out.append(change(text[pos : start.start()]))
        out.append(text[start.start() : close + 6])
        pos = close + 6
    out.append(change(text[pos:]))
    return "".join(out)


_PRE_OPEN = re.compile(r"<pre\b")


def _unwrap_li(text: str) -> str:
    """`<p><li ...</p>` on one line loses its <p> (a list item wrapped by mistake)."""
    out: list[str] = []
    pos, close, newline = 0, -1, -1
    while (i := text.find("<p><li", pos)) >= 0:
        if close < i + 6:
            close = text.find("</p>", i + 6)
        if close < 0:
            break
        if newline < i:
            newline = text.find("\n", i)
            newline = len(text) if newline < 0 else newline
        if newline < close:
            out.append(text[pos : i + 6])
            pos = i + 6
            continue
        out.append(text[pos:i])
        out.append(text[i + 3 : close])
        pos = close + 4
    out.append(text[pos:])
    return "".join(out)


def _in_tags(text: str, old: str, new: str) -> str:
    """wp_replace_in_html_tags(): `old` -> `new` inside tags and comments only.

    Hand-written rather than a regex such as `<!--.*?-->|<[^>]*>`, which costs quadratic
    time on a post of many `<` with no `>`.
    """
    out: list[str] = []
    pos, n, gt = 0, len(text), -1
    while (lt := text.find("<", pos)) >= 0:
        if text.startswith("<!--", lt):
            close = text.find("-->", lt + 4)
            end = n if close < 0 else close + 3
        else:
            if gt <= lt:  # the next `>` is found once, not once per `<` before it
                gt = text.find(">", lt + 1)
            if gt < 0:
                break
            nxt = text.find("<", lt + 1, gt)
            if nxt >= 0:  # `a < b <i>`: the first `<` is text
                out.append(text[pos:nxt])
                pos = nxt
                continue
            end = gt + 1
        out.append(text[pos:lt])
        out.append(text[lt:end].replace(old, new))
        pos = end
    out.append(text[pos:])
    return "".join(out)
