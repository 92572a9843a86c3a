"""Recording and the issue stats, on SQLite and PostgreSQL: unique vs total, machines apart,
per link, the time series buckets, unsubscribes credited to the issue, rebuilt counts."""

from __future__ import annotations

import csv
import io
import itertools
import json
from datetime import timedelta

from click.testing import CliRunner

from newsletter.cli.issues import issues
from newsletter.subscribers.tokens import preferences_url, sign_form, unsubscribe_url
from newsletter.tracking.record import Request, rebuild_counts, record_click, record_open
from newsletter.tracking.stats import issue_stats, stats_csv_rows

from .factories import STARTED, make_delivery, make_issue, make_link

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0"
PERSON = Request(user_agent=CHROME, ip="198.51.100.7")
H = timedelta(hours=1)


def scenario(session):  # type: ignore[no-untyped-def]
    """Three deliveries, two links; people and machines (see each line)."""
    issue = make_issue(session)
    d1, d2, d3 = (make_delivery(session, issue) for _ in range(3))
    l1 = make_link(session, issue, "https://example.com/one")
    l2 = make_link(session, issue, "https://example.com/two")
    at = STARTED
    record_open(session, delivery_id=d1.id, request=PERSON, now=at + H)  # person
    record_open(session, delivery_id=d1.id, request=PERSON, now=at + 2 * H)  # again
    apple = Request(user_agent="Mozilla/5.0", ip="17.58.1.2")
    record_open(session, delivery_id=d2.id, request=apple, now=at + timedelta(minutes=5))
    record_open(session, delivery_id=d2.id, request=PERSON, now=at + 30 * H)  # person, day 2
    bare = Request(user_agent="Mozilla/5.0", ip="203.0.113.5")
    record_open(session, delivery_id=d3.id, request=bare, now=at + timedelta(minutes=10))
    one = timedelta(minutes=5)
    assert record_click(session, delivery_id=d1.id, link_id=l1.id, request=PERSON, now=at + H + one)
    record_click(session, delivery_id=d1.id, link_id=l1.id, request=PERSON, now=at + 3 * H)
    # d2: two links within a second, a scanner's burst; the first one is re-marked.
    record_click(session, delivery_id=d2.id, link_id=l1.id, request=PERSON, now=at + 2 * H)
    second = at + 2 * H + timedelta(milliseconds=800)
    record_click(session, delivery_id=d2.id, link_id=l2.id, request=PERSON, now=second)
    # d3: five seconds after it was sent: a gateway.
    record_click(
        session, delivery_id=d3.id, link_id=l2.id, request=PERSON, now=at + timedelta(seconds=5)
    )
    return issue, (d1, d2, d3), (l1, l2)


def test_people_and_machines_counted_apart(db_session):
    issue, _, (l1, l2) = scenario(db_session)
    stats = issue_stats(db_session, issue.id)
    assert stats["sent"] == 3
    assert stats["opens"] == {"unique": 2, "total": 3, "machine": 2, "machine_unique": 2}
    assert stats["clicks"]["unique"] == 1 and stats["clicks"]["total"] == 2
    assert (stats["clicks"]["machine"], stats["clicks"]["machine_unique"]) == (3, 2)
    links = {link["url"]: link for link in stats["clicks"]["links"]}
    assert links[l1.url] == {"id": l1.id, "url": l1.url, "unique": 1, "total": 2, "machine": 1}
    assert links[l2.url] == {"id": l2.id, "url": l2.url, "unique": 0, "total": 0, "machine": 2}
    assert [link["url"] for link in stats["clicks"]["links"]] == [l1.url, l2.url]
    assert stats["rates"]["open"] == round(2 / 3, 4)
    assert stats["rates"]["click"] == round(1 / 3, 4)
    assert stats["rates"]["click_to_open"] == 0.5


def test_series_is_ten_minutes_for_the_first_day_then_hourly(db_session):
    issue, _, _ = scenario(db_session)
    series = issue_stats(db_session, issue.id)["series"]
    at = [point["at"] for point in series]
    assert at[0] == STARTED.replace(minute=0)  # 09:03 starts in the 09:00 bucket
    pairs = list(itertools.pairwise(at))
    fine_end = (STARTED + 24 * H).replace(minute=0) + H  # 24 h later, up to the hour
    assert all(b - a == timedelta(minutes=10) for a, b in pairs if b <= fine_end)
    assert all(b - a == H for a, b in pairs if a >= fine_end)
    assert len([a for a, _ in pairs if a < fine_end]) == 25 * 6  # 09:00 to 10:00 next day
    assert fine_end in at and at[-1] == (STARTED + 30 * H).replace(minute=0)
    by_at = {point["at"]: point for point in series}
    ten = STARTED.replace(minute=0) + H  # 10:03 and 10:08
    assert (by_at[ten]["opens"], by_at[ten]["clicks"]) == (1, 1)
    assert by_at[STARTED.replace(minute=0)]["machine_opens"] == 1  # the proxy at 09:08
    assert by_at[STARTED.replace(minute=10)]["machine_opens"] == 1  # bare agent at 09:13
    assert by_at[at[-1]]["opens"] == 1  # day two, hourly bucket
    assert sum(p["opens"] for p in series) == 3 and sum(p["machine_clicks"] for p in series) == 3


