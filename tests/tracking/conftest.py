"""Tracking tests reuse the send fixtures (a real SMTP server, a small world)."""

from __future__ import annotations

import re

import pytest

from newsletter.sends import variants

from ..sends.conftest import pool, send_app, settings, smtp, world  # noqa: F401 - fixtures

PIXEL_URL = re.compile(r'<img src="(http://localhost/o/[^"]+\.gif)"')
CLICK_URL = re.compile(r"http://localhost/c/[A-Za-z0-9._-]+")


@pytest.fixture(autouse=True)
def fresh_variants():  # type: ignore[no-untyped-def]
    """Templates are cached per process by issue id; tests roll back and reuse ids."""
    variants._cache.clear()
    yield
    variants._cache.clear()


def html_of(message) -> str:  # type: ignore[no-untyped-def]
    return str(message.get_body(("html",)).get_content())


def text_of(message) -> str:  # type: ignore[no-untyped-def]
    return str(message.get_body(("plain",)).get_content())
