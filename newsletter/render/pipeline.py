"""MJML to mail-ready HTML, and tidying of the text part."""

from __future__ import annotations

import re

import css_inline
from mjml import mjml2html

from .chars import drop_invalid_chars

# Media queries (responsive columns, dark mode) must stay in <style>; everything
# else is inlined because Gmail and Outlook drop or ignore much of <head>.
_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)
_BLANK_RUNS = re.compile(r"\n{3,}")
# css-inline serializes like a browser: values always double-quoted with `"` and `&`
# escaped, text with `<` escaped. So outside comments every raw `<` starts a tag,
# and a tag is matched whole even when a value holds `<` or `>`.
_COMMENT_OR_TAG = re.compile(
    r'<!--.*?-->|<[a-zA-Z][^\s/>]*(?:\s+[^\s="\'>/]+(?:="[^"]*")?)*\s*/?>', re.S
)
_QUOTED = re.compile(r'="([^"]*)"')
_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)


def mjml_to_html(source: str) -> str:
    """Compile MJML with mjml-python, then inline CSS once for this variant."""
    # fonts={}: no web-font <link>; the templates use system and Georgia stacks.
    source = drop_invalid_chars(source)
    return _escape_angles_in_attributes(_INLINER.inline(mjml2html(source, fonts={})))


def _escape_angles_in_attributes(html: str) -> str:
    """`aria-label="<script>..."` is harmless HTML, but spam filters grep raw markup.

    mjml-python copies the title (the subject) into an aria-label, and the HTML5
    serializer leaves `<` and `>` bare in attribute values; escape them.
    """

    def fix_tag(match: re.Match[str]) -> str:
        tag = match.group(0)
        if tag.startswith("<!--") or ("<" not in tag[1:] and ">" not in tag[:-1]):
            return tag
        return _QUOTED.sub(
            lambda v: '="' + v.group(1).replace("<", "&lt;").replace(">", "&gt;") + '"', tag
        )

    return _COMMENT_OR_TAG.sub(fix_tag, html)


def tidy_text(text: str) -> str:
    """Trailing spaces off, at most one blank line in a row, one final newline."""
    text = _TRAILING_SPACE.sub("", drop_invalid_chars(text).replace("\r\n", "\n"))
    # The signature separator is "-- " by convention (RFC 3676), with its space.
    text = re.sub(r"^--$", "-- ", text, flags=re.MULTILINE)
    return _BLANK_RUNS.sub("\n\n", text).strip("\n") + "\n"
