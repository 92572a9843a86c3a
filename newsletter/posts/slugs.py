"""URL slugs: readable, ASCII, unique, in any script.

Transliteration is python-slugify's (text-unidecode): `Зимняя рыбалка` becomes
`zimniaia-rybalka` and `春天的花园` `chun-tian-de-hua-yuan`, where dropping every
non-ASCII letter left nothing but the generic fallback (`post`, `post-2`, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from slugify import slugify as _transliterated_slug

MAX_SLUG = 80
# An apostrophe joins its word (`what’s` -> `whats`, not `what-s`), as before.
_APOSTROPHES = [["'", ""], ["’", ""], ["ʼ", ""]]


def slugify(text: str, *, fallback: str = "post") -> str:
    """`What’s new in AI from China?` -> `whats-new-in-ai-from-china`.

    Lowercase ASCII letters, digits and single hyphens, at most MAX_SLUG characters
    cut between words; `fallback` only when nothing readable is left (emoji only).
    """
    slug = _transliterated_slug(
        text, max_length=MAX_SLUG, word_boundary=True, replacements=_APOSTROPHES
    )
    return slug or fallback


def unique_slug(base: str, *, taken: Callable[[str], bool], reserved: Collection[str] = ()) -> str:
    """`base`, else `base-2`, `base-3`, ... whichever is free in the DB and in `reserved`."""
    candidate, n = base, 1
    while candidate in reserved or taken(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate
