"""Per-recipient placeholders left in rendered emails and filled in by the mail layer.

A placeholder looks like ``%%nl~unsubscribe_url~%%`` or, with a fallback used
when the value is empty, ``%%nl~name|there~%%``. The marker is plain ASCII on
purpose: mjml-python escapes private-use characters inside attributes (an href
would come out as ``\\u{e000}...``) and rejects NUL outright, while these
characters pass MJML, Jinja escaping and css-inline untouched.

Author content must never produce a marker, or a post could pull someone's
unsubscribe link into a spot of its choosing. `neutralize` breaks the marker
with a zero-width space and is applied to every piece of content in its final
form (after HTML sanitizing has decoded entities).
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

OPEN = "%%nl~"
CLOSE = "~%%"

#: Keys the mail layer knows how to fill.
KEYS = frozenset(
    {"name", "email", "unsubscribe_url", "preferences_url", "open_pixel", "track"}
)  # track: the delivery's tracking token (newsletter/tracking), inside tracked URLs

#: group 1: key, group 2: fallback (already escaped for the part it sits in).
PATTERN = re.compile(r"%%nl~([a-z_]+)(?:\|([^~%<>\r\n]*))?~%%")

_BROKEN_OPEN = "%%\u200bnl~"


def placeholder(key: str, fallback: str | None = None, *, html: bool = True) -> str:
    """The marker for `key` (`%%nl~key~%%` or `%%nl~key|fallback~%%`), filled per recipient.

    In HTML (`html=True`, a Markup) the fallback is escaped now, once per render; `~` and
    `%` are dropped from it. Raises ValueError when `key` is not one of KEYS.
    """
    if key not in KEYS:
        raise ValueError(f"unknown placeholder key: {key!r}")
    if fallback is None:
        marker = f"{OPEN}{key}{CLOSE}"  # only [a-z_%~]: nothing to escape
        return Markup(marker) if html else marker  # noqa: S704
    clean = neutralize(fallback).replace("~", "").replace("%", "")
    if html:
        return Markup(f"{OPEN}{key}|{escape(clean)}{CLOSE}")  # noqa: S704 - escaped
    return f"{OPEN}{key}|{clean}{CLOSE}"


def neutralize(text: str) -> str:
    """Content in, content out, with any marker opening broken so it stays literal."""
    return text.replace(OPEN, _BROKEN_OPEN) if OPEN in text else text
