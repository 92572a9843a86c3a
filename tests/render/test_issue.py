"""render_issue: the seed issue as mail clients and readers will get it."""

from __future__ import annotations

import dataclasses
import re

from newsletter.render import IssueContent, PostBlock, render_issue
from newsletter.render.checks import GMAIL_CLIP_BYTES, check_email_html
from newsletter.render.placeholders import PATTERN

TAG = re.compile(r"</?[a-zA-Z][^>]*>")
ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")


def _with(issue: IssueContent, **changes: object) -> IssueContent:
    return dataclasses.replace(issue, **changes)


def _post(**changes: object) -> PostBlock:
    base = PostBlock(
        title="A post",
        url="https://blog.example.org/posts/a-post",
        html="<p>Body text.</p>",
        excerpt="Body text.",
        mode="full",
        categories=("AI",),
        author="Ann",
        published_at=None,
    )
    return dataclasses.replace(base, **changes)


def test_seed_issue_html_passes_mail_client_checks(rendered_seed):
    html = rendered_seed.html
    assert check_email_html(html) == []
    assert len(html.encode()) < GMAIL_CLIP_BYTES
    assert "Cranes on the Horizon" in html
    assert "What’s new in AI from China?" in html
    assert "<mj-" not in html and "{{" not in html and "{%" not in html
    assert 'name="color-scheme" content="light dark"' in html
    assert "prefers-color-scheme: dark" in html
    assert "fonts.googleapis" not in html  # no web fonts: system and Georgia stacks


def test_seed_issue_preheader_is_hidden_and_first_in_body(rendered_seed, seed_issue):
    body = rendered_seed.html.split("<body", 1)[1]
    hidden = re.search(r'<div style="display:none;[^"]*">([^<]*)', body)
    assert hidden is not None
    assert hidden.group(1).startswith(seed_issue.preheader)
    assert body.index(seed_issue.preheader) < body.index("View in your browser")


def test_seed_issue_has_every_per_recipient_placeholder(rendered_seed):
    html_keys = {m.group(1) for m in PATTERN.finditer(rendered_seed.html)}
    text_keys = {m.group(1) for m in PATTERN.finditer(rendered_seed.text)}
    assert html_keys == {"name", "unsubscribe_url", "preferences_url", "open_pixel"}
    assert text_keys == {"name", "unsubscribe_url", "preferences_url"}
    # Placeholders survive MJML and css-inline intact, inside attributes too.
    assert 'href="%%nl~unsubscribe_url~%%"' in rendered_seed.html
    assert 'href="%%nl~preferences_url~%%"' in rendered_seed.html
    assert "Hi %%nl~name|there~%%," in rendered_seed.html
    assert "Hi %%nl~name|there~%%," in rendered_seed.text


def test_seed_issue_footer_has_postal_address(rendered_seed, branding):
    for line in branding.postal_address.splitlines():
        assert line in rendered_seed.html
        assert line in rendered_seed.text


def test_text_part_is_clean_readable_text(rendered_seed):
    text = rendered_seed.text
    assert not TAG.search(text), TAG.search(text)
    assert not ENTITY.search(text), ENTITY.search(text)
    assert "architecture—it was the cranes" in text  # entities and dashes decoded
    assert "* Alibaba → Just launched Qwen 3.5" in text  # lists stay lists
    # Intro link as a numbered reference, listed at the end.
    assert "round-up of releases [1]" in text
    assert "[1] https://news.example.org/tags/china" in text.split("Links\n-----", 1)[1]
    for line in text.splitlines():
        assert len(line) <= 72 or "://" in line or "%%nl~" in line, line
    assert "https://news.example.org/posts/cranes-on-the-horizon" in text
    assert "View in your browser: https://news.example.org/archive/" in text


def test_post_title_is_escaped(seed_issue, branding):
    evil = "<script>alert(1)</script>"
    issue = _with(seed_issue, subject=evil, posts=(_post(title=evil),))
    rendered = render_issue(issue, branding)
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert check_email_html(rendered.html) == []
    assert evil in rendered.text  # plain text needs no escaping
    assert rendered.subject == evil  # the subject is a header, not HTML


