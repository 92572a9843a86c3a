"""parse_source: any supported source in, a list of ParsedPost out, nothing written."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .errors import PostImportError
from .feeds import parse_feed
from .links import is_web_url
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
    base_url: str | None = None,
) -> list[ParsedPost]:
    """Read and parse a whole source; any problem raises PostImportError.

    `source` is a path (file or Markdown folder), an http(s) URL, or the bytes
    themselves. `fmt` overrides detection. `known_categories` helps split the
    space-separated category lines of plain-text scrapes. `base_url` is the address
    the source was published at, for relative links (an URL source's own address is
    used when it is None).
    """
    return parse_loaded(
        load_source(
            source, max_bytes=check_args(fmt, max_bytes), allow_private_urls=allow_private_urls
        ),
        fmt=fmt,
        max_bytes=max_bytes,
        known_categories=known_categories,
        base_url=check_base_url(base_url),
    )


def parse_loaded(
    loaded: Loaded,
    *,
    fmt: str | None,
    max_bytes: int,
    known_categories: Iterable[str] = (),
    base_url: str | None = None,
) -> list[ParsedPost]:
    """Parse a loaded source (see load_source) as `fmt`, or as detect_format guesses.

    Formats: RSS 2.0 / RSS 1.0 / Atom (RFC 4287) feeds, WordPress WXR, Markdown (one file or
    a folder), plain-text scrapes. `base_url` wins over the fetched address for relative
    links. Raises PostImportError when a folder is given with a format other than markdown,
    and for whatever the format's parser rejects (not well-formed, not UTF-8, wrong root).
    """
    fmt = fmt or detect_format(loaded)
    base = base_url or loaded.url  # the user's word beats the fetched address
    if loaded.directory is not None:
        if fmt != "markdown":
            raise PostImportError(f"a folder can only be imported as markdown, not {fmt}")
        return parse_markdown_dir(loaded.directory, max_bytes=max_bytes, base_url=base)
    data = loaded.data or b""
    if fmt in ("rss", "atom", "feed"):
        return parse_feed(data, content_type=loaded.content_type, base_url=base)
    if fmt == "wxr":
        return parse_wxr(data, content_type=loaded.content_type, base_url=base)
    if fmt == "markdown":
        name = Path(loaded.name or loaded.label).name
        return [parse_markdown_file(data, name=name, base_url=base)]
    return parse_text(data, known_categories=known_categories)


def check_base_url(base_url: str | None) -> str | None:
    """An absolute http(s) URL, stripped, or None for None or blank.

    Raises PostImportError for anything else (a relative or non-web URL).
    """
    if base_url is None or not base_url.strip():
        return None
    if not is_web_url(base_url.strip()):
        raise PostImportError(f"base URL must be an absolute http(s) URL, not {base_url!r}")
    return base_url.strip()


def check_args(fmt: str | None, max_bytes: int) -> int:
    """`max_bytes`, once checked; raises PostImportError for a `fmt` not in sources.FORMATS
    (None means detect) or a `max_bytes` that is not positive.
    """
    if fmt is not None and fmt not in FORMATS:
        raise PostImportError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if max_bytes <= 0:
        raise PostImportError("max_bytes must be a positive number of bytes")
    return max_bytes
