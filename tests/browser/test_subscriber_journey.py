"""A reader's whole path in a real browser, and RFC 8058 one-click from a mail provider.

Real web server, Celery worker and SMTP catcher (tests/live.py); the emails are
the ones the worker actually sent.
"""

from __future__ import annotations

import http.client
import re
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from newsletter.models import Category, Subscriber, SubscriberStatus

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def link(message: EmailMessage, path: str) -> str:
    match = re.search(rf"https?://\S+/{path}/[\w.-]+", text_of(message))
    assert match, f"no /{path}/ link in:\n{text_of(message)}"
    return match.group(0)


def to(address: str, subject_word: str):  # type: ignore[no-untyped-def]
    return lambda m: address in str(m["To"]) and subject_word in str(m["Subject"]).lower()


def subscriber(live_stack, email: str) -> Subscriber:  # type: ignore[no-untyped-def]
    with live_stack.session() as session:
        sub = session.scalar(select(Subscriber).where(Subscriber.email == email))
        assert sub is not None
        _ = list(sub.categories)
        return sub


@pytest.fixture(scope="module")
def categories(live_stack):  # type: ignore[no-untyped-def]
    with live_stack.session() as session:
        existing = set(session.scalars(select(Category.name)))
        for name, slug in (("AI", "ai"), ("China", "china")):
            if name not in existing:
                session.add(Category(name=name, slug=slug))
        session.commit()


def test_sign_up_confirm_choose_topics_and_unsubscribe(live_stack, page, categories):
    email = "reader@example.org"
    page.goto(f"{live_stack.base_url}/subscribe")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Name").fill("Rea Der")
    page.get_by_label("AI", exact=True).check()
    page.get_by_role("button", name="Subscribe").click()
    assert page.get_by_role("heading", name="Check your inbox").is_visible()
    assert subscriber(live_stack, email).status is SubscriberStatus.PENDING

    confirmation = live_stack.outbox.wait_for(to(email, "confirm"))
    assert confirmation["List-Unsubscribe"] is None
    confirm_url = link(confirmation, "confirm")

    page.goto(confirm_url)  # opening the link (or a scanner prefetching it) confirms nothing
    assert subscriber(live_stack, email).status is SubscriberStatus.PENDING
    page.get_by_role("button", name="Yes, subscribe me").click()
    assert page.get_by_role("heading", name="You are subscribed").is_visible()
    assert subscriber(live_stack, email).status is SubscriberStatus.ACTIVE

    welcome = live_stack.outbox.wait_for(
        lambda m: email in str(m["To"]) and m["List-Unsubscribe"] is not None
    )
    assert welcome["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    page.get_by_role("link", name="Choose your topics and settings").click()
    assert page.get_by_text(email).is_visible()
    assert page.get_by_label("AI", exact=True).is_checked()
    page.get_by_label("AI", exact=True).uncheck()
    page.get_by_label("China").check()
    page.get_by_role("button", name="Save preferences").click()
    assert page.get_by_text("Your preferences are saved.").is_visible()
    assert [c.name for c in subscriber(live_stack, email).categories] == ["China"]

    page.goto(link(welcome, "unsubscribe"))
    assert subscriber(live_stack, email).status is SubscriberStatus.ACTIVE  # GET changes nothing
    page.get_by_role("button", name="Unsubscribe").click()
    assert page.get_by_role("heading", name="You are unsubscribed").is_visible()
    assert subscriber(live_stack, email).status is SubscriberStatus.UNSUBSCRIBED


def test_one_click_unsubscribe_without_cookies(live_stack, page, categories):
    email = "oneclick@example.org"
    page.goto(f"{live_stack.base_url}/subscribe")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Subscribe").click()
    page.goto(link(live_stack.outbox.wait_for(to(email, "confirm")), "confirm"))
    page.get_by_role("button", name="Yes, subscribe me").click()
    welcome = live_stack.outbox.wait_for(
        lambda m: email in str(m["To"]) and m["List-Unsubscribe"] is not None
    )
    url = re.search(r"<(https?://[^>]+)>", str(welcome["List-Unsubscribe"])).group(1)  # type: ignore[union-attr]

    # Exactly what Gmail sends: a bare POST, no cookie, no Origin, no CSRF token.
    parts = urlsplit(url)
    for _ in range(2):  # idempotent
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        connection.request(
            "POST",
            parts.path,
            body="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = connection.getresponse()
        response.read()
        connection.close()
        assert response.status == 200  # never a redirect
        assert response.getheader("Location") is None
    assert subscriber(live_stack, email).status is SubscriberStatus.UNSUBSCRIBED
