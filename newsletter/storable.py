"""Which text a database column can hold: the one rule every entry point checks.

PostgreSQL text cannot contain NUL (U+0000), and a lone UTF-16 surrogate
(U+D800-U+DFFF, which JSON `\\ud800` escapes and surrogateescape'd bytes produce)
cannot be encoded as UTF-8 at all. SQLite stores the first and fails on the
second. Either used to end in a 500; callers refuse such text with a clear error.
"""

from __future__ import annotations

import re

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(text: str) -> str | None:
    """A description like `U+0000 (NUL)` of the first character no column can store, or None."""
    match = _UNSTORABLE.search(text)
    if match is None:
        return None
    code = ord(match.group())
    return f"U+{code:04X} ({'NUL' if code == 0 else 'a lone surrogate'})"
