"""Automations: an issue composed on a cron schedule from the posts published since the last.

At each run an automation gathers the dated posts published since its previous issue
(in its categories, children included). With fewer than `min_posts` it skips that run
and records why (the "thin week" rule; the posts wait for the next run); otherwise it
creates the issue and either leaves it as a draft (the authors get an email) or
schedules it to send at once (beat's dispatcher starts it within seconds).

Exactly once: a scheduled run is claimed with one conditional UPDATE,
`SET next_run_at = NEXT ... WHERE id = X AND next_run_at = DUE`, in the same transaction
that writes the issue and the run's record; one caller wins it, however many beats tick.
NEXT is computed from now, so runs missed while everything was down collapse into one.
A manual run (`automations run ID`) claims on `last_run_at` the same way and leaves the
schedule alone.

Which posts: from `covered_until` (the newest publication date in this automation's
previous issue) on, leaving out the posts of that issue; a post imported late with an
earlier date than a run that has already happened is still taken, as long as it is not
older than the previous issue's newest post. The first run covers one period of the
schedule: the posts since its firing before the automation was created (a weekly one
made on a Wednesday starts from Monday), or since the newsletter's last sent issue if
that is later; an automation never mails a blog's whole back catalogue by surprise.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session, selectinload

from newsletter import paging
from newsletter.categories import UnknownCategory, category_ids_by_name, expand_categories
from newsletter.compose.errors import ComposeError
from newsletter.compose.issues import MAX_ITEMS, MAX_SUBJECT, clean_subject, last_sent_at
from newsletter.compose.posts import check_text, in_categories
from newsletter.models import (
    Automation,
    AutomationAction,
    AutomationRun,
    Category,
    Issue,
    IssueItem,
    IssueStatus,
    Post,
    RunOutcome,
    utcnow,
)
from newsletter.queue import enqueue_after_commit
from newsletter.sends import lifecycle

from .errors import AutomationError, NotFound
from .schedule import check_schedule, check_timezone, next_run, previous_run

SUBJECT_FIELDS = ("date", "count", "first_title")
MAX_NAME = 200
NOTIFY_TASK = "automations.notify_draft"
_SAMPLE = {"date": date(2026, 1, 31), "count": 12, "first_title": "A title"}


# --- the subject template ----------------------------------------------------------------


def check_subject_template(template: str) -> str:
    """A subject with `{date}`, `{count}`, `{first_title}` and nothing else to fill in.

    Format specs are allowed (`{date:%d %B %Y}`, `{first_title:.40}`); attribute or index
    access (`{date.year}`, `{0}`), conversions and nested fields are refused, so the
    template can reach nothing but these three values. Raises AutomationError.
    """
    text = " ".join(_text(template, "subject").split())
    if not text:
        raise AutomationError("the subject is empty")
    if len(text) > MAX_SUBJECT:
        raise AutomationError(f"the subject is longer than {MAX_SUBJECT} characters")
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise AutomationError(
            f"the subject template is malformed: {exc} (write {{{{ for a brace)"
        ) from None
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in SUBJECT_FIELDS:
            raise AutomationError(
                f"the subject may use {{date}}, {{count}} and {{first_title}}, not {{{name}}}"
            )
        if conversion is not None or (spec and ("{" in spec or "}" in spec)):
            raise AutomationError(f"the subject's {{{name}}} has a conversion or nested field")
    try:
        text.format_map(_SAMPLE)
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise AutomationError(f"the subject template cannot be filled in: {exc}") from None
    return text


def render_subject(template: str, *, day: date, count: int, first_title: str) -> str:
    """The template filled in (checked again: only the three values can be reached),
    whitespace collapsed, cut with "…" past MAX_SUBJECT characters.

    Raises AutomationError when the template fails check_subject_template.
    """
    check_subject_template(template)
    values: dict[str, Any] = {"date": day, "count": count, "first_title": first_title}
    subject = " ".join(template.format_map(values).split())
    if len(subject) > MAX_SUBJECT:
        subject = subject[: MAX_SUBJECT - 1].rstrip() + "…"
    return subject


# --- checking input ----------------------------------------------------------------------


def _text(value: str, what: str) -> str:
    try:
        return check_text(value or "", field=what)
    except ComposeError as exc:
        raise AutomationError(str(exc)) from None


def _name(value: str) -> str:
    name = " ".join(_text(value, "name").split())
    if not name:
        raise AutomationError("the name is empty")
    if len(name) > MAX_NAME:
        raise AutomationError(f"the name is longer than {MAX_NAME} characters")
    return name


def _min_posts(value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_ITEMS:
        raise AutomationError(f"min_posts must be a whole number from 1 to {MAX_ITEMS}")
    return value


def _action(value: str | AutomationAction) -> AutomationAction:
    try:
        return AutomationAction(value)
    except ValueError:
        raise AutomationError(f"action must be draft or schedule, not {value!r}") from None


def _categories(session: Session, names: Sequence[str]) -> list[Category]:
    try:
        ids = category_ids_by_name(session, [_text(n, "category") for n in names])
    except UnknownCategory as exc:
        raise AutomationError(f"unknown category {exc.name!r}") from None
    if not ids:
        return []
    by_id = {c.id: c for c in session.scalars(select(Category).where(Category.id.in_(ids)))}
    return [by_id[i] for i in ids]


# --- reading -----------------------------------------------------------------------------


def list_automations(session: Session) -> list[Automation]:
    """Every automation, by id, with its categories loaded and fresh from the database."""
    stmt = select(Automation).options(selectinload(Automation.categories)).order_by(Automation.id)
    return list(session.scalars(stmt.execution_options(populate_existing=True)))


def automations_page(
    session: Session, *, cursor: str | None = None, limit: int | None = None
) -> tuple[list[Automation], str | None]:
    """One page of automations by id (categories loaded, fresh) and the cursor of the next
    (None on the last page); `limit` 1..100, default 25. Raises AutomationError for a
    cursor no page handed out."""
    stmt = (
        select(Automation)
        .options(selectinload(Automation.categories))
        .execution_options(populate_existing=True)
    )
    try:
        return paging.page_by_id(session, stmt, Automation.id, cursor=cursor, limit=limit)
    except paging.InvalidCursor as exc:
        raise AutomationError(str(exc)) from None


def get_automation(session: Session, automation_id: int) -> Automation:
    """The automation with its categories, freshly loaded; raises NotFound when there is none."""
    stmt = (
        select(Automation)
        .where(Automation.id == automation_id)
        .options(selectinload(Automation.categories))
        .execution_options(populate_existing=True)
    )
    automation = session.scalars(stmt).first()
    if automation is None:
        raise NotFound("automation", automation_id)
    return automation


def recent_runs(session: Session, automation_id: int, *, limit: int = 10) -> list[AutomationRun]:
    """The automation's last `limit` runs, newest first (empty for an unknown id)."""
    return list(
        session.scalars(
            select(AutomationRun)
            .where(AutomationRun.automation_id == automation_id)
            .order_by(AutomationRun.id.desc())
            .limit(limit)
        )
    )


