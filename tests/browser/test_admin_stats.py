"""The admin watches sends in a real browser: the issue page follows a send live, and
after a real send (pipeline, worker, SMTP catcher) it shows the opens and clicks that
readers and a scanner made through the tracking links of the emails they received.

Screenshots of the dashboard and the issue page at 1280 and 375 px go to test-artifacts/.
"""

from __future__ import annotations

import http.client
import re
import time
from datetime import timedelta
from html import unescape as html_unescape
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update

from newsletter.compose import create_issue
from newsletter.models import (
    Delivery,
    DeliveryStatus,
    Issue,
    IssueStatus,
    Post,
    Subscriber,
    SubscriberStatus,
    utcnow,
)

from ..live import REPO

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = REPO / "test-artifacts"
SEED = REPO / "tests" / "data" / "posts" / "seed.txt"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


def log_in_admin(live_stack, page, email: str) -> None:  # type: ignore[no-untyped-def]
    live_stack.create_user(email, "a long enough password", role="admin")
    page.goto(f"{live_stack.base_url}/login")
    page.fill("#email", email)
    page.fill("#password", "a long enough password")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def shoot_both_widths(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Screenshots at desktop and phone width; on the phone nothing may widen the page
    (wide tables scroll inside their own box)."""
    ARTIFACTS.mkdir(exist_ok=True)
    for label, size in (("1280", DESKTOP), ("375", PHONE)):
        page.set_viewport_size(size)
        page.wait_for_timeout(100)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{label}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= size["width"], f"{name} is {overflow}px wide at {size['width']}px"
    page.set_viewport_size(DESKTOP)


def stat(page, name: str) -> str:  # type: ignore[no-untyped-def]
    return str(page.locator(f'[data-stat="{name}"]').first.inner_text())


def test_issue_page_follows_a_send_live_then_reloads_when_it_ends(live_stack, page):
    """The send is driven by hand through the ledger's rows (no worker takes it): the
    page must pick up each change by polling, without a reload, until the issue ends."""
    with live_stack.session() as s:
        post_id = s.scalar(select(Post.id).limit(1))
        s.commit()  # end the read: a SQLite reader cannot upgrade a stale snapshot to write
    if post_id is None:
        assert live_stack.cli("posts", "import", str(SEED)).returncode == 0
    with live_stack.session() as s:
        post_id = s.scalar(select(Post.id).limit(1))
        s.commit()
        subs = [
            Subscriber(email=f"live-{n}@example.org", status=SubscriberStatus.ACTIVE, attributes={})
            for n in range(4)
        ]
        s.add_all(subs)
        s.commit()
        issue = create_issue(s, subject="Watched live", post_ids=[post_id])
        for n, sub in enumerate(subs):
            s.add(
                Delivery(
                    issue_id=issue.id, subscriber_id=sub.id, message_id=f"<live{n}.{issue.id}@x>"
                )
            )
        issue.status, issue.started_at = IssueStatus.SENDING, utcnow()
        s.commit()
        issue_id = issue.id

    log_in_admin(live_stack, page, "live-admin@example.org")
    page.goto(f"{live_stack.base_url}/admin/issues/{issue_id}")
    assert stat(page, "percent") == "0%" and stat(page, "remaining") == "4"
    page.evaluate("window.__marker = 'same page'")  # gone if the page reloads

    with live_stack.session() as s:
        first = s.scalars(select(Delivery.id).where(Delivery.issue_id == issue_id)).all()
        s.execute(
            update(Delivery)
            .where(Delivery.id.in_(first[:2]))
            .values(status=DeliveryStatus.SENT, sent_at=utcnow())
        )
        s.execute(
            update(Delivery)
            .where(Delivery.id == first[2])
            .values(
                status=DeliveryStatus.FAILED,
                last_error="550 5.1.1 mailbox <live-2@example.org> unknown",
                attempts=1,
            )
        )
        s.commit()
    page.wait_for_function(
        "document.querySelector('[data-stat=percent]').textContent === '75%'", timeout=10_000
    )
    assert (stat(page, "sent"), stat(page, "failed"), stat(page, "remaining")) == ("2", "1", "1")
    assert "mailbox <live-2@example.org> unknown" in page.locator("#last-errors").inner_text()
    assert page.evaluate("window.__marker") == "same page"
    shoot_both_widths(page, "admin-issue-sending")

    with live_stack.session() as s:
        s.execute(
            update(Delivery)
            .where(Delivery.id == first[3])
            .values(status=DeliveryStatus.SENT, sent_at=utcnow())
        )
        s.execute(
            update(Issue)
            .where(Issue.id == issue_id)
            .values(status=IssueStatus.SENT, sent_at=utcnow())
        )
        s.commit()
    page.wait_for_function("window.__marker === undefined", timeout=10_000)  # reloaded once
    page.wait_for_load_state()
    assert stat(page, "status") == "sent" and stat(page, "percent") == "100%"
    assert page.locator("#send[data-live]").count() == 0
    polled: list[str] = []
    page.on(
        "request",
        lambda request: polled.append(request.url) if "stats.json" in request.url else None,
    )
    time.sleep(4.5)  # two polling periods: a finished send is not polled any more
    assert polled == []


def today_row(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Today's growth figures on the dashboard: [subscribed, confirmed, unsubscribed, bounced]."""
    today = utcnow().date().isoformat()
    cells = page.locator(f'#growth-table tr[data-day="{today}"] td.num')
    return [cells.nth(i).text_content() or "" for i in range(4)]


def test_dashboard_counts_an_import_and_a_sign_up_and_draws_both_charts(live_stack, page, tmp_path):
    log_in_admin(live_stack, page, "growth-admin@example.org")
    page.goto(f"{live_stack.base_url}/admin/")
    before = [int(n) for n in today_row(page)]
    ai_before = page.locator('#per-category g.bar[data-label="AI"]')
    ai_count = int(ai_before.get_attribute("data-value") or 0) if ai_before.count() else 0

    csv = tmp_path / "growth.csv"
    csv.write_text(
        "email,name,categories\n"
        + "".join(f"growth-{n}@example.org,G {n},AI\n" for n in range(3))
        + "growth-3@example.org,G 3,\n"
    )
    assert live_stack.cli("subscribers", "import", str(csv), "--confirmed").returncode == 0
    page.reload()
    after = [int(n) for n in today_row(page)]
    assert [a - b for a, b in zip(after, before, strict=True)] == [4, 0, 0, 0]
    assert page.locator('svg#list-growth[role="img"] polyline').count() == 4
    assert page.locator('#per-category g.bar[data-label="AI"]').get_attribute("data-value") == str(
        ai_count + 3
    )
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Sends").get_attribute("href") == "/admin/issues/"
    shoot_both_widths(page, "admin-dashboard")


PIXEL = re.compile(r'<img src="(https?://[^"]+/o/[^"]+\.gif)"')
CLICK = re.compile(r'href="(https?://[^"]+/c/[^"]+)"')
MAIL_APP = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.6.0"
SCANNER = "Mozilla/5.0 (compatible; Barracuda Sentinel link scanner)"


def fetch(url: str, user_agent: str, method: str = "GET", body: str | None = None):  # type: ignore[no-untyped-def]
    """One request as a mail app or a scanner makes it; redirects are not followed (the
    links lead off this machine). Returns (status, Location)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"User-Agent": user_agent}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body, headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, response.getheader("Location")


def test_real_send_then_readers_and_a_scanner_show_on_the_issue_page(live_stack, page, tmp_path):
    readers = [f"charted-{n}@example.org" for n in range(6)]
    csv = tmp_path / "charted.csv"
    csv.write_text("email,name\n" + "".join(f"{r},Reader {n}\n" for n, r in enumerate(readers)))
    assert live_stack.cli("subscribers", "import", str(csv), "--confirmed").returncode == 0
    with live_stack.session() as s:
        post = Post(
            title="Charts without JavaScript",
            slug=f"charts-without-javascript-{utcnow().timestamp():.0f}",
            url="https://blog.example.org/charts",
            html='<p>See <a href="https://example.com/paper">the paper</a> and'
            ' <a href="https://example.com/data">the data</a>.</p>',
            excerpt="Charts.",
            published_at=utcnow(),
        )
        s.add(post)
        s.commit()
        issue = create_issue(s, subject="Charted send", post_ids=[post.id])
        issue_id = issue.id
    sent = live_stack.cli("issues", "send", str(issue_id), "--wait")
    assert sent.returncode == 0, sent.stderr

    def mine(message) -> bool:  # type: ignore[no-untyped-def]
        return message["Subject"] == "Charted send"

    live_stack.outbox.wait_for(mine)
    received = {
        str(m["To"]).split("<")[-1].rstrip(">"): m for m in live_stack.outbox.messages() if mine(m)
    }
    assert set(readers) <= set(received)
    html = {r: html_unescape(received[r].get_body(("html",)).get_content()) for r in readers}
    pixel = {r: PIXEL.search(html[r]).group(1) for r in readers}  # type: ignore[union-attr]
    links = {r: CLICK.findall(html[r]) for r in readers}
    assert all(len(found) >= 2 for found in links.values()), links

    # The scanner sweeps reader 5's message as it arrives: the image and every link.
    assert fetch(pixel[readers[5]], SCANNER)[0] == 200
    for url in links[readers[5]]:
        assert fetch(url, SCANNER)[0] == 302
    # The readers come back later (past the window in which only gateways click).
    with live_stack.session() as s:
        s.execute(
            update(Delivery)
            .where(Delivery.issue_id == issue_id)
            .values(sent_at=utcnow() - timedelta(hours=2))
        )
        s.commit()
    for r, times in zip(readers[:4], (2, 1, 1, 1), strict=True):
        for _ in range(times):
            assert fetch(pixel[r], MAIL_APP)[0] == 200
    first_status, first_url = fetch(links[readers[0]][0], MAIL_APP)
    assert first_status == 302
    second_status, second_url = fetch(links[readers[1]][1], MAIL_APP)
    assert second_status == 302 and second_url != first_url
    assert fetch(links[readers[2]][0], MAIL_APP) == (302, first_url)
    time.sleep(3.5)  # a person reads before the next link; a scanner would not wait
    assert fetch(links[readers[2]][1], MAIL_APP) == (302, second_url)
    # Reader 4 unsubscribes with one click (RFC 8058) from this issue's email.
    one_click = re.search(
        r"<(https?://[^>]+/unsubscribe/[^>]+)>", str(received[readers[4]]["List-Unsubscribe"])
    )
    assert one_click is not None
    assert fetch(one_click.group(1), MAIL_APP, "POST", "List-Unsubscribe=One-Click")[0] == 200

    log_in_admin(live_stack, page, "charts-admin@example.org")
    page.goto(f"{live_stack.base_url}/admin/issues/{issue_id}")
    total_sent = len(received)
    figures = {
        name: stat(page, name)
        for name in ("sent", "opens.unique", "opens.total", "opens.machine", "clicks.unique",
                     "clicks.total", "unsubscribes", "failed")
    }  # fmt: skip
    assert figures == {
        "sent": str(total_sent),
        "opens.unique": "4",
        "opens.total": "5",
        "opens.machine": "1",
        "clicks.unique": "3",
        "clicks.total": "4",
        "unsubscribes": "1",
        "failed": "0",
    }
    assert int(stat(page, "clicks.machine")) == len(links[readers[5]])
    assert page.locator(f'svg#issue-{issue_id}-activity[role="img"] polyline').count() == 2
    assert page.locator(f"svg#issue-{issue_id}-links g.bar").count() >= 2
    for url in (first_url, second_url):
        row = page.locator("#links-table tr", has_text=url)
        assert [c.inner_text() for c in row.locator("td.num").all()][:2] == ["2", "2"], url
    csv_link = page.locator("#export-csv")
    with page.expect_download() as download:
        csv_link.click()
    exported = download.value.path().read_text()
    assert "summary,,,opens.unique,4" in exported and "summary,,,clicks.total,4" in exported
    shoot_both_widths(page, "admin-issue")

    page.goto(f"{live_stack.base_url}/admin/issues/")
    row = page.locator(f'tr[data-issue="{issue_id}"]')
    assert row.locator('[data-col="open-rate"]').inner_text() == f"{400 / total_sent:.1f}%"
    assert row.locator('[data-col="click-rate"]').inner_text() == f"{300 / total_sent:.1f}%"
    shoot_both_widths(page, "admin-issues")
