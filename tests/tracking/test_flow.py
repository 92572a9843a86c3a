"""A send with tracking, on SQLite and PostgreSQL: the received emails' pixel and links,
fetched with the test client, show up in the issue's stats."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from newsletter.models import Delivery, utcnow
from newsletter.sends.stats import issue_stats
from newsletter.tracking.stats import issue_stats as tracking_issue_stats

from ..sends.conftest import drain, start
from .conftest import CLICK_URL, PIXEL_URL, html_of, text_of

BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko)"


def backdate(session, issue_id: int, by: timedelta) -> None:  # type: ignore[no-untyped-def]
    session.execute(
        update(Delivery).where(Delivery.issue_id == issue_id).values(sent_at=utcnow() - by)
    )
    session.commit()


def test_one_stats_function():
    assert issue_stats is tracking_issue_stats


def test_pixel_and_links_of_a_sent_email_are_counted(
    db_session, settings, world, smtp, pool, send_app
):
    issue = world["issue"]
    start(db_session, issue.id)
    drain(db_session, settings, issue.id, pool)
    # The readers come back an hour later (a click within seconds of delivery is a scanner's).
    backdate(db_session, issue.id, timedelta(hours=1))
    got = smtp.by_rcpt()
    message = got["all@example.org"][0].message()
    html, text = html_of(message), text_of(message)
    pixel = PIXEL_URL.search(html)
    assert pixel is not None, html[-2000:]
    links = CLICK_URL.findall(html)
    assert len(set(links)) >= 2  # the two posts' titles (own-site links stay as they were)
    assert set(CLICK_URL.findall(text)) <= set(links) and CLICK_URL.findall(text)
    client = send_app.test_client()
    headers = {"User-Agent": BROWSER}
    for _ in range(2):
        answer = client.get(pixel.group(1).removeprefix("http://localhost"), headers=headers)
        assert answer.status_code == 200 and answer.mimetype == "image/gif"
    first = client.get(links[0].removeprefix("http://localhost"), headers=headers)
    assert first.status_code == 302
    assert first.headers["Location"].startswith("https://blog.example.org/")

    other = got["china@example.org"][0].message()
    other_pixel = PIXEL_URL.search(html_of(other))
    assert other_pixel is not None
    client.get(other_pixel.group(1).removeprefix("http://localhost"), headers=headers)

    stats = issue_stats(db_session, issue.id)
    assert stats["opens"] == {"unique": 2, "total": 3, "machine": 0, "machine_unique": 0}
    assert (stats["clicks"]["unique"], stats["clicks"]["total"]) == (1, 1)
    clicked = [link for link in stats["clicks"]["links"] if link["total"]]
    assert [link["url"] for link in clicked] == [first.headers["Location"]]
    assert stats["rates"]["open"] == round(2 / stats["sent"], 4)
    assert sum(point["opens"] for point in stats["series"]) == 3
