"""Author text with control characters renders instead of crashing MRML.

Found by the API contract test: an outro holding ESC (0x1b) made mjml-python fail
with "unable to parse next template in root template" and the preview answered 500.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.render import render_issue, render_transactional
from newsletter.render.chars import drop_invalid_chars

# C0 controls XML forbids, C1 controls, DEL, lone surrogates and non-characters.
BAD = ["\x1b", "\x00", "\x0c", "\x7f", "\x85", "\x9b", "\ud800", "\ufffe", "\uffff"]
FIELDS = ["subject", "preheader", "intro_markdown", "outro_markdown"]


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("char", BAD, ids=lambda c: f"U+{ord(c):04X}")
def test_each_field_drops_the_character(seed_issue, branding, field, char):
    content = dataclasses.replace(seed_issue, **{field: f"before{char}after"})
    rendered = render_issue(content, branding)
    for part in (rendered.subject, rendered.html, rendered.text):
        assert char not in part
    # Markdown turns NUL into U+FFFD (CommonMark 2.3); everything else just goes.
    assert re.search("before\ufffd?after", rendered.html + rendered.subject)


def test_post_title_and_html_drop_them(seed_issue, branding):
    post = dataclasses.replace(
        seed_issue.posts[0], title="Tab\tand\x1bescape", html="<p>bell\x07 and \x85 next</p>"
    )
    rendered = render_issue(dataclasses.replace(seed_issue, posts=(post,)), branding)
    assert "Tab and" in rendered.html or "Tab\tand" in rendered.html
    assert "\x1b" not in rendered.html and "\x07" not in rendered.text
    assert "bell and" in rendered.text.replace("\n", " ")


def test_transactional_subject_and_name_drop_them(branding):
    rendered = render_transactional(
        "confirm", {"confirm_url": "https://example.org/c/\x1bx", "name": "Zo\x1be"}, branding
    )
    assert "\x1b" not in rendered.html + rendered.text + rendered.subject


def test_valid_text_is_untouched():
    text = "Tab\there\nnew line\r\n — “quotes” ไทย 春天 🙂 \u200b"
    assert drop_invalid_chars(text) == text


@settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
@given(fields=st.fixed_dictionaries({f: st.text(max_size=40) for f in FIELDS}))
def test_any_text_renders(seed_issue, branding, fields):
    rendered = render_issue(dataclasses.replace(seed_issue, **fields), branding)
    assert rendered.html.startswith("<!doctype html>") or "<html" in rendered.html
    assert drop_invalid_chars(rendered.text) == rendered.text
