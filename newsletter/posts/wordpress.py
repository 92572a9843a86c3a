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
    url = url.strip()
    quoted = html.escape(url, quote=True)
    if urlsplit(url).path.lower().endswith(_IMAGE_SUFFIXES):
        return f'<img src="{quoted}" alt="{html.escape(text or "", quote=True)}">'
    return f'<a href="{quoted}">{html.escape(text or url)}</a>'


# --- shortcodes --------------------------------------------------------------------------

# get_shortcode_regex() with any tag name; group names follow WordPress's numbering.
_SHORTCODE = re.compile(
    r"\[(?P<open>\[?)"
    r"(?P<tag>[A-Za-z][\w-]*)(?![\w-])"
    r"(?P<attrs>[^\]/]*(?:/(?!\])[^\]/]*)*?)"
    r"(?:(?P<selfclose>/)\]|\](?:(?P<content>[^\[]*+(?:\[(?!/(?P=tag)\])[^\[]*+)*+)\[/(?P=tag)\])?)"
    r"(?P<close>\]?)"
)
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
) -> str:
    """Replace every shortcode in `text`; unknown ones are removed and reported.

    `[sic]` or `[1]` inside a sentence is prose, not a shortcode: a bracketed word
    counts as one only when it has attributes (`a=b`), a closing tag, a `/]`, a name
    with `-` or `_`, a known name, or stands alone on its line.
    """
    found = warnings if warnings is not None else []
    media = attachments or {}

    def replace(m: re.Match[str]) -> str:
        tag = m.group("tag").lower()
        if m.group("open") and m.group("close"):
            return m.group(0)[1:-1]  # [[tag]] is WordPress's way to show a shortcode as text
        inner = m.group("content")
        if not _is_shortcode(m, text):
            return m.group(0)
        named, positional = parse_atts(m.group("attrs") or "")
        handler = _HANDLERS.get(tag)
        if handler is not None:
            out = handler(named, positional, inner or "", post_id, media, found)
        else:
            found.append(f"removed the unsupported shortcode [{tag}]")
            out = inner or ""
        # Enclosed text may hold shortcodes of its own (WordPress handlers nest too).
        return (
            m.group("open")
            + do_shortcodes(out, post_id=post_id, attachments=media, warnings=found)
            + m.group("close")
        )

    return _outside_pre(text, lambda part: _SHORTCODE.sub(replace, part))


_KNOWN = {
    "caption", "wp_caption", "gallery", "embed", "audio", "video", "playlist", "toc",
    "contact-form", "contact-form-7", "googlemaps", "youtube", "vimeo", "soundcloud",
    "spotify", "tweet", "instagram", "code", "sourcecode", "button", "column", "row",
}  # fmt: skip


def _is_shortcode(m: re.Match[str], text: str) -> bool:
    tag = m.group("tag").lower()
    if tag in _KNOWN or m.group("content") is not None or m.group("selfclose"):
        return True
    if "=" in (m.group("attrs") or "") or "-" in tag or "_" in tag:
        return True
    line_start = text.rfind("\n", 0, m.start()) + 1
    line_end = text.find("\n", m.end())
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    return re.sub(r"</?p>", "", line).strip() == m.group(0)


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
        name = urlsplit(url).path.rsplit("/", 1)[-1] or url
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
_TAG_OR_COMMENT = re.compile(r"<!--.*?-->|<[^>]*>", re.DOTALL)
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
    text = _TAG_OR_COMMENT.sub(lambda m: m.group(0).replace("\n", _NL), text)
    if "<figcaption" in text:
        text = re.sub(r"\s*(<figcaption[^>]*>)", r"\1", text)
        text = re.sub(r"</figcaption>\s*", "</figcaption>", text)
    text = re.sub(r"\n\n+", "\n\n", text)
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p]
    text = "".join("<p>" + p.strip("\n") + "</p>\n" for p in paragraphs)
    text = re.sub(r"<p>\s*</p>", "", text)
    text = re.sub(r"<p>([^<]+)</(div|address|form)>", r"<p>\1</p></\2>", text)
    text = re.sub(r"<p>\s*(</?" + _ALLBLOCKS + r"[^>]*>)\s*</p>", r"\1", text)
    text = re.sub(r"<p>(<li.+?)</p>", r"\1", text)
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
        text = re.sub(r"(?<!<br />)\s*\n", "<br />\n", text)
        text = text.replace("<WPPreserveNewline />", "\n")
    text = re.sub(r"(</?" + _ALLBLOCKS + r"[^>]*>)\s*<br />", r"\1", text)
    text = re.sub(r"<br />(\s*</?(?:p|li|div|dl|dd|dt|th|pre|td|ul|ol)[^>]*>)", r"\1", text)
    text = re.sub(r"\n</p>$", "</p>", text)
    for name, original in pre_tags.items():
        text = text.replace(name, original)
    return text.replace(_NL, "\n").replace("<!-- wpnl -->", "\n")


def _outside_pre(text: str, change: Callable[[str], str]) -> str:
    """Apply `change` to the text between <pre>...</pre> sections only."""
    parts = re.split(r"(?is)(<pre\b.*?</pre>)", text)
    return "".join(part if i % 2 else change(part) for i, part in enumerate(parts))
