"""Watched feeds: add, list, remove, and poll them (beat does it on each feed's schedule).

A poll is a conditional GET (If-None-Match / If-Modified-Since with the validators the
feed sent last time); a 304 changes nothing. A 200 is imported exactly as `posts
import` imports a URL (`posts.store.save_posts` after `posts.parsing.parse_loaded`: same
charsets, sanitising, dates and relative links), with the same SSRF rule as the web
import: a feed added on the command line may be on a private host (its user is the
operator); one added through the API or the author pages only when
IMPORT_ALLOW_PRIVATE_URLS is on.

A failing poll records its error and backs off: the next try waits the feed's interval
times 2 for each failure in a row, at most a day (or the interval, when that is
longer). Nothing else stops: each feed is polled on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsletter import paging
from newsletter.models import Feed, utcnow
from newsletter.posts.errors import PostImportError
from newsletter.posts.parsed import ParsedPost
from newsletter.posts.parsing import DEFAULT_MAX_BYTES, parse_loaded
from newsletter.posts.sources import Loaded, detect_format, fetch_conditional
from newsletter.posts.store import ImportResult, save_posts

from .errors import Conflict, FeedError, NotFound

MIN_EVERY_MINUTES = 5
MAX_EVERY_MINUTES = 7 * 24 * 60
DEFAULT_EVERY_MINUTES = 60
MAX_BACKOFF_MINUTES = 24 * 60
MAX_URL_LENGTH = 2000
# How long a claimed poll keeps other beats' ticks away; a poll that died is retried then.
POLL_LEASE = timedelta(minutes=10)
_EVERY = re.compile(r"^\s*(\d{1,6})\s*(m|min|h|d)?\s*$", re.IGNORECASE)
_UNIT_MINUTES = {"m": 1, "min": 1, "h": 60, "d": 24 * 60}


def parse_every(text: str) -> int:
    """`30m`, `1h`, `2d` or bare minutes (`90`) -> minutes, checked; raises FeedError."""
    match = _EVERY.match(text or "")
    if not match:
        raise FeedError(f"--every must look like 30m, 1h or 1d, not {text!r}")
    minutes = int(match.group(1)) * _UNIT_MINUTES[(match.group(2) or "m").lower()]
    return check_every(minutes)


def check_every(minutes: int) -> int:
    """`minutes` when it is between MIN_EVERY_MINUTES (5) and MAX_EVERY_MINUTES (7 days);
    raises FeedError otherwise.
    """
    if not MIN_EVERY_MINUTES <= minutes <= MAX_EVERY_MINUTES:
        raise FeedError(
            f"a feed is polled every {MIN_EVERY_MINUTES} minutes at the most often and every "
            f"{MAX_EVERY_MINUTES // 1440} days at the least, not every {minutes} minutes"
        )
    return minutes


def check_url(url: str) -> str:
    """The URL stripped; raises FeedError unless it starts with http:// or https:// and a host,
    and is at most MAX_URL_LENGTH (2000) characters. (Whether the host is public is checked
    when it is fetched.)
    """
    url = (url or "").strip()
    if not re.match(r"^https?://[^\s/]+", url, re.IGNORECASE):
        raise FeedError(f"a feed URL must start with http:// or https://, not {url[:100]!r}")
    if len(url) > MAX_URL_LENGTH:
        raise FeedError(f"the feed URL is longer than {MAX_URL_LENGTH} characters")
    return url


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one poll did: `status` is "imported", "not_modified" or "failed"."""

    feed_id: int
    status: str
    created: int = 0
    updated: int = 0
    error: str | None = None
    warnings: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for the CLI: `feed ID: N new, M updated`, `feed ID: not modified` or
        `feed ID: failed: ERROR`.
        """
        if self.status == "imported":
            return f"feed {self.feed_id}: {self.created} new, {self.updated} updated"
        if self.status == "not_modified":
            return f"feed {self.feed_id}: not modified"
        return f"feed {self.feed_id}: failed: {self.error}"


# --- reading -----------------------------------------------------------------------------


def list_feeds(session: Session) -> list[Feed]:
    """Every watched feed, by id."""
    return list(session.scalars(select(Feed).order_by(Feed.id)))


def feeds_page(
    session: Session, *, cursor: str | None = None, limit: int | None = None
) -> tuple[list[Feed], str | None]:
    """One page of feeds by id and the cursor of the next (None on the last page);
    `limit` 1..100, default 25. Raises FeedError for a cursor no page handed out."""
    try:
        return paging.page_by_id(session, select(Feed), Feed.id, cursor=cursor, limit=limit)
    except paging.InvalidCursor as exc:
        raise FeedError(str(exc)) from None


def get_feed(session: Session, feed_id: int) -> Feed:
    """The feed, freshly loaded (populate_existing); raises NotFound when there is none."""
    feed = session.get(Feed, feed_id, populate_existing=True)
    if feed is None:
        raise NotFound("feed", feed_id)
    return feed


# --- fetching and parsing ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Download:
    posts: list[ParsedPost] | None  # None: 304 Not Modified
    label: str
    etag: str | None
    last_modified: str | None


def _download(
    url: str, *, allow_private: bool, etag: str | None = None, last_modified: str | None = None
) -> _Download:
    """Fetch and parse a feed, nothing written; FeedError for anything wrong with it."""
    try:
        fetched = fetch_conditional(
            url,
            max_bytes=DEFAULT_MAX_BYTES,
            allow_private=allow_private,
            etag=etag,
            last_modified=last_modified,
        )
        if fetched.data is None:
            return _Download(None, url, fetched.etag, fetched.last_modified)
        loaded = Loaded(
            label=url,
            data=fetched.data,
            content_type=fetched.content_type,
            url=fetched.url,
        )
        kind = detect_format(loaded)
        if kind not in ("rss", "atom"):
            raise FeedError(f"{url} is not an RSS or Atom feed")
        posts = parse_loaded(loaded, fmt=kind, max_bytes=DEFAULT_MAX_BYTES)
    except PostImportError as exc:
        raise FeedError(str(exc)) from None
    return _Download(posts, url, fetched.etag, fetched.last_modified)


# --- changing ----------------------------------------------------------------------------


def add_feed(
    session: Session,
    *,
    url: str,
    every_minutes: int = DEFAULT_EVERY_MINUTES,
    allow_private: bool = False,
    now: datetime | None = None,
) -> tuple[Feed, ImportResult]:
    """Watch a feed: it is fetched and imported at once, and saved only if that worked.

    Raises FeedError (bad URL or interval; private, unreachable, not a feed, too large,
    redirecting forever) or Conflict (already watched); nothing is saved then. Commits.
    """
    url = check_url(url)
    every_minutes = check_every(every_minutes)
    if session.scalar(select(Feed.id).where(Feed.url == url)) is not None:
        raise Conflict(f"{url} is watched already")
    download = _download(url, allow_private=allow_private)
    now = now or utcnow()
    feed = Feed(
        url=url,
        every_minutes=every_minutes,
        allow_private=allow_private,
        last_polled_at=now,
        next_poll_at=now + timedelta(minutes=every_minutes),
        etag=_clip(download.etag, 500),
        last_modified=_clip(download.last_modified, 100),
        failures=0,
    )
    session.add(feed)
    try:
        session.flush()
    except IntegrityError:  # the same URL added at the same moment (UNIQUE feeds.url)
        session.rollback()
        raise Conflict(f"{url} is watched already") from None
    result = save_posts(session, download.posts or [], source_label=url)  # commits
    return feed, result


def remove_feed(session: Session, *, feed_id: int) -> None:
    """Stop watching; the posts it brought stay. Raises NotFound. Commits."""
    session.delete(get_feed(session, feed_id))
    session.commit()


def due_feed_ids(session: Session, *, now: datetime | None = None) -> list[int]:
    """Claim every feed whose poll is due; the ids this caller won (commits).

    The claim moves `next_poll_at` out by POLL_LEASE with a conditional UPDATE, so two
    beats never poll one feed at once, and a poll that died is tried again afterwards.
    """
    now = now or utcnow()
    rows = session.execute(
        select(Feed.id, Feed.next_poll_at).where(Feed.next_poll_at <= now).order_by(Feed.id)
    ).all()
    session.commit()
    won: list[int] = []
    for feed_id, seen in rows:
        stmt = (
            update(Feed)
            .where(Feed.id == feed_id, Feed.next_poll_at == seen)
            .values(next_poll_at=now + POLL_LEASE)
            .execution_options(synchronize_session=False)
        )
        if cast("CursorResult[Any]", session.execute(stmt)).rowcount == 1:
            won.append(feed_id)
        session.commit()
    return won


def poll_feed(
    session: Session,
    *,
    feed_id: int,
    allow_private_setting: bool = False,
    now: datetime | None = None,
) -> PollResult:
    """Poll one feed now (conditional GET, RFC 9110 13.1) and import what it holds; never
    raises for a feed's own failure: the error is recorded on the feed and returned.
    Raises NotFound when there is no feed `feed_id`. Commits."""
    feed = get_feed(session, feed_id)
    url, etag, last_modified = feed.url, feed.etag, feed.last_modified
    allow_private = feed.allow_private or allow_private_setting
    every, failures = feed.every_minutes, feed.failures
    session.commit()  # no transaction stays open during the fetch
    now = now or utcnow()
    try:
        download = _download(
            url, allow_private=allow_private, etag=etag, last_modified=last_modified
        )
        result = (
            save_posts(session, download.posts, source_label=url)
            if download.posts is not None
            else None
        )
    except FeedError as exc:
        session.rollback()
        failures += 1
        delay = min(every * 2**failures, max(MAX_BACKOFF_MINUTES, every))
        _record(
            session,
            feed_id,
            last_polled_at=now,
            last_error=str(exc)[:2000],
            failures=failures,
            next_poll_at=now + timedelta(minutes=delay),
        )
        return PollResult(feed_id, "failed", error=str(exc))
    _record(
        session,
        feed_id,
        last_polled_at=now,
        last_error=None,
        failures=0,
        next_poll_at=now + timedelta(minutes=every),
        etag=_clip(download.etag, 500),
        last_modified=_clip(download.last_modified, 100),
    )
    if result is None:
        return PollResult(feed_id, "not_modified")
    return PollResult(
        feed_id,
        "imported",
        created=result.created,
        updated=result.updated,
        warnings=tuple(result.warnings),
    )


def _record(session: Session, feed_id: int, **values: Any) -> None:
    session.execute(
        update(Feed)
        .where(Feed.id == feed_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def _clip(value: str | None, length: int) -> str | None:
    # A validator longer than the column is useless to send back: drop it, poll in full.
    if value is None or len(value) > length:
        return None
    return value
