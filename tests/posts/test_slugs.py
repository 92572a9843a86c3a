"""A title in any script gets a meaningful slug, never the generic `post`."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.models import Category, Post
from newsletter.posts import import_posts
from newsletter.posts.slugs import slugify


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Зимняя рыбалка", "zimniaia-rybalka"),
        ("春天的花园", "chun-tian-de-hua-yuan"),
        ("ข่าวเทคโนโลยี", "khaawethkhonolyii"),
        ("Καλημέρα κόσμε", "kalemera-kosme"),
        ("東京の桜", "dong-jing-noying"),
        ("서울의 봄", "seoulyi-bom"),
        ("Straße & Café", "strasse-cafe"),
        ("What’s new in AI from China?", "whats-new-in-ai-from-china"),  # as before
    ],
)
def test_scripts_are_transliterated(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_only_what_has_no_letters_falls_back() -> None:
    assert slugify("😀 🎉") == "post"
    assert slugify("", fallback="category") == "category"
    assert len(slugify("Очень длинный заголовок " * 10)) <= 80


def test_koi8r_feed_titles_get_their_own_slugs(db_session: Session) -> None:
    titles = ["Зимняя рыбалка", "Летняя рыбалка", "Рыбалка"]
    items = "".join(
        f"<item><title>{t}</title><guid>g{n}</guid><category>Отдых на природе</category>"
        f"<pubDate>Tue, 05 Mar 2024 08:00:00 +0000</pubDate></item>"
        for n, t in enumerate(titles)
    )
    data = (
        '<?xml version="1.0" encoding="KOI8-R"?>\n<rss version="2.0"><channel><title>b</title>'
        f"{items}</channel></rss>"
    ).encode("koi8-r")
    result = import_posts(db_session, data)
    slugs = [db_session.get(Post, i).slug for i in result.post_ids]  # type: ignore[union-attr]
    assert slugs == ["zimniaia-rybalka", "letniaia-rybalka", "rybalka"]
    assert db_session.scalars(select(Category.slug)).all() == ["otdykh-na-prirode"]
