"""Every parser, fed arbitrary bytes or text, returns posts or raises one positioned error.

Derandomized: the same examples run every time, so CI is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from xml.sax.saxutils import escape, quoteattr

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.posts import ParsedPost, PostImportError, parse_source
from newsletter.posts.feeds import parse_feed
from newsletter.posts.markdown_files import parse_markdown_file
from newsletter.posts.plaintext import parse_text
from newsletter.posts.wxr import parse_wxr

FUZZ = settings(
    derandomize=True,
    max_examples=150,
    deadline=None,  # the first call of a library (dateparser, ftfy) loads its tables
    suppress_health_check=[HealthCheck.too_slow],
)

PARSERS: dict[str, Callable[[bytes], list[ParsedPost]]] = {
    "detected": parse_source,  # format detection first, as uploads and the API do
    "feed": parse_feed,
    "wxr": parse_wxr,
    "markdown": lambda data: [parse_markdown_file(data, name="post.md")],
    "text": parse_text,
}

CHARSETS = ["utf-8", "gb2312", "big5", "shift_jis", "koi8-r", "iso-8859-1", "utf-16", "cp1252"]


def parse(parser: str, data: bytes) -> list[ParsedPost] | PostImportError:
    """What one parser makes of `data`: its posts, or the one error it raised."""
    try:
        return PARSERS[parser](data)
    except PostImportError as exc:
        return exc


def problem(parser: str, result: list[ParsedPost] | PostImportError) -> str | None:
    """None when `result` is posts fit to store or one positioned error; else what is wrong."""
    if isinstance(result, PostImportError):
        if not result.position:
            return f"{parser}: an error without a position: {result}"
        if not result.message or "\n" in result.message.strip():
            return f"{parser}: an error that is not one line: {result.message!r}"
        return None
    if not isinstance(result, list):
        return f"{parser}: returned {type(result).__name__}"
    for post in result:
        if not (isinstance(post, ParsedPost) and post.title and post.guid):
            return f"{parser}: a post with no title or guid: {post!r}"
        if any("\x80" <= c <= "\x9f" for c in post.html + post.title):
            return f"{parser}: a C1 control character reached {post.title!r}"
    return None


parsers = st.sampled_from(sorted(PARSERS))


@FUZZ
@given(parser=parsers, data=st.binary(max_size=2000))
def test_arbitrary_bytes(parser: str, data: bytes) -> None:
    assert problem(parser, parse(parser, data)) is None


@FUZZ
@given(parser=parsers, text=st.text(max_size=2000))
def test_arbitrary_text(parser: str, text: str) -> None:
    assert problem(parser, parse(parser, text.encode("utf-8", "surrogatepass"))) is None


# Arbitrary text inside documents that are otherwise well formed, so the parsers'
# later stages (charsets, entities, dates, feedparser, YAML, Markdown) see it too.
fields = st.text(max_size=200)
raw_fields = st.text(alphabet=st.characters(codec="utf-8"), max_size=200).map(
    lambda t: t.replace("]]>", "")
)
entity_soup = st.lists(
    st.sampled_from(["&nbsp;", "&eacute;", "&amp;", "&LT;", "&#8217;", "&bogus;", "&", "<", "x"]),
    max_size=20,
).map("".join)


def feed_document(title: str, body: str, date: str, category: str, charset: str) -> bytes:
    text = (
        f'<?xml version="1.0" encoding="{charset}"?>\n<rss version="2.0"><channel><title>t</title>'
        f"<item><title>{title}</title><pubDate>{escape(date)}</pubDate>"
        f"<category>{escape(category)}</category>"
        f"<description><![CDATA[{body}]]></description></item></channel></rss>"
    )
    return text.encode(charset, "replace")


def atom_document(title: str, body: str, date: str, category: str, charset: str) -> bytes:
    text = (
        f'<?xml version="1.0" encoding="{charset}"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f'<title>t</title><entry><title type="html">{title}</title><id>urn:x:1</id>'
        f"<updated>{escape(date)}</updated><category term={quoteattr(category)}/>"
        f'<content type="html"><![CDATA[{body}]]></content></entry></feed>'
    )
    return text.encode(charset, "replace")


def wxr_document(title: str, body: str, date: str, category: str, charset: str) -> bytes:
    text = (
        f'<?xml version="1.0" encoding="{charset}"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:wp="http://wordpress.org/export/1.2/"><channel><wp:wxr_version>1.2</wp:wxr_version>'
        f"<wp:category><wp:category_nicename>c</wp:category_nicename>"
        f"<wp:cat_name>{escape(category)}</wp:cat_name></wp:category>"
        f"<item><title>{title}</title><pubDate>{escape(date)}</pubDate>"
        f'<category domain="category" nicename="c">{escape(category)}</category>'
        f"<wp:post_type>post</wp:post_type><wp:status>publish</wp:status>"
        f"<content:encoded><![CDATA[{body}]]></content:encoded></item></channel></rss>"
    )
    return text.encode(charset, "replace")


@FUZZ
@given(
    kind=st.sampled_from([feed_document, atom_document, wxr_document]),
    title=st.one_of(fields.map(escape), entity_soup),
    body=raw_fields,
    date=fields,
    category=fields,
    charset=st.sampled_from(CHARSETS),
)
def test_xml_documents_with_arbitrary_fields(kind, title, body, date, category, charset) -> None:  # type: ignore[no-untyped-def]
    data = kind(title, body, date, category, charset)
    own = "wxr" if kind is wxr_document else "feed"
    assert problem(own, parse(own, data)) is None
    assert problem("detected", parse("detected", data)) is None


@FUZZ
@given(key=st.sampled_from(["title", "date", "categories", "slug", "author", "url"]),
       value=fields, body=fields)  # fmt: skip
def test_markdown_with_arbitrary_front_matter(key: str, value: str, body: str) -> None:
    data = f"---\n{key}: {value}\n---\n{body}".encode("utf-8", "surrogatepass")
    result = parse("markdown", data)
    assert problem("markdown", result) is None
    assert isinstance(result, PostImportError) or len(result) == 1  # one file, one post


@FUZZ
@given(categories=fields, title=fields, body=fields)
def test_text_scrapes_with_arbitrary_content(categories: str, title: str, body: str) -> None:
    data = f"Categories\n{categories}\n\n{title}\n\n{body}".encode("utf-8", "surrogatepass")
    assert problem("text", parse("text", data)) is None
