"""Links rewritten and the pixel added once per variant, only with tracking on; own links
(unsubscribe, preferences, archive, home) never; test sends never tracked."""

from __future__ import annotations

import quopri
import re

import pytest
from sqlalchemy import select

from newsletter.compose.testsend import send_test
from newsletter.mail.message import Recipient
from newsletter.models import Issue, Link
from newsletter.render.content import RenderedEmail
from newsletter.sends import variants

from ..conftest import make_test_app
from ..sends.conftest import drain, start
from .conftest import CLICK_URL, PIXEL_URL, html_of, text_of

HREF = re.compile(r'href="([^"]+)"')


def own_links(html: str) -> list[str]:
    return [h for h in HREF.findall(html) if h.startswith("http://localhost/") and "/c/" not in h]


def send_and_read(session, settings, issue_id, smtp, pool):  # type: ignore[no-untyped-def]
    start(session, issue_id)
    drain(session, settings, issue_id, pool)
    return smtp.by_rcpt()["all@example.org"][0].message()


def test_tracked_email_has_pixel_and_rewritten_links_but_own_links_stay(
    db_session, settings, world, smtp, pool
):
    message = send_and_read(db_session, settings, world["issue"].id, smtp, pool)
    html, text = html_of(message), text_of(message)
    assert len(PIXEL_URL.findall(html)) == 1
    assert "blog.example.org" not in " ".join(HREF.findall(html))  # every post link tracked
    mine = own_links(html)
    assert any("/unsubscribe/" in h for h in mine) and any("/preferences/" in h for h in mine)
    assert any(h.rstrip("/") == "http://localhost" for h in mine)  # the home link
    archive = [h for h in mine if "/archive/" in h]
    issue = db_session.get(Issue, world["issue"].id)
    assert archive == [f"http://localhost/archive/{issue.slug}"] or not issue.slug
    assert "Unsubscribe: http://localhost/unsubscribe/" in text
    assert CLICK_URL.search(text) and "https://blog.example.org" not in text
    urls = set(db_session.scalars(select(Link.url).where(Link.issue_id == world["issue"].id)))
    assert urls == {
        "https://blog.example.org/transformers-explained",
        "https://blog.example.org/shenzhen-notes",
    }
    # Every recipient's token differs; the link part is the same for everyone.
    other = html_of(smtp.by_rcpt()["bulk0@example.org"][0].message())
    assert PIXEL_URL.search(other).group(1) != PIXEL_URL.search(html).group(1)


@pytest.fixture
def untracked_app(connection, tmp_path, smtp):  # type: ignore[no-untyped-def]
    app = make_test_app(
        connection,
        tmp_path,
        SMTP_URL=smtp.url,
        TRACKING="off",
        FROM_ADDRESS="Newsletter <news@example.org>",
    )
    with app.app_context():
        yield app


def assert_untracked(message) -> None:  # type: ignore[no-untyped-def]
    html, text = html_of(message), text_of(message)
    assert "/o/" not in html and "<img" not in html.split("Unsubscribe", 1)[1]
    assert not CLICK_URL.search(html) and not CLICK_URL.search(text)
    assert 'href="https://blog.example.org/transformers-explained"' in html
    assert "https://blog.example.org/transformers-explained" in text


def test_global_switch_off_sends_original_links_and_no_pixel(
    db_session, untracked_app, world, smtp, pool
):
    settings = untracked_app.extensions["settings"]
    assert settings.tracking is False
    assert_untracked(send_and_read(db_session, settings, world["issue"].id, smtp, pool))
    assert db_session.scalars(select(Link)).all() == []


def test_issue_switch_off_sends_original_links_and_no_pixel(
    db_session, settings, world, smtp, pool
):
    issue = db_session.get(Issue, world["issue"].id)
    issue.tracking = False
    db_session.commit()
    assert_untracked(send_and_read(db_session, settings, issue.id, smtp, pool))


def test_test_sends_carry_no_tracking(db_session, settings, world, smtp):
    from newsletter.mail.transport import get_sender

    send_test(
        db_session,
        issue_id=world["issue"].id,
        emails=["tester@example.org"],
        sender=get_sender(),
        settings=settings,
    )
    assert_untracked(smtp.by_rcpt()["tester@example.org"][0].message())


def test_unit_rewrite_leaves_everything_but_outside_http_links():
    from types import SimpleNamespace

    from newsletter.tracking.links import html_links, rewrite

    settings = SimpleNamespace(base_url="https://news.example.org", secret_key="k" * 40)
    html = (
        '<a href="https://example.com/a?x=1&amp;y=2">a</a> <a href="mailto:me@example.org">m</a>'
        ' <a href="#top">t</a> <a href="https://news.example.org/archive/x">web</a>'
        ' <a href="https://news.example.org">home</a> <a href="%%nl~unsubscribe_url~%%">u</a>'
        ' <a href="https://news.example.org.evil.example/">lookalike</a> %%nl~open_pixel~%%'
    )
    rendered = RenderedEmail(
        subject="s", html=html, text="See https://example.com/a?x=1&y=2.\nhttps://other.example/\n"
    )
    found = html_links(rendered, settings.base_url)  # type: ignore[arg-type]
    assert found == ["https://example.com/a?x=1&y=2", "https://news.example.org.evil.example/"]
    out = rewrite(rendered, settings, {found[0]: 5, found[1]: 6})  # type: ignore[arg-type]
    assert 'href="https://news.example.org/c/%%nl~track~%%.5.' in out.html
    for kept in (
        'href="mailto:me@example.org"',
        'href="#top"',
        "/archive/x",
        '"https://news.example.org"',
        "%%nl~unsubscribe_url~%%",
    ):
        assert kept in out.html
    assert '<img src="https://news.example.org/o/%%nl~track~%%.gif"' in out.html
    assert "%%nl~open_pixel~%%" not in out.html
    assert re.search(r"See https://news\.example\.org/c/%%nl~track~%%\.5\.[\w-]{8}\.\n", out.text)
    assert "https://other.example/" in out.text  # not a link of the HTML part: left alone


def test_a_tracked_template_needs_a_token(db_session, settings, world):
    from dataclasses import replace

    template = variants.template_for(
        db_session, settings, issue_id=world["issue"].id, post_ids=(world["posts"]["llm"].id,)
    )
    assert "track" in template.keys
    person = Recipient(
        email="a@example.org", name="", message_id="<x@example.org>",
        unsubscribe_url="http://localhost/u", preferences_url="http://localhost/p",
    )  # fmt: skip
    for bad in ("", "<b>", "a b"):
        with pytest.raises(ValueError, match="tracking token"):
            template.personalise(replace(person, tracking_token=bad))
    message = template.personalise(replace(person, tracking_token="1.abc"))
    assert b"/o/1.abc.gif" in quopri.decodestring(message)
