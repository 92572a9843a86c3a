"""Digests at each reader's pace: one message per week or month instead of single issues.

How a post reaches a digest reader exactly once, with nothing lost:

- A single issue's send records a `weekly`/`monthly` reader as a skipped row with the
  reason "digest" (`sends.audience`). That row is the reader's claim on the issue's
  posts (in their categories): it is *owed* until a digest delivery carries it.
- At the digest time (`DIGEST_WEEKLY_CRON` / `DIGEST_MONTHLY_CRON` in `DIGEST_TIMEZONE`)
  `run_due` makes one Issue of kind `digest` for that pace, covering every issue with an
  owed row of a reader who takes that digest (`digest_sources`); with none, no digest.
  Its items are those issues' posts, as excerpts, in the order they were sent.
- The digest is sent by the ordinary send pipeline. Its audience is the readers with an
  owed row among its sources; when a reader's delivery is judged, one conditional UPDATE
  points their owed rows at that delivery (`deliveries.digested_in`), so two digests can
  never carry the same row, and their message holds the posts of exactly those issues.
- A row stays carried while its digest delivery is pending, being sent or sent. If that
  delivery fails (SMTP 5xx, retries exhausted), is skipped for any reason but "no
  matching posts", or its digest is cancelled before it went out, the row is owed again
  and the next digest carries it.

Changing pace: the rule is "owed rows follow the reader". Weekly to monthly: the next
monthly digest carries them. Weekly or monthly to every issue: the reader gets the next
single issues at once, and the posts still owed come in one last digest at the next
digest time of either pace; no post is sent twice, because a row is carried by one
delivery, and single issues sent after the change were never owed. Every issue to weekly:
issues sent from then on are owed, so the first digest holds exactly those ("since they
chose that frequency").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter
from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    case,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from newsletter.categories import subscriber_choices
from newsletter.compose.content import post_block
from newsletter.config import Settings
from newsletter.models import (
    Delivery,
    DeliveryStatus,
    DigestRun,
    Frequency,
    Issue,
    IssueItem,
    IssueKind,
    IssueStatus,
    ItemMode,
    Subscriber,
    SubscriberStatus,
    digest_sources,
    utcnow,
)
from newsletter.render import IssueContent
from newsletter.render.issue import format_date
from newsletter.sends.audience import (
    SKIP_DIGEST,
    SKIP_NO_POSTS,
    SKIP_SUPPRESSED,
    Verdict,
    issue_plan,
    recipient_rows,
)
from newsletter.subscribers.suppression import email_hash, suppressed_hashes

PACES = (Frequency.WEEKLY, Frequency.MONTHLY)
SKIP_PACE = "other pace"  # the reader moved to the other digest pace since the digest began
INTRO = "Here is everything published since your last digest."

_D = aliased(Delivery, name="owed")  # a skipped "digest" row: a reader's claim on an issue
_R = aliased(Delivery, name="carrier")  # the digest delivery a row points at
_RI = aliased(Issue, name="carrier_issue")
_TABLE: Table = Delivery.__table__  # type: ignore[assignment]


def takers(frequency: Frequency) -> tuple[Frequency, ...]:
    """Who a digest of this pace goes to: its readers, and readers who went back to
    single issues with posts still owed (their last digest)."""
    return (frequency, Frequency.EVERY_ISSUE)


def _released(
    carrier_id: ColumnElement[int | None] | InstrumentedAttribute[int | None],
) -> ColumnElement[bool]:
    """The row's carrier will never deliver it: failed, skipped for a reason other than
    having nothing in the reader's categories, or cancelled before it went out."""
    return exists().where(
        _R.id == carrier_id,
        _RI.id == _R.issue_id,
        or_(
            _R.status == DeliveryStatus.FAILED,
            and_(_R.status == DeliveryStatus.SKIPPED, _R.last_error != SKIP_NO_POSTS),
            and_(_RI.status == IssueStatus.CANCELLED, _R.status != DeliveryStatus.SENT),
        ),
    )


