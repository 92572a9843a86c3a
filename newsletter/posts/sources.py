"""Getting a source's bytes (file, folder, http(s) URL or bytes) and telling its format."""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from http.client import HTTPConnection, HTTPSConnection
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import (
    HTTPHandler,
    HTTPRedirectHandler,
    HTTPSHandler,
    ProxyHandler,
    Request,
    build_opener,
)

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
    source: str | Path | bytes,
    *,
    max_bytes: int,
    allow_private_urls: bool = False,
    content_type: str | None = None,
) -> Loaded:
    """Load a path (file or folder), an http(s) URL or bytes, reading at most `max_bytes`.

    `content_type` describes bytes given directly (an HTTP body: its charset counts); a
    folder stays a path (Loaded.directory). Raises PostImportError for bytes or a file over
    `max_bytes` (see too_big), a path that is neither file nor folder, an unreadable file,
    or a refused, failed or oversized fetch (see fetch_url).
    """
    if isinstance(source, bytes | bytearray):
        if len(source) > max_bytes:
            raise too_big(max_bytes)
        return Loaded(label="<upload>", data=bytes(source), content_type=content_type)
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
    """A file's bytes, refusing it before reading more than `max_bytes`.

    Raises PostImportError when the file cannot be read (OSError) or is larger than
    `max_bytes` (see too_big).
    """
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

    Unless `allow_private`, every connection (the first and each redirect's) goes only to
    public addresses, so an import form cannot be used to read the server's own network
    (cloud metadata, admin ports). The check is on the address the socket connects to,
    from the one lookup made for that connection: a name whose DNS answer changes between
    a check and a connect (DNS rebinding) cannot slip past it. Proxies are not used then
    (a proxy would choose the address). The CLI allows private hosts: its user is the
    operator. Raises PostImportError for a refused, failed or oversized fetch.
    """
    fetched = fetch_conditional(
        url, max_bytes=max_bytes, timeout=timeout, allow_private=allow_private
    )
    return fetched.data or b"", fetched.content_type, fetched.url


@dataclass(frozen=True, slots=True)
class Fetched:
    """One GET's answer; `data` is None for 304 Not Modified."""

    data: bytes | None
    content_type: str | None
    url: str  # after redirects
    etag: str | None = None
    last_modified: str | None = None


def fetch_conditional(
    url: str,
    *,
    max_bytes: int,
    timeout: float = FETCH_TIMEOUT,
    allow_private: bool = False,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Fetched:
    """`fetch_url` with a conditional GET (RFC 9110 13.1: If-None-Match, If-Modified-Since).

    Same checks and limits as fetch_url; a 304 answer gives `data=None`. The validators
    the server sent come back in `etag` and `last_modified` (None when it sent none).
    Raises PostImportError for an HTTP error status, a refused (private address, non-http
    redirect), failed or timed-out connection, or a body over `max_bytes` (see too_big).
    """
    headers = {"User-Agent": _USER_AGENT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    request = Request(url, headers=headers)  # noqa: S310 - scheme checked by caller
    if allow_private:
        opener = build_opener(_HttpOnlyRedirects())
    else:
        opener = build_opener(
            ProxyHandler({}), _PublicHTTPHandler(), _PublicHTTPSHandler(), _HttpOnlyRedirects()
        )
    try:
        with opener.open(request, timeout=timeout) as response:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise too_big(max_bytes)
            data = response.read(max_bytes + 1)
            content_type = response.headers.get("Content-Type")
            final_url = response.geturl() or url
            new_etag = response.headers.get("ETag")
            new_last_modified = response.headers.get("Last-Modified")
    except PostImportError:
        raise
    except HTTPError as exc:
        if exc.code == 304 and (etag or last_modified):
            return Fetched(
                None,
                None,
                exc.geturl() or url,
                exc.headers.get("ETag") or etag,
                exc.headers.get("Last-Modified") or last_modified,
            )
        raise PostImportError(f"could not fetch {url}: HTTP {exc.code} {exc.reason}") from exc
    except (URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise PostImportError(f"could not fetch {url}: {reason}") from exc
    if len(data) > max_bytes:
        raise too_big(max_bytes)
    return Fetched(data, content_type, final_url, new_etag, new_last_modified)


# NAT64 (RFC 6052) embeds an IPv4 address in the last 32 bits; ipaddress calls it global.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_public_address(address: str) -> bool:
    """Whether an IP address (as getaddrinfo gives it, maybe with a %scope) is globally
    routable (IANA special-purpose registries, RFC 6890), looking inside IPv6 forms that
    carry an IPv4 address (mapped, 6to4, NAT64)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not embedded.is_global:
            return False
    return ip.is_global


def _public_connection(
    address: tuple[str, int],
    timeout: float | object = socket._GLOBAL_DEFAULT_TIMEOUT,  # type: ignore[attr-defined]
    source_address: tuple[str, int] | None = None,
) -> socket.socket:
    """socket.create_connection, but every address of the one lookup must be public, and
    the socket connects to those very addresses (never a second lookup)."""
    host, port = address
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise PostImportError(f"could not fetch from {host}: cannot resolve {host!r}") from exc
    for info in infos:
        if not is_public_address(str(info[4][0])):
            raise PostImportError(
                f"refusing to fetch from {host}: {info[4][0]} is a private or local address"
            )
    error: OSError | None = None
    for family, kind, proto, _name, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            if isinstance(timeout, int | float):
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        return sock
    raise error or OSError(f"no address for {host!r}")


class _PublicHTTPConnection(HTTPConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _public_connection


class _PublicHTTPSConnection(HTTPSConnection):
    # TLS wraps the checked socket with server_hostname=self.host: SNI and the certificate
    # check still use the name.
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _public_connection


class _PublicHTTPHandler(HTTPHandler):
    def http_open(self, req: Request) -> Any:
        return self.do_open(_PublicHTTPConnection, req)


class _PublicHTTPSHandler(HTTPSHandler):
    def https_open(self, req: Request) -> Any:
        return self.do_open(_PublicHTTPSConnection, req, context=self._context)  # type: ignore[attr-defined]


class _HttpOnlyRedirects(HTTPRedirectHandler):
    """urllib would follow a redirect to ftp:// or file://; a feed URL may not. (Each hop's
    connection is checked by the handlers above.)"""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if urlsplit(newurl).scheme not in ("http", "https"):
            raise URLError(f"refusing to follow a redirect to {newurl}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def too_big(max_bytes: int) -> PostImportError:
    """The PostImportError (not raised here) for a source over `max_bytes`, positioned at
    `byte max_bytes + 1`.
    """
    return PostImportError(
        f"source is larger than the limit of {max_bytes} bytes", position=f"byte {max_bytes + 1}"
    )


_WXR = re.compile(rb"wordpress\.org/export/|<wp:wxr_version")
_FEED = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(rss|RDF|feed)[\s>/]")


_WIDE = {
    b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be", b"<\x00": "utf-16-le", b"\x00<": "utf-16-be"
}  # fmt: skip


def _ascii_view(head: bytes) -> bytes:
    """UTF-16 text as UTF-8, so the markers below can be found in it; other bytes as they are."""
    codec = _WIDE.get(head[:2])
    if codec is None:
        return head
    start = 2 if head[:2] in (b"\xff\xfe", b"\xfe\xff") else 0
    return head[start : len(head) - len(head) % 2].decode(codec, "replace").encode("utf-8")


def detect_format(loaded: Loaded) -> str:
    """Guess the format from the content first and the name second."""
    if loaded.directory is not None:
        return "markdown"
    data = loaded.data or b""
    head = _ascii_view(data[:65536]).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        if _WXR.search(head):
            return "wxr"
        match = _FEED.search(head)
        if match and match.group(1) == b"feed":
            return "atom"
        return "rss"  # an unknown XML document gets the feed parser's error message
    if head.startswith(b"---") or (loaded.name or "").lower().endswith(MARKDOWN_SUFFIXES):
        return "markdown"
    return "text"
