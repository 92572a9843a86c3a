"""import_posts / save_posts against the real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.demo import load_demo_posts
from newsletter.models import Category, Post
from newsletter.posts import (
    PostImportError,
    get_or_create_categories,
    import_posts,
    parse_source,
    save_posts,
)


def post_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Post)) or 0


def category(session: Session, name: str) -> Category:
    return session.scalars(select(Category).where(Category.name == name)).one()


def test_seed_import(db_session: Session, data_dir: Path) -> None:
    result = import_posts(db_session, data_dir / "seed.txt")
    assert (result.created, result.updated) == (2, 0)
    assert post_count(db_session) == 2
    cranes, china = (db_session.get(Post, i) for i in result.post_ids)
    assert cranes is not None and china is not None
    assert cranes.title == "Cranes on the Horizon"
    assert china.title == "What’s new in AI from China?"
    assert china.slug == "whats-new-in-ai-from-china"
    assert [c.name for c in cranes.categories] == ["AI", "AI: Large Language Models", "China"]
    llm = category(db_session, "AI: Large Language Models")
    assert llm.parent is not None and llm.parent.name == "AI"
    assert llm.parent_id == category(db_session, "AI").id
    assert category(db_session, "China").parent is None
    text = cranes.html + cranes.excerpt + china.html + china.title
    assert "โ€" not in text
    assert "—" in cranes.html and "’" in cranes.html
    assert cranes.source is not None and cranes.source.endswith("seed.txt")
    # A scrape carries no dates: no date at all, never the import time, and it is reported.
    assert cranes.published_at is None and china.published_at is None
    assert len(result.warnings) == 2
    assert all(w.startswith("no date for “") for w in result.warnings)


def test_reimport_updates_in_place(db_session: Session, data_dir: Path) -> None:
    first = import_posts(db_session, data_dir / "seed.txt")
    again = import_posts(db_session, data_dir / "seed.txt")
    assert (again.created, again.updated) == (0, 2)
    assert again.post_ids == first.post_ids
    assert post_count(db_session) == 2
    assert db_session.scalar(select(func.count()).select_from(Category)) == 3


def test_reimported_feed_changes_title_not_slug(db_session: Session, data_dir: Path) -> None:
    raw = (data_dir / "feed.rss").read_bytes()
    first = import_posts(db_session, raw)
    post = db_session.get(Post, first.post_ids[0])
    assert post is not None
    slug = post.slug
    changed = raw.replace(b"Open weights are winning", b"Open weights have won")
    again = import_posts(db_session, changed)
    assert (again.created, again.updated) == (0, 2)
    assert post_count(db_session) == 2
    db_session.refresh(post)
    assert post.title == "Open weights have won"
    assert post.slug == slug  # links already sent in issues keep working


def test_match_by_canonical_url_when_guid_differs(db_session: Session, data_dir: Path) -> None:
    parsed = parse_source(data_dir / "feed.atom")
    save_posts(db_session, parsed, source_label="atom")
    moved = [dataclasses.replace(p, guid=p.guid + "-new", title=p.title + "!") for p in parsed]
    result = save_posts(db_session, moved, source_label="atom again")
    assert (result.created, result.updated) == (0, 2)
    titles = set(db_session.scalars(select(Post.title)))
    assert titles == {"Atom entry one!", "Atom entry two!"}


@pytest.mark.parametrize(
    ("name", "fmt", "count"),
    [
        ("feed.rss", None, 2),
        ("feed.atom", None, 2),
        ("feed.atom", "feed", 2),
        ("export.wxr", None, 1),
        ("markdown", None, 2),
        ("seed.txt", "text", 2),
    ],
)
def test_each_format_imports(
    db_session: Session, data_dir: Path, name: str, fmt: str | None, count: int
) -> None:
    result = import_posts(db_session, data_dir / name, fmt=fmt)
    assert result.created == count
    assert post_count(db_session) == count
    for post in db_session.scalars(select(Post)):
        assert post.guid and post.slug and post.title and post.html
        # Text may mention javascript: (the Markdown fixture does); no link may use it.
        assert "<script" not in post.html and 'href="javascript' not in post.html.lower()


def test_wxr_child_category_gets_parent(db_session: Session, data_dir: Path) -> None:
    import_posts(db_session, data_dir / "export.wxr")
    robotics = category(db_session, "AI: Robotics")
    assert robotics.parent is not None and robotics.parent.name == "AI"


def test_slug_collisions_get_a_suffix(db_session: Session, data_dir: Path) -> None:
    post = parse_source(data_dir / "feed.atom")[0]
    twins = [dataclasses.replace(post, guid=f"g{i}", url=None) for i in range(3)]
    result = save_posts(db_session, twins, source_label="test")
    slugs = [db_session.get(Post, i).slug for i in result.post_ids]  # type: ignore[union-attr]
    assert slugs == ["atom-entry-one", "atom-entry-one-2", "atom-entry-one-3"]


def test_get_or_create_categories_links_parents(db_session: Session) -> None:
    child, top = get_or_create_categories(db_session, ["A: B: C", "Top", "Top", " A:  B: C "])[:2]
    assert child.name == "A: B: C"
    assert child.parent is not None and child.parent.name == "A: B"
    assert child.parent.parent is not None and child.parent.parent.name == "A"
    assert top.name == "Top" and top.parent is None
    assert len(get_or_create_categories(db_session, ["A: B: C", "Top"])) == 2
    assert db_session.scalar(select(func.count()).select_from(Category)) == 4


def test_existing_category_gets_linked_to_new_parent(db_session: Session) -> None:
    db_session.add(Category(name="AI: Vision", slug="ai-vision"))
    db_session.flush()
    (vision,) = get_or_create_categories(db_session, ["AI: Vision"])
    assert vision.parent is not None and vision.parent.name == "AI"


@pytest.mark.parametrize("name", ["malformed.xml", "billion_laughs.xml", "xxe.xml"])
def test_bad_source_imports_nothing(db_session: Session, data_dir: Path, name: str) -> None:
    import_posts(db_session, data_dir / "seed.txt")
    before = post_count(db_session)
    with pytest.raises(PostImportError) as err:
        import_posts(db_session, data_dir / name)
    assert err.value.position and err.value.position.startswith("line ")
    assert post_count(db_session) == before


def test_half_bad_markdown_folder_imports_nothing(db_session: Session, tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\ntitle: Fine\n---\nText\n")
    (tmp_path / "b.md").write_text("---\ntitle: [unclosed\n---\nText\n")
    with pytest.raises(PostImportError) as err:
        import_posts(db_session, tmp_path)
    assert err.value.position is not None and err.value.position.startswith("b.md")
    assert post_count(db_session) == 0


def test_oversized_source_imports_nothing(db_session: Session, data_dir: Path) -> None:
    with pytest.raises(PostImportError) as err:
        import_posts(db_session, data_dir / "seed.txt", max_bytes=1000)
    assert err.value.position == "byte 1001"
    assert post_count(db_session) == 0


def test_feed_over_loopback_http(db_session: Session, data_dir: Path, http_server) -> None:
    base, routes = http_server
    routes["/feed.xml"] = (
        200,
        "application/rss+xml; charset=utf-8",
        (data_dir / "feed.rss").read_bytes(),
    )
    result = import_posts(db_session, f"{base}/feed.xml", allow_private_urls=True)
    assert (result.created, result.updated) == (2, 0)
    post = db_session.get(Post, result.post_ids[0])
    assert post is not None and post.source == f"{base}/feed.xml"
    again = import_posts(db_session, f"{base}/feed.xml", allow_private_urls=True)
    assert (again.created, again.updated) == (0, 2)


def test_http_errors_and_size_cap(db_session: Session, data_dir: Path, http_server) -> None:
    base, routes = http_server
    routes["/big.xml"] = (200, "application/rss+xml", (data_dir / "feed.rss").read_bytes())
    with pytest.raises(PostImportError, match="HTTP 404"):
        import_posts(db_session, f"{base}/missing.xml", allow_private_urls=True)
    with pytest.raises(PostImportError) as err:
        import_posts(db_session, f"{base}/big.xml", max_bytes=500, allow_private_urls=True)
    assert err.value.position == "byte 501"
    assert post_count(db_session) == 0


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "10.0.0.7", "169.254.169.254"])
def test_private_hosts_are_refused_by_default(db_session: Session, host: str) -> None:
    # The web form and the API must not become a way into the server's own network.
    with pytest.raises(PostImportError, match="private or local address"):
        import_posts(db_session, f"http://{host}:9/feed.xml")
    assert post_count(db_session) == 0


def test_redirects(db_session: Session, data_dir: Path, http_server) -> None:
    base, routes = http_server
    routes["/feed.xml"] = (200, "application/atom+xml", (data_dir / "feed.atom").read_bytes())
    routes["/old"] = (301, "text/plain", f"{base}/feed.xml".encode())
    routes["/to-ftp"] = (302, "text/plain", b"ftp://127.0.0.1/feed.xml")
    routes["/to-file"] = (302, "text/plain", b"file:///etc/passwd")
    assert import_posts(db_session, f"{base}/old", allow_private_urls=True).created == 2
    for path in ("/to-ftp", "/to-file"):
        with pytest.raises(PostImportError, match="could not fetch"):
            import_posts(db_session, f"{base}{path}", allow_private_urls=True)
    assert post_count(db_session) == 2


def test_demo_loader_is_idempotent(db_session: Session) -> None:
    assert load_demo_posts(db_session).created == 2
    assert load_demo_posts(db_session).updated == 2
    assert post_count(db_session) == 2
