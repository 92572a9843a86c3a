"""Markdown front matter keeps the author's text: YAML 1.1 booleans, numbers and dates stay text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from newsletter.posts import PostImportError, parse_source
from newsletter.posts.markdown_files import parse_markdown_file

CASES = Path(__file__).resolve().parent.parent / "data" / "posts" / "cases"


def test_case_norway_and_ontario() -> None:
    (post,) = parse_source(CASES / "12-front-matter-norway.md")
    assert post.categories == ("Travel", "NO", "ON")
    assert post.title == "Night train to Oslo"
    assert post.published_at == datetime(2024, 3, 10, 18, 30, tzinfo=timezone(timedelta(hours=1)))


@pytest.mark.parametrize(
    ("front_matter", "title", "categories", "slug"),
    [
        ("title: yes\ncategories: [off, Y, n, true]\nslug: no", "yes", ("off", "Y", "n", "true"),
         "no"),
        ("title: 2024\ncategories: 1.10, 007, 0x1F\nslug: 1.10", "2024", ("1.10", "007", "0x1F"),
         "1.10"),
        ("title: 2024-03-10\ncategories:\n  - 12:30\n  - 1e3\n  - .NaN\nslug: 2024-03-10",
         "2024-03-10", ("12:30", "1e3", ".NaN"), "2024-03-10"),
        ("title: 'ON'\ncategory: NO\nslug: ~", "ON", ("NO",), None),
    ],
)  # fmt: skip
def test_scalars_keep_the_authors_text(
    front_matter: str, title: str, categories: tuple[str, ...], slug: str | None
) -> None:
    text = f"---\n{front_matter}\ndate: 2024-03-10\n---\nBody\n"
    post = parse_markdown_file(text.encode(), name="post.md")
    assert (post.title, post.categories, post.slug_hint) == (title, categories, slug)
    assert post.published_at == datetime(2024, 3, 10, tzinfo=UTC)  # the date is still a date


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-10", datetime(2024, 3, 10, tzinfo=UTC)),
        ("2024-03-10T18:30:00Z", datetime(2024, 3, 10, 18, 30, tzinfo=UTC)),
        ("'Sun, 10 Mar 2024 18:30:00 +0000'", datetime(2024, 3, 10, 18, 30, tzinfo=UTC)),
        ("10. März 2024", datetime(2024, 3, 10, tzinfo=UTC)),
        ("~", None),
    ],
)
def test_dates_in_front_matter(value: str, expected: datetime | None) -> None:
    post = parse_markdown_file(f"---\ntitle: T\ndate: {value}\n---\nB\n".encode(), name="p.md")
    assert post.published_at == expected


def test_structure_errors_keep_their_position() -> None:
    with pytest.raises(PostImportError) as err:
        parse_markdown_file(b"---\ntitle: T\ncategories: {a: b}\n---\nB\n", name="p.md")
    assert err.value.position == "p.md, line 3"
    with pytest.raises(PostImportError) as err:
        parse_markdown_file(b"---\ntitle: [unclosed\n---\nB\n", name="p.md")
    assert err.value.position is not None and err.value.position.startswith("p.md, line")


def test_lists_where_text_belongs_are_refused_quickly() -> None:
    # YAML aliases repeat a list cheaply; printing one as a name would not be cheap.
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[n]
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    for key, line in (("categories", 11), ("title", 11)):
        data = "---\n" + "\n".join(lines) + f"\n{key}: *i\n---\nB\n"
        with pytest.raises(PostImportError) as err:
            parse_markdown_file(data.encode(), name="p.md")
        assert err.value.position == f"p.md, line {line}"
    with pytest.raises(PostImportError) as err:
        parse_markdown_file(b"---\ntitle: " + b"[" * 5000 + b"\n---\nB\n", name="p.md")
    assert err.value.position is not None and err.value.position.startswith("p.md, line")
