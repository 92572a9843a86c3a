"""Relative links resolve against the source's location, or stay text with a warning (case 03)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.models import Post
from newsletter.posts import PostImportError, import_posts, parse_source
from newsletter.posts.links import first_absolute, resolve_links, resolve_url

from ..live import run_cli, stack_environment

CASES = Path(__file__).resolve().parent.parent / "data" / "posts" / "cases"
CASE_03 = (CASES / "03-relative-links-feed.xml").read_bytes()


def no_dead_links(markup: str) -> None:
    """No link without a target, no image without a source, nothing relative."""
    for tag in re.findall(r"<a\b[^>]*>", markup):
        assert re.search(r'href="https?://', tag), tag
    for tag in re.findall(r"<img\b[^>]*>", markup):
        assert re.search(r'src="https?://', tag), tag
    for srcset in re.findall(r'srcset="([^"]*)"', markup):
        assert all(c.strip().startswith(("http://", "https://")) for c in srcset.split(","))


def serve_case_03(http_server) -> str:
    base, routes = http_server
    routes["/blog/feed.xml"] = (200, "application/rss+xml", CASE_03)
    return base


def test_case_03_by_url_resolves_against_the_feed(db_session: Session, http_server) -> None:
    base = serve_case_03(http_server)
    result = import_posts(db_session, f"{base}/blog/feed.xml", allow_private_urls=True)
    assert result.created == 2 and result.warnings == []
    swap, frost = (db_session.get(Post, i) for i in result.post_ids)
    assert swap is not None and frost is not None
    assert swap.url == f"{base}/blog/2024/seed-swap.html"
    assert f'<a href="{base}/blog/photos/"' in swap.html
    assert f'<img src="{base}/blog/img/swap.jpg" alt="Seed table">' in swap.html
    # An absolute item link stays as it is; the body still resolves against the feed.
    assert frost.url == "http://127.0.0.1:8431/blog/2024/frost/"
    assert f'<img src="{base}/blog/chart.png" alt="Frost chart">' in frost.html
    no_dead_links(swap.html + frost.html)


def test_case_03_after_a_redirect_uses_the_final_url(db_session: Session, http_server) -> None:
    base = serve_case_03(http_server)
    _, routes = http_server
    routes["/feed"] = (301, "text/plain", f"{base}/blog/feed.xml".encode())
    result = import_posts(db_session, f"{base}/feed", allow_private_urls=True)
    swap = db_session.get(Post, result.post_ids[0])
    assert swap is not None
    assert f'<img src="{base}/blog/img/swap.jpg"' in swap.html  # /blog/, not /
    assert swap.source == f"{base}/feed"


def test_case_03_by_url_through_the_cli(tmp_path: Path, http_server) -> None:
    base = serve_case_03(http_server)
    database = tmp_path / "cli.db"
    env = stack_environment(tmp_path, NEWSLETTER_DATABASE_URL=f"sqlite:///{database}")
    assert run_cli(env, "db", "upgrade").returncode == 0
    result = run_cli(env, "posts", "import", f"{base}/blog/feed.xml")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported 2 posts (2 new, 0 updated)"
    assert result.stderr == ""
    from newsletter.db import make_engine

    with Session(make_engine(f"sqlite:///{database}")) as session:
        html = " ".join(session.scalars(select(Post.html)).all())
    assert f'<img src="{base}/blog/img/swap.jpg"' in html
    no_dead_links(html)


def test_case_03_as_a_file_keeps_text_and_warns(db_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(CASE_03)
    result = import_posts(db_session, path)
    swap = db_session.get(Post, result.post_ids[0])
    assert swap is not None and swap.url is None
    assert swap.html == "<p>Photos are in the gallery.</p><p>Seed table</p>"
    assert result.warnings == [
        "Seed swap recap: its link /blog/2024/seed-swap.html has no address it can be resolved"
        " against",
        "Seed swap recap: link to /blog/photos/ has no address it can be resolved against;"
        " kept its text",
        "Seed swap recap: image img/swap.jpg has no address it can be resolved against;"
        ' kept its alt text "Seed table"',
    ]


def test_case_03_as_a_file_with_base_url(db_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(CASE_03)
    result = import_posts(db_session, path, base_url="https://pat.example.org/blog/feed.xml")
    assert result.warnings == []
    swap = db_session.get(Post, result.post_ids[0])
    assert swap is not None and swap.url == "https://pat.example.org/blog/2024/seed-swap.html"
    assert '<img src="https://pat.example.org/blog/img/swap.jpg"' in swap.html


@pytest.mark.parametrize("bad", ["blog.example.org", "ftp://x.example/", "/blog/", "javascript:x"])
def test_base_url_must_be_absolute_http(db_session: Session, bad: str) -> None:
    with pytest.raises(PostImportError, match="base URL must be an absolute http"):
        import_posts(db_session, CASE_03, base_url=bad)
    assert db_session.scalars(select(Post)).all() == []


def test_channel_link_is_the_base_of_a_file() -> None:
    feed = CASE_03.replace(b"<link>/blog/</link>", b"<link>https://pat.example.org/blog/</link>")
    swap, frost = parse_source(feed)
    assert swap.url == "https://pat.example.org/blog/2024/seed-swap.html"
    assert '<a href="https://pat.example.org/blog/photos/"' in swap.html
    assert '<img src="https://pat.example.org/blog/img/swap.jpg"' in swap.html
    assert swap.warnings == () and frost.warnings == ()


ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://notes.example.org/">
<title>Notes</title><id>urn:notes</id><updated>2024-03-01T00:00:00Z</updated>
<entry xml:base="/2024/spring/">
  <title>Spring</title><id>urn:notes:spring</id><updated>2024-03-01T00:00:00Z</updated>
  <link rel="alternate" href="post.html"/>
  <content type="html" xml:base="media/">&lt;p&gt;&lt;a href="../more.html"&gt;More&lt;/a&gt;
  &lt;img src="a.jpg" srcset="a.jpg 1x, big/a.jpg 2x" alt="A"&gt;
  &lt;img srcset="only.jpg 480w" alt="Only srcset"&gt;&lt;/p&gt;</content>
</entry>
</feed>"""


