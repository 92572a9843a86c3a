"""parse_source for every format, without a database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsletter.posts import ParsedPost, PostImportError, parse_source
from newsletter.posts.cleaning import clean_html, make_excerpt
from newsletter.posts.plaintext import split_categories
from newsletter.posts.slugs import slugify


def test_seed_has_two_posts_with_titles_and_categories(data_dir: Path) -> None:
    posts = parse_source(data_dir / "seed.txt")
    assert [p.title for p in posts] == ["Cranes on the Horizon", "What’s new in AI from China?"]
    assert posts[0].categories == ("AI", "AI: Large Language Models", "China")
    assert posts[1].categories == ("AI", "China")
    for post in posts:
        assert "โ€" not in post.html + post.title + post.excerpt
        assert post.guid.startswith("text:")
        assert post.published_at is None
    assert "architecture—it was the cranes" in posts[0].html
    assert "wasn’t" in posts[0].html
    assert "Alibaba → Just launched" in posts[1].html
    assert "5–20× less" in posts[1].html
    assert posts[0].excerpt.startswith("In 2005, during my first trip")
    assert posts[0].excerpt.endswith("…")
    assert 45 <= len(posts[0].excerpt.split()) <= 50


def test_seed_guid_is_stable(data_dir: Path) -> None:
    first = parse_source(data_dir / "seed.txt")
    again = parse_source((data_dir / "seed.txt").read_bytes())
    assert [p.guid for p in first] == [p.guid for p in again]


@pytest.mark.parametrize(
    ("line", "known", "expected"),
    [
        (
            "AI AI: Large Language Models China",
            {"AI", "China"},
            ["AI", "AI: Large Language Models", "China"],
        ),
        ("AI China", set(), ["AI", "China"]),
        ("AI: Large Language Models", set(), ["AI: Large Language Models"]),
        (
            "AI AI: Robotics AI: Vision China",
            {"AI", "China"},
            ["AI", "AI: Robotics", "AI: Vision", "China"],
        ),
        ("Machine Learning China", {"Machine Learning"}, ["Machine Learning", "China"]),
    ],
)
def test_split_categories(line: str, known: set[str], expected: list[str]) -> None:
    assert split_categories(line, known) == expected


def test_text_without_categories_line_is_refused() -> None:
    with pytest.raises(PostImportError) as err:
        parse_source(b"\nJust a title\n\nSome text.\n", fmt="text")
    assert err.value.position == "line 2"
    assert "Categories" in str(err.value)


def test_text_post_without_title_is_refused() -> None:
    data = b"Categories\nAI\n\nTitle\n\nBody.\n\nCategories\nAI\n\n"
    with pytest.raises(PostImportError) as err:
        parse_source(data, fmt="text")
    assert err.value.position == "line 8"


def test_rss(data_dir: Path) -> None:
    first, second = parse_source(data_dir / "feed.rss")
    assert first.guid == "rss-guid-1"
    assert first.title == "Open weights are winning"
    assert first.author == "Ada Lovelace"
    assert first.url == "https://blog.example.org/2026/02/open-weights"
    assert first.published_at == datetime(2026, 2, 16, 8, 30, tzinfo=UTC)
    assert first.categories == ("AI", "AI: Large Language Models")
    assert first.excerpt == "A short summary of the open weights post."
    assert "<b>are</b>" in first.html
    assert second.html == "<p>Cranes on the horizon, seen from a high-speed train.</p>"


def test_feed_html_is_sanitized(data_dir: Path) -> None:
    html = parse_source(data_dir / "feed.rss")[0].html
    for bad in ("<script", "alert(", "onerror", "onclick", "javascript:", "style=", "<iframe"):
        assert bad not in html
    # Relative image paths become absolute: an email has no page to resolve them against.
    assert 'src="https://blog.example.org/img/chart.png"' in html
    assert 'href="https://example.com/ok"' in html


def test_sanitize_html_allow_list() -> None:
    dirty = (
        '<p onclick="x()">hi <a href="JaVaScRiPt:alert(1)">a</a><svg><script>1</script></svg>'
        '<img src="data:image/png;base64,xx"><object data="x"></object><style>p{}</style></p>'
    )
    clean = clean_html(dirty)
    assert clean == '<p>hi <a rel="noopener noreferrer">a</a><img></p>'


def test_atom(data_dir: Path) -> None:
    first, second = parse_source(data_dir / "feed.atom", fmt="atom")
    assert first.guid == "tag:atom.example.org,2026:1"
    assert first.author == "Grace Hopper"
    assert first.published_at == datetime(2026, 2, 14, 6, 0, tzinfo=UTC)
    assert first.categories == ("AI: Large Language Models",)
    assert first.html == "<p>First <em>entry</em> body.</p>"
    assert second.html == "<p>Only a summary here.</p>"
    assert second.published_at == datetime(2026, 2, 16, 9, 30, tzinfo=UTC)


def test_wxr_keeps_published_posts_and_builds_category_names(data_dir: Path) -> None:
    (post,) = parse_source(data_dir / "export.wxr")
    assert post.title == "Robots doing kung fu"
    assert post.guid == "https://wp.example.org/?p=11"
    assert post.author == "Alan Turing"
    assert post.slug_hint == "robots-kung-fu"
    assert post.published_at == datetime(2026, 2, 17, 10, 0, tzinfo=UTC)
    assert post.categories == ("AI: Robotics",)  # tags are not categories
    assert post.html.startswith("<p>Robots did backflips on live TV.</p>")
    assert "onmouseover" not in post.html


def test_markdown_folder(data_dir: Path) -> None:
    first, second = parse_source(data_dir / "markdown")
    assert first.guid == "markdown:first-markdown-post"
    assert first.slug_hint == "first-markdown-post"
    assert first.title == "Markdown: the first post"
    assert first.published_at == datetime(2026, 2, 1, tzinfo=UTC)
    assert first.categories == ("AI", "AI: Large Language Models")
    assert "<em>emphasis</em>" in first.html
    assert "<script" not in first.html  # raw HTML is shown as text, never run
    assert second.guid == "markdown:second"
    assert second.categories == ("China", "Robotics")
    assert second.published_at == datetime(2026, 2, 3, 9, 15, tzinfo=UTC)
    assert "href" not in second.html  # markdown-it refuses the javascript: link


def test_markdown_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text("---\ntitle: Good\n---\nText\n")
    (tmp_path / "bad.md").write_text("---\ntitle: Bad\ncategories: [a, b\n---\nText\n")
    with pytest.raises(PostImportError) as err:
        parse_source(tmp_path)
    assert err.value.position is not None
    assert err.value.position.startswith("bad.md, line ")
    assert "YAML" in str(err.value)


def test_markdown_bad_date(tmp_path: Path) -> None:
    # A date that cannot be read leaves the post without one (never "now"), with a warning.
    (tmp_path / "a.md").write_text("---\ntitle: A\ndate: next tuesday\n---\nText\n")
    (post,) = parse_source(tmp_path)
    assert post.published_at is None
    assert post.warnings == ("no date for “A” ('next tuesday' is not a date we can read); "
                             "set it under Posts in the author pages",)  # fmt: skip


@pytest.mark.parametrize(
    ("name", "position"),
    [
        ("malformed.xml", "line 10, column 22"),
        ("billion_laughs.xml", "line 3, column 16"),
        ("xxe.xml", "line 3, column 43"),
    ],
)
def test_bad_xml_is_refused_with_position(data_dir: Path, name: str, position: str) -> None:
    with pytest.raises(PostImportError) as err:
        parse_source(data_dir / name)
    assert err.value.position == position
    assert position in str(err.value)


def test_xxe_never_reads_the_file(data_dir: Path) -> None:
    for fmt in ("rss", "wxr"):
        with pytest.raises(PostImportError, match="not allowed"):
            parse_source(data_dir / "xxe.xml", fmt=fmt)


def test_oversized_source(data_dir: Path) -> None:
    with pytest.raises(PostImportError) as err:
        parse_source(data_dir / "feed.rss", max_bytes=100)
    assert err.value.position == "byte 101"
    assert "100 bytes" in str(err.value)
    with pytest.raises(PostImportError):
        parse_source(b"x" * 101, max_bytes=100)
    with pytest.raises(PostImportError) as err:
        parse_source(data_dir / "markdown", max_bytes=100)
    assert err.value.position is not None and err.value.position.endswith(".md")


def test_format_detection_and_override(data_dir: Path) -> None:
    wxr = (data_dir / "export.wxr").read_bytes()
    assert parse_source(wxr)[0].slug_hint == "robots-kung-fu"  # sniffed as WXR
    assert len(parse_source(wxr, fmt="feed")) == 3  # as a plain feed: every item
    with pytest.raises(PostImportError, match="unknown format"):
        parse_source(wxr, fmt="docx")
    with pytest.raises(PostImportError, match="no such file"):
        parse_source(data_dir / "missing.rss")


def test_not_a_feed() -> None:
    with pytest.raises(PostImportError, match="root element is <html>"):
        parse_source(b"<html><body>hi</body></html>")


def test_parsed_post_is_frozen(data_dir: Path) -> None:
    post = parse_source(data_dir / "feed.atom")[0]
    assert isinstance(post, ParsedPost)
    with pytest.raises(AttributeError):
        post.title = "x"  # type: ignore[misc]


def test_helpers() -> None:
    assert slugify("What’s new in AI from China?") == "whats-new-in-ai-from-china"
    assert slugify("中文") == "zhong-wen"  # transliterated, never the generic fallback
    assert slugify("😀") == "post"
    words = " ".join(f"w{i}" for i in range(60))
    assert make_excerpt(words) == " ".join(f"w{i}" for i in range(50)) + "…"
    assert make_excerpt("short text") == "short text"
