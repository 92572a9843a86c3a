"""URL slugs: readable, ASCII, unique."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection

MAX_SLUG = 80


def slugify(text: str, *, fallback: str = "post") -> str:
    """`What’s new in AI from China?` -> `whats-new-in-ai-from-china`."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    ascii_text = re.sub(r"['’]", "", ascii_text.lower())
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    if len(slug) > MAX_SLUG:
        slug = slug[:MAX_SLUG].rsplit("-", 1)[0]  # cut between words
    return slug or fallback


def unique_slug(base: str, *, taken: Callable[[str], bool], reserved: Collection[str] = ()) -> str:
    """`base`, else `base-2`, `base-3`, ... whichever is free in the DB and in `reserved`."""
    candidate, n = base, 1
    while candidate in reserved or taken(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate
