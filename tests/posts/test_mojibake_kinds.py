"""Every common kind of mojibake is repaired, in every field; correct text is never touched."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from newsletter.models import Post
from newsletter.posts import import_posts, parse_source
from newsletter.posts.mojibake import repair_mojibake

CASES = Path(__file__).resolve().parent.parent / "data" / "posts" / "cases"
C1 = re.compile("[\x80-\x9f]")


def as_windows_1252(text: str) -> str:
    """UTF-8 bytes read as Windows-1252 the way browsers do (undefined bytes as C1)."""
    out = []
    for byte in text.encode("utf-8"):
        try:
            out.append(bytes([byte]).decode("cp1252"))
        except UnicodeDecodeError:
            out.append(chr(byte))
    return "".join(out)


def as_latin_1(text: str) -> str:
    return text.encode("utf-8").decode("latin-1")


def test_case_cp1252_next_to_cp874(db_session: Session) -> None:
    first, second = parse_source(CASES / "02-cp1252-mojibake-scrape.txt")
    assert first.title == "Falco update: what’s new"
    assert "Kris Nóva" in first.html
    assert "It’s been a busy month — the “rules” engine" in first.html
    assert second.html == "<p>The crane operators — all of them — went home.</p>"
    result = import_posts(db_session, CASES / "02-cp1252-mojibake-scrape.txt")
    for post_id in result.post_ids:
        post = db_session.get(Post, post_id)
        assert post is not None
        assert not C1.search(post.html + post.title + post.excerpt)


ORIGINALS = [
    "Зимняя рыбалка на озере",
    "Καλημέρα κόσμε",
    "春天的花园 and 東京の桜",
    "emoji 😀 and “curly” quotes — dash… ellipsis",
    "Crème brûlée, naïve café, Müller, São Paulo",
    "ข่าวเทคโนโลยี ประจำสัปดาห์",
]


@pytest.mark.parametrize("original", ORIGINALS)
@pytest.mark.parametrize(
    "damage",
    [
        as_windows_1252,
        as_latin_1,
        lambda t: as_windows_1252(as_windows_1252(t)),  # read wrongly twice
    ],
    ids=["cp1252", "latin-1", "twice"],
)
def test_kinds_of_damage_are_repaired(original: str, damage) -> None:  # type: ignore[no-untyped-def]
    broken = damage(original)
    assert broken != original
    assert repair_mojibake(broken) == original


def test_broken_next_to_correct_text() -> None:
    assert repair_mojibake("It’s fine, but whatâ€™s this? Ã© vs é") == (
        "It’s fine, but what’s this? é vs é"
    )


@pytest.mark.parametrize(
    "text",
    [
        *ORIGINALS,
        "SÃO PAULO é ótimo",  # Portuguese capitals, not mojibake
        "Ｆｕｌｌ-width forms and the ﬁ ligature stay",
        "Straight 'quotes' and \"double\" stay; curly ‘ones’ “too”",
        "1 × 2 ÷ 3 ± ¼ · ° µ ¶ ß ð þ",
        "&lt;escaped&gt; HTML stays escaped",
    ],
)
def test_correct_text_is_never_repaired(text: str) -> None:
    assert repair_mojibake(text) == text


def test_no_c1_control_survives() -> None:
    assert not C1.search(repair_mojibake("x\x85y \x9d z \x81"))


def test_every_field_of_a_feed_is_repaired() -> None:
    def esc(text: str) -> str:
        return text.replace("&", "&amp;")

    title, author, category = (as_windows_1252(t) for t in ("Café “Olé”", "Kris Nóva", "Música"))
    data = (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t</title><item>'
        f"<title>{esc(title)}</title><dc:creator>{esc(author)}</dc:creator>"
        f"<category>{esc(category)}</category><guid>g</guid>"
        f"<description>{esc(as_latin_1('<p>Déjà vu — twice</p>')).replace('<', '&lt;')}"
        "</description></item></channel></rss>"
    ).encode()
    (post,) = parse_source(data)
    assert (post.title, post.author, post.categories) == ("Café “Olé”", "Kris Nóva", ("Música",))
    assert post.html == "<p>Déjà vu — twice</p>"
    assert post.excerpt == "Déjà vu — twice"
