"""Getting a source's bytes (file, folder, http(s) URL or bytes) and telling its format."""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import HTTPRedirectHandler, Request, build_opener

from .errors import PostImportError

FORMATS = ("rss", "atom", "feed", "wxr", "markdown", "text")
FETCH_TIMEOUT = 20.0  # seconds per socket operation
MARKDOWN_SUFFIXES = (".md", ".markdown")
_USER_AGENT = "newsletter-post-importer/0.1 (+self-hosted newsletter)"


@dataclass(frozen=True, slots=True)
class Loaded:
    """A source after loading: bytes for files and URLs; a folder stays a path."""

    label: str  # what to call it in messages and in Post.source
    data: bytes | None
    directory: Path | None = None
    name: str | None = None  # file name, for format hints
    content_type: str | None = None  # from HTTP, helps feedparser with charsets
    url: str | None = None  # where it was fetched from, after redirects: relative links' base


def load_source(
    source: str | Path | bytes, *, max_bytes: int, allow_private_urls: bool = False
) -> Loaded:
    if isinstance(source, bytes | bytearray):
        if len(source) > max_bytes:
            raise too_big(max_bytes)
        return Loaded(label="<upload>", data=bytes(source))
    text = str(source)
    if isinstance(source, str) and urlsplit(text).scheme in ("http", "https"):
        data, content_type, final = fetch_url(
            text, max_bytes=max_bytes, allow_private=allow_private_urls
        )
        return Loaded(
            label=text, data=data, name=urlsplit(text).path, content_type=content_type, url=final
        )
    path = Path(source)
    if path.is_dir():
        return Loaded(label=str(path), data=None, directory=path)
    if not path.is_file():
        raise PostImportError(f"no such file or directory: {text}")
    return Loaded(label=str(path), data=read_capped(path, max_bytes=max_bytes), name=path.name)


def read_capped(path: Path, *, max_bytes: int) -> bytes:
    """Read a file, refusing it before reading more than `max_bytes`."""
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise PostImportError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise too_big(max_bytes)
    return data


def fetch_url(
    url: str, *, max_bytes: int, timeout: float = FETCH_TIMEOUT, allow_private: bool = False
) -> tuple[bytes, str | None, str]:
    """GET an http(s) URL with a timeout and a size cap; feedparser never touches the network.

    Returns (body, Content-Type, the final URL after redirects).

    Unless `allow_private`, the host (and every redirect's host) must resolve to public
    addresses only, so an import form cannot be used to read the server's own network
    (cloud metadata, admin ports). The CLI allows private hosts: its user is the operator.
    """
    if not allow_private:
        check_public_host(url)
    request = Request(url, headers={"User-Agent": _USER_AGENT})  # noqa: S310 - scheme checked by caller
    opener = build_opener(_HttpOnlyRedirects(allow_private=allow_private))
    try:
        with opener.open(request, timeout=timeout) as response:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise too_big(max_bytes)
            data = response.read(max_bytes + 1)
            content_type = response.headers.get("Content-Type")
            final_url = response.geturl() or url
    except PostImportError:
        raise
    except HTTPError as exc:
        raise PostImportError(f"could not fetch {url}: HTTP {exc.code} {exc.reason}") from exc
    except (URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise PostImportError(f"could not fetch {url}: {reason}") from exc
    if len(data) > max_bytes:
        raise too_big(max_bytes)
    return data, content_type, final_url


def check_public_host(url: str) -> None:
    host = urlsplit(url).hostname or ""
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError) as exc:
        raise PostImportError(f"could not fetch {url}: cannot resolve {host!r}") from exc
    for address in addresses:
        if not ipaddress.ip_address(address.split("%", 1)[0]).is_global:
            raise PostImportError(f"refusing to fetch {url}: {host} is a private or local address")


class _HttpOnlyRedirects(HTTPRedirectHandler):
    """urllib would follow a redirect to ftp:// or to an internal host; a feed URL may not."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if urlsplit(newurl).scheme not in ("http", "https"):
            raise URLError(f"refusing to follow a redirect to {newurl}")
        if not self.allow_private:
            check_public_host(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def too_big(max_bytes: int) -> PostImportError:
    return PostImportError(
        f"source is larger than the limit of {max_bytes} bytes", position=f"byte {max_bytes + 1}"
    )


_WXR = re.compile(rb"wordpress\.org/export/|<wp:wxr_version")
_FEED = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(rss|RDF|feed)[\s>/]")


def detect_format(loaded: Loaded) -> str:
    """Guess the format from the content first and the name second."""
    if loaded.directory is not None:
        return "markdown"
    data = loaded.data or b""
    head = data[:65536].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<") or head.startswith(b"\xff\xfe") or head.startswith(b"\xfe\xff"):
        if _WXR.search(head):
            return "wxr"
        match = _FEED.search(head)
        if match and match.group(1) == b"feed":
            return "atom"
        return "rss"  # an unknown XML document gets the feed parser's error message
    if head.startswith(b"---") or (loaded.name or "").lower().endswith(MARKDOWN_SUFFIXES):
        return "markdown"
    return "text"
