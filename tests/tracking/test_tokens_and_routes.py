"""Tokens and the two public routes: signed, tamper-proof, no open redirect, the pixel."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from newsletter.config import Settings
from newsletter.models import Event
from newsletter.tracking.tokens import delivery_token, link_part, read_click, read_open
from newsletter.web.public.tracking import PIXEL

from ..conftest import TEST_SECRET
from .factories import make_delivery, make_issue, make_link

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0"


@pytest.fixture
def settings(app) -> Settings:  # type: ignore[no-untyped-def]
    return app.extensions["settings"]  # type: ignore[no-any-return]


def keys(secret: str = TEST_SECRET, *fallbacks: str) -> Settings:
    """Tokens read only the keys; no app or database needed."""
    return cast(Settings, SimpleNamespace(secret_key=secret, secret_key_fallbacks=fallbacks))


def flip(text: str, at: int) -> str:
    swapped = "A" if text[at] != "A" else "B"
    return text[:at] + swapped + text[at + 1 :]


def test_tokens_round_trip_and_refuse_any_change():
    settings = keys()
    token = delivery_token(settings, 42)
    assert read_open(settings, token) == 42
    click = f"{token}.{link_part(settings, 7)}"
    found = read_click(settings, click)
    assert found is not None and (found.delivery_id, found.link_id) == (42, 7)
    _delivery, mac = token.split(".")
    assert read_open(settings, f"43.{mac}") is None  # another delivery, same MAC
    assert read_open(settings, flip(token, len(token) - 1)) is None
    link_id, link_mac = link_part(settings, 7).split(".")
    assert read_click(settings, f"{token}.8.{link_mac}") is None  # another link, same MAC
    assert read_click(settings, f"{token}.{link_id}.{flip(link_mac, 0)}") is None
    for bad in ("", "42", "042." + mac, f"+42.{mac}", f"{2**31}.{mac}", "x" * 500, f"٤٢.{mac}"):
        assert read_open(settings, bad) is None


@given(st.text(max_size=60))
def test_no_arbitrary_string_is_a_valid_token(text):
    settings = keys()
    assert read_open(settings, text) is None
    assert read_click(settings, text) is None


def test_old_key_still_verifies_after_a_rotation():
    old = delivery_token(keys(), 5)
    rotated = keys("a-brand-new-key-" * 4, TEST_SECRET)
    assert read_open(rotated, old) == 5
    assert delivery_token(rotated, 5) != old
    assert read_open(keys("unrelated-key-" * 4), old) is None


def test_pixel_is_a_43_byte_gif_never_cached(client, db_session, settings):
    issue = make_issue(db_session)
    delivery = make_delivery(db_session, issue)
    answer = client.get(f"/o/{delivery_token(settings, delivery.id)}.gif")
    assert answer.status_code == 200
    assert answer.data == PIXEL and len(PIXEL) == 43 and PIXEL.startswith(b"GIF89a")
    assert answer.mimetype == "image/gif"
    assert answer.headers["Cache-Control"] == "no-store"


def test_tampered_or_unknown_tokens_answer_404(client, db_session, settings):
    issue = make_issue(db_session)
    delivery = make_delivery(db_session, issue)
    link = make_link(db_session, issue, "https://example.com/a")
    token = delivery_token(settings, delivery.id)
    assert client.get(f"/o/{flip(token, len(token) - 2)}.gif").status_code == 404
    assert client.get(f"/c/{token}.{link.id}.AAAAAAAA").status_code == 404
    assert client.get("/c/not-a-token").status_code == 404
    missing = delivery_token(settings, delivery.id + 1000)
    # Signed by us but the delivery is gone (an erased subscriber): the image still
    # shows in the mail, and nothing is stored.
    assert client.get(f"/o/{missing}.gif").data == PIXEL
    assert db_session.scalar(select(func.count()).select_from(Event)) == 0
    assert client.get(f"/c/{missing}.{link_part(settings, link.id)}").status_code == 404


def test_a_click_redirects_only_to_a_link_of_the_deliverys_issue(client, db_session, settings):
    mine, other = make_issue(db_session), make_issue(db_session, subject="Other")
    delivery = make_delivery(db_session, mine)
    ours = make_link(db_session, mine, "https://example.com/ours?a=1&b=2")
    theirs = make_link(db_session, other, "https://evil.example/phish")
    token = delivery_token(settings, delivery.id)
    answer = client.get(
        f"/c/{token}.{link_part(settings, ours.id)}", headers={"User-Agent": BROWSER}
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] == "https://example.com/ours?a=1&b=2"
    assert answer.headers["Cache-Control"] == "no-store"
    # A correctly signed link of another issue: still no redirect.
    refused = client.get(f"/c/{token}.{link_part(settings, theirs.id)}")
    assert refused.status_code == 404
    assert "Location" not in refused.headers
