"""Feeds and WordPress exports in any charset Python decodes, declared in the XML or by HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.models import Post
from newsletter.posts import PostImportError, import_posts, parse_source
from newsletter.posts.charsets import decode_xml

CASES = Path(__file__).resolve().parent.parent / "data" / "posts" / "cases"


def rss(encoding: str | None, title: str, category: str, body: str = "") -> str:
    declaration = f' encoding="{encoding}"' if encoding else ""
    return (
        f'<?xml version="1.0"{declaration}?>\n<rss version="2.0"><channel><title>Blog</title>\n'
        f"<item><title>{title}</title><guid>https://blog.example.org/1</guid>"
        f"<link>https://blog.example.org/1</link><category>{category}</category>"
        f"<pubDate>Tue, 05 Mar 2024 08:00:00 +0800</pubDate>"
        f"<description>&lt;p&gt;{body or title}&lt;/p&gt;</description></item>\n"
        "</channel></rss>\n"
    )


def wxr(encoding: str, title: str, category: str) -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:wp="http://wordpress.org/export/1.2/"><channel><wp:wxr_version>1.2</wp:wxr_version>'
        f"<item><title>{title}</title><wp:post_type>post</wp:post_type><wp:status>publish</wp:status>"
        "<wp:post_date_gmt>2024-03-05 08:00:00</wp:post_date_gmt>"
        f'<category domain="category" nicename="c">{category}</category>'
        f"<content:encoded>{title}</content:encoded></item></channel></rss>\n"
    )


def test_case_gb2312_feed_imports() -> None:
    (post,) = parse_source(CASES / "01-gb2312-feed.xml")
    assert post.title == "春天的花园"
    assert post.categories == ("生活",)
    assert "今天花园里的桃花开了。" in post.html


@pytest.mark.parametrize(
    ("encoding", "title", "category"),
    [
        ("GBK", "秋天的落叶", "生活"),
        ("GB18030", "冬天的雪𠀀", "日记"),  # 𠀀 is outside GBK: four bytes in GB18030
        ("Big5", "臺北的夜市", "美食"),
        ("Shift_JIS", "東京の桜", "旅行"),
        ("EUC-JP", "京都の紅葉", "写真"),
        ("EUC-KR", "서울의 봄", "일상"),
        ("KOI8-R", "Зимняя рыбалка", "Отдых"),
        ("windows-1251", "Летний сад", "Сад"),
        ("ISO-8859-7", "Καλημέρα κόσμε", "Νέα"),
        ("ISO-8859-15", "Crème brûlée à 5 €", "Cuisine"),
        ("windows-1252", "Naïve “quotes” – café", "Café"),
        ("ISO-8859-1", "Smörgåsbord", "Mat"),
        ("TIS-620", "ข่าวเทคโนโลยี", "ไทย"),
        ("UTF-16", "Привет, 世界", "Мир"),
    ],
)
def test_declared_charsets(encoding: str, title: str, category: str) -> None:
    data = rss(encoding, title, category).encode(encoding)  # UTF-16 gets its BOM here
    (post,) = parse_source(data)
    assert (post.title, post.categories) == (title, (category,))
    assert title in post.html


@pytest.mark.parametrize("encoding", ["Shift_JIS", "KOI8-R", "Big5"])
def test_wxr_in_a_declared_charset(encoding: str) -> None:
    title = {"Shift_JIS": "東京の桜", "KOI8-R": "Зимняя рыбалка", "Big5": "臺北的夜市"}[encoding]
    (post,) = parse_source(wxr(encoding, title, "Разное" if encoding == "KOI8-R" else "日記")
                           .encode(encoding))  # fmt: skip
    assert post.title == title and title in post.html


def test_a_utf16_export_is_still_recognised_as_wordpress() -> None:
    for encoding in ("utf-16", "utf-16-be", "utf-16-le"):  # with a BOM, then without
        data = wxr("UTF-16", "東京の桜", "日記").encode(encoding)
        (post,) = parse_source(data)
        assert post.title == "東京の桜" and post.categories == ("日記",), encoding


def test_utf16_without_bom_and_utf8_with_bom() -> None:
    text = rss("UTF-16", "Ελληνικά", "Νέα")
    (post,) = parse_source(text.encode("utf-16-le"))  # no BOM: the width of `<?` tells
    assert post.title == "Ελληνικά"
    (post,) = parse_source(b"\xef\xbb\xbf" + rss("utf-8", "Ünïcödé", "X").encode())
    assert post.title == "Ünïcödé"


def test_http_charset_when_the_document_declares_none() -> None:
    data = rss(None, "Зимняя рыбалка", "Отдых").encode("koi8-r")
    with pytest.raises(PostImportError):
        parse_source(data)  # without a declaration it would be UTF-8, which it is not
    decoded = decode_xml(data, content_type="text/xml; charset=KOI8-R")
    assert "<title>Зимняя рыбалка</title>" in decoded


def test_a_server_default_does_not_overrule_the_declaration() -> None:
    data = rss("gb2312", "春天的花园", "生活").encode("gb2312")
    assert "春天的花园" in decode_xml(data, content_type="text/xml; charset=ISO-8859-1")
    # A specific charset from the server wins (RFC 7303), as with JSON-posted text.
    utf8 = rss("gb2312", "春天的花园", "生活").encode("utf-8")
    assert "春天的花园" in decode_xml(utf8, content_type="text/plain; charset=utf-8")


def test_import_by_url_uses_the_content_type(
    db_session: Session, http_server: tuple[str, dict[str, tuple[int, str, bytes]]]
) -> None:
    base, routes = http_server
    routes["/koi8.xml"] = (
        200,
        "application/rss+xml; charset=koi8-r",
        rss(None, "Зимняя рыбалка", "Отдых").encode("koi8-r"),
    )
    routes["/gb.xml"] = (200, "text/xml", (CASES / "01-gb2312-feed.xml").read_bytes())
    for path, title in (("/koi8.xml", "Зимняя рыбалка"), ("/gb.xml", "春天的花园")):
        result = import_posts(db_session, base + path, allow_private_urls=True)
        post = db_session.get(Post, result.post_ids[0])
        assert post is not None and post.title == title


@pytest.mark.parametrize(
    ("data", "position", "words"),
    [
        # 0xFF 0xFF is not GB2312 (nor GB18030): line 3, after `<title>`.
        (b'<?xml version="1.0" encoding="gb2312"?>\n<rss>\n<title>\xff\xff</title></rss>',
         "line 3, column 8", "byte FF not valid in gb2312"),
        (b'<?xml version="1.0" encoding="utf-8"?>\n<rss><title>caf\xe9 ok</title></rss>',
         "line 2, column 16", "byte E9 not valid in utf-8"),
        (b'<?xml version="1.0" encoding="x-no-such-charset"?><rss/>', "line 1, column 1",
         "x-no-such-charset"),
        (b'<?xml version="1.0" encoding="rot13"?><rss/>', "line 1, column 1",
         "not a character encoding"),
    ],
)  # fmt: skip
def test_undecodable_bytes_are_one_positioned_error(data: bytes, position: str, words: str) -> None:
    with pytest.raises(PostImportError) as err:
        parse_source(data)
    assert err.value.position == position
    assert words in err.value.message


def test_api_imports_a_gb2312_body_and_refuses_bad_bytes_with_422(
    client, api_token: str, db_session: Session
) -> None:
    auth = {"Authorization": f"Bearer {api_token}"}
    case = (CASES / "01-gb2312-feed.xml").read_bytes()
    response = client.post(
        "/api/v1/posts", data=case, content_type="application/rss+xml", headers=auth
    )
    assert response.status_code == 200, response.json
    assert db_session.scalars(select(Post.title)).all() == ["春天的花园"]
    # The same feed sent as a JSON string: Unicode already, whatever it declares.
    response = client.post("/api/v1/posts", json={"content": case.decode("gb2312")}, headers=auth)
    assert response.status_code == 200, response.json
    assert response.json["updated"] == 1
    bad = case.replace("春".encode("gb2312"), b"\xff\xff")
    response = client.post(
        "/api/v1/posts", data=bad, content_type="application/rss+xml", headers=auth
    )
    assert response.status_code == 422
    assert response.json["error"]["details"][0]["position"] == "line 7, column 8"
