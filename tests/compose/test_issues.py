"""Issue services: creating, editing drafts only, ordering, and the schedule/cancel claims."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from newsletter.compose import (
    ComposeError,
    InvalidSchedule,
    InvalidTransition,
    IssueNotFound,
    ItemSpec,
    add_posts,
    cancel_issue,
    create_issue,
    move_item,
    remove_item,
    reorder_items,
    schedule_issue,
    set_item_mode,
    unschedule_issue,
    update_issue,
)
from newsletter.models import Issue, IssueItem, IssueStatus, ItemMode


def _post_ids(issue):
    return [item.post_id for item in sorted(issue.items, key=lambda i: i.position)]


def test_create_from_chosen_posts_keeps_their_order(db_session, make_post):
    a, b, c = make_post("A"), make_post("B"), make_post("C")
    issue = create_issue(db_session, subject="  Weekly \n digest ", post_ids=[c.id, a.id, c.id])
    assert issue.subject == "Weekly digest"  # no line break can reach the Subject header
    assert issue.status == IssueStatus.DRAFT
    assert _post_ids(issue) == [c.id, a.id]
    assert b.id not in _post_ids(issue)


def test_create_rejects_unknown_posts_and_changes_nothing(db_session, make_post):
    a = make_post("A")
    with pytest.raises(ComposeError, match="no such post: 999"):
        create_issue(db_session, subject="S", post_ids=[a.id, 999])
    with pytest.raises(ComposeError, match="at least one post"):
        create_issue(db_session, subject="S", post_ids=[])
    with pytest.raises(ComposeError, match="subject is empty"):
        create_issue(db_session, subject=" \r\n", post_ids=[a.id])
    with pytest.raises(ComposeError, match="not both"):
        create_issue(db_session, subject="S", post_ids=[a.id], categories=["AI"])
    assert db_session.scalars(select(Issue)).all() == []


def test_everything_since_the_last_sent_issue(db_session, make_post):
    old = make_post("Old", published_at=datetime(2026, 1, 1, tzinfo=UTC))
    sent = create_issue(db_session, subject="January", post_ids=[old.id])
    db_session.execute(
        update(Issue)
        .where(Issue.id == sent.id)
        .values(status=IssueStatus.SENT, sent_at=datetime(2026, 1, 15, tzinfo=UTC))
    )
    db_session.commit()
    new1 = make_post("New 1", published_at=datetime(2026, 2, 1, tzinfo=UTC))
    new2 = make_post("New 2", published_at=datetime(2026, 2, 2, tzinfo=UTC))

    issue = create_issue(db_session, subject="February")
    assert _post_ids(issue) == [new2.id, new1.id]  # newest first

    everything = create_issue(db_session, subject="All", since=datetime(2025, 1, 1, tzinfo=UTC))
    assert set(_post_ids(everything)) == {old.id, new1.id, new2.id}


def test_since_limited_to_categories_includes_children(db_session, make_post):
    llm = make_post("LLM", categories=("AI: Large Language Models",))
    make_post("China only", categories=("China",))
    ai = make_post("AI", categories=("AI",))
    issue = create_issue(
        db_session, subject="AI", since=datetime(2020, 1, 1, tzinfo=UTC), categories=["AI"]
    )
    assert set(_post_ids(issue)) == {llm.id, ai.id}

    with pytest.raises(ComposeError, match="no such category: 'Nope'"):
        create_issue(db_session, subject="x", since=datetime(2020, 1, 1), categories=["Nope"])
    with pytest.raises(ComposeError, match="there are no posts"):
        create_issue(db_session, subject="x", since=datetime(2030, 1, 1, tzinfo=UTC))


def test_update_reorder_and_modes(db_session, make_post):
    a, b, c = make_post("A"), make_post("B"), make_post("C")
    issue = create_issue(db_session, subject="S", post_ids=[a.id, b.id])

    update_issue(
        db_session,
        issue_id=issue.id,
        subject="New subject",
        preheader="Pre",
        intro="**Hi**\r\nthere",
        outro="Bye",
        tracking=False,
    )
    db_session.expire_all()
    issue = db_session.get(Issue, issue.id)
    assert (issue.subject, issue.preheader, issue.intro, issue.outro, issue.tracking) == (
        "New subject",
        "Pre",
        "**Hi**\nthere",
        "Bye",
        False,
    )

    set_item_mode(db_session, issue_id=issue.id, post_id=a.id, mode="excerpt")
    reorder_items(db_session, issue_id=issue.id, post_ids=[b.id, a.id])
    issue = db_session.get(Issue, issue.id)
    assert _post_ids(issue) == [b.id, a.id]
    modes = {i.post_id: i.mode for i in issue.items}
    assert modes == {a.id: ItemMode.EXCERPT, b.id: ItemMode.FULL}  # the mode moved with it

    with pytest.raises(ComposeError, match="exactly once"):
        reorder_items(db_session, issue_id=issue.id, post_ids=[a.id])
    move_item(db_session, issue_id=issue.id, post_id=a.id, offset=-1)
    assert _post_ids(db_session.get(Issue, issue.id)) == [a.id, b.id]
    move_item(db_session, issue_id=issue.id, post_id=a.id, offset=-1)  # already first
    assert _post_ids(db_session.get(Issue, issue.id)) == [a.id, b.id]

    add_posts(db_session, issue_id=issue.id, post_ids=[c.id, a.id])
    assert _post_ids(db_session.get(Issue, issue.id)) == [a.id, b.id, c.id]
    remove_item(db_session, issue_id=issue.id, post_id=b.id)
    assert _post_ids(db_session.get(Issue, issue.id)) == [a.id, c.id]
    assert db_session.scalar(select(IssueItem.mode).where(IssueItem.post_id == a.id)) == "excerpt"

    update_issue(
        db_session,
        issue_id=issue.id,
        items=[ItemSpec(c.id, ItemMode.EXCERPT), ItemSpec(a.id, ItemMode.FULL)],
    )
    issue = db_session.get(Issue, issue.id)
    assert [(i.post_id, i.mode) for i in issue.items] == [
        (c.id, ItemMode.EXCERPT),
        (a.id, ItemMode.FULL),
    ]


def test_only_drafts_are_editable(db_session, make_post):
    a = make_post("A")
    issue = create_issue(db_session, subject="S", post_ids=[a.id])
    schedule_issue(db_session, issue_id=issue.id, send_at=datetime.now(UTC) + timedelta(hours=1))
    with pytest.raises(InvalidTransition, match="cannot be edited: it is scheduled"):
        update_issue(db_session, issue_id=issue.id, subject="Changed")
    with pytest.raises(InvalidTransition):
        set_item_mode(db_session, issue_id=issue.id, post_id=a.id, mode="excerpt")
    db_session.expire_all()
    assert db_session.get(Issue, issue.id).subject == "S"
    with pytest.raises(IssueNotFound):
        update_issue(db_session, issue_id=12345, subject="x")


def test_schedule_needs_future_aware_time_and_posts(db_session, make_post):
    a = make_post("A")
    issue = create_issue(db_session, subject="Hello: World!", post_ids=[a.id])
    with pytest.raises(InvalidSchedule, match="timezone"):
        schedule_issue(db_session, issue_id=issue.id, send_at=datetime(2099, 1, 1))
    with pytest.raises(InvalidSchedule, match="future"):
        schedule_issue(
            db_session, issue_id=issue.id, send_at=datetime.now(UTC) - timedelta(seconds=1)
        )
    remove_item(db_session, issue_id=issue.id, post_id=a.id)
    with pytest.raises(ComposeError, match="no posts"):
        schedule_issue(db_session, issue_id=issue.id, send_at=datetime(2099, 1, 1, tzinfo=UTC))
    db_session.expire_all()
    assert db_session.get(Issue, issue.id).status == IssueStatus.DRAFT

    add_posts(db_session, issue_id=issue.id, post_ids=[a.id])
    when = datetime(2099, 1, 1, 9, 0, tzinfo=UTC)
    scheduled = schedule_issue(db_session, issue_id=issue.id, send_at=when)
    assert scheduled.status == IssueStatus.SCHEDULED
    assert scheduled.send_at == when
    assert scheduled.slug == "hello-world"
    with pytest.raises(InvalidTransition, match="cannot be scheduled: it is scheduled"):
        schedule_issue(db_session, issue_id=issue.id, send_at=when)

    back = unschedule_issue(db_session, issue_id=issue.id)
    assert (back.status, back.send_at, back.slug) == (IssueStatus.DRAFT, None, "hello-world")


def test_slugs_are_unique(db_session, make_post):
    a = make_post("A")
    when = datetime(2099, 1, 1, tzinfo=UTC)
    first = create_issue(db_session, subject="Same subject", post_ids=[a.id])
    second = create_issue(db_session, subject="Same subject", post_ids=[a.id])
    assert schedule_issue(db_session, issue_id=first.id, send_at=when).slug == "same-subject"
    assert schedule_issue(db_session, issue_id=second.id, send_at=when).slug == "same-subject-2"


def test_cancel(db_session, make_post):
    a = make_post("A")
    issue = create_issue(db_session, subject="S", post_ids=[a.id])
    schedule_issue(db_session, issue_id=issue.id, send_at=datetime(2099, 1, 1, tzinfo=UTC))
    assert cancel_issue(db_session, issue_id=issue.id).status == IssueStatus.CANCELLED
    with pytest.raises(InvalidTransition, match="cannot be cancelled: it is cancelled"):
        cancel_issue(db_session, issue_id=issue.id)
    with pytest.raises(IssueNotFound):
        cancel_issue(db_session, issue_id=999)
    db_session.execute(update(Issue).where(Issue.id == issue.id).values(status="sent"))
    db_session.commit()
    with pytest.raises(InvalidTransition):
        cancel_issue(db_session, issue_id=issue.id)
