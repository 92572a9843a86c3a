"""Automations: cron arithmetic in a timezone, the thin-week rule, exactly-once claims,
missed runs, dry runs and the subject template; time is moved with time-machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from newsletter.automations import rules
from newsletter.automations.errors import AutomationError
from newsletter.automations.schedule import check_schedule, next_run
from newsletter.models import (
    Automation,
    AutomationRun,
    Issue,
    IssueStatus,
    Post,
    RunOutcome,
)
from newsletter.posts import get_or_create_categories

from .feedfixtures import app  # noqa: F401 - fixtures

# Monday 2 March 2026, 07:00 UTC = 08:00 in Berlin (CET).
MONDAY = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def add_post(session, title: str, published: datetime, *cats: str) -> Post:  # type: ignore[no-untyped-def]
    post = Post(
        title=title,
        slug=title.lower().replace(" ", "-"),
        url=f"https://blog.example.org/{title.lower().replace(' ', '-')}",
        html=f"<p>{title}</p>",
        excerpt=title,
        published_at=published,
    )
    post.categories = get_or_create_categories(session, cats)
    session.add(post)
    session.commit()
    return post


def weekly(session, **kw) -> Automation:  # type: ignore[no-untyped-def]
    values = {
        "name": "Weekly",
        "schedule": "0 8 * * 1",
        "timezone": "Europe/Berlin",
        "subject": "Week of {date:%d %B}: {count} posts, {first_title}",
        "min_posts": 2,
        "now": MONDAY - timedelta(days=7, minutes=1),
    }
    values.update(kw)
    return rules.create_automation(session, **values)


def runs(session, automation_id: int) -> list[AutomationRun]:  # type: ignore[no-untyped-def]
    return list(
        session.scalars(
            select(AutomationRun)
            .where(AutomationRun.automation_id == automation_id)
            .order_by(AutomationRun.id)
        )
    )


def test_next_run_follows_the_timezone_across_dst():
    # Berlin moves to summer time on 29 March 2026: 08:00 local is 07:00 UTC before, 06:00 after.
    first = next_run("0 8 * * 1", "Europe/Berlin", after=MONDAY - timedelta(minutes=1))
    assert first == MONDAY
    after_dst = next_run("0 8 * * 1", "Europe/Berlin", after=datetime(2026, 3, 29, tzinfo=UTC))
    assert after_dst == datetime(2026, 3, 30, 6, 0, tzinfo=UTC)
    # 02:30 does not exist on that Sunday in Berlin: it runs once, just after the gap.
    gap = next_run("30 2 * * *", "Europe/Berlin", after=datetime(2026, 3, 28, 12, tzinfo=UTC))
    assert gap == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "expression",
    ["* * * * *", "*/5 * * * *", "0,30 * * * *", "0 8 * *", "0 8 * * 1 2", "61 * * * *",
     "0 8 31 2 *", "", "nonsense"],
)  # fmt: skip
def test_bad_schedules_are_refused(expression):
    with pytest.raises(AutomationError):
        check_schedule(expression)


def test_create_refuses_bad_input_and_saves_nothing(db_session, app):
    add_post(db_session, "Anything", MONDAY, "AI")
    bad = [
        {"schedule": "* * * * *"},
        {"timezone": "Mars/Olympus_Mons"},
        {"timezone": "../../etc/passwd"},
        {"categories": ["No such category"]},
        {"subject": "{date.__class__}"},
        {"subject": "{0}"},
        {"subject": "{count!r}"},
        {"subject": "{secret}"},
        {"subject": "{date:{count}}"},
        {"subject": "unbalanced {"},
        {"min_posts": 0},
        {"action": "explode"},
        {"name": "   "},
    ]
    for change in bad:
        with pytest.raises(AutomationError):
            weekly(db_session, **change)
        db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Automation)) == 0


def test_a_thin_week_is_skipped_and_says_why_then_the_posts_wait(db_session, app):
    automation = weekly(db_session)
    add_post(db_session, "Lonely", MONDAY - timedelta(days=2), "AI")
    with time_machine.travel(MONDAY + timedelta(seconds=5), tick=False):
        [report] = rules.run_due(db_session)
    assert report.outcome is RunOutcome.SKIPPED
    assert report.message == "skipped: 1 new post, fewer than min_posts (2)"
    db_session.refresh(automation)
    assert automation.last_result == report.message and automation.last_issue_id is None
    assert automation.next_run_at == MONDAY + timedelta(days=7)
    assert db_session.scalar(select(func.count()).select_from(Issue)) == 0

    add_post(db_session, "Company", MONDAY + timedelta(days=3), "AI")
    with time_machine.travel(MONDAY + timedelta(days=7, seconds=5), tick=False):
        [report] = rules.run_due(db_session)
    assert report.outcome is RunOutcome.ISSUE
    issue = db_session.get(Issue, report.issue_id)
    assert issue.status is IssueStatus.DRAFT
    assert [i.post.title for i in issue.items] == ["Company", "Lonely"]
    assert issue.subject == "Week of 09 March: 2 posts, Company"
    assert [r.outcome for r in runs(db_session, automation.id)] == [
        RunOutcome.SKIPPED,
        RunOutcome.ISSUE,
    ]


def test_the_next_run_takes_only_newer_posts_and_late_imports(db_session, app):
    add_post(db_session, "Old", MONDAY - timedelta(days=30), "AI")  # before it was created
    automation = weekly(db_session, min_posts=1, categories=["AI"])
    a = add_post(db_session, "A", MONDAY - timedelta(days=3), "AI: Large Language Models")
    add_post(db_session, "Cooking", MONDAY - timedelta(days=3), "Cooking")
    with time_machine.travel(MONDAY, tick=False):
        [first] = rules.run_due(db_session)
    assert first.post_ids == [a.id]  # children of AI included, other categories not
    # Published before the run but imported after it (a feed polled late): still taken.
    late = add_post(db_session, "Late", MONDAY - timedelta(days=1), "AI")
    newer = add_post(db_session, "Newer", MONDAY + timedelta(days=2), "AI")
    dry = rules.dry_run(db_session, automation_id=automation.id)
    assert dry.post_ids == [newer.id, late.id]
    with time_machine.travel(MONDAY + timedelta(days=7), tick=False):
        [second] = rules.run_due(db_session)
    assert second.post_ids == [newer.id, late.id]
    assert rules.dry_run(db_session, automation_id=automation.id).post_ids == []


def test_a_scheduled_time_runs_once_even_when_claimed_twice(db_session, app):
    automation = weekly(db_session, min_posts=1)
    add_post(db_session, "One", MONDAY - timedelta(days=1))
    with time_machine.travel(MONDAY + timedelta(seconds=1), tick=False):
        first = rules.run_due(db_session)
        second = rules.run_due(db_session)  # a second beat's tick at the same moment
    assert len(first) == 1 and second == []
    assert db_session.scalar(select(func.count()).select_from(Issue)) == 1
    assert len(runs(db_session, automation.id)) == 1


def test_a_stale_claim_loses(db_session, app):
    """Two beats read the same due row; the second one's UPDATE matches nothing."""
    automation = weekly(db_session, min_posts=1)
    add_post(db_session, "One", MONDAY - timedelta(days=1))
    seen = automation.next_run_at
    with time_machine.travel(MONDAY + timedelta(seconds=1), tick=False):
        assert len(rules.run_due(db_session)) == 1
    from sqlalchemy import update

    stale = update(Automation).where(Automation.id == automation.id, Automation.next_run_at == seen)
    assert rules._won(db_session, stale.values(last_run_at=MONDAY)) is False
    db_session.rollback()


