"""WordPress exports import as WordPress shows the posts (cases 06, 07, 08 and variants)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.models import Category, Post
from newsletter.posts import import_posts, parse_source
from newsletter.posts.wordpress import Attachment, do_shortcodes, render_content, wpautop

CASES = Path(__file__).resolve().parent.parent / "data" / "posts" / "cases"

WXR_HEAD = """<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
 xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>Garden Notes</title><link>https://garden.example.org</link>
<wp:wxr_version>1.2</wp:wxr_version>
<wp:base_site_url>https://garden.example.org</wp:base_site_url>
"""


def wxr(content: str, *, extra_channel: str = "", extra_items: str = "", item: str = "") -> bytes:
    """A one-post export whose post_content is `content`."""
    return (
        WXR_HEAD
        + extra_channel
        + f"""<item><title>A post</title>
<link>https://garden.example.org/a-post/</link>
<guid isPermaLink="false">https://garden.example.org/?p=50</guid>
<content:encoded><![CDATA[{content}]]></content:encoded>
<excerpt:encoded><![CDATA[]]></excerpt:encoded>
<wp:post_id>50</wp:post_id><wp:post_date_gmt>2023-04-01 09:30:00</wp:post_date_gmt>
<wp:status>publish</wp:status><wp:post_type>post</wp:post_type>{item}</item>
{extra_items}</channel></rss>"""
    ).encode()


def only_post_html(data: bytes) -> tuple[str, list[str]]:
    [post] = parse_source(data)
    return post.html, list(post.warnings)


def visible_text(markup: str) -> str:
    return re.sub(r"<[^>]+>", "", markup)


# --- paragraphs: wpautop ------------------------------------------------------------------


def test_case_06_classic_editor_paragraphs_and_breaks() -> None:
    [post] = parse_source(CASES / "06-wxr-classic-editor.xml")
    assert post.html == (
        "<p>Spring is here, and the roses need attention.</p>\n"
        "<p>Start with the dead wood.</p>\n"
        "<h2>Where to cut</h2>\n"
        "<p>Cut above an outward-facing bud.</p>\n"
        "<p>Then feed them.<br>\nWater well afterwards.</p>"
    )
    assert post.warnings == ()


def test_text_around_other_block_tags_is_wrapped() -> None:
    html, _ = only_post_html(
        wxr("Before the list:\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>\nAfter it\nand more.")
    )
    assert html == (
        "<p>Before the list:</p>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
        "<p>After it<br>\nand more.</p>"
    )
    html, _ = only_post_html(wxr("Quote:\n<blockquote>Be kind.</blockquote>\nThat's all."))
    assert html == "<p>Quote:</p>\n<blockquote><p>Be kind.</p></blockquote>\n<p>That's all.</p>"


def test_pre_is_left_alone() -> None:
    html, _ = only_post_html(wxr("Code:\n<pre>a = 1\n\nb = [x for x in y]\n</pre>\nDone."))
    assert "<pre>a = 1\n\nb = [x for x in y]\n</pre>" in html
    assert "<br>" not in html.split("<pre>")[1].split("</pre>")[0]


def test_wpautop_matches_wordpress_on_mixed_input() -> None:
    # Expected output taken from WordPress 6.x's wpautop for the same input.
    assert wpautop("Line one\nline two\n\n<div>Box</div>\n\nEnd") == (
        "<p>Line one<br />\nline two</p>\n<div>Box</div>\n<p>End</p>\n"
    )
    assert wpautop("  \n") == ""
    assert wpautop("<p>Already</p>") == "<p>Already</p>\n"


# --- shortcodes ---------------------------------------------------------------------------


def test_case_07_caption_becomes_a_figure() -> None:
    [post] = parse_source(CASES / "07-wxr-caption-shortcode.xml")
    assert "[caption" not in post.html and "[/caption]" not in post.html
    assert (
        '<figure><img src="https://garden.example.org/wp-content/uploads/2023/05/greenhouse.jpg"'
        ' alt="The greenhouse" width="300" height="200">'
        "<figcaption>Our new greenhouse in May</figcaption></figure>"
    ) in post.html
    assert "<p></p>" not in post.html
    assert post.warnings == ()


def test_caption_attribute_and_linked_image() -> None:
    html, warnings = only_post_html(
        wxr(
            '[caption id="a1" caption="Tomatoes &amp; basil"]<a href="/big.jpg">'
            '<img src="/small.jpg" alt="Bed" /></a>[/caption]\n\n'
            '[wp_caption width=\'200\']<img src="https://cdn.example.net/p.png" alt="P"> '
            "Old style[/wp_caption]"
        )
    )
    assert (
        '<figure><a href="https://garden.example.org/big.jpg" rel="noopener noreferrer">'
        '<img src="https://garden.example.org/small.jpg" alt="Bed"></a>'
        "<figcaption>Tomatoes &amp; basil</figcaption></figure>"
    ) in html
    assert "<figcaption>Old style</figcaption>" in html
    assert "[" not in html and warnings == []


ATTACHMENTS = """
<item><title>Bed one</title><wp:post_id>61</wp:post_id><wp:post_parent>50</wp:post_parent>
<wp:post_type>attachment</wp:post_type><wp:status>inherit</wp:status>
<excerpt:encoded><![CDATA[The first bed]]></excerpt:encoded>
<wp:attachment_url>https://garden.example.org/wp-content/uploads/bed1.jpg</wp:attachment_url>
<wp:postmeta><wp:meta_key>_wp_attachment_image_alt</wp:meta_key>
<wp:meta_value><![CDATA[Raised bed]]></wp:meta_value></wp:postmeta></item>
<item><title>Bed two</title><wp:post_id>62</wp:post_id><wp:post_parent>50</wp:post_parent>
<wp:post_type>attachment</wp:post_type><wp:status>inherit</wp:status>
<wp:attachment_url>https://garden.example.org/wp-content/uploads/bed2.jpg</wp:attachment_url></item>
"""


def test_gallery_by_ids_and_by_parent() -> None:
    html, warnings = only_post_html(wxr('[gallery ids="62,61,99"]', extra_items=ATTACHMENTS))
    assert html.index("bed2.jpg") < html.index("bed1.jpg")  # the order the writer chose
    assert (
        '<figure><img src="https://garden.example.org/wp-content/uploads/bed1.jpg"'
        ' alt="Raised bed"><figcaption>The first bed</figcaption></figure>'
    ) in html
    assert warnings == ["[gallery]: image(s) 99 are not in the export and were left out"]
    html, warnings = only_post_html(wxr("Our beds:\n\n[gallery]", extra_items=ATTACHMENTS))
    assert "bed1.jpg" in html and "bed2.jpg" in html and warnings == []
    # The attachments themselves are not posts.
    assert len(parse_source(wxr("x", extra_items=ATTACHMENTS))) == 1


def test_embeds_audio_video_and_bare_urls_become_links() -> None:
    html, warnings = only_post_html(
        wxr(
            "Watch this:\n\nhttps://www.youtube.com/watch?v=abc123\n\n"
            "[embed]https://vimeo.com/42[/embed]\n\n"
            "[embed]https://garden.example.org/map.png[/embed]\n\n"
            '[audio mp3="https://garden.example.org/birds.mp3"][/audio]\n\n'
            '[video width="640" src="https://garden.example.org/tour.mp4"]\n\n'
            "See https://example.org/inline in a sentence."
        )
    )
    for link in (
        '<a href="https://www.youtube.com/watch?v=abc123" rel="noopener noreferrer">',
        '<a href="https://vimeo.com/42" rel="noopener noreferrer">',
        '<a href="https://garden.example.org/birds.mp3" rel="noopener noreferrer">Audio: birds.mp3',
        '<a href="https://garden.example.org/tour.mp4" rel="noopener noreferrer">Video: tour.mp4',
    ):
        assert link in html
    assert '<img src="https://garden.example.org/map.png" alt="">' in html
    assert "See https://example.org/inline in a sentence." in html  # prose stays prose
    assert "[" not in html and warnings == []


@pytest.mark.parametrize(
    ("content", "kept", "warning"),
    [
        ('[contact-form-7 id="12" title="Contact"]', "", "[contact-form-7]"),
        ("Intro\n\n[toc]\n\nBody", "Intro Body", "[toc]"),
        ('[su_box title="Tip"]Water early.[/su_box]', "Water early.", "[su_box]"),
        ("[playlist ids='1,2']", "", "[playlist]"),
        ('[row][column size="1/2"]Left[/column][/row]', "Left", "[column]"),
        ("A [myplugin/] here", "A here", "[myplugin]"),
    ],
)
def test_any_other_shortcode_is_removed_with_a_warning(
    content: str, kept: str, warning: str
) -> None:
    html, warnings = only_post_html(wxr(content))
    assert "[" not in html and "]" not in html
    assert " ".join(visible_text(html).split()) == kept
    assert any(warning in w and "removed" in w for w in warnings), warnings


def test_brackets_in_prose_are_not_shortcodes() -> None:
    html, warnings = only_post_html(wxr("He wrote [sic] twice [1] and [[gallery]] shows the code."))
    assert "He wrote [sic] twice [1] and [gallery] shows the code." in html
    assert warnings == []


def test_shortcodes_inside_pre_are_left_alone() -> None:
    out = do_shortcodes('<pre>[gallery ids="1"]</pre> [gallery ids="1"]', attachments={})
    assert out.startswith('<pre>[gallery ids="1"]</pre> ')
    assert not out.endswith("]")


def test_shortcode_regex_survives_hostile_input() -> None:
    warnings: list[str] = []
    text = "[a-b " + "[x " * 5000 + "]" * 10
    assert isinstance(do_shortcodes(text, warnings=warnings), str)
    assert render_content("[" * 20000).html.startswith("<p>[")


def test_nested_and_stray_shortcode_tags_never_show() -> None:
    out = render_content("[row][row]Left[/row][/row] and [/column] stays prose")
    assert out.html == "<p>Left and [/column] stays prose</p>"
    deep = "".join(f"[t-{i}]" for i in range(3000)) + "core"
    deep += "".join(f"[/t-{i}]" for i in reversed(range(3000)))
    out = render_content(deep)  # no RecursionError
    assert out.html == "<p>core</p>"


HOSTILE = {
    "spaces": " " * 200_000 + "x",
    "unclosed shortcodes": "[a " * 50_000,
    "unclosed enclosing": "[caption]" * 30_000,
    "closer first": "[/foo]" + "[foo]" * 30_000,
    "lone lt": "<" * 200_000,
    "lt then gt": "<" * 100_000 + ">",
    "unclosed comments": "<!--" * 50_000,
    "unclosed pre": "<pre>" * 50_000,
    "list items": "<p><li" * 50_000,
    "figures": "<p><figure>" * 30_000,
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_content_costs_linear_time(text: str) -> None:
    # Each of these took minutes with the straight regex ports (quadratic backtracking).
    started = time.perf_counter()
    render_content(text)
    assert time.perf_counter() - started < 10


# --- Gutenberg ----------------------------------------------------------------------------


def test_gutenberg_block_comments_are_dropped_and_blocks_kept() -> None:
    html, warnings = only_post_html(
        wxr(
            "<!-- wp:paragraph -->\n<p>First.</p>\n<!-- /wp:paragraph -->\n\n"
            '<!-- wp:image {"id":7,"sizeSlug":"large"} -->\n'
            '<figure class="wp-block-image"><img src="/wp-content/uploads/a.jpg" alt="A"/>'
            "</figure>\n<!-- /wp:image -->\n\n"
            "<!-- wp:separator /-->\n"
            '<!-- wp:heading {"level":3} -->\n<h3>Next</h3>\n<!-- /wp:heading -->'
        )
    )
    assert "wp:" not in html and "<!--" not in html
    assert html.startswith("<p>First.</p>")
    assert '<img src="https://garden.example.org/wp-content/uploads/a.jpg" alt="A">' in html
    assert "<h3>Next</h3>" in html
    assert "<br>" not in html  # block content carries its own paragraphs: no wpautop
    assert warnings == []


def test_gutenberg_shortcode_block_is_still_handled() -> None:
    html, warnings = only_post_html(
        wxr("<!-- wp:shortcode -->\n[newsletter_signup]\n<!-- /wp:shortcode -->")
    )
    assert "newsletter_signup" not in html
    assert warnings == ["removed the unsupported shortcode [newsletter_signup]"]


# --- term names ---------------------------------------------------------------------------


def test_case_08_wxr_then_feed_give_one_category(db_session: Session) -> None:
    import_posts(db_session, CASES / "08-wxr-category-ampersand.xml")
    import_posts(db_session, CASES / "08-same-blog-feed.xml")
    names = db_session.scalars(select(Category.name)).all()
    assert names == ["Tools & Tips"]
    posts = db_session.scalars(select(Post).order_by(Post.id)).all()
    assert [[c.name for c in p.categories] for p in posts] == [["Tools & Tips"]] * 2


@pytest.mark.parametrize(
    ("escaped", "name"),
    [
        ("Pat&#8217;s picks", "Pat’s picks"),
        ("&quot;Quoted&quot; &lt;tags&gt;", '"Quoted" <tags>'),
        ("Caf&eacute; &amp;amp; bar", "Café & bar"),
        ("Plain", "Plain"),
    ],
)
def test_escaped_term_names_are_unescaped(escaped: str, name: str) -> None:
    channel = (
        "<wp:category><wp:category_nicename>t1</wp:category_nicename>"
        f"<wp:category_parent></wp:category_parent><wp:cat_name><![CDATA[{escaped}]]>"
        "</wp:cat_name></wp:category>"
        "<wp:category><wp:category_nicename>t2</wp:category_nicename>"
        "<wp:category_parent>t1</wp:category_parent><wp:cat_name>Sub &amp; more</wp:cat_name>"
        "</wp:category>"
    )
    item = (
        f'<category domain="category" nicename="t1"><![CDATA[{escaped}]]></category>'
        f'<category domain="category" nicename="t2">Sub &amp;amp; more</category>'
        f'<category domain="category" nicename="unknown"><![CDATA[{escaped}]]></category>'
    )
    [post] = parse_source(wxr("x", extra_channel=channel, item=item))
    assert post.categories == (name, f"{name}: Sub & more")


def test_render_content_shapes() -> None:
    media = {"5": Attachment(url="https://x.example/5.jpg", alt="five")}
    out = render_content('[gallery ids="5"]', post_id="1", attachments=media)
    assert out.html == '<figure><img src="https://x.example/5.jpg" alt="five"></figure>'
    assert out.warnings == []