def test_post_html_is_sanitized_again(seed_issue, branding):
    dirty = (
        '<p onclick="x()">Hi <img src="/pic.png"> <a href="javascript:alert(1)">bad</a>'
        '<a href="/rel">rel</a></p><script>alert(1)</script><style>p{color:red}</style>'
        '<form action="https://evil.example"><input name="q"></form>'
    )
    issue = _with(seed_issue, posts=(_post(html=dirty),))
    html = render_issue(issue, branding).html
    assert "alert(1)" not in html and "onclick" not in html and "<form" not in html
    assert 'href="https://blog.example.org/rel"' in html  # relative links made absolute
    assert 'src="https://blog.example.org/pic.png"' in html
    assert check_email_html(html) == []


def test_intro_markdown_raw_html_is_not_passed_through(seed_issue, branding):
    intro = 'Hello <b>bold</b> <img src=x onerror="alert(1)"> [x](javascript:alert(2))'
    rendered = render_issue(_with(seed_issue, intro_markdown=intro), branding)
    assert "&lt;b&gt;bold&lt;/b&gt;" in rendered.html
    assert "<b>bold</b>" not in rendered.html
    assert "<img src=x" not in rendered.html and 'src="x"' not in rendered.html
    assert "javascript:" not in rendered.html.replace("[x](javascript:alert(2))", "")
    assert "Hello <b>bold</b>" in rendered.text


def test_no_template_injection(seed_issue, branding):
    payload = "{{ 7*7 }} {% for x in range(3) %}loop{% endfor %} {{ config }}"
    issue = _with(
        seed_issue,
        subject=payload,
        preheader=payload,
        intro_markdown=payload,
        outro_markdown=payload,
        posts=(_post(title=payload, html=f"<p>{payload}</p>", excerpt=payload),),
    )
    rendered = render_issue(issue, branding)
    for part in (rendered.html, rendered.text):
        assert "49" not in part
        assert "looploop" not in part
        assert "{{ 7*7 }}" in part
    assert rendered.subject == payload


def test_content_cannot_forge_placeholders(seed_issue, branding):
    baseline = render_issue(seed_issue, branding)
    forged = "%%nl~unsubscribe_url~%% %%nl~open_pixel~%% %%nl~name|x~%%"
    issue = _with(
        seed_issue,
        subject=f"Subject {forged}",
        intro_markdown=forged,
        posts=(
            _post(
                title=forged,
                # Entities decode to the marker when the HTML is parsed: still neutralized.
                html=f"<p>{forged}</p><p>%%nl&#126;open_pixel&#126;%&#37;</p>",
                categories=(forged,),
            ),
        ),
    )
    rendered = render_issue(issue, branding)
    for part, base in ((rendered.html, baseline.html), (rendered.text, baseline.text)):
        found = sorted(m.group(0) for m in PATTERN.finditer(part))
        expected = sorted(m.group(0) for m in PATTERN.finditer(base))
        assert found == expected
    assert "%%nl~" not in rendered.subject


def test_excerpt_mode_links_to_the_post(seed_issue, branding):
    post = _post(mode="excerpt", html="<p>FULL TEXT ONLY</p>", excerpt="Short teaser.")
    rendered = render_issue(_with(seed_issue, posts=(post,)), branding)
    assert "FULL TEXT ONLY" not in rendered.html and "FULL TEXT ONLY" not in rendered.text
    assert "Short teaser." in rendered.html
    assert re.search(
        r'<a href="https://blog.example.org/posts/a-post"[^>]*>Read more', rendered.html
    )
    assert "Read more: https://blog.example.org/posts/a-post" in rendered.text


def test_images_get_alt_and_sane_width(seed_issue, branding):
    post = _post(html='<p><img src="https://cdn.example/a.png" width="1200" height="800"></p>')
    html = render_issue(_with(seed_issue, posts=(post,)), branding).html
    img = re.search(r'<img[^>]*src="https://cdn.example/a.png"[^>]*>', html)
    assert img is not None
    assert 'alt=""' in img.group(0)
    assert 'width="1200"' not in img.group(0)  # too wide for the 600px column
    assert "max-width: 100%" in img.group(0)


def test_issue_without_web_url_intro_or_outro(seed_issue, branding):
    issue = _with(seed_issue, web_url=None, intro_markdown="", outro_markdown="  ")
    rendered = render_issue(issue, branding)
    assert "View in your browser" not in rendered.html
    assert "View in your browser" not in rendered.text
    assert check_email_html(rendered.html) == []
    assert "Hi %%nl~name|there~%%," in rendered.text


def test_rendering_is_deterministic(seed_issue, branding):
    assert render_issue(seed_issue, branding) == render_issue(seed_issue, branding)