def _owed() -> ColumnElement[bool]:
    """`_D` is a row some digest still has to carry."""
    return and_(
        _D.status == DeliveryStatus.SKIPPED,
        _D.last_error == SKIP_DIGEST,
        or_(_D.digested_in.is_(None), _released(_D.digested_in)),
    )


# --- when ------------------------------------------------------------------------


def cron_of(settings: Settings, frequency: Frequency) -> str:
    """DIGEST_WEEKLY_CRON or DIGEST_MONTHLY_CRON."""
    if frequency is Frequency.WEEKLY:
        return settings.digest_weekly_cron
    return settings.digest_monthly_cron


def latest_slot(cron: str, timezone: str, now: datetime) -> datetime:
    """The most recent time at or before `now` that the cron expression names, read in
    `timezone` (IANA; daylight saving handled by croniter), returned in UTC."""
    local = (now + timedelta(microseconds=1)).astimezone(ZoneInfo(timezone))
    found: datetime = croniter(cron, local).get_prev(datetime)
    return found.astimezone(UTC)


def claim_slot(session: Session, frequency: Frequency, slot: datetime) -> bool | None:
    """Take the pace's run for `slot`: True when this caller won it, False when it was
    already taken, None the first time a pace is seen (the marker is set to `slot` and
    nothing runs: rows owed from before digests existed wait for the next slot, which
    comes at the time readers expect). The conditional UPDATE comes first, so it is the
    claim (and on SQLite the first statement takes the write lock); does not commit."""
    won = session.execute(
        update(DigestRun)
        .where(
            DigestRun.frequency == frequency,
            or_(DigestRun.last_slot.is_(None), DigestRun.last_slot < slot),
        )
        .values(last_slot=slot)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(won, "rowcount", 0)) == 1:
        return True
    if session.scalar(select(DigestRun.frequency).where(DigestRun.frequency == frequency)):
        return False
    session.add(DigestRun(frequency=frequency, last_slot=slot))
    try:
        session.flush()
    except IntegrityError:  # another beat set it first: it runs nothing either
        session.rollback()
        return False
    return None


def run_due(session: Session, settings: Settings, *, now: datetime | None = None) -> list[int]:
    """Beat's check (every minute): for each pace whose latest scheduled time has not run
    yet, make its digest. Returns the digest issue ids made, which the caller starts
    sending (publish `sends.send_batch` for each). Two beats at once make each digest once
    (the marker UPDATE); a pace with nothing owed makes none. Commits per pace."""
    now = now or utcnow()
    made: list[int] = []
    for frequency in PACES:
        slot = latest_slot(cron_of(settings, frequency), settings.digest_timezone, now)
        try:
            won = claim_slot(session, frequency, slot)
            digest_id = (
                make_digest(session, settings, frequency=frequency, now=now) if won else None
            )
            session.commit()
        except Exception:
            session.rollback()
            raise
        if digest_id is not None:
            made.append(digest_id)
    return made


# --- what --------------------------------------------------------------------------


def owed_sources(session: Session, frequency: Frequency) -> list[int]:
    """Ids of issues with a row owed to an active reader who takes this pace's digest."""
    return list(
        session.scalars(
            select(_D.issue_id)
            .join(Subscriber, Subscriber.id == _D.subscriber_id)
            .where(
                _owed(),
                Subscriber.status == SubscriberStatus.ACTIVE,
                Subscriber.frequency.in_(takers(frequency)),
            )
            .distinct()
        )
    )


def subject_for(settings: Settings, frequency: Frequency, now: datetime) -> str:
    """The digest's subject: `SITE: your weekly|monthly digest, <date>`, the date of `now`
    in DIGEST_TIMEZONE.
    """
    day = now.astimezone(ZoneInfo(settings.digest_timezone))
    return f"{settings.site_name}: your {frequency.value} digest, {format_date(day)}"


