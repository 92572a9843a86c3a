"""The front door in a real browser: the public home page, a signup from it, and the
admin's navigation to every admin page and back.

Real web server, Celery worker and SMTP catcher (tests/live.py).
"""

from __future__ import annotations

import json
import re
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from newsletter.models import Category, Subscriber, SubscriberStatus

from ..live import REPO

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = REPO / "test-artifacts"
READER = "front-door@example.org"
ADMIN = "front-door-admin@example.org"
PASSWORD = "a long enough password"

# Every page the nav reaches: (link name, path, a heading on that page).
NAV_PAGES = [
    ("Author", "/author/", "Your newsletter"),
    ("Posts", "/author/posts", "Posts"),
    ("Issues", "/author/issues", "Issues"),
    ("New issue", "/author/issues/new", "New issue"),
    ("Admin", "/admin/", "Admin"),
    ("Subscribers", "/admin/subscribers/", "Subscribers"),
    ("Import subscribers", "/admin/subscribers/import", "Import subscribers"),
    ("Archive", "/archive", "Archive"),
]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def confirm_link(message: EmailMessage) -> str:
    match = re.search(r"https?://\S+/confirm/[\w.-]+", text_of(message))
    assert match, text_of(message)
    return match.group(0)


def screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def status_of(live_stack, email: str) -> SubscriberStatus | None:  # type: ignore[no-untyped-def]
    with live_stack.session() as session:
        return session.scalar(select(Subscriber.status).where(Subscriber.email == email))


@pytest.fixture(scope="module")
def topics(live_stack):  # type: ignore[no-untyped-def]
    with live_stack.session() as session:
        existing = set(session.scalars(select(Category.name)))
        for name, slug in (("AI", "ai"), ("China", "china")):
            if name not in existing:
                session.add(Category(name=name, slug=slug))
        session.commit()


def test_home_page_signup_and_confirm_twice(live_stack, page, topics):
    page.goto(f"{live_stack.base_url}/")
    assert page.url == f"{live_stack.base_url}/"  # no redirect to the login page
    assert page.get_by_role("heading", level=1).inner_text() == "Newsletter"
    assert page.get_by_role("heading", name="Latest issues").is_visible()
    icon = page.locator('link[rel="icon"]').first.get_attribute("href")
    assert page.request.get(f"{live_stack.base_url}{icon}").status == 200
    screenshot(page, "home-1280")
    page.set_viewport_size({"width": 375, "height": 800})
    # A phone: nothing wider than the screen, the form still in reach.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "home-375")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_label("Email address").fill(READER)
    page.get_by_label("China").check()
    page.get_by_role("button", name="Subscribe").click()
    assert page.get_by_role("heading", name="Check your inbox").is_visible()
    assert status_of(live_stack, READER) is SubscriberStatus.PENDING

    confirmation = live_stack.outbox.wait_for(
        lambda m: READER in str(m["To"]) and "confirm" in str(m["Subject"]).lower()
    )
    url = confirm_link(confirmation)
    page.goto(url)
    page.get_by_role("button", name="Yes, subscribe me").click()
    assert page.get_by_role("heading", name="You are subscribed").is_visible()
    assert status_of(live_stack, READER) is SubscriberStatus.ACTIVE

    page.goto(url)  # the same link, opened again
    assert page.get_by_text("already subscribed").is_visible()
    screenshot(page, "confirm-again")
    assert page.locator("main button").count() == 0
    page.get_by_role("link", name="Go to Newsletter").click()
    assert page.url == f"{live_stack.base_url}/"


def test_admin_walks_the_navigation_to_every_page_and_back(live_stack, page, topics):
    live_stack.create_user(ADMIN, PASSWORD, role="admin")
    page.goto(f"{live_stack.base_url}/login")
    page.fill("#email", ADMIN)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_stack.base_url}/admin/")
    nav = page.get_by_role("navigation", name="Main")
    for name, path, heading in NAV_PAGES:
        nav.get_by_role("link", name=name, exact=True).click()
        page.wait_for_url(f"{live_stack.base_url}{path}")
        assert page.get_by_role("heading", name=heading, exact=True).first.is_visible(), path
        current = nav.locator('[aria-current="page"]')
        assert current.count() == 1 and current.inner_text() == name, path
        # ... and back to the admin's dashboard, from wherever we are.
        nav.get_by_role("link", name="Admin", exact=True).click()
        page.wait_for_url(f"{live_stack.base_url}/admin/")
    # The site name goes to the public home page.
    page.locator("a.brand").click()
    page.wait_for_url(f"{live_stack.base_url}/")


def test_admin_subscriber_page_in_the_browser(live_stack, page, topics):
    live_stack.create_user("fd-admin2@example.org", PASSWORD, role="admin")
    email = "fd-history@example.org"
    page.goto(f"{live_stack.base_url}/")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Subscribe").click()
    live_stack.outbox.wait_for(lambda m: email in str(m["To"]))

    page.goto(f"{live_stack.base_url}/login")
    page.fill("#email", "fd-admin2@example.org")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Subscribers", exact=True
    ).click()
    page.get_by_label("Search").fill("fd-history")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name=email).click()
    history = page.locator("table.history")
    history.get_by_text("Confirmation email sent").wait_for()  # the worker recorded it
    assert history.get_by_text("Signed up").is_visible()
    screenshot(page, "admin-subscriber")

    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("GDPR export")).click()
    data = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert data["subscriber"]["email"] == email

    block = page.get_by_role("button", name="Block")
    assert "rgb(179, 38, 30)" in block.evaluate("b => getComputedStyle(b).backgroundColor")
    page.once("dialog", lambda dialog: dialog.dismiss())  # "Cancel": nothing happens
    block.click()
    assert status_of(live_stack, email) is SubscriberStatus.PENDING
    page.once("dialog", lambda dialog: dialog.accept())
    block.click()
    page.get_by_text("Status changed to blocked.").wait_for()
    assert status_of(live_stack, email) is SubscriberStatus.BLOCKED

    # New issue: only the chosen option's fields show.
    page.goto(f"{live_stack.base_url}/author/issues/new")
    assert page.locator("#panel-posts").is_visible()
    assert page.locator("#panel-since").is_hidden()
    screenshot(page, "new-issue-posts")
    page.get_by_label("Everything since a date").check()
    assert page.locator("#panel-since").is_visible()
    assert page.locator("#panel-posts").is_hidden()