def test_xml_base_on_feed_entry_and_content() -> None:
    [post] = parse_source(ATOM)
    assert post.url == "https://notes.example.org/2024/spring/post.html"
    assert '<a href="https://notes.example.org/2024/spring/more.html"' in post.html
    assert (
        '<img src="https://notes.example.org/2024/spring/media/a.jpg" srcset="'
        "https://notes.example.org/2024/spring/media/a.jpg 1x, "
        'https://notes.example.org/2024/spring/media/big/a.jpg 2x" alt="A">'
    ) in post.html
    # An image with only a srcset gets its first candidate as src.
    only = re.search(r'<img [^>]*alt="Only srcset"[^>]*>', post.html)
    assert only is not None
    assert 'src="https://notes.example.org/2024/spring/media/only.jpg"' in only.group(0)
    assert post.warnings == ()
    no_dead_links(post.html)


def test_relative_xml_base_joins_onto_the_feed_url() -> None:
    feed = ATOM.replace(b'xml:base="https://notes.example.org/"', b'xml:base="site/"')
    [post] = parse_source(feed, base_url="https://host.example/feeds/atom.xml")
    assert post.url == "https://host.example/2024/spring/post.html"
    assert 'src="https://host.example/2024/spring/media/a.jpg"' in post.html


def test_wxr_links_resolve_against_base_site_url() -> None:
    from .test_wordpress import wxr

    [post] = parse_source(
        wxr(
            '<a href="/2023/older/">older</a> <img src="/wp-content/uploads/x.png" alt="X"'
            ' srcset="/wp-content/uploads/x-300.png 300w, /wp-content/uploads/x.png 600w">'
        ).replace(b"<link>https://garden.example.org/a-post/</link>", b"<link>/a-post/</link>")
    )
    assert post.url == "https://garden.example.org/a-post/"
    assert '<a href="https://garden.example.org/2023/older/"' in post.html
    assert "https://garden.example.org/wp-content/uploads/x-300.png 300w" in post.html
    assert post.warnings == ()


def test_wxr_without_any_site_address_warns() -> None:
    from .test_wordpress import wxr

    data = (
        wxr('<a href="/2023/older/">older</a> and <img src="x.png">')
        .replace(b"<wp:base_site_url>https://garden.example.org</wp:base_site_url>", b"")
        .replace(b"<link>https://garden.example.org</link>", b"")
        .replace(b"<link>https://garden.example.org/a-post/</link>", b"")
    )
    [post] = parse_source(data)
    assert post.html == "<p>older and </p>"  # an image without alt text leaves nothing
    assert len(post.warnings) == 2
    assert "/2023/older/" in post.warnings[0] and "kept its text" in post.warnings[0]
    assert "x.png" in post.warnings[1] and "dropped it" in post.warnings[1]
    [again] = parse_source(data, base_url="https://garden.example.org/")
    assert '<img src="https://garden.example.org/x.png">' in again.html


