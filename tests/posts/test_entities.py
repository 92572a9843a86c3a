"""HTML named entities XML does not define, and RSS 0.91 with the Netscape DTD.

They import as their characters; no DTD or external entity is ever fetched or expanded.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from newsletter.posts import PostImportError, parse_source
from newsletter.posts.entities import html_entities_to_refs

CASES = Path(__file__).resolve().parent.parent / "data" / "posts" / "cases"
NETSCAPE = '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "{dtd}">'


def test_case_undefined_entities() -> None:
    (post,) = parse_source(CASES / "22-undefined-entity.xml")
    assert post.title == "New release > download now"
    assert post.html == "<p>Version&nbsp;2 is out » enjoy.</p>"  # U+00A0, as HTML writes it


def test_case_rss091_with_the_netscape_dtd() -> None:
    (post,) = parse_source(CASES / "22-rss091-netscape-dtd.xml")
    assert post.title == "Café notes"
    assert post.html == "<p>Hello&nbsp;world</p>"


def feed(title: str, description: str, *, doctype: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n{doctype}\n<rss version="2.0"><channel>'
        f"<title>t</title><item><title>{title}</title><guid>g1</guid>"
        f"<description>{description}</description></item></channel></rss>"
    ).encode()


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Em&mdash;dash &amp; en&ndash;dash&hellip;", "Em—dash & en–dash…"),
        ("&laquo;Bonjour&raquo; &agrave; &Eacute;milie", "«Bonjour» à Émilie"),
        ("&euro;5 &times; 3 &ne; &frac12; &copy; &trade;", "€5 × 3 ≠ ½ © ™"),
        ("&alpha;&beta;&gamma; &rarr; &hearts;", "αβγ → ♥"),
        ("&lsquo;single&rsquo; &ldquo;double&rdquo;", "‘single’ “double”"),
    ],
)
def test_html_entities_in_titles(title: str, expected: str) -> None:
    (post,) = parse_source(feed(title, "x"))
    assert post.title == expected


def test_an_html_entity_never_becomes_markup() -> None:
    # `&LT;` is an HTML5 name for `<`: it must stay a character, not open a tag.
    (post,) = parse_source(feed("a &LT;b&GT; c", "&LT;script&GT;alert(1)&LT;/script&GT;"))
    assert post.title == "a <b> c"
    assert "<script" not in post.html


def test_entities_in_a_wxr_export() -> None:
    data = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        b'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        b'xmlns:wp="http://wordpress.org/export/1.2/"><channel><wp:wxr_version>1.2</wp:wxr_version>'
        b"<item><title>Caf&eacute; &amp; cr&egrave;me</title><wp:post_type>post</wp:post_type>"
        b"<wp:post_date_gmt>2024-01-02 03:04:05</wp:post_date_gmt>"
        b"<content:encoded><![CDATA[<p>Keep &nbsp; as HTML here</p>]]></content:encoded>"
        b"</item></channel></rss>"
    )
    (post,) = parse_source(data)
    assert post.title == "Café & crème"
    assert post.html == "<p>Keep &nbsp; as HTML here</p>"


def test_cdata_and_comments_are_left_as_they_are() -> None:
    text = "<a>&nbsp;<![CDATA[&nbsp;]]><!-- &nbsp; --></a>"
    assert html_entities_to_refs(text) == "<a>&#160;<![CDATA[&nbsp;]]><!-- &nbsp; --></a>"


def test_an_unknown_entity_is_still_a_positioned_error() -> None:
    with pytest.raises(PostImportError) as err:
        parse_source(feed("a &nosuchentity; b", "x"))
    assert err.value.position == "line 3, column 60"
    assert "undefined entity" in err.value.message


@pytest.mark.parametrize(
    "doctype",
    [
        # A document may not redefine an HTML name to read a file or to multiply text.
        '<!DOCTYPE rss [<!ENTITY nbsp SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE rss [<!ENTITY nbsp "&#160;&#160;&#160;&#160;&#160;">]>',
        '<!DOCTYPE rss [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>',
    ],
)
def test_entity_declarations_stay_refused(doctype: str) -> None:
    with pytest.raises(PostImportError) as err:
        parse_source(feed("&nbsp;", "&nbsp;", doctype=doctype))
    assert err.value.position is not None and err.value.position.startswith("line 2")
    assert "not allowed" in err.value.message


def test_the_dtd_is_never_fetched() -> None:
    fetched: list[str] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fetched.append(self.path)
            body = b'<!ENTITY eacute "EVIL">'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        doctype = NETSCAPE.format(dtd=f"http://127.0.0.1:{server.server_address[1]}/rss.dtd")
        (post,) = parse_source(feed("Caf&eacute;", "Hello&nbsp;world", doctype=doctype))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert post.title == "Café"
    assert fetched == []