def make_digest(
    session: Session, settings: Settings, *, frequency: Frequency, now: datetime
) -> int | None:
    """Create the pace's digest issue, already `sending` (no draft: nobody edits it),
    or None when nothing is owed. Does not commit."""
    sources = owed_sources(session, frequency)
    if not sources:
        return None
    sent_order = func.coalesce(Issue.sent_at, Issue.started_at)
    rows = session.execute(
        select(IssueItem.post_id)
        .join(Issue, Issue.id == IssueItem.issue_id)
        .where(IssueItem.issue_id.in_(sources))
        .order_by(sent_order, Issue.id, IssueItem.position)
    ).all()
    post_ids = list(dict.fromkeys(r.post_id for r in rows))
    if not post_ids:
        return None
    top = session.scalar(select(func.coalesce(func.max(Subscriber.id), 0)))
    digest = Issue(
        subject=subject_for(settings, frequency, now),
        intro=INTRO,
        kind=IssueKind.DIGEST,
        frequency=frequency,
        status=IssueStatus.SENDING,
        started_at=now,
        last_subscriber_id=0,
        max_subscriber_id=top,
    )
    digest.items = [
        IssueItem(post_id=pid, position=n, mode=ItemMode.EXCERPT) for n, pid in enumerate(post_ids)
    ]
    session.add(digest)
    session.flush()
    session.execute(
        insert(digest_sources), [{"digest_id": digest.id, "issue_id": i} for i in sources]
    )
    return digest.id


def pace_of(session: Session, issue_id: int) -> Frequency | None:
    """The pace of a digest issue; None for an ordinary issue."""
    row = session.execute(
        select(Issue.kind, Issue.frequency).where(Issue.id == issue_id)
    ).one_or_none()
    if row is None or row.kind is not IssueKind.DIGEST:
        return None
    return row.frequency or Frequency.WEEKLY


def _sources_of(digest_id: int) -> ColumnElement[bool]:
    return _D.issue_id.in_(
        select(digest_sources.c.issue_id).where(digest_sources.c.digest_id == digest_id)
    )


def recipient_filter(session: Session, issue_id: int) -> list[ColumnElement[bool]]:
    """Extra conditions on `Subscriber` for the send's walk: for a digest, only readers
    who take it and have a row owed among its sources (so its stats count the people it
    is for, not the whole list); nothing for an ordinary issue."""
    frequency = pace_of(session, issue_id)
    if frequency is None:
        return []
    return [
        Subscriber.frequency.in_(takers(frequency)),
        exists().where(_D.subscriber_id == Subscriber.id, _sources_of(issue_id), _owed()),
    ]


