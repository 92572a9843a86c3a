"""parse_source: any supported source in, a list of ParsedPost out, nothing written."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .errors import PostImportError
from .feeds import parse_feed
from .markdown_files import parse_markdown_dir, parse_markdown_file
from .parsed import ParsedPost
from .plaintext import parse_text
from .sources import FORMATS, Loaded, detect_format, load_source
from .wxr import parse_wxr

DEFAULT_MAX_BYTES = 20_000_000


def parse_source(
    source: str | Path | bytes,
    *,
    fmt: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    known_categories: Iterable[str] = (),
    allow_private_urls: bool = False,
) -> list[ParsedPost]:
    """Read and parse a whole source; any problem raises PostImportError.

    `source` is a path (file or Markdown folder), an http(s) URL, or the bytes
    themselves. `fmt` overrides detection. `known_categories` helps split the
    space-separated category lines of plain-text scrapes.
    """
    return parse_loaded(
        load_source(
            source, max_bytes=check_args(fmt, max_bytes), allow_private_urls=allow_private_urls
        ),
        fmt=fmt,
        max_bytes=max_bytes,
        known_categories=known_categories,
    )


def parse_loaded(
    loaded: Loaded, *, fmt: str | None, max_bytes: int, known_categories: Iterable[str] = ()
) -> list[ParsedPost]:
    fmt = fmt or detect_format(loaded)
    if loaded.directory is not None:
        if fmt != "markdown":
            raise PostImportError(f"a folder can only be imported as markdown, not {fmt}")
        return parse_markdown_dir(loaded.directory, max_bytes=max_bytes)
    data = loaded.data or b""
    if fmt in ("rss", "atom", "feed"):
        return parse_feed(data, content_type=loaded.content_type)
    if fmt == "wxr":
        return parse_wxr(data, content_type=loaded.content_type)
    if fmt == "markdown":
        return [parse_markdown_file(data, name=Path(loaded.name or loaded.label).name)]
    return parse_text(data, known_categories=known_categories)


def check_args(fmt: str | None, max_bytes: int) -> int:
    if fmt is not None and fmt not in FORMATS:
        raise PostImportError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if max_bytes <= 0:
        raise PostImportError("max_bytes must be a positive number of bytes")
    return max_bytes
