"""Issue services: create, edit (drafts only), reorder; status changes are in sends.lifecycle.

Every change to an issue starts with a conditional UPDATE on its status
(`lifecycle.claim`). That UPDATE is the claim, not the read before it: on
PostgreSQL it locks the row until commit, so an edit can never slip in after a
concurrent schedule or send moved the issue out of draft.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from newsletter.categories import expand_categories
from newsletter.models import Issue, IssueItem, IssueKind, IssueStatus, ItemMode, Post
from newsletter.posts.slugs import slugify, unique_slug
from newsletter.sends import lifecycle

from .errors import ComposeError, IssueNotFound
from .paging import Page, clamp_limit, encode_cursor, read_cursor
from .posts import check_text, compose_category_ids, get_posts, in_categories

MAX_SUBJECT = 300
MAX_PREHEADER = 300
MAX_MARKDOWN = 100_000
# An issue is read in one sitting; more than this is almost certainly a mistake.
MAX_ITEMS = 100
_LINE_BREAK = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]")


@dataclass(frozen=True, slots=True)
class ItemSpec:
    """One wanted item: which post, shown whole or as an excerpt."""

    post_id: int
    mode: ItemMode = ItemMode.FULL


# --- reading -----------------------------------------------------------------------------


def get_issue(session: Session, issue_id: int, *, with_posts: bool = False) -> Issue:
    """The issue with its items in order (and their posts when `with_posts`).

    Raises IssueNotFound.
    """
    options = [selectinload(Issue.items)]
    if with_posts:
        options = [
            selectinload(Issue.items).selectinload(IssueItem.post).selectinload(Post.categories)
        ]
    # populate_existing: services change issues with UPDATE statements, so never trust
    # attributes a long-lived session loaded earlier.
    stmt = (
        select(Issue)
        .where(Issue.id == issue_id)
        .options(*options)
        .execution_options(populate_existing=True)
    )
    issue = session.scalars(stmt).first()
    if issue is None:
        raise IssueNotFound(issue_id)
    return issue


def list_issues(
    session: Session,
    *,
    status: IssueStatus | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[Issue]:
    """Newest first (by id, which only grows), `limit` clamped (see clamp_limit); `cursor`
    continues a previous page. Raises ComposeError for a malformed cursor.
    """
    limit = clamp_limit(limit)
    stmt = select(Issue).options(selectinload(Issue.items))
    if status is not None:
        stmt = stmt.where(Issue.status == status)
    if cursor:
        (last_id,) = read_cursor(cursor, int)
        stmt = stmt.where(Issue.id < last_id)
    rows = list(session.scalars(stmt.order_by(Issue.id.desc()).limit(limit + 1)))
    if len(rows) > limit:
        rows = rows[:limit]
        return Page(rows, encode_cursor(rows[-1].id))
    return Page(rows, None)


def last_sent_at(session: Session) -> datetime | None:
    """When the most recent issue went out; "everything since" starts there."""
    return session.scalar(
        select(func.max(func.coalesce(Issue.sent_at, Issue.started_at))).where(
            Issue.status == IssueStatus.SENT,
            Issue.kind == IssueKind.ISSUE,  # a digest repeats sent posts: it starts nothing
        )
    )


def posts_since(
    session: Session, *, since: datetime | None, category_names: Sequence[str] = ()
) -> list[Post]:
    """Posts published at or after `since` (all when None), newest first.

    A post with no date is never picked this way: it would otherwise land in every
    issue, or in none, silently. The author gives it a date or chooses it by id.
    `category_names` limit it to those categories and their children. Raises ComposeError
    when `since` is out of range (see aware).
    """
    stmt = select(Post).where(Post.published_at.is_not(None))
    if since is not None:
        stmt = stmt.where(Post.published_at >= aware(since))
    if category_names:
        ids = expand_categories(session, compose_category_ids(session, category_names))
        stmt = stmt.where(in_categories(ids))
    return list(session.scalars(stmt.order_by(Post.published_at.desc(), Post.id.desc())))


def undated_post_count(session: Session) -> int:
    """Posts with no date: "since" never picks them, so the author is told how many."""
    return session.scalar(select(func.count()).where(Post.published_at.is_(None))) or 0


# --- validation --------------------------------------------------------------------------


def aware(value: datetime | date) -> datetime:
    """A timezone-aware datetime; a naive one (or a bare date, at midnight) is in the server's
    timezone. Raises ComposeError when it cannot be converted to UTC (out of range, such
    as year 1 or 9999 near the edges).
    """
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.min)
    try:
        value = value if value.tzinfo is not None else value.astimezone()
        value.astimezone(UTC)  # the database stores UTC: year 1 or 9999 may not convert
    except (OverflowError, ValueError):
        raise ComposeError(f"{value.isoformat()} is out of range") from None
    return value


def clean_subject(value: str) -> str:
    """The subject on one line, whitespace collapsed (it becomes a mail header: a line
    break there would be header injection, RFC 5322 §2.2). Raises ComposeError if empty or longer than MAX_SUBJECT.
    """
    subject = " ".join(_LINE_BREAK.sub(" ", check_text(value, field="subject")).split())
    if not subject:
        raise ComposeError("the subject is empty")
    if len(subject) > MAX_SUBJECT:
        raise ComposeError(f"the subject is longer than {MAX_SUBJECT} characters")
    return subject


def clean_preheader(value: str) -> str:
    """The preheader on one line; raises ComposeError beyond MAX_PREHEADER characters."""
    preheader = " ".join(_LINE_BREAK.sub(" ", check_text(value, field="preheader")).split())
    if len(preheader) > MAX_PREHEADER:
        raise ComposeError(f"the preheader is longer than {MAX_PREHEADER} characters")
    return preheader


def clean_markdown(value: str, *, field: str) -> str:
    """Markdown with LF line ends, outer blank lines trimmed; raises ComposeError beyond MAX_MARKDOWN characters
    (`field` names the input in the message).
    """
    text = check_text(value, field=field).replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    if len(text) > MAX_MARKDOWN:
        raise ComposeError(f"the {field} is longer than {MAX_MARKDOWN} characters")
    return text


def _unique_post_ids(post_ids: Sequence[int]) -> list[int]:
    seen: dict[int, None] = {}
    for post_id in post_ids:
        seen.setdefault(int(post_id), None)
    if len(seen) > MAX_ITEMS:
        raise ComposeError(f"an issue holds at most {MAX_ITEMS} posts")
    return list(seen)


# --- creating and editing ----------------------------------------------------------------


def create_issue(
    session: Session,
    *,
    subject: str,
    post_ids: Sequence[int] | None = None,
    since: datetime | date | None = None,
    categories: Sequence[str] | None = None,
    preheader: str = "",
    intro: str = "",
    outro: str = "",
    tracking: bool = True,
) -> Issue:
    """A new draft from chosen posts, or from everything since a date (default: the last send).

    `categories` limits the "since" selection (children included); it cannot be
    combined with explicit `post_ids`, which keep the order given. Commits. Raises
    ComposeError for an empty or too long subject, preheader, intro or outro, both
    `post_ids` and since/categories, no posts chosen or matching, an unknown post id, or
    more than MAX_ITEMS posts.
    """
    subject = clean_subject(subject)
    preheader = clean_preheader(preheader)
    intro = clean_markdown(intro, field="intro")
    outro = clean_markdown(outro, field="outro")
    if post_ids is not None:
        if since is not None or categories:
            raise ComposeError("choose posts by id, or by since/categories, not both")
        ids = _unique_post_ids(post_ids)
        if not ids:
            raise ComposeError("choose at least one post")
        posts = get_posts(session, ids)
    else:
        start = aware(since) if since is not None else last_sent_at(session)
        posts = posts_since(session, since=start, category_names=categories or ())
        if not posts:
            when = f"since {start:%Y-%m-%d %H:%M %Z}" if start else "at all"
            scope = f" in {', '.join(categories)}" if categories else ""
            undated = undated_post_count(session)
            note = f" ({undated} with no date are left out: set their date or choose them)"
            raise ComposeError(f"there are no posts{scope} {when}{note if undated else ''}")
        if len(posts) > MAX_ITEMS:
            raise ComposeError(
                f"{len(posts)} posts match; an issue holds at most {MAX_ITEMS}: narrow it down"
            )
    issue = Issue(
        subject=subject,
        preheader=preheader,
        intro=intro,
        outro=outro,
        tracking=tracking,
        status=IssueStatus.DRAFT,
    )
    issue.items = [IssueItem(post_id=p.id, position=i) for i, p in enumerate(posts)]
    session.add(issue)
    session.commit()
    return issue


def update_issue(
    session: Session,
    *,
    issue_id: int,
    subject: str | None = None,
    preheader: str | None = None,
    intro: str | None = None,
    outro: str | None = None,
    tracking: bool | None = None,
    items: Sequence[ItemSpec] | None = None,
    post_ids: Sequence[int] | None = None,
) -> Issue:
    """Change what is given (None = keep). `items` sets order and modes; `post_ids` only order
    and membership (posts already in the issue keep their mode, new ones show in full).

    Only drafts change; commits. Raises ComposeError for a bad field (see create_issue),
    both `items` and `post_ids`, a post twice in `items` or an unknown post id;
    IssueNotFound; InvalidTransition when the issue is not a draft.
    """
    values: dict[str, Any] = {}
    if subject is not None:
        values["subject"] = clean_subject(subject)
    if preheader is not None:
        values["preheader"] = clean_preheader(preheader)
    if intro is not None:
        values["intro"] = clean_markdown(intro, field="intro")
    if outro is not None:
        values["outro"] = clean_markdown(outro, field="outro")
    if tracking is not None:
        values["tracking"] = bool(tracking)
    if items is not None and post_ids is not None:
        raise ComposeError("give items or post_ids, not both")
    specs: list[ItemSpec] | None = None
    if items is not None:
        ids = _unique_post_ids([s.post_id for s in items])
        if len(ids) != len(items):
            raise ComposeError("a post appears twice in items")
        specs = list(items)
    elif post_ids is not None:
        specs = [ItemSpec(post_id=i, mode=ItemMode.FULL) for i in _unique_post_ids(post_ids)]
    if specs is not None:
        get_posts(session, [s.post_id for s in specs])  # unknown ids fail before any write

    lifecycle.touch_draft(session, issue_id=issue_id, action="edited")
    if values:
        session.execute(
            update(Issue)
            .where(Issue.id == issue_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    issue = get_issue(session, issue_id)
    session.refresh(issue)
    if specs is not None:
        _replace_items(issue, specs, keep_modes=items is None)
    session.commit()
    return issue


def _replace_items(issue: Issue, specs: Sequence[ItemSpec], *, keep_modes: bool) -> None:
    current = {item.post_id: item for item in issue.items}
    new_items: list[IssueItem] = []
    for position, spec in enumerate(specs):
        item = current.get(spec.post_id)
        if item is None:
            item = IssueItem(post_id=spec.post_id, mode=spec.mode)
        elif not keep_modes:
            item.mode = spec.mode
        item.position = position
        new_items.append(item)
    issue.items = new_items  # delete-orphan removes the posts left out


def reorder_items(session: Session, *, issue_id: int, post_ids: Sequence[int]) -> Issue:
    """A new order: exactly the issue's posts, each once (commits).

    Raises ComposeError when `post_ids` is not a permutation of the issue's posts,
    IssueNotFound, and InvalidTransition when the issue is not a draft.
    """
    issue = get_issue(session, issue_id)
    wanted = [int(i) for i in post_ids]
    if sorted(wanted) != sorted(item.post_id for item in issue.items):
        raise ComposeError("the new order must list each post of the issue exactly once")
    return update_issue(session, issue_id=issue_id, post_ids=wanted)


def move_item(session: Session, *, issue_id: int, post_id: int, offset: int) -> Issue:
    """Move one post up (offset -1) or down (+1), kept within the list; the no-JS way to
    reorder (commits). Raises ComposeError when the post is not in the issue,
    IssueNotFound, and InvalidTransition when the issue is not a draft.
    """
    order = [item.post_id for item in get_issue(session, issue_id).items]
    if post_id not in order:
        raise ComposeError(f"post {post_id} is not in this issue")
    index = order.index(post_id)
    target = max(0, min(len(order) - 1, index + offset))
    order.insert(target, order.pop(index))
    return update_issue(session, issue_id=issue_id, post_ids=order)


def set_item_mode(session: Session, *, issue_id: int, post_id: int, mode: ItemMode | str) -> Issue:
    """Show one post of the issue in full or as an excerpt; only drafts change.

    Raises ComposeError (unknown mode or post), IssueNotFound, InvalidTransition.
    """
    try:
        mode = ItemMode(mode)
    except ValueError:
        raise ComposeError(f"mode must be full or excerpt, not {mode!r}") from None
    issue = get_issue(session, issue_id)
    if post_id not in {item.post_id for item in issue.items}:
        raise ComposeError(f"post {post_id} is not in this issue")
    specs = [
        ItemSpec(item.post_id, mode if item.post_id == post_id else item.mode)
        for item in issue.items
    ]
    return update_issue(session, issue_id=issue_id, items=specs)


def remove_item(session: Session, *, issue_id: int, post_id: int) -> Issue:
    """Take one post out of the issue; only drafts change.

    Raises IssueNotFound, InvalidTransition.
    """
    issue = get_issue(session, issue_id)
    specs = [ItemSpec(i.post_id, i.mode) for i in issue.items if i.post_id != post_id]
    return update_issue(session, issue_id=issue_id, items=specs)


def add_posts(session: Session, *, issue_id: int, post_ids: Sequence[int]) -> Issue:
    """Append posts that are not in the issue yet (commits).

    Raises ComposeError for an unknown post id or more than MAX_ITEMS posts, IssueNotFound,
    and InvalidTransition when the issue is not a draft.
    """
    issue = get_issue(session, issue_id)
    specs = [ItemSpec(i.post_id, i.mode) for i in issue.items]
    present = {s.post_id for s in specs}
    specs += [ItemSpec(p) for p in _unique_post_ids(post_ids) if p not in present]
    return update_issue(session, issue_id=issue_id, items=specs)


# --- transitions -------------------------------------------------------------------------


def assign_slug(session: Session, issue: Issue) -> str:
    """The issue's archive slug, made from its subject the first time it is needed."""
    if issue.slug:
        return issue.slug
    base = slugify(issue.subject, fallback="issue")
    slug = unique_slug(
        base,
        taken=lambda s: session.scalar(select(Issue.id).where(Issue.slug == s)) is not None,
    )
    issue.slug = slug
    return slug


