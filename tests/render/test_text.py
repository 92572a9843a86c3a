"""HTML fragments to plain text."""

from __future__ import annotations

from newsletter.render.text import LinkRefs, html_to_text


def test_blocks_lists_quotes_and_links():
    refs = LinkRefs()
    html = (
        "<h2>Title &amp; more</h2><p>See <a href='https://a.example/x'>this</a> and "
        "<a href='https://a.example/x'>that</a>, or <a href='https://b.example'>https://b.example</a>."
        "</p><ol start='3'><li>three</li><li>four</li></ol><blockquote><p>q1</p><p>q2</p>"
        "</blockquote><pre>  keep\n    spacing</pre><p>a<br>b</p>"
    )
    text = html_to_text(html, refs)
    assert text.startswith("Title & more\n============\n")
    # The same URL gets one number; a link showing its own URL is not numbered.
    assert "See this [1] and that [1], or https://b.example." in text
    assert refs.urls == ["https://a.example/x"]
    assert "3. three\n4. four" in text
    assert "> q1\n>\n> q2" in text
    assert "      keep\n        spacing" in text
    assert "a\nb" in text


def test_wraps_at_72_without_breaking_urls():
    url = "https://example.org/" + "x" * 90
    text = html_to_text(f"<p>{'word ' * 40}{url} end</p>", LinkRefs())
    lines = text.splitlines()
    assert all(len(line) <= 72 for line in lines if url not in line)
    assert url in lines


def test_entities_decoded_and_images_use_alt():
    text = html_to_text(
        '<p>5 &lt; 6 &mdash; caf&eacute; <img alt="A chart" src="x"></p>', LinkRefs()
    )
    assert text == "5 < 6 — café [A chart]"


def test_references_render_numbered():
    refs = LinkRefs()
    for i in range(12):
        refs.number(f"https://e.example/{i}")
    rendered = refs.render().splitlines()
    assert rendered[0] == "[ 1] https://e.example/0"
    assert rendered[-1] == "[12] https://e.example/11"
