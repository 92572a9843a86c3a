"""URL import reaches only public addresses, checked on the connection itself.

The web form and the API fetch what an author types; without these checks they would
read the server's own network (cloud metadata, admin ports). The check must be on the
address the socket connects to: a DNS answer that changes between a check and the
connect (DNS rebinding) must not get through.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, select

from newsletter.models import Post
from newsletter.posts import PostImportError, import_posts, sources
from newsletter.posts.sources import fetch_url, is_public_address
from tests.conftest import csrf_token_from, make_test_app

FEED = (Path(__file__).resolve().parent.parent / "data" / "posts" / "feed.rss").read_bytes()
# Tests only ever reach loopback: 127.0.0.2 stands in for a public address where a
# test says so (nothing listens there, so a connection to it is refused at once).
STAND_IN_PUBLIC = "127.0.0.2"


class Server:
    """A loopback HTTP server that records every request it gets."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.hits: list[str] = []
        self.routes: dict[str, tuple[int, bytes]] = {"/feed.xml": (200, FEED)}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits.append(self.path)
                status, body = outer.routes.get(self.path, (404, b"nope"))
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", body.decode())
                    body = b""
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    yield running
    running.close()


@pytest.fixture
def second_server() -> Iterator[Server]:
    running = Server("127.0.0.2")  # all of 127/8 is loopback on Linux
    yield running
    running.close()


def _answers(monkeypatch: pytest.MonkeyPatch, answer) -> list[str]:  # type: ignore[no-untyped-def]
    """Make the system resolver answer `answer(host, call number)` for *.example names."""
    real = socket.getaddrinfo
    calls: list[str] = []

    def fake(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not str(host).endswith(".example"):
            return real(host, port, *args, **kwargs)
        calls.append(host)
        address = answer(host, len(calls))
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 80)))]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return calls


# --- the address policy ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),  # noqa: S104 - an address under test, not a bind
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped
        ("::ffff:8.8.8.8", True),  # a dual-stack socket reaches 8.8.8.8 itself
        ("2002:7f00:1::1", False),  # 6to4 around 127.0.0.1
        ("64:ff9b::a00:1", False),  # NAT64 around 10.0.0.1
        ("64:ff9b::808:808", True),  # NAT64 around 8.8.8.8
    ],
)
def test_public_address_policy(address: str, public: bool) -> None:
    assert is_public_address(address) is public


# --- the connection itself --------------------------------------------------------------


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "127.1"])
def test_loopback_names_are_refused_before_any_request(server: Server, host: str) -> None:
    with pytest.raises(PostImportError, match="private or local address"):
        fetch_url(f"http://{host}:{server.port}/feed.xml", max_bytes=10**6)
    assert server.hits == []


def test_a_name_resolving_to_loopback_is_refused(monkeypatch, server: Server) -> None:
    _answers(monkeypatch, lambda host, n: "127.0.0.1")
    with pytest.raises(PostImportError, match=r"127\.0\.0\.1 is a private or local address"):
        fetch_url(f"http://feeds.example:{server.port}/feed.xml", max_bytes=10**6)
    assert server.hits == []
    # The operator's CLI may: then the same name reaches the same server.
    data, _, _ = fetch_url(
        f"http://feeds.example:{server.port}/feed.xml", max_bytes=10**6, allow_private=True
    )
    assert data == FEED and server.hits == ["/feed.xml"]


def test_dns_rebinding_cannot_reach_loopback(monkeypatch, server: Server) -> None:
    # First answer "public" (what a check would see), every later one the server's
    # loopback address (what a second lookup for the connect would see). Only the
    # first may ever be used.
    real = sources.is_public_address
    monkeypatch.setattr(
        sources, "is_public_address", lambda address: address == STAND_IN_PUBLIC or real(address)
    )
    calls = _answers(monkeypatch, lambda host, n: STAND_IN_PUBLIC if n == 1 else "127.0.0.1")
    with pytest.raises(PostImportError):
        fetch_url(f"http://rebind.example:{server.port}/feed.xml", max_bytes=10**6, timeout=1)
    assert server.hits == []
    assert calls == ["rebind.example"]  # one lookup, and the socket went to its answer


def test_https_is_checked_the_same_way(monkeypatch, server: Server) -> None:
    _answers(monkeypatch, lambda host, n: "127.0.0.1")
    with pytest.raises(PostImportError, match="private or local address"):
        fetch_url(f"https://feeds.example:{server.port}/feed.xml", max_bytes=10**6)
    assert server.hits == []


def test_https_connects_through_the_checked_socket(monkeypatch, server: Server) -> None:
    # Let loopback count as public here to see the TLS path run on our socket: the plain
    # HTTP server cannot speak TLS, so the handshake fails, after a real connection.
    monkeypatch.setattr(sources, "is_public_address", lambda address: address == "127.0.0.1")
    with pytest.raises(PostImportError, match="could not fetch"):
        fetch_url(f"https://127.0.0.1:{server.port}/feed.xml", max_bytes=10**6, timeout=5)