# --- changing ----------------------------------------------------------------------------


def create_automation(
    session: Session,
    *,
    name: str,
    schedule: str,
    subject: str,
    timezone: str = "UTC",
    categories: Sequence[str] = (),
    min_posts: int = 1,
    action: str | AutomationAction = AutomationAction.DRAFT,
    enabled: bool = True,
    now: datetime | None = None,
) -> Automation:
    """A new automation, its next run computed from now. Raises AutomationError (bad
    schedule, timezone, category, subject, min_posts or action; nothing saved). Commits."""
    now = now or utcnow()
    automation = Automation(
        name=_name(name),
        schedule=check_schedule(schedule),
        timezone=check_timezone(timezone),
        subject=check_subject_template(subject),
        min_posts=_min_posts(min_posts),
        action=_action(action),
        enabled=bool(enabled),
        created_at=now,
    )
    automation.categories = _categories(session, categories)
    automation.next_run_at = next_run(automation.schedule, automation.timezone, after=now)
    session.add(automation)
    session.commit()
    return automation


def update_automation(
    session: Session,
    *,
    automation_id: int,
    now: datetime | None = None,
    **changes: Any,
) -> Automation:
    """Change the given fields (name, schedule, timezone, categories, min_posts, action,
    subject, enabled); None keeps a value. A new schedule or timezone, or enabling,
    computes the next run from now (a disabled automation's old time never fires).
    Raises NotFound, AutomationError. Commits."""
    now = now or utcnow()
    automation = get_automation(session, automation_id)
    checks: dict[str, Callable[[Any], Any]] = {
        "name": _name,
        "schedule": check_schedule,
        "timezone": check_timezone,
        "subject": check_subject_template,
        "min_posts": _min_posts,
        "action": _action,
        "enabled": bool,
    }
    unknown = set(changes) - set(checks) - {"categories"}
    if unknown:
        raise AutomationError(f"cannot change {', '.join(sorted(unknown))}")
    values = {k: checks[k](v) for k, v in changes.items() if v is not None and k in checks}
    new_categories = (
        _categories(session, changes["categories"])
        if changes.get("categories") is not None
        else None
    )
    reschedule = any(
        k in values and values[k] != getattr(automation, k) for k in ("schedule", "timezone")
    ) or (values.get("enabled") is True and not automation.enabled)
    for key, value in values.items():
        setattr(automation, key, value)
    if new_categories is not None:
        automation.categories = new_categories
    if reschedule or automation.next_run_at is None:
        automation.next_run_at = next_run(automation.schedule, automation.timezone, after=now)
    session.commit()
    return automation