def judge(
    session: Session, issue_id: int, frequency: Frequency, deliveries: Mapping[int, int]
) -> dict[int, Verdict]:
    """Verdicts for a batch of a digest, `deliveries` mapping subscriber id -> this
    digest's delivery id. Each reader who may get it has their owed rows pointed at their
    delivery first (one UPDATE; rows another delivery holds are left alone), then gets
    the digest's posts from exactly those issues, in their categories. Commits the reads
    before that UPDATE (a SQLite reader must not upgrade a stale snapshot); the UPDATE is
    left for the caller's commit, with the rows it marks skipped.
    """
    ids = list(deliveries)
    rows = recipient_rows(session, ids)
    suppressed = suppressed_hashes(session, [r.email for r in rows])
    verdicts: dict[int, Verdict] = {sid: Verdict(sid, "", "", skip="deleted") for sid in ids}
    eligible: dict[int, tuple[str, str]] = {}
    for r in rows:
        if r.status is not SubscriberStatus.ACTIVE:
            verdicts[r.id] = Verdict(r.id, r.email, r.name, skip=str(r.status))
        elif email_hash(r.email) in suppressed:
            verdicts[r.id] = Verdict(r.id, r.email, r.name, skip=SKIP_SUPPRESSED)
        elif r.frequency not in takers(frequency):
            verdicts[r.id] = Verdict(r.id, r.email, r.name, skip=SKIP_PACE)
        else:
            eligible[r.id] = (r.email, r.name)
    if not eligible:
        return verdicts

    carriers = [deliveries[sid] for sid in eligible]
    t = _TABLE.c
    session.commit()
    session.execute(
        update(_TABLE)
        .where(
            t.subscriber_id.in_(list(eligible)),
            t.issue_id.in_(
                select(digest_sources.c.issue_id).where(digest_sources.c.digest_id == issue_id)
            ),
            t.status == DeliveryStatus.SKIPPED,
            t.last_error == SKIP_DIGEST,
            or_(t.digested_in.is_(None), t.digested_in.in_(carriers), _released(t.digested_in)),
        )
        .values(
            digested_in=case(
                *((t.subscriber_id == sid, deliveries[sid]) for sid in eligible),
                else_=t.digested_in,
            )
        )
    )
    carried: dict[int, set[int]] = {}
    for sid, source in session.execute(
        select(Delivery.subscriber_id, Delivery.issue_id).where(Delivery.digested_in.in_(carriers))
    ):
        carried.setdefault(sid, set()).add(source)
    posts_of: dict[int, set[int]] = {}
    sources = set().union(*carried.values()) if carried else set()
    if sources:
        for source, post_id in session.execute(
            select(IssueItem.issue_id, IssueItem.post_id).where(IssueItem.issue_id.in_(sources))
        ):
            posts_of.setdefault(source, set()).add(post_id)
    plan = issue_plan(session, issue_id)
    choices = subscriber_choices(session, list(eligible))
    for sid, (email, name) in eligible.items():
        wanted: set[int] = set()
        for source in carried.get(sid, ()):
            wanted |= posts_of.get(source, set())
        posts = tuple(p for p in plan.posts_for(choices.get(sid, ())) if p in wanted)
        verdicts[sid] = Verdict(sid, email, name, posts, None if posts else SKIP_NO_POSTS)
    return verdicts


# --- how it looks --------------------------------------------------------------------


def digest_content(
    session: Session, settings: Settings, *, issue_id: int, post_ids: Sequence[int]
) -> IssueContent:
    """One reader's digest: a table of contents, then each post as an excerpt whose
    "read more" goes to the post's own URL, or to its place in the web version of the
    issue it was sent in (`/archive/SLUG#post-ID`) when it has none."""
    digest = session.get_one(Issue, issue_id)
    wanted = set(post_ids)
    items = [i for i in digest.items if i.post_id in wanted]
    homes = _archive_homes(session, issue_id, [i.post_id for i in items])
    base = settings.base_url.rstrip("/")
    blocks = []
    for item in items:
        block = post_block(item)
        if not (item.post.url or "").strip() and item.post_id in homes:
            url = f"{base}/archive/{homes[item.post_id]}#post-{item.post_id}"
            block = replace(block, url=url)
        blocks.append(block)
    return IssueContent(
        subject=digest.subject,
        preheader=digest.preheader,
        intro_markdown=digest.intro,
        outro_markdown=digest.outro,
        posts=tuple(blocks),
        web_url=None,  # each reader's digest is their own: there is no one web version
        contents=True,
    )


def _archive_homes(session: Session, digest_id: int, post_ids: Sequence[int]) -> dict[int, str]:
    """post id -> archive key (slug, else id) of the first covered issue holding it."""
    homes: dict[int, str] = {}
    rows = session.execute(
        select(IssueItem.post_id, Issue.slug, Issue.id)
        .join(Issue, Issue.id == IssueItem.issue_id)
        .join(digest_sources, digest_sources.c.issue_id == Issue.id)
        .where(digest_sources.c.digest_id == digest_id, IssueItem.post_id.in_(list(post_ids)))
        .order_by(Issue.id)
    )
    for post_id, slug, source_id in rows:
        homes.setdefault(post_id, slug or str(source_id))
    return homes


__all__ = [
    "PACES",
    "claim_slot",
    "digest_content",
    "judge",
    "latest_slot",
    "make_digest",
    "pace_of",
    "recipient_filter",
    "run_due",
]