def test_runs_missed_while_down_run_once_when_back(db_session, app):
    automation = weekly(db_session, min_posts=1)
    add_post(db_session, "One", MONDAY - timedelta(days=1))
    back = MONDAY + timedelta(days=23, hours=3)  # four Mondays missed
    with time_machine.travel(back, tick=False):
        reports = rules.run_due(db_session)
        assert rules.run_due(db_session) == []
    assert len(reports) == 1 and reports[0].outcome is RunOutcome.ISSUE
    db_session.refresh(automation)
    # The next Monday from now, 08:00 in Berlin, which is summer time by then.
    assert automation.next_run_at == datetime(2026, 3, 30, 6, 0, tzinfo=UTC)
    assert automation.last_run_at == back
    assert len(runs(db_session, automation.id)) == 1


def test_a_disabled_automation_does_not_run_and_enabling_reschedules(db_session, app):
    automation = weekly(db_session, min_posts=1, enabled=False)
    add_post(db_session, "One", MONDAY - timedelta(days=1))
    with time_machine.travel(MONDAY + timedelta(days=14), tick=False):
        assert rules.run_due(db_session) == []
        rules.update_automation(db_session, automation_id=automation.id, enabled=True)
        assert rules.run_due(db_session) == []  # its old time never fires
    db_session.refresh(automation)
    assert automation.next_run_at == MONDAY + timedelta(days=21)


