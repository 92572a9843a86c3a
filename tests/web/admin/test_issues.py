"""The admin's sends pages and dashboard charts, fed by rows written through the models."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from newsletter.compose import create_issue
from newsletter.models import (
    Category,
    Delivery,
    DeliveryStatus,
    Event,
    EventKind,
    IssueStatus,
    Subscriber,
    SubscriberStatus,
    utcnow,
)
from newsletter.web.admin.issues import issue_charts
from tests.sends.conftest import add_post, add_subscriber


@pytest.fixture
def sending(db_session):  # type: ignore[no-untyped-def]
    """An issue half-way through its send: 3 sent, 1 failed, 1 waiting for a retry."""
    post = add_post(db_session, "Charts explained", ("AI",))
    issue = create_issue(db_session, subject="Weekly <numbers>", post_ids=[post.id])
    subs = [add_subscriber(db_session, f"reader{n}@example.org") for n in range(5)]
    now = utcnow()
    states = [
        (DeliveryStatus.SENT, None),
        (DeliveryStatus.SENT, None),
        (DeliveryStatus.SENT, None),
        (DeliveryStatus.FAILED, "550 5.1.1 <reader3@example.org>: user unknown"),
        (DeliveryStatus.PENDING, "421 4.7.0 try again later"),
    ]
    for n, (sub, (status, error)) in enumerate(zip(subs, states, strict=True)):
        db_session.add(
            Delivery(
                issue_id=issue.id,
                subscriber_id=sub.id,
                status=status,
                message_id=f"<m{n}.{issue.id}@example.org>",
                attempts=2 if error else 1,
                last_error=error,
                sent_at=now if status is DeliveryStatus.SENT else None,
                updated_at=now + timedelta(seconds=n),  # the retry is the newest error
            )
        )
    issue.status = IssueStatus.SENDING
    issue.started_at = now
    db_session.add(
        Event(
            kind=EventKind.BOUNCE, issue_id=issue.id, subscriber_id=subs[1].id, hard=True, data={}
        )
    )
    db_session.add(
        Event(kind=EventKind.COMPLAINT, issue_id=issue.id, subscriber_id=subs[2].id, data={})
    )
    db_session.commit()
    return issue


def figure(html: str, name: str) -> str:
    match = re.search(rf'data-stat="{re.escape(name)}">([^<]*)<', html)
    assert match, name
    return match.group(1)


def test_issue_page_shows_the_send_live(client, login, sending):
    login("admin")
    html = client.get(f"/admin/issues/{sending.id}").get_data(as_text=True)
    assert "Weekly &lt;numbers&gt;" in html
    got = {k: figure(html, k) for k in ("recipients", "sent", "failed", "remaining", "percent")}
    assert got == {
        "recipients": "5",
        "sent": "3",
        "failed": "1",
        "remaining": "1",
        "percent": "80%",
    }
    assert (figure(html, "bounces.hard"), figure(html, "complaints")) == ("1", "1")
    errors = html.split('id="last-errors"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td><td[^>]*>(\d+)</td>", errors)
    assert rows == [
        ("reader4@example.org", "will retry", "2"),
        ("reader3@example.org", "failed", "2"),
    ]
    assert "user unknown" in errors
    # Live: the script polls stats.json; without script the page reloads itself.
    assert f'data-live="/admin/issues/{sending.id}/stats.json"' in html
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in html

    stats = client.get(f"/admin/issues/{sending.id}/stats.json").json
    assert (stats["status"], stats["sent"], stats["failed"], stats["percent"]) == (
        "sending",
        3,
        1,
        80,
    )
    assert [e["email"] for e in stats["errors"]] == ["reader4@example.org", "reader3@example.org"]
    exported = client.get(f"/admin/issues/{sending.id}/stats.csv")
    assert exported.mimetype == "text/csv"
    assert exported.headers["Content-Disposition"] == (
        f'attachment; filename="issue-{sending.id}-stats.csv"'
    )
    lines = exported.get_data(as_text=True).splitlines()
    assert lines[0] == "section,at,url,metric,value"
    assert {"summary,,,sent,3", "summary,,,failed,1", "summary,,,bounces.hard,1"} <= set(lines)
    assert stats["errors"][1] | {"at": None} == {
        "email": "reader3@example.org",
        "status": "failed",
        "attempts": 2,
        "error": "550 5.1.1 <reader3@example.org>: user unknown",
        "at": None,
    }


def test_a_finished_issue_stops_refreshing(client, login, sending, db_session):
    sending.status = IssueStatus.SENT
    sending.sent_at = utcnow()
    db_session.commit()
    login("admin")
    html = client.get(f"/admin/issues/{sending.id}").get_data(as_text=True)
    assert "data-live=" not in html and "http-equiv" not in html and "<script>" not in html
    assert figure(html, "status") == "sent"


def test_issues_table_links_each_issue_with_its_rates(client, login, sending, db_session):
    draft = create_issue(db_session, subject="Not yet", post_ids=[sending.items[0].post_id])
    login("admin")
    html = client.get("/admin/issues/").get_data(as_text=True)
    row = html.split(f'data-issue="{sending.id}"', 1)[1].split("</tr>", 1)[0]
    assert f'href="/admin/issues/{sending.id}"' in row
    assert re.search(r'data-col="recipients">5<', row)
    assert re.search(r'data-col="sent"><span>3 <span class="error">\(1 failed\)', row)
    assert 'data-col="bounce-rate">33.3%<' in row  # 1 hard bounce of 3 sent
    assert 'data-col="open-rate">0.0%<' in row
    draft_row = html.split(f'data-issue="{draft.id}"', 1)[1].split("</tr>", 1)[0]
    assert f'href="/admin/issues/{draft.id}"' in draft_row and "not sent" in draft_row
    assert html.index(f'data-issue="{draft.id}"') < html.index(f'data-issue="{sending.id}"')


def test_charts_of_opens_clicks_and_links_come_from_the_stats_shape():
    stats = {
        "clicks": {
            "unique": 3,
            "total": 5,
            "links": [
                {"url": "https://blog.example.org/a", "unique": 2, "total": 3},
                {"url": "https://blog.example.org/b?x=<1>", "unique": 1, "total": 2},
            ],
        },
        "series": [
            {"at": "2026-03-10T09:00:00+00:00", "opens": 4, "clicks": 1},
            {"at": "2026-03-10T10:00:00+00:00", "opens": 2, "clicks": 2},
        ],
    }
    charts = issue_charts(7, stats)
    activity, links = str(charts["activity"]), str(charts["links"])
    assert (
        'id="issue-7-activity"' in activity and "Opens: 6 in total; Clicks: 3 in total" in activity
    )
    assert "2026-03-10 09:00: Opens 4" in activity
    assert 'data-label="https://blog.example.org/b?x=&lt;1&gt;" data-value="1"' in links
    assert issue_charts(7, {"clicks": {"links": []}, "series": []}) == {}
    unclicked = [{"url": "https://blog.example.org/a", "unique": 0, "total": 0, "machine": 0}]
    assert issue_charts(7, {"clicks": {"links": unclicked}, "series": []}) == {}


def test_dashboard_draws_list_growth_and_categories(client, login, db_session):
    ai = Category(name="AI", slug="ai")
    db_session.add(ai)
    db_session.flush()
    now = utcnow()
    people = []
    for n in range(3):
        sub = Subscriber(email=f"p{n}@example.org", status=SubscriberStatus.ACTIVE, attributes={})
        sub.categories = [ai] if n else []
        db_session.add(sub)
        db_session.flush()
        people.append(sub)
        db_session.add(
            Event(kind=EventKind.SUBSCRIBE, subscriber_id=sub.id, occurred_at=now, data={})
        )
    db_session.add(
        Event(kind=EventKind.CONFIRM, subscriber_id=people[0].id, occurred_at=now, data={})
    )
    db_session.add(
        Event(kind=EventKind.UNSUBSCRIBE, subscriber_id=people[1].id, occurred_at=now, data={})
    )
    # Ten days ago: inside 30 days, outside 7.
    db_session.add(
        Event(kind=EventKind.SUBSCRIBE, subscriber_id=people[2].id,
              occurred_at=now - timedelta(days=10), data={})
    )  # fmt: skip
    db_session.commit()
    login("admin")
    html = client.get("/admin/").get_data(as_text=True)
    totals = dict(re.findall(r'data-total="(\w+)">(\d+)<', html))
    assert totals == {"subscribed": "4", "confirmed": "1", "unsubscribed": "1", "bounced": "0"}
    assert (
        '<svg class="chart" id="list-growth"' in html
        and '<svg class="chart" id="per-category"' in html
    )
    assert html.count("<tr data-day=") == 30
    assert (
        f'<tr data-day="{now.date().isoformat()}"><td>{now.date().isoformat()}</td><td class="num">3</td>'
        in html
    )
    assert 'data-label="AI" data-value="2"' in html
    assert 'data-label="(no choice: every post)" data-value="1"' in html
    week = client.get("/admin/?days=7").get_data(as_text=True)
    assert week.count("<tr data-day=") == 7
    assert dict(re.findall(r'data-total="(\w+)">(\d+)<', week))["subscribed"] == "3"
    for bad in ("abc", "8", "-1", "99999999999999999999"):
        assert client.get(f"/admin/?days={bad}").get_data(as_text=True).count("<tr data-day=") == 30


def test_only_admins_see_the_sends_pages(client, login, sending):
    assert client.get("/admin/issues/").status_code == 302  # to the login
    login("author")
    for url in (
        "/admin/issues/",
        f"/admin/issues/{sending.id}",
        f"/admin/issues/{sending.id}/stats.json",
    ):
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("path", ["999999", "99999999999", "999999/stats.json", "0"])
def test_unknown_issues_are_404(client, login, path):
    login("admin")
    assert client.get(f"/admin/issues/{path}").status_code == 404


def test_a_bad_cursor_is_a_422_page(client, login):
    login("admin")
    assert client.get("/admin/issues/?cursor=%%%").status_code == 422
