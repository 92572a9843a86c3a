"""Digests at each reader's pace: two weeks of sends on a moving clock (time-machine),
every/weekly/monthly readers, pace changes mid-way, against a real SMTP server on
loopback, on SQLite and PostgreSQL. What each address received is read back from the
messages themselves (the post cards' `id="post-N"`), then checked against the ledger."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

import time_machine
from sqlalchemy import func, select

from newsletter.automations import digests
from newsletter.models import (
    Delivery,
    DeliveryStatus,
    DigestRun,
    Frequency,
    Issue,
    IssueKind,
    IssueStatus,
    Subscriber,
)
from newsletter.sends import deliver
from newsletter.sends.stats import issue_stats
from newsletter.subscribers import service

from ..sends.conftest import add_subscriber
from .conftest import add_post, drain, posts_in, received_posts, send_issue

W, M, E = Frequency.WEEKLY, Frequency.MONTHLY, Frequency.EVERY_ISSUE


def at(day: int, hour: int = 12, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def run_digests(session, settings, sender) -> list[int]:  # type: ignore[no-untyped-def]
    made = digests.run_due(session, settings)
    for digest_id in made:
        drain(session, settings, digest_id, sender)
    return made


def digest_count(session) -> int:  # type: ignore[no-untyped-def]
    return int(session.scalar(select(func.count()).where(Issue.kind == IssueKind.DIGEST)) or 0)


def test_two_weeks_every_reader_gets_each_post_once_at_their_pace(db_session, settings, smtp, pool):
    s = db_session
    a = {n: add_post(s, f"AI {n}", ("AI",)) for n in range(1, 5)}
    c = {n: add_post(s, f"China {n}", ("China",)) for n in range(1, 4)}
    subs = {
        "every": add_subscriber(s, "every@example.org"),
        "every-ai": add_subscriber(s, "every-ai@example.org", ("AI",)),
        "weekly": add_subscriber(s, "weekly@example.org", frequency=W),
        "weekly-china": add_subscriber(s, "weekly-china@example.org", ("China",), frequency=W),
        "monthly": add_subscriber(s, "monthly@example.org", frequency=M),
        "w-to-every": add_subscriber(s, "w-to-every@example.org", frequency=W),
        "every-to-w": add_subscriber(s, "every-to-w@example.org"),
        "w-to-m": add_subscriber(s, "w-to-m@example.org", frequency=W),
    }
    got_at: dict[str, list[tuple[str, list[int]]]] = {}

    def snapshot(label: str) -> None:
        # Which posts each address received in the messages since the last snapshot.
        seen = sum(len(v) for v in got_at.values())
        for received in smtp.received[seen:]:
            got_at.setdefault(received.rcpt, []).append((label, posts_in(received.message())))

    with time_machine.travel(at(30, 10, month=10), tick=True) as clock:
        assert digests.run_due(s, settings) == []  # first sight: markers set, nothing runs
        assert s.scalar(select(func.count()).select_from(DigestRun)) == 2

        clock.move_to(at(30, 12, month=10))  # Friday
        send_issue(s, settings, pool, "One", [a[1], c[1]])
        snapshot("issue 1")

        clock.move_to(at(1, 8, month=11))  # Sunday the 1st, 08:00: the monthly digest
        assert len(run_digests(s, settings, pool)) == 1
        snapshot("monthly 1")
        clock.move_to(at(2, 8))  # Monday 08:00: the weekly digest
        assert len(run_digests(s, settings, pool)) == 1
        snapshot("weekly 1")
        clock.move_to(at(2, 8).replace(minute=1))  # the next minute's beat: already run
        assert run_digests(s, settings, pool) == []

        clock.move_to(at(3))
        send_issue(s, settings, pool, "Two", [a[2]])
        clock.move_to(at(5))
        send_issue(s, settings, pool, "Three", [c[2], a[3]])
        snapshot("issues 2-3")

        clock.move_to(at(6))  # three readers change pace on their preferences page
        for key, pace in (("w-to-every", E), ("every-to-w", W), ("w-to-m", M)):
            service.update_preferences(
                s, subscriber_id=subs[key].id, name="", categories=[], frequency=pace
            )
        clock.move_to(at(7))
        send_issue(s, settings, pool, "Four", [a[4]])
        snapshot("issue 4")

        clock.move_to(at(9, 8))  # Monday: second weekly digest
        assert len(run_digests(s, settings, pool)) == 1
        snapshot("weekly 2")
        clock.move_to(at(16, 8))  # Monday: nothing new for anyone weekly -> no digest
        before = digest_count(s)
        assert run_digests(s, settings, pool) == []
        assert digest_count(s) == before
        snapshot("weekly 3 (none)")

        clock.move_to(at(17))
        send_issue(s, settings, pool, "Five", [c[3]])
        snapshot("issue 5")
        clock.move_to(at(23, 8))
        assert len(run_digests(s, settings, pool)) == 1
        snapshot("weekly 4")
        clock.move_to(at(1, 8, month=12))  # Tuesday the 1st: the second monthly digest
        assert len(run_digests(s, settings, pool)) == 1
        snapshot("monthly 2")

    def ids(*posts) -> list[int]:  # type: ignore[no-untyped-def]
        return [p.id for p in posts]

    everything = [a[1], c[1], a[2], c[2], a[3], a[4], c[3]]
    expected = {
        "every": [
            ("issue 1", ids(a[1], c[1])),
            ("issues 2-3", ids(a[2])),
            ("issues 2-3", ids(c[2], a[3])),
            ("issue 4", ids(a[4])),
            ("issue 5", ids(c[3])),
        ],
        "every-ai": [
            ("issue 1", ids(a[1])),
            ("issues 2-3", ids(a[2])),
            ("issues 2-3", ids(a[3])),
            ("issue 4", ids(a[4])),
        ],
        "weekly": [
            ("weekly 1", ids(a[1], c[1])),
            ("weekly 2", ids(a[2], c[2], a[3], a[4])),
            ("weekly 4", ids(c[3])),
        ],
        "weekly-china": [("weekly 1", ids(c[1])), ("weekly 2", ids(c[2])), ("weekly 4", ids(c[3]))],
        "monthly": [
            ("monthly 1", ids(a[1], c[1])),
            ("monthly 2", ids(a[2], c[2], a[3], a[4], c[3])),
        ],
        # back to single issues: issue 4 at once, issues 2-3 in one last digest
        "w-to-every": [
            ("weekly 1", ids(a[1], c[1])),
            ("issue 4", ids(a[4])),
            ("weekly 2", ids(a[2], c[2], a[3])),
            ("issue 5", ids(c[3])),
        ],
        # to weekly: issues 1-3 as they came, then digests of what came after the change
        "every-to-w": [
            ("issue 1", ids(a[1], c[1])),
            ("issues 2-3", ids(a[2])),
            ("issues 2-3", ids(c[2], a[3])),
            ("weekly 2", ids(a[4])),
            ("weekly 4", ids(c[3])),
        ],
        # weekly to monthly: what was owed waits for the monthly digest
        "w-to-m": [("weekly 1", ids(a[1], c[1])), ("monthly 2", ids(a[2], c[2], a[3], a[4], c[3]))],
    }
    for key, wanted in expected.items():
        assert got_at.get(f"{key}@example.org") == wanted, key

    # Exactly once per post, and every post of their categories reached everyone.
    counts = received_posts(smtp)
    assert counts["every@example.org"] == Counter(p.id for p in everything)
    assert counts["every-ai@example.org"] == Counter(ids(a[1], a[2], a[3], a[4]))
    assert counts["weekly-china@example.org"] == Counter(ids(c[1], c[2], c[3]))
    for key in ("weekly", "monthly", "w-to-every", "every-to-w", "w-to-m"):
        assert counts[f"{key}@example.org"] == Counter(p.id for p in everything), key

    # The ledger agrees: every row skipped for a digest is carried by a sent delivery.
    s.expire_all()
    owed = list(
        s.scalars(
            select(Delivery).where(
                Delivery.status == DeliveryStatus.SKIPPED, Delivery.last_error == "digest"
            )
        )
    )
    assert owed and all(row.digested_in is not None for row in owed)
    carriers = {s.get(Delivery, row.digested_in).status for row in owed}
    assert carriers == {DeliveryStatus.SENT}

    # Each digest is an issue of its own, sent, with its own stats.
    made = list(s.scalars(select(Issue).where(Issue.kind == IssueKind.DIGEST).order_by(Issue.id)))
    assert [(d.frequency, d.status) for d in made] == [
        (M, IssueStatus.SENT),
        (W, IssueStatus.SENT),
        (W, IssueStatus.SENT),
        (W, IssueStatus.SENT),
        (M, IssueStatus.SENT),
    ]
    second_weekly = issue_stats(s, made[2].id)
    # weekly, weekly-china, w-to-every (last digest), every-to-w; w-to-m waits for monthly
    assert (second_weekly["sent"], second_weekly["skipped"]) == (4, 0)
    assert "weekly digest" in made[2].subject and "November 9, 2026" in made[2].subject


def test_a_digest_has_contents_excerpts_and_read_more_links(
    db_session, settings, smtp, pool, send_app
):
    s = db_session
    linked = add_post(s, "Linked post", ("AI",))
    unlinked = add_post(s, "Unlinked post", ("AI",), url=False)
    add_subscriber(s, "reader@example.org", frequency=W)
    with time_machine.travel(at(1, 9), tick=True) as clock:
        digests.run_due(s, settings)
        clock.move_to(at(4))
        issue_id = send_issue(s, settings, pool, "Mid-week", [linked, unlinked])
        clock.move_to(at(9, 8))
        [digest_id] = run_digests(s, settings, pool)
    slug = s.get(Issue, issue_id).slug
    [received] = smtp.by_rcpt()["reader@example.org"]
    message = received.message()
    assert message["Subject"].endswith("your weekly digest, November 9, 2026")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    contents = html.index("In this digest")
    assert contents < html.index(f'id="post-{linked.id}"') < html.index(f'id="post-{unlinked.id}"')
    assert f'href="#post-{linked.id}"' in html and f'href="#post-{unlinked.id}"' in html
    assert "Linked post excerpt" in html and "Linked post body" not in html  # excerpts
    # Tracked like any issue: a pixel, and the post's own link goes through /c/ and is
    # counted for the digest (links to our own archive stay as they are).
    assert 'href="https://blog.example.org/linked-post"' not in html
    assert re.search(r'<img src="http://localhost/o/[^"]+\.gif"', html)
    [click] = set(re.findall(r'href="(http://localhost/c/[^"]+)"', html))
    answer = send_app.test_client().get(
        click.removeprefix("http://localhost"), headers={"User-Agent": "Mozilla/5.0 (X11)"}
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] == "https://blog.example.org/linked-post"
    assert issue_stats(s, digest_id)["clicks"]["total"] == 1
    assert f'href="http://localhost/archive/{slug}#post-{unlinked.id}"' in html
    assert "In this digest:\n1. Linked post\n2. Unlinked post" in text
    assert f"Read more: http://localhost/archive/{slug}#post-{unlinked.id}" in text


def test_a_failed_digest_leaves_the_posts_owed_for_the_next_one(db_session, settings, smtp, pool):
    s = db_session
    post = add_post(s, "Only post", ("AI",))
    reader = add_subscriber(s, "flaky@example.org", frequency=W)
    smtp.reply = lambda rcpt: "550 5.7.1 rejected for now" if rcpt == reader.email else None
    with time_machine.travel(at(1, 9), tick=True) as clock:
        digests.run_due(s, settings)
        clock.move_to(at(4))
        send_issue(s, settings, pool, "Mid-week", [post])
        clock.move_to(at(9, 8))
        [first] = run_digests(s, settings, pool)
        assert smtp.by_rcpt() == {}
        smtp.reply = lambda rcpt: None
        clock.move_to(at(16, 8))
        [second] = run_digests(s, settings, pool)
    s.expire_all()
    assert issue_stats(s, first)["failed"] == 1
    assert issue_stats(s, second)["sent"] == 1
    [received] = smtp.by_rcpt()[reader.email]
    assert posts_in(received.message()) == [post.id]


def test_unsubscribed_and_cancelled_readers_lose_nothing_and_get_nothing_twice(
    db_session, settings, smtp, pool
):
    s = db_session
    post = add_post(s, "Owed post", ("AI",))
    stay = add_subscriber(s, "stay@example.org", frequency=W)
    with time_machine.travel(at(1, 9), tick=True) as clock:
        digests.run_due(s, settings)
        clock.move_to(at(4))
        send_issue(s, settings, pool, "Mid-week", [post])
        clock.move_to(at(9, 8))
        [cancelled] = digests.run_due(s, settings)  # made, then cancelled before sending
        from newsletter.sends import lifecycle

        lifecycle.cancel(s, issue_id=cancelled)
        clock.move_to(at(16, 8))
        [again] = run_digests(s, settings, pool)
        clock.move_to(at(23, 8))
        assert run_digests(s, settings, pool) == []  # carried once: nothing left
    assert again != cancelled
    [received] = smtp.by_rcpt()[stay.email]
    assert posts_in(received.message()) == [post.id]


def test_two_beats_make_one_digest_per_slot(db_session, settings):
    s = db_session
    post = add_post(s, "Post", ("AI",))
    add_subscriber(s, "w@example.org", frequency=W)
    from newsletter.compose import create_issue
    from newsletter.sends import lifecycle

    with time_machine.travel(at(1, 9), tick=True) as clock:
        digests.run_due(s, settings)
        issue = create_issue(s, subject="x", post_ids=[post.id])
        lifecycle.start(s, issue_id=issue.id)
        s.execute(  # the single issue recorded the weekly reader as skipped (see audience)
            Delivery.__table__.insert().values(
                issue_id=issue.id,
                subscriber_id=s.scalar(select(Subscriber.id)),
                status=DeliveryStatus.SKIPPED,
                last_error="digest",
                message_id="<x@example.org>",
                variant="",
                attempts=1,
            )
        )
        s.commit()
        clock.move_to(at(9, 8))
        first = digests.run_due(s, settings)
        second = digests.run_due(s, settings)
    assert len(first) == 1 and second == []
    assert digest_count(s) == 1


def test_the_digest_time_is_read_in_the_digest_timezone():
    # 08:00 in Berlin on Monday 9 November 2026 is 07:00 UTC (CET, after the DST change).
    slot = digests.latest_slot(
        "0 8 * * 1", "Europe/Berlin", datetime(2026, 11, 9, 7, 30, tzinfo=UTC)
    )
    assert slot == datetime(2026, 11, 9, 7, 0, tzinfo=UTC)
    # At the very minute, the slot is that minute; a minute before, the week before.
    assert digests.latest_slot("0 8 * * 1", "UTC", at(9, 8)) == at(9, 8)
    assert digests.latest_slot("0 8 * * 1", "UTC", at(9, 8).replace(hour=7, minute=59)) == at(2, 8)
    # In summer Berlin is UTC+2: 08:00 is 06:00 UTC.
    summer = digests.latest_slot("0 8 1 * *", "Europe/Berlin", datetime(2026, 7, 2, tzinfo=UTC))
    assert summer == datetime(2026, 7, 1, 6, 0, tzinfo=UTC)


def test_weekly_and_monthly_on_the_same_morning_carry_a_last_digest_once(
    db_session, settings, smtp, pool
):
    # Monday 1 June 2026: both paces are due at 08:00. A reader who went back to single
    # issues takes either digest; exactly one of them carries what they were owed.
    s = db_session
    post = add_post(s, "Owed once", ("AI",))
    switcher = add_subscriber(s, "switcher@example.org", frequency=W)
    monthly = add_subscriber(s, "monthly@example.org", frequency=M)
    with time_machine.travel(datetime(2026, 5, 27, 9, tzinfo=UTC), tick=True) as clock:
        digests.run_due(s, settings)
        clock.move_to(datetime(2026, 5, 28, 12, tzinfo=UTC))
        send_issue(s, settings, pool, "Late May", [post])
        service.update_preferences(
            s, subscriber_id=switcher.id, name="", categories=[], frequency=E
        )
        clock.move_to(datetime(2026, 6, 1, 8, tzinfo=UTC))
        made = digests.run_due(s, settings)
        assert len(made) == 2
        # Both write their rows before either sends: weekly {switcher}, monthly {both}.
        assert [len(deliver.materialize(s, settings, d)) for d in made] == [1, 2]
        for digest_id in made:
            drain(s, settings, digest_id, pool)
    counts = received_posts(smtp)
    assert counts[switcher.email] == Counter([post.id])
    assert counts[monthly.email] == Counter([post.id])
    s.expire_all()
    rows = s.execute(
        select(Delivery.issue_id, Delivery.status).where(
            Delivery.subscriber_id == switcher.id, Delivery.issue_id.in_(made)
        )
    ).all()
    # One digest carried the owed row; the other found nothing left for them.
    assert sorted(str(status) for _, status in rows) == ["sent", "skipped"]
