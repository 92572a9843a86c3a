"""A feed served on loopback whose contents a test changes between polls.

Answers conditional GETs the way a real server does (RFC 9110 13.1): If-None-Match
against the current ETag, else If-Modified-Since against Last-Modified, with 304 Not
Modified. Other paths: a redirect loop, a huge body, an HTML page, a 500.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape


@dataclass
class Item:
    guid: str
    title: str
    body: str
    published: datetime
    categories: tuple[str, ...] = ()


def rss(items: list[Item], *, link: str = "https://blog.example.org/") -> bytes:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0"><channel><title>Loopback blog</title>',
        f"<link>{escape(link)}</link><description>test</description>",
    ]
    for item in items:
        cats = "".join(f"<category>{escape(c)}</category>" for c in item.categories)
        parts.append(
            f'<item><guid isPermaLink="false">tag:blog.example.org,2026:{escape(item.guid)}</guid><title>{escape(item.title)}</title>'
            f"<link>https://blog.example.org/{escape(item.guid)}</link>"
            f"<pubDate>{format_datetime(item.published)}</pubDate>{cats}"
            f"<description>{escape(item.body)}</description></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


@dataclass
class FeedState:
    items: list[Item] = field(default_factory=list)
    modified: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    requests: list[dict[str, str]] = field(default_factory=list)  # path + the headers we care about
    statuses: list[int] = field(default_factory=list)
    fail: bool = False  # /feed.xml answers 500 while set

    def body(self) -> bytes:
        return rss(self.items)

    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body()).hexdigest()[:16] + '"'

    def change(self, items: list[Item]) -> None:
        self.items = items
        self.modified = datetime.now(UTC).replace(microsecond=0)


class _Handler(BaseHTTPRequestHandler):
    state: FeedState

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.state.statuses.append(status)
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        state = self.state
        state.requests.append(
            {
                "path": self.path,
                "if-none-match": self.headers.get("If-None-Match", ""),
                "if-modified-since": self.headers.get("If-Modified-Since", ""),
            }
        )
        if self.path == "/feed.xml":
            if state.fail:
                return self._send(500, b"oops")
            etag, modified = state.etag(), format_datetime(state.modified, usegmt=True)
            headers = {"ETag": etag, "Last-Modified": modified}
            if self.headers.get("If-None-Match") == etag:
                return self._send(304, headers=headers)
            if (
                not self.headers.get("If-None-Match")
                and self.headers.get("If-Modified-Since") == modified
            ):
                return self._send(304, headers=headers)
            return self._send(
                200, state.body(), {**headers, "Content-Type": "application/rss+xml; charset=utf-8"}
            )
        if self.path.startswith("/loop"):
            n = int(self.path[5:] or 0)
            return self._send(302, headers={"Location": f"/loop{(n + 1) % 3}"})
        if self.path == "/huge.xml":  # 50 MB, declared
            return self._send(
                200,
                b"",
                {"Content-Length": str(50 * 1024 * 1024), "Content-Type": "application/xml"},
            )
        if self.path == "/page.html":
            return self._send(
                200, b"<html><body>hello</body></html>", {"Content-Type": "text/html"}
            )
        if self.path == "/plain.txt":
            return self._send(200, b"just some words", {"Content-Type": "text/plain"})
        return self._send(404, b"not found")


class FeedServer:
    def __init__(self) -> None:
        self.state = FeedState()
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str = "/feed.xml") -> str:
        return self.base + path

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