def test_rebuilt_counts_equal_the_live_ones(db_session):
    issue, _, _ = scenario(db_session)
    live = issue_stats(db_session, issue.id)
    assert rebuild_counts(db_session, issue.id) == 10
    rebuilt = issue_stats(db_session, issue.id)
    assert {k: v for k, v in rebuilt.items() if k != "rate_per_s"} == {
        k: v for k, v in live.items() if k != "rate_per_s"
    }


def test_a_later_human_click_becomes_unique_when_the_first_turns_out_a_scanners(db_session):
    issue = make_issue(db_session)
    d = make_delivery(db_session, issue)
    l1 = make_link(db_session, issue, "https://example.com/1")
    l2 = make_link(db_session, issue, "https://example.com/2")
    t = STARTED + 5 * H
    record_click(db_session, delivery_id=d.id, link_id=l1.id, request=PERSON, now=t)
    assert issue_stats(db_session, issue.id)["clicks"]["unique"] == 1
    record_click(
        db_session, delivery_id=d.id, link_id=l2.id, request=PERSON, now=t + timedelta(seconds=1)
    )
    after_burst = issue_stats(db_session, issue.id)["clicks"]
    assert (after_burst["unique"], after_burst["total"], after_burst["machine"]) == (0, 0, 2)
    record_click(db_session, delivery_id=d.id, link_id=l1.id, request=PERSON, now=t + H)
    later = issue_stats(db_session, issue.id)["clicks"]
    assert (later["unique"], later["total"], later["machine"]) == (1, 1, 2)


def test_csv_rows_carry_every_figure(db_session):
    issue, _, (l1, _) = scenario(db_session)
    rows = list(stats_csv_rows(db_session, issue.id))
    assert rows[0] == ("section", "at", "url", "metric", "value")
    summary = {r[3]: r[4] for r in rows if r[0] == "summary"}
    assert summary["opens.unique"] == "2" and summary["clicks.machine"] == "3"
    assert ("link", "", l1.url, "total", "2") in rows
    series = [r for r in rows if r[0] == "series" and r[3] == "opens" and r[4] != "0"]
    assert len(series) == 3 and series[0][1].startswith("2026-03-02T10:00:00")


def test_api_answers_json_and_csv(client, db_session, api_token):
    issue, _, _ = scenario(db_session)
    auth = {"Authorization": f"Bearer {api_token}"}
    answer = client.get(f"/api/v1/issues/{issue.id}/stats", headers=auth)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["opens"]["machine"] == 2 and body["series"][0]["at"].startswith("2026-03-02T09:00")
    sheet = client.get(f"/api/v1/issues/{issue.id}/stats.csv", headers=auth)
    assert sheet.status_code == 200 and sheet.mimetype == "text/csv"
    parsed = list(csv.reader(io.StringIO(sheet.get_data(as_text=True))))
    assert ["summary", "", "", "unsubscribes", "0"] in parsed
    missing = client.get("/api/v1/issues/999999/stats.csv", headers=auth)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"


def test_unsubscribes_are_credited_to_the_issue_whose_link_was_used(client, db_session):
    issue = make_issue(db_session)
    other = make_issue(db_session, subject="Other")
    a, b, c = (make_delivery(db_session, issue) for _ in range(3))
    from newsletter.models import Subscriber

    sub_a, sub_b, sub_c = (db_session.get(Subscriber, d.subscriber_id) for d in (a, b, c))
    one_click = unsubscribe_url(sub_a.id, sub_a.email, issue_id=issue.id)
    assert (
        client.post(
            one_click.removeprefix("http://localhost"), data={"List-Unsubscribe": "One-Click"}
        ).status_code
        == 200
    )
    prefs = preferences_url(sub_b.id, sub_b.email, issue_id=issue.id).removeprefix(
        "http://localhost"
    )
    token = prefs.rsplit("/", 1)[1]
    done = client.post(prefs, data={"action": "unsubscribe", "form_signature": sign_form(token)})
    assert done.status_code == 303
    elsewhere = unsubscribe_url(sub_c.id, sub_c.email, issue_id=other.id)
    client.post(elsewhere.removeprefix("http://localhost"))
    test_send = unsubscribe_url(0, "tester@example.org")  # what a test send carries
    assert client.post(test_send.removeprefix("http://localhost")).status_code == 200
    assert issue_stats(db_session, issue.id)["unsubscribes"] == 2
    assert issue_stats(db_session, other.id)["unsubscribes"] == 1


def test_cli_prints_the_figures(app, db_session):
    issue, _, _ = scenario(db_session)
    runner = CliRunner()  # the `issues` group inside the test app (bound to the test's database)
    text = runner.invoke(issues, ["stats", str(issue.id)])
    assert text.exit_code == 0, text.output
    assert "opens unique 2 total 3 machine 2" in text.output
    as_json = runner.invoke(issues, ["stats", str(issue.id), "--json"])
    assert json.loads(as_json.output)["clicks"]["links"][0]["total"] == 2
    both = runner.invoke(issues, ["stats", str(issue.id), "--json", "--csv"])
    assert both.exit_code != 0