# --- redirects: every hop is a new connection, checked the same way --------------------


@pytest.fixture
def loopback_is_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """Treat 127.0.0.1 (our test server) as public and everything else as it is, so a
    redirect from a "public" server to a private one can be set up on one machine."""
    real = sources.is_public_address
    monkeypatch.setattr(
        sources, "is_public_address", lambda address: address == "127.0.0.1" or real(address)
    )


@pytest.mark.usefixtures("loopback_is_public")
def test_redirects_to_private_addresses_are_refused(
    monkeypatch, server: Server, second_server: Server
) -> None:
    _answers(monkeypatch, lambda host, n: "127.0.0.2")
    server.routes["/to-private-ip"] = (
        302,
        f"http://127.0.0.2:{second_server.port}/feed.xml".encode(),
    )
    server.routes["/to-private-name"] = (
        301,
        f"http://intranet.example:{second_server.port}/feed.xml".encode(),
    )
    server.routes["/to-metadata"] = (307, b"http://169.254.169.254/latest/meta-data/")
    for path in ("/to-private-ip", "/to-private-name", "/to-metadata"):
        with pytest.raises(PostImportError, match="private or local address"):
            fetch_url(f"http://127.0.0.1:{server.port}{path}", max_bytes=10**6, timeout=5)
    assert second_server.hits == []
    # A redirect to a public address is followed.
    server.routes["/moved"] = (301, f"http://127.0.0.1:{server.port}/feed.xml".encode())
    data, _, _ = fetch_url(f"http://127.0.0.1:{server.port}/moved", max_bytes=10**6)
    assert data == FEED


# --- the author's form and the API read the validated setting -------------------------


def _posts(db_session) -> int:  # type: ignore[no-untyped-def]
    return int(db_session.scalar(select(func.count()).select_from(Post)))


def _author_client(connection, tmp_path, make_user, setting):  # type: ignore[no-untyped-def]
    overrides = {} if setting is None else {"IMPORT_ALLOW_PRIVATE_URLS": setting}
    app = make_test_app(connection, tmp_path, **overrides)
    client = app.test_client()
    user, password = make_user()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": user.email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302
    return app, client


def _form_import(client, url: str):  # type: ignore[no-untyped-def]
    token = csrf_token_from(client.get("/author/posts/import").get_data(as_text=True))
    return client.post("/author/posts/import", data={"csrf_token": token, "url": url, "format": ""})


@pytest.mark.parametrize("setting", [None, "off", "OFF", "0", "no", "false", False])
def test_form_refuses_loopback_unless_the_setting_is_on(
    connection, tmp_path, make_user, db_session, server: Server, setting
) -> None:
    _app, client = _author_client(connection, tmp_path, make_user, setting)
    for host in ("127.0.0.1", "localhost"):
        response = _form_import(client, f"http://{host}:{server.port}/feed.xml")
        assert response.status_code == 422
        assert "private or local address" in response.get_data(as_text=True)
    assert server.hits == []
    assert _posts(db_session) == 0


@pytest.mark.parametrize("setting", ["on", "1", "yes", "true", True])
def test_form_fetches_loopback_when_the_setting_is_on(
    connection, tmp_path, make_user, db_session, server: Server, setting
) -> None:
    _app, client = _author_client(connection, tmp_path, make_user, setting)
    response = _form_import(client, f"http://127.0.0.1:{server.port}/feed.xml")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert server.hits == ["/feed.xml"]
    assert _posts(db_session) == 2


@pytest.mark.parametrize(("setting", "allowed"), [("off", False), ("0", False), ("on", True)])
def test_api_follows_the_same_setting(
    connection, tmp_path, api_token, db_session, server: Server, setting, allowed
) -> None:
    client = make_test_app(connection, tmp_path, IMPORT_ALLOW_PRIVATE_URLS=setting).test_client()
    response = client.post(
        "/api/v1/posts",
        json={"url": f"http://127.0.0.1:{server.port}/feed.xml"},
        headers={"Authorization": f"Bearer {api_token}"},
    )
    if allowed:
        assert response.status_code in (200, 201), response.json
        assert _posts(db_session) == 2
    else:
        assert response.status_code == 422
        assert "private or local address" in response.json["error"]["message"]
        assert server.hits == [] and _posts(db_session) == 0


def test_import_posts_refuses_loopback_by_default(db_session, server: Server) -> None:
    with pytest.raises(PostImportError, match="private or local address"):
        import_posts(db_session, f"http://localhost:{server.port}/feed.xml")
    assert server.hits == [] and _posts(db_session) == 0
