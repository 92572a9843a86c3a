"""An author composes an issue in a real browser and test-sends it to the local SMTP server."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from newsletter.models import Issue
from newsletter.render.placeholders import OPEN

from ..live import REPO

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SEED = REPO / "tests" / "data" / "posts" / "seed.txt"
ARTIFACTS = REPO / "test-artifacts"
FIRST = "Cranes on the Horizon"
SECOND = re.compile(r"What.s new in AI from China\?")


def test_compose_preview_and_test_send(live_stack, page):
    base = live_stack.base_url
    live_stack.create_user("composer@example.org", "a long enough password", role="author")
    page.goto(f"{base}/login")
    page.fill("#email", "composer@example.org")
    page.fill("#password", "a long enough password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/author/")

    # Import the seed posts through the upload form.
    page.get_by_role("link", name="Import", exact=True).first.click()
    page.set_input_files("input[type=file]", str(SEED))
    page.get_by_role("button", name="Import").click()
    # The scrape gives no dates: the import page itself shows the counts and the warnings.
    page.get_by_text(re.compile(r"Imported 2 posts")).wait_for()
    assert page.get_by_text(re.compile(r"no date for")).first.is_visible()
    page.goto(f"{base}/author/posts")

    # Choose both seed posts (the shared stack may hold other tests' posts) and start a
    # draft from them.
    for title in (FIRST, SECOND):
        page.locator("tbody tr").filter(has_text=title).locator("input[name=post]").check()
    page.get_by_role("button", name="New issue from selected posts").click()
    page.fill("#subject", "Cranes and labs")
    page.get_by_role("button", name="Create draft").click()
    page.wait_for_url(re.compile(r"/author/issues/\d+$"))
    issue_id = int(page.url.rsplit("/", 1)[1])

    # Autosave: type, and the status line reports the save without pressing anything.
    page.fill("#intro", "Two posts on **China’s AI labs** this week.")
    page.fill("#preheader", "Cranes, labs and releases")
    expect_saved(page)
    desktop = page.frame_locator("#preview-desktop")
    # The preview reloaded after the save: the new intro shows in it.
    desktop.get_by_text("China’s AI labs", exact=True).wait_for()
    assert desktop.get_by_text(FIRST).first.is_visible()
    mobile = page.frame_locator("#preview-mobile")
    mobile.get_by_text(SECOND).first.wait_for()
    assert "China’s AI labs" in page.locator("#preview-text").inner_text()

    # Drag the second post above the first; autosave stores the new order.
    items = page.locator("li.item")
    second_id = int(items.nth(1).get_attribute("data-post-id"))
    items.nth(1).locator(".handle").drag_to(items.nth(0).locator(".handle"))
    expect_saved(page)
    assert int(page.locator("li.item").first.get_attribute("data-post-id")) == second_id

    # Show the second post as an excerpt; up/down buttons still work (full form post).
    page.select_option(f"select[name=mode-{second_id}]", "excerpt")
    expect_saved(page)
    page.locator(f"button[value='down:{second_id}']").click()
    page.wait_for_load_state()
    assert int(page.locator("li.item").last.get_attribute("data-post-id")) == second_id

    with live_stack.session() as s:
        issue = s.scalars(select(Issue).where(Issue.id == issue_id)).one()
        assert issue.intro == "Two posts on **China’s AI labs** this week."
        assert [i.post_id for i in issue.items][-1] == second_id
        assert issue.items[-1].mode.value == "excerpt"
        moved_title = issue.items[-1].post.title

    # Test send through the real SMTP catcher.
    page.fill("#test-emails", "proof@example.org")
    page.get_by_role("button", name="Send test").click()
    assert page.get_by_text("Test sent to proof@example.org.").is_visible()
    message = live_stack.outbox.wait_for(lambda m: m["Subject"] == "[Test] Cranes and labs")
    assert message.get_content_type() == "multipart/alternative"
    assert message["To"] == "proof@example.org"
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    for part in (html, text):
        assert FIRST in part and SECOND.search(part)
        assert "China’s AI labs" in part
        assert OPEN not in part
    # The posts page lists newest first, so the drag moved the Cranes post to the top,
    # then it became an excerpt and went back down with the button.
    assert moved_title == FIRST
    assert "Lambert ends on a note" not in text  # only its excerpt
    assert "Major Recent Releases" in text  # the other post is shown in full
    assert SECOND.search(html).start() < html.index(FIRST)

    # Screenshots of the received email at desktop and mobile widths.
    ARTIFACTS.mkdir(exist_ok=True)
    for width in (600, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.set_content(html, wait_until="load")
        path = ARTIFACTS / f"email-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000
        # Nothing wider than the viewport: no horizontal scrolling on a phone.
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= width, f"email is {overflow}px wide at {width}px"


def expect_saved(page) -> None:
    page.wait_for_function(
        "document.getElementById('save-status').textContent.startsWith('Saved at')",
        timeout=15_000,
    )
