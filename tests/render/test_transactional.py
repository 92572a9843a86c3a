"""Confirm and welcome emails."""

from __future__ import annotations

import pytest

from newsletter.render import render_transactional
from newsletter.render.checks import check_email_html
from newsletter.render.placeholders import PATTERN

CONFIRM_URL = "https://news.example.org/confirm/abc?x=1&y=2"


def test_confirm_email(branding):
    rendered = render_transactional(
        "confirm", {"confirm_url": CONFIRM_URL, "name": "Zoë <b>"}, branding
    )
    assert rendered.subject == f"Confirm your subscription to {branding.site_name}"
    assert check_email_html(rendered.html) == []
    assert 'href="https://news.example.org/confirm/abc?x=1&amp;y=2"' in rendered.html
    assert "Hi Zoë &lt;b&gt;," in rendered.html
    assert "Hi Zoë <b>," in rendered.text
    assert CONFIRM_URL in rendered.text
    # Not on the list yet: nothing to unsubscribe from, nothing to track.
    assert "Unsubscribe" not in rendered.html
    assert not PATTERN.search(rendered.html) and not PATTERN.search(rendered.text)


def test_confirm_without_name_greets_generically(branding):
    rendered = render_transactional("confirm", {"confirm_url": CONFIRM_URL, "name": ""}, branding)
    assert "Hi there," in rendered.html and "Hi there," in rendered.text


def test_welcome_with_context_links(branding):
    context = {
        "name": "Ann",
        "preferences_url": "https://news.example.org/preferences/t1",
        "unsubscribe_url": "https://news.example.org/unsubscribe/t1",
    }
    rendered = render_transactional("welcome", context, branding)
    assert check_email_html(rendered.html) == []
    assert 'href="https://news.example.org/unsubscribe/t1"' in rendered.html
    assert "Unsubscribe: https://news.example.org/unsubscribe/t1" in rendered.text
    assert not PATTERN.search(rendered.html)


def test_welcome_leaves_missing_links_as_placeholders(branding):
    rendered = render_transactional("welcome", {}, branding)
    keys = {m.group(1) for m in PATTERN.finditer(rendered.html)}
    assert keys == {"name", "unsubscribe_url", "preferences_url"}


def test_template_injection_in_context_is_inert(branding):
    rendered = render_transactional(
        "confirm", {"confirm_url": CONFIRM_URL, "name": "{{ 7*7 }}"}, branding
    )
    assert "{{ 7*7 }}" in rendered.text and "49" not in rendered.text


def test_unknown_or_incomplete(branding):
    with pytest.raises(ValueError, match="unknown"):
        render_transactional("../issue", {}, branding)
    with pytest.raises(ValueError, match="confirm_url"):
        render_transactional("confirm", {"name": "x"}, branding)