def delete_automation(session: Session, *, automation_id: int) -> None:
    """Remove it and its run records; its issues stay. Raises NotFound. Commits."""
    session.delete(get_automation(session, automation_id))
    session.commit()


# --- running -----------------------------------------------------------------------------


@dataclass
class RunReport:
    """What a run did (or, dry, would do)."""

    automation_id: int
    outcome: RunOutcome
    message: str
    issue_id: int | None = None
    post_ids: list[int] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    subject: str | None = None


def pending_posts(session: Session, automation: Automation) -> list[Post]:
    """The dated posts the next run would take, newest first (see the module docstring)."""
    since = automation.covered_until
    if since is None:
        # The first run covers one period of the schedule (from its firing before the
        # automation was created), or less when an issue went out since then.
        period_start = previous_run(
            automation.schedule, automation.timezone, before=automation.created_at
        )
        since = max(filter(None, (last_sent_at(session), period_start)))
    stmt = select(Post).where(Post.published_at.is_not(None), Post.published_at >= since)
    if automation.last_issue_id is not None:
        taken = select(IssueItem.post_id).where(IssueItem.issue_id == automation.last_issue_id)
        stmt = stmt.where(Post.id.not_in(taken))
    if automation.categories:
        ids = expand_categories(session, [c.id for c in automation.categories])
        stmt = stmt.where(in_categories(ids))
    return list(session.scalars(stmt.order_by(Post.published_at.desc(), Post.id.desc())))


def dry_run(session: Session, *, automation_id: int, now: datetime | None = None) -> RunReport:
    """What the next run would take and do, writing nothing. Raises NotFound."""
    automation = get_automation(session, automation_id)
    report = _plan(session, automation, now or utcnow())
    session.rollback()
    return report


def run_now(session: Session, *, automation_id: int, now: datetime | None = None) -> RunReport:
    """Run once now, whatever the schedule (which stays as it is). Raises NotFound, or
    AutomationError when another run of it is happening at this moment. Commits."""
    now = now or utcnow()
    automation = get_automation(session, automation_id)
    seen = automation.last_run_at
    session.rollback()
    claim = (
        update(Automation)
        .where(Automation.id == automation_id, Automation.last_run_at.is_not_distinct_from(seen))
        .values(last_run_at=now)
    )
    if not _won(session, claim):
        session.rollback()
        raise AutomationError(f"automation {automation_id} is running right now; try again")
    return _run_claimed(session, automation_id, now=now, scheduled_for=None, claim=claim)


def run_due(session: Session, *, now: datetime | None = None) -> list[RunReport]:
    """Beat's tick: run every enabled automation whose time has come, each once (commits).

    Two beats calling this at once never run one scheduled time twice: the claim is the
    conditional UPDATE of `next_run_at`.
    """
    now = now or utcnow()
    due = session.execute(
        select(Automation.id, Automation.next_run_at, Automation.schedule, Automation.timezone)
        .where(Automation.enabled.is_(True), Automation.next_run_at <= now)
        .order_by(Automation.next_run_at, Automation.id)
    ).all()
    session.commit()  # end the read before writing (SQLite WAL snapshots)
    reports = []
    for automation_id, seen, schedule, timezone in due:
        following = next_run(schedule, timezone, after=now)
        claim = (
            update(Automation)
            .where(
                Automation.id == automation_id,
                Automation.enabled.is_(True),
                Automation.next_run_at == seen,
            )
            .values(next_run_at=following, last_run_at=now)
        )
        if not _won(session, claim):
            session.rollback()  # another beat's tick has it
            continue
        reports.append(
            _run_claimed(session, automation_id, now=now, scheduled_for=seen, claim=claim)
        )
    return reports


