"""An author watches a feed and sets up an automation from the author UI, dry-runs and runs it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from newsletter.automations.schedule import previous_run
from newsletter.models import Automation, Feed, Issue, IssueStatus

from ..automations.feedserver import FeedServer, Item
from ..live import REPO, LiveStack, start_stack, stop_stack

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    # Its own stack: the feed is served on loopback, which the web may reach only when
    # IMPORT_ALLOW_PRIVATE_URLS is on.
    live, catcher = start_stack(
        tmp_path_factory.mktemp("automations"), NEWSLETTER_IMPORT_ALLOW_PRIVATE_URLS="on"
    )
    yield live
    stop_stack(live, catcher)


def test_feed_and_automation_from_the_author_ui(stack, page):
    base = stack.base_url
    server = FeedServer()
    now = datetime.now(UTC)
    # The first run covers one period of the schedule: posts since its last firing.
    start = previous_run("0 7 * * *", "Europe/Berlin", before=now)
    step = (now - start) / 4
    server.state.items = [
        Item("b1", "Browser post one", "one", start + step, ("AI",)),
        Item("b2", "Browser post two", "two", start + 2 * step, ("AI: Robots",)),
        Item("b3", "Cooking aside", "three", start + 3 * step, ("Cooking",)),
        Item("b0", "Before the period", "zero", start - timedelta(hours=1), ("AI",)),
    ]
    try:
        stack.create_user("automator@example.org", "a long enough password", role="author")
        page.goto(f"{base}/login")
        page.fill("#email", "automator@example.org")
        page.fill("#password", "a long enough password")
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/author/")

        page.click("nav[aria-label=Main] >> text=Feeds")
        page.wait_for_url(f"{base}/author/feeds")
        page.fill("#url", server.url("/page.html"))
        page.click("text=Watch this feed")
        assert "not an RSS or Atom feed" in page.inner_text("[role=alert]")
        page.fill("#url", server.url())
        page.select_option("#every", "15")
        page.click("text=Watch this feed")
        page.wait_for_url(f"{base}/author/feeds")
        assert "imported 4 posts (4 new, 0 updated)" in page.inner_text(".flash-info")
        assert server.url() in page.inner_text("table.feeds")
        page.click("table.feeds >> text=Check now")
        assert "not modified" in page.inner_text(".flash-info")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "automations-feeds.png"), full_page=True)

        page.click("nav[aria-label=Main] >> text=Automations")
        page.wait_for_url(f"{base}/author/automations")
        page.fill("#name", "Every morning")
        page.fill("#schedule", "* * * * *")
        page.fill("#timezone", "Europe/Berlin")
        page.select_option("#categories", ["AI"])
        page.fill("#min_posts", "2")
        page.fill("#subject", "{count} new: {first_title}")
        page.click("text=Save automation")
        assert "more than once an hour" in page.inner_text("[role=alert]")
        page.fill("#schedule", "0 7 * * *")
        page.click("text=Save automation")
        page.wait_for_url(f"{base}/author/automations")
        assert "saved" in page.inner_text(".flash-info")
        row = page.locator("table.automations tbody tr").first
        assert "0 7 * * *" in row.inner_text() and "AI" in row.inner_text()

        row.locator("text=Dry run").click()
        dry = page.inner_text("section.dry-run")
        assert "would take 2 posts" in dry
        assert "Browser post two" in dry and "Browser post one" in dry
        assert "Cooking" not in dry and "Before the period" not in dry
        page.screenshot(path=str(ARTIFACTS / "automations-dry-run.png"), full_page=True)

        page.locator("table.automations tbody tr").first.locator("text=Run now").click()
        page.wait_for_url(f"{base}/author/automations")
        assert "drafted issue" in page.inner_text(".flash-info")
        page.click("table.automations >> text=open issue")
        assert page.input_value("#subject") == "2 new: Browser post two"

        with stack.session() as s:
            assert s.scalar(select(Feed.every_minutes)) == 15
            automation = s.scalars(select(Automation)).one()
            assert automation.timezone == "Europe/Berlin" and automation.min_posts == 2
            issue = s.get(Issue, automation.last_issue_id)
            assert issue is not None and issue.status is IssueStatus.DRAFT
        # The authors are told by email (the worker sends it through the catcher).
        notice = stack.outbox.wait_for(lambda m: str(m["Subject"]).startswith("Draft ready:"))
        assert "2 new: Browser post two" in str(notice["Subject"])
    finally:
        server.stop()