def schedule_issue(
    session: Session, *, issue_id: int, send_at: datetime, now: datetime | None = None
) -> Issue:
    """draft -> scheduled (see newsletter.sends.lifecycle); a beat tick starts the send.

    Raises InvalidSchedule (a ComposeError) for a naive, out-of-range or past `send_at`,
    ComposeError when the issue has no posts, IssueNotFound, and InvalidTransition when it
    is not a draft. Commits.
    """
    lifecycle.schedule(session, issue_id=issue_id, send_at=send_at, now=now)
    return _fresh(session, issue_id)


def unschedule_issue(session: Session, *, issue_id: int) -> Issue:
    """scheduled -> draft, so the author can edit again before the send starts (commits).

    Raises IssueNotFound, and InvalidTransition when the issue is not scheduled.
    """
    lifecycle.unschedule(session, issue_id=issue_id)
    return _fresh(session, issue_id)


def cancel_issue(session: Session, *, issue_id: int) -> Issue:
    """Any issue that has not finished may be cancelled; a running send stops within a
    few messages (commits). Raises IssueNotFound, and InvalidTransition when the issue is
    already sent or cancelled.
    """
    lifecycle.cancel(session, issue_id=issue_id)
    return _fresh(session, issue_id)


def _fresh(session: Session, issue_id: int) -> Issue:
    issue = get_issue(session, issue_id)
    session.refresh(issue)
    return issue