def _won(session: Session, claim: Any) -> bool:
    result = cast(
        "CursorResult[Any]", session.execute(claim.execution_options(synchronize_session=False))
    )
    return int(result.rowcount) == 1


def _run_claimed(
    session: Session,
    automation_id: int,
    *,
    now: datetime,
    scheduled_for: datetime | None,
    claim: Any,
) -> RunReport:
    """Compose under the claim and commit both together; a run that fails records why
    (under the claim again, so the failure too is recorded once) and never repeats."""
    try:
        return _compose(session, automation_id, now=now, scheduled_for=scheduled_for)
    except Exception as exc:  # a boundary: one automation's failure never stops the others
        session.rollback()
        message = f"failed: {exc}"[:2000]
        if not _won(session, claim):
            session.rollback()
            return RunReport(automation_id, RunOutcome.FAILED, message)
        session.add(
            AutomationRun(
                automation_id=automation_id,
                scheduled_for=scheduled_for,
                ran_at=now,
                outcome=RunOutcome.FAILED,
                message=message,
            )
        )
        session.execute(
            update(Automation)
            .where(Automation.id == automation_id)
            .values(last_result=message)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        return RunReport(automation_id, RunOutcome.FAILED, message)


def _plan(session: Session, automation: Automation, now: datetime) -> RunReport:
    posts = pending_posts(session, automation)
    report = RunReport(
        automation.id,
        RunOutcome.ISSUE,
        "",
        post_ids=[p.id for p in posts[:MAX_ITEMS]],
        titles=[p.title for p in posts[:MAX_ITEMS]],
    )
    if len(posts) < automation.min_posts:
        noun = "post" if len(posts) == 1 else "posts"
        report.outcome = RunOutcome.SKIPPED
        report.message = (
            f"skipped: {len(posts)} new {noun}, fewer than min_posts ({automation.min_posts})"
        )
        return report
    day = now.astimezone(ZoneInfo(automation.timezone)).date()
    subject = render_subject(
        automation.subject, day=day, count=len(report.post_ids), first_title=posts[0].title
    )
    # A template of only {first_title} and a post with a blank title: the name stands in.
    report.subject = clean_subject(subject if subject.strip() else automation.name)
    what = "a draft" if automation.action is AutomationAction.DRAFT else "an issue sent at once"
    extra = f" (the newest {MAX_ITEMS} of {len(posts)})" if len(posts) > MAX_ITEMS else ""
    report.message = f"{what} with {len(report.post_ids)} posts{extra}: {report.subject}"
    return report


def _compose(
    session: Session, automation_id: int, *, now: datetime, scheduled_for: datetime | None
) -> RunReport:
    automation = get_automation(session, automation_id)  # read under the claim
    report = _plan(session, automation, now)
    run = AutomationRun(
        automation_id=automation_id,
        scheduled_for=scheduled_for,
        ran_at=now,
        outcome=report.outcome,
        message=report.message,
    )
    if report.outcome is RunOutcome.SKIPPED:
        automation.last_result = report.message
        session.add(run)
        session.commit()
        return report
    assert report.subject is not None
    chosen = {p.id: p for p in session.scalars(select(Post).where(Post.id.in_(report.post_ids)))}
    issue = Issue(subject=report.subject, status=IssueStatus.DRAFT)
    issue.items = [IssueItem(post_id=pid, position=i) for i, pid in enumerate(report.post_ids)]
    session.add(issue)
    session.flush()
    report.issue_id = run.issue_id = issue.id
    verb = "drafted" if automation.action is AutomationAction.DRAFT else "sending"
    report.message = run.message = f"{verb} issue {issue.id}: " + report.message
    automation.last_issue_id = issue.id
    automation.last_result = report.message
    newest = max(
        (p.published_at for p in chosen.values() if p.published_at is not None),
        default=automation.covered_until,
    )
    automation.covered_until = newest
    session.add(run)
    session.flush()
    if automation.action is AutomationAction.SCHEDULE:
        # Scheduled a moment from now: beat's dispatcher starts it within seconds, and a
        # crash after this commit still sends it (the issue row is the schedule).
        lifecycle.schedule(
            session, issue_id=issue.id, send_at=now + timedelta(seconds=1), now=now
        )  # commits the claim, the issue and the run together
    else:
        enqueue_after_commit(session, NOTIFY_TASK, issue.id, automation_id)
        session.commit()
    return report