def test_action_schedule_sends_at_once_through_the_lifecycle(db_session, app):
    automation = weekly(db_session, min_posts=1, action="schedule")
    add_post(db_session, "One", MONDAY - timedelta(days=1))
    with time_machine.travel(MONDAY, tick=False):
        [report] = rules.run_due(db_session)
    issue = db_session.get(Issue, report.issue_id)
    db_session.refresh(issue)
    assert issue.status is IssueStatus.SCHEDULED and issue.send_at == MONDAY + timedelta(seconds=1)
    assert issue.slug  # the archive slug is assigned as for any scheduled issue
    assert report.message.startswith(f"sending issue {issue.id}:")
    assert automation.action.value == "schedule"


def test_run_now_leaves_the_schedule_and_dry_run_writes_nothing(db_session, app):
    automation = weekly(db_session, min_posts=1)
    next_at = automation.next_run_at
    add_post(db_session, "One", MONDAY - timedelta(days=1))
    with time_machine.travel(MONDAY - timedelta(days=1) + timedelta(hours=1), tick=False):
        dry = rules.dry_run(db_session, automation_id=automation.id)
        assert dry.outcome is RunOutcome.ISSUE and dry.titles == ["One"]
        assert db_session.scalar(select(func.count()).select_from(Issue)) == 0
        report = rules.run_now(db_session, automation_id=automation.id)
    db_session.refresh(automation)
    assert report.issue_id and automation.next_run_at == next_at
    assert runs(db_session, automation.id)[0].scheduled_for is None


def test_subject_rendering_is_limited_to_three_values():
    day = datetime(2026, 3, 2).date()
    subject = rules.render_subject(
        "{date} {count} {first_title:.5}", day=day, count=3, first_title="Transformers"
    )
    assert subject == "2026-03-02 3 Trans"
    long = rules.render_subject("{first_title}", day=day, count=1, first_title="x" * 400)
    assert len(long) == 300 and long.endswith("…")
    with pytest.raises(AutomationError):
        rules.render_subject("{first_title.__class__.__mro__}", day=day, count=1, first_title="t")


def test_the_first_run_covers_one_period_of_the_schedule(db_session, app):
    # Created on Wednesday: the first run starts from the firing before, Monday 08:00 Berlin.
    add_post(db_session, "Sunday", MONDAY - timedelta(days=1))
    tuesday = add_post(db_session, "Tuesday", MONDAY + timedelta(days=1))
    automation = weekly(db_session, min_posts=1, now=MONDAY + timedelta(days=2))
    assert rules.dry_run(db_session, automation_id=automation.id).post_ids == [tuesday.id]


def test_a_blank_title_leaves_the_automation_name_as_subject(db_session, app):
    automation = weekly(db_session, min_posts=1, subject="{first_title}")
    add_post(db_session, "   ", MONDAY - timedelta(days=1))
    assert rules.dry_run(db_session, automation_id=automation.id).subject == "Weekly"