def test_markdown_folder_with_base_url(db_session: Session, tmp_path: Path) -> None:
    folder = tmp_path / "posts"
    folder.mkdir()
    (folder / "hello.md").write_text(
        "---\ntitle: Hello\ndate: 2024-01-01\n---\nSee [the archive](../archive/) and ![logo](img/logo.png).\n"
    )
    plain = import_posts(db_session, folder)
    assert len(plain.warnings) == 2
    post = db_session.get(Post, plain.post_ids[0])
    assert post is not None and "<a" not in post.html and "<img" not in post.html
    assert "the archive" in post.html and "logo" in post.html
    based = import_posts(db_session, folder, base_url="https://me.example.org/posts/")
    assert based.warnings == []
    db_session.refresh(post)
    assert '<a href="https://me.example.org/archive/"' in post.html
    assert '<img src="https://me.example.org/posts/img/logo.png" alt="logo">' in post.html


@pytest.mark.parametrize(
    ("markup", "base", "html", "warned"),
    [
        ('<a href="x">t</a>', "https://e.org/a/", '<a href="https://e.org/a/x">t</a>', 0),
        ('<a href="x"><b>t</b></a> u', None, "<b>t</b> u", 1),
        ("<a>anchor</a>", None, "anchor", 0),
        ('<a href="javascript:alert(1)">t</a>', "https://e.org/", "t", 1),
        ('<a href="mailto:a@e.org">m</a>', None, '<a href="mailto:a@e.org">m</a>', 0),
        ('<a href="//cdn.e.org/x">t</a>', None, '<a href="https://cdn.e.org/x">t</a>', 0),
        ('<img src="data:image/png;base64,xx" alt="d">', "https://e.org/", "d", 1),
        ('<img alt="none">', None, "none", 1),
        ('<img src="a b.png" alt="&lt;x&gt;">', None, "&lt;x&gt;", 1),
        ("<p>&amp; &#8217; kept</p>", None, "<p>&amp; &#8217; kept</p>", 0),
    ],
)
def test_resolve_links_table(markup: str, base: str | None, html: str, warned: int) -> None:
    out, warnings = resolve_links(markup, base)
    assert out == html
    assert len(warnings) == warned


@pytest.mark.parametrize(
    "markup",
    ["<" * 300_000, "<b" * 180_000, "<!--" * 60_000, "<![CDATA[" * 60_000, "<a href=x>" * 60_000],
    ids=["lt", "open tags", "comments", "cdata", "links"],
)
def test_hostile_markup_imports_in_linear_time(markup: str) -> None:
    # The stdlib HTML parser is quadratic on such input; make_post sanitizes first.
    started = time.perf_counter()
    [post] = parse_source(
        b"<rss><channel><item><title>t</title><description><![CDATA["
        + markup.encode()
        + b"]]></description></item></channel></rss>",
        fmt="rss",
    )
    assert time.perf_counter() - started < 10
    no_dead_links(post.html)


def test_malformed_addresses_are_warnings_not_crashes() -> None:
    from .test_wordpress import wxr

    [post] = parse_source(
        wxr(
            '<a href="http://[bad/x">t</a> <img src="http://[::1/x.png" alt="a">\n\n'
            '[embed]http://[x/a.png[/embed]\n\n[audio src="http://[y/a.mp3"]\n\nhttp://[z/v'
        ).replace(b"https://garden.example.org/a-post/", b"http://[oops/")
    )
    assert post.url is None
    assert "[" not in post.html.replace("http://[", "")  # no shortcode text left
    no_dead_links(post.html)
    assert post.warnings


def test_url_helpers() -> None:
    assert first_absolute(None, "", "/blog/", "https://e.org/x/feed") == "https://e.org/blog/"
    assert first_absolute("a/", "b/", None) is None
    assert resolve_url(" /p\n/q ", "https://e.org/") == "https://e.org/p/q"
    assert resolve_url("ftp://e.org/x", "https://e.org/") is None
