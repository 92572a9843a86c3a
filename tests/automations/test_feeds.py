"""Watched feeds against a real HTTP server on loopback whose feed changes between polls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from newsletter.automations import feeds
from newsletter.automations.errors import Conflict, FeedError
from newsletter.models import Feed, Post

from .feedfixtures import app, feed_server  # noqa: F401 - fixtures
from .feedserver import Item

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _posts(db_session) -> dict[str, Post]:  # type: ignore[no-untyped-def]
    db_session.expire_all()
    return {(p.guid or "").rsplit(":", 1)[-1]: p for p in db_session.scalars(select(Post))}


def _feed_count(db_session) -> int:  # type: ignore[no-untyped-def]
    return db_session.scalar(select(func.count()).select_from(Feed))


def test_add_imports_at_once_and_keeps_the_validators(db_session, app, feed_server):
    feed, result = feeds.add_feed(
        db_session, url=feed_server.url(), every_minutes=30, allow_private=True, now=T0
    )
    assert (result.created, result.updated) == (2, 0)
    posts = _posts(db_session)
    assert posts["p1"].title == "First post" and posts["p1"].source == feed_server.url()
    assert [c.name for c in posts["p1"].categories] == ["AI"]
    assert feed.etag == feed_server.state.etag() and feed.last_modified
    assert feed.next_poll_at == T0 + timedelta(minutes=30)


def test_poll_304_new_post_and_edited_post(db_session, app, feed_server):
    feed, _ = feeds.add_feed(db_session, url=feed_server.url(), allow_private=True, now=T0)
    etag = feed_server.state.etag()

    # Nothing changed: the poll is conditional and the server answers 304.
    result = feeds.poll_feed(db_session, feed_id=feed.id, now=T0 + timedelta(hours=1))
    assert result.status == "not_modified"
    assert feed_server.state.requests[-1]["if-none-match"] == etag
    assert feed_server.state.requests[-1]["if-modified-since"]
    assert feed_server.state.statuses[-1] == 304
    assert len(_posts(db_session)) == 2

    # A new post and an edit of an old one.
    items = feed_server.state.items
    edited = Item(
        "p1", "First post, corrected", "Hello one, now longer", items[0].published, ("AI",)
    )
    new = Item("p3", "Third post", "Hello three", datetime(2026, 3, 4, 9, tzinfo=UTC), ("AI",))
    feed_server.state.change([edited, items[1], new])
    result = feeds.poll_feed(db_session, feed_id=feed.id, now=T0 + timedelta(hours=2))
    assert result.status == "imported" and result.created == 1
    assert feed_server.state.requests[-1]["if-none-match"] == etag  # the old one: 200 came back
    posts = _posts(db_session)
    assert set(posts) == {"p1", "p2", "p3"}
    assert posts["p1"].title == "First post, corrected" and "now longer" in posts["p1"].html
    db_session.refresh(feed)
    assert feed.etag == feed_server.state.etag() != etag
    assert feed.last_polled_at == T0 + timedelta(hours=2) and feed.last_error is None

    # And unchanged again: 304 with the new validator.
    assert feeds.poll_feed(db_session, feed_id=feed.id).status == "not_modified"
    assert feed_server.state.requests[-1]["if-none-match"] == feed.etag


def test_a_feed_sanitises_as_the_import_does(db_session, app, feed_server):
    feed_server.state.items = [
        Item("x", "Scripted", '<p onclick="evil()">hi</p><script>alert(1)</script>', T0)
    ]
    feeds.add_feed(db_session, url=feed_server.url(), allow_private=True)
    html = _posts(db_session)["x"].html
    assert "hi" in html and "<script" not in html and "onclick" not in html


def test_a_failing_feed_records_its_error_backs_off_and_recovers(db_session, app, feed_server):
    feed, _ = feeds.add_feed(
        db_session, url=feed_server.url(), every_minutes=60, allow_private=True, now=T0
    )
    feed_server.state.fail = True
    delays = []
    for n in range(1, 7):
        now = T0 + timedelta(days=n)
        result = feeds.poll_feed(db_session, feed_id=feed.id, now=now)
        assert result.status == "failed" and "HTTP 500" in (result.error or "")
        db_session.refresh(feed)
        delays.append((feed.next_poll_at - now) / timedelta(minutes=1))
        assert feed.failures == n and "HTTP 500" in (feed.last_error or "")
    assert delays == [120, 240, 480, 960, 1440, 1440]  # doubling, at most a day
    feed_server.state.fail = False
    assert feeds.poll_feed(db_session, feed_id=feed.id).status in ("imported", "not_modified")
    db_session.refresh(feed)
    assert feed.failures == 0 and feed.last_error is None


def test_due_feeds_are_claimed_once(db_session, app, feed_server):
    feed, _ = feeds.add_feed(
        db_session, url=feed_server.url(), every_minutes=5, allow_private=True, now=T0
    )
    later = T0 + timedelta(minutes=6)
    assert feeds.due_feed_ids(db_session, now=later) == [feed.id]
    assert feeds.due_feed_ids(db_session, now=later) == []  # a second beat's tick
    assert feeds.due_feed_ids(db_session, now=later + feeds.POLL_LEASE) == [feed.id]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/loop0", "infinite loop"),
        ("/huge.xml", "larger than the limit"),
        ("/page.html", "not an RSS or Atom feed"),
        ("/plain.txt", "not an RSS or Atom feed"),
        ("/missing.xml", "HTTP 404"),
    ],
)
def test_bad_feeds_are_refused_and_nothing_is_saved(db_session, app, feed_server, path, message):
    with pytest.raises(FeedError, match=message):
        feeds.add_feed(db_session, url=feed_server.url(path), allow_private=True)
    assert _feed_count(db_session) == 0 and _posts(db_session) == {}


def test_private_unreachable_and_malformed_urls_are_refused(db_session, app, feed_server):
    with pytest.raises(FeedError, match="private or local address"):
        feeds.add_feed(db_session, url=feed_server.url(), allow_private=False)
    from ..live import free_port

    with pytest.raises(FeedError, match="could not fetch"):
        feeds.add_feed(db_session, url=f"http://127.0.0.1:{free_port()}/f", allow_private=True)
    for bad in ("ftp://example.org/feed", "file:///etc/passwd", "", "http://"):
        with pytest.raises(FeedError, match="must start with http"):
            feeds.add_feed(db_session, url=bad, allow_private=True)
    with pytest.raises(FeedError, match="every 5 minutes"):
        feeds.add_feed(db_session, url=feed_server.url(), every_minutes=1, allow_private=True)
    assert _feed_count(db_session) == 0 and _posts(db_session) == {}


def test_the_same_feed_twice_is_a_conflict(db_session, app, feed_server):
    feeds.add_feed(db_session, url=feed_server.url(), allow_private=True)
    with pytest.raises(Conflict):
        feeds.add_feed(db_session, url=feed_server.url(), allow_private=True)
    assert _feed_count(db_session) == 1


def test_the_same_feed_added_twice_at_once_is_a_conflict_not_an_error(
    db_session, app, feed_server, monkeypatch
):
    # Another request adds the same URL between our check and our insert (the race of
    # two clicks): the UNIQUE constraint decides, and the loser gets Conflict (409).
    download = feeds._download

    def racing(url: str, **kwargs: object) -> object:
        fetched = download(url, **kwargs)  # type: ignore[arg-type]
        db_session.add(
            Feed(url=url, every_minutes=60, allow_private=True, failures=0, next_poll_at=T0)
        )
        db_session.commit()
        return fetched

    monkeypatch.setattr(feeds, "_download", racing)
    with pytest.raises(Conflict, match="watched already"):
        feeds.add_feed(db_session, url=feed_server.url(), allow_private=True)
    assert _feed_count(db_session) == 1


@pytest.mark.parametrize(
    ("text", "minutes"), [("5m", 5), ("1h", 60), ("90", 90), ("1d", 1440), ("2H", 120)]
)
def test_parse_every(text, minutes):
    assert feeds.parse_every(text) == minutes


@pytest.mark.parametrize("text", ["1m", "4", "0h", "8d", "soon", "1h30m", ""])
def test_parse_every_refuses(text):
    with pytest.raises(FeedError):
        feeds.parse_every(text)
