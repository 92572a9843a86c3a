"""Markdown and post HTML are data: sanitized, never evaluated."""

from __future__ import annotations

from newsletter.render import markdown_to_html
from newsletter.render.fragments import sanitize_html


def test_markdown_renders_and_disables_raw_html():
    html = markdown_to_html(
        "# Hi\n\n**bold** <i>raw</i> [ok](https://x.example) [no](javascript:x)"
    )
    assert "<h1>Hi</h1>" in html
    assert "<strong>bold</strong>" in html
    assert "&lt;i&gt;raw&lt;/i&gt;" in html
    assert '<a href="https://x.example">ok</a>' in html
    assert "javascript" not in html.replace("[no](javascript:x)", "")


def test_markdown_empty_is_empty():
    assert markdown_to_html("  \n ") == ""


def test_sanitize_keeps_structure_and_drops_active_content():
    html = sanitize_html(
        '<h2 style="color:red">T</h2><table><tr><td colspan="2">c</td></tr></table>'
        '<iframe src="https://evil.example"></iframe><svg><script>x</script></svg>'
        '<a href="data:text/html,hi">d</a><img src="https://i.example/a.png" alt="A">',
        base_url="https://blog.example/p/1",
    )
    assert "<h2>T</h2>" in html
    assert '<td colspan="2">c</td>' in html
    assert "iframe" not in html and "script" not in html and "data:" not in html
    assert '<img src="https://i.example/a.png" alt="A">' in html
