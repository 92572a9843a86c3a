"""check_email_html flags what mail clients break."""

from __future__ import annotations

from newsletter.render.checks import GMAIL_CLIP_BYTES, check_email_html

GOOD = (
    "<html><head><style>@media (max-width:480px){.x{width:100%}}</style></head><body>"
    '<p style="margin:0">Hi <a style="color:#00f" href="https://e.example">x</a></p>'
    '<img style="border:0" src="https://e.example/a.png" alt="">'
    '<a style="color:#00f" href="%%nl~unsubscribe_url~%%">u</a></body></html>'
)


def test_good_html_has_no_problems():
    assert check_email_html(GOOD) == []


def test_each_problem_is_reported():
    bad = (
        '<html><head><link rel="stylesheet" href="https://e.example/s.css">'
        "<style>@import url(https://e.example/f.css);</style></head><body>"
        '<script>alert(1)</script><p>unstyled</p><img style="x" src="https://e.example/a.png">'
        '<a style="x" href="/relative" onclick="y()">r</a><form></form></body></html>'
    )
    problems = "\n".join(check_email_html(bad))
    for needle in (
        "external stylesheet",
        "@import",
        "<script>",
        "<p> in the body has no inline style",
        "has no alt text",
        "not an absolute",
        "event handlers",
        "<form>",
    ):
        assert needle in problems, needle


def test_size_limit():
    huge = GOOD.replace("Hi", "x" * GMAIL_CLIP_BYTES)
    assert any("Gmail clips" in p for p in check_email_html(huge))
