"""Dates as the blog wrote them, in its language; a post whose date cannot be read has none.

No date is never the import time: it is reported, shown as "no date", editable in the
author pages, and "since" never picks the post silently.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.compose import ComposeError, create_issue, list_posts, render_preview
from newsletter.compose.issues import posts_since
from newsletter.compose.posts import set_post_date
from newsletter.models import Post
from newsletter.posts import import_posts, parse_source
from newsletter.posts.dates import parse_date
from tests.conftest import csrf_token_from
from tests.live import run_cli, stack_environment

CASES = Path(__file__).resolve().parent.parent / "data" / "posts" / "cases"
SEED = Path(__file__).resolve().parent.parent / "data" / "posts" / "seed.txt"


def feed(*pub_dates: str) -> bytes:
    items = "".join(
        f"<item><title>Post {n}</title><guid>https://b.example.org/{n}</guid>"
        f"<pubDate>{when}</pubDate><description>Text {n}</description></item>"
        for n, when in enumerate(pub_dates, start=1)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>b</title>'
        f"{items}</channel></rss>"
    ).encode()


def test_case_german_pubdates() -> None:
    first, second = parse_source(CASES / "04-localized-pubdate.xml")
    assert first.published_at == datetime(2018, 6, 25, 11, 41, 36, tzinfo=UTC)
    assert second.published_at == datetime(
        2019, 10, 31, 23, 52, 59, tzinfo=timezone(timedelta(hours=-4))
    )
    assert first.warnings == () and second.warnings == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ven., 14 juil. 2023 10:00:00 +0200", datetime(2023, 7, 14, 8, 0, tzinfo=UTC)),  # fr
        ("mié, 12 ene 2022 08:00:00 GMT", datetime(2022, 1, 12, 8, 0, tzinfo=UTC)),  # es
        ("gio, 5 mag 2022 12:00:00 +0000", datetime(2022, 5, 5, 12, 0, tzinfo=UTC)),  # it
        ("di, 7 mei 2019 09:00:00 +0200", datetime(2019, 5, 7, 7, 0, tzinfo=UTC)),  # nl
        ("sáb, 1 abr 2023 10:00:00 -0300", datetime(2023, 4, 1, 13, 0, tzinfo=UTC)),  # pt
        ("Mi, 3 Mär 2021 18:30:00 +0100", datetime(2021, 3, 3, 17, 30, tzinfo=UTC)),  # de
        ("tor, 2 dec 2021 06:15:00 +0100", datetime(2021, 12, 2, 5, 15, tzinfo=UTC)),  # sv/da
        ("Tue, 05 Mar 2024 08:00:00 +0800", datetime(2024, 3, 5, 0, 0, tzinfo=UTC)),  # RFC 822
        ("2024-03-10T18:30:00+01:00", datetime(2024, 3, 10, 17, 30, tzinfo=UTC)),  # ISO 8601
    ],
)
def test_dates_in_other_languages(text: str, expected: datetime) -> None:
    assert parse_date(text) == expected
    (post,) = parse_source(feed(text))
    assert post.published_at == expected


@pytest.mark.parametrize(
    "text",
    ["gestern", "yesterday", "vor 2 Stunden", "2 hours ago", "Juni 2018", "bald", "", "32/13/2020"],
)
def test_what_cannot_be_read_is_no_date_never_now(text: str) -> None:
    assert parse_date(text) is None  # relative or partial dates would borrow the import time
    (post,) = parse_source(feed(text))
    assert post.published_at is None
    assert len(post.warnings) == 1 and post.warnings[0].startswith("no date for “Post 1”")
    if text:
        assert repr(text) in post.warnings[0]


def test_wxr_reads_a_localized_pubdate_when_the_gmt_date_is_empty() -> None:
    data = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        b'xmlns:wp="http://wordpress.org/export/1.2/"><channel><wp:wxr_version>1.2</wp:wxr_version>'
        b"<item><title>Herbst</title><pubDate>Do, 31 Okt 2019 23:52:59 +0100</pubDate>"
        b"<wp:post_date_gmt>0000-00-00 00:00:00</wp:post_date_gmt></item>"
        b"<item><title>Ohne</title><wp:post_date_gmt>0000-00-00 00:00:00</wp:post_date_gmt></item>"
        b"</channel></rss>"
    )
    dated, undated = parse_source(data)
    assert dated.published_at == datetime(2019, 10, 31, 22, 52, 59, tzinfo=UTC)
    assert undated.published_at is None and undated.warnings


def test_a_scrape_has_no_dates_and_says_so(db_session: Session) -> None:
    before = datetime.now(UTC)
    result = import_posts(db_session, SEED)
    posts = [db_session.get(Post, i) for i in result.post_ids]
    assert all(p is not None and p.published_at is None for p in posts)
    assert len(result.warnings) == 2
    assert "the source gives none" in result.warnings[0]
    assert datetime.now(UTC) - before < timedelta(minutes=5)  # (no import time was stored)


def test_a_date_set_by_the_author_survives_a_reimport(db_session: Session) -> None:
    result = import_posts(db_session, feed("kein Datum"))
    (post_id,) = result.post_ids
    assert db_session.get(Post, post_id).published_at is None  # type: ignore[union-attr]
    assert "'kein Datum'" in result.warnings[0]
    set_post_date(db_session, post_id=post_id, published_at=datetime(2024, 5, 1, 9, tzinfo=UTC))
    again = import_posts(db_session, feed("kein Datum"))
    assert again.updated == 1 and again.warnings == []  # nothing left to report
    post = db_session.get(Post, post_id)
    assert post is not None and post.published_at == datetime(2024, 5, 1, 9, tzinfo=UTC)
    set_post_date(db_session, post_id=post_id, published_at=None)
    assert db_session.get(Post, post_id).published_at is None  # type: ignore[union-attr]
    with pytest.raises(ComposeError):
        set_post_date(db_session, post_id=987654, published_at=None)


def test_since_never_picks_an_undated_post(db_session: Session) -> None:
    result = import_posts(db_session, feed("Mo, 25 Jun 2018 11:41:36", "unlesbar", "irgendwann"))
    dated, undated, other = result.post_ids
    assert [p.id for p in posts_since(db_session, since=None)] == [dated]
    assert [p.id for p in posts_since(db_session, since=date(2000, 1, 1))] == [dated]
    issue = create_issue(db_session, subject="All", since=None)
    assert [i.post_id for i in issue.items] == [dated]
    with pytest.raises(ComposeError, match="2 with no date are left out"):
        create_issue(db_session, subject="Later", since=date(2020, 1, 1))
    chosen = create_issue(db_session, subject="Chosen", post_ids=[undated, other])
    assert [i.post_id for i in chosen.items] == [undated, other]  # still choosable by id


def test_undated_posts_page_first_then_newest(db_session: Session) -> None:
    dates = ["unlesbar", "Mo, 25 Jun 2018 11:41:36", "nie", "Do, 31 Okt 2019 23:52:59 -0400"]
    ids = import_posts(db_session, feed(*dates)).post_ids
    expected = [ids[2], ids[0], ids[3], ids[1]]  # undated (newest id first), then by date
    seen, cursor = [], None
    while True:
        page = list_posts(db_session, cursor=cursor, limit=1)
        seen += [p.id for p in page.items]
        if page.next is None:
            break
        cursor = page.next
    assert seen == expected
    two = list_posts(db_session, limit=2)
    assert [p.id for p in two.items] == expected[:2]
    assert [p.id for p in list_posts(db_session, cursor=two.next, limit=2).items] == expected[2:]


def test_the_email_shows_no_import_time(db_session: Session, app) -> None:  # type: ignore[no-untyped-def]
    (post_id,) = import_posts(db_session, feed("??")).post_ids
    issue = create_issue(db_session, subject="S", post_ids=[post_id])
    preview = render_preview(db_session, issue_id=issue.id, settings=app.extensions["settings"])
    today = datetime.now(UTC)
    shown = f"{today:%B} {today.day}, {today.year}"
    assert "Post 1" in preview.text and shown not in preview.text and shown not in preview.html


def test_author_pages_show_no_date_and_let_the_author_set_it(
    client, login, db_session: Session
) -> None:
    login("author")
    (post_id,) = import_posts(db_session, feed("unlesbar")).post_ids
    listing = client.get("/author/posts").get_data(as_text=True)
    assert "no date" in listing and f"/author/posts/{post_id}" in listing
    assert "no date" in client.get("/author/").get_data(as_text=True)
    page = client.get(f"/author/posts/{post_id}")
    assert page.status_code == 200 and "No date" in page.get_data(as_text=True)
    token = csrf_token_from(page.get_data(as_text=True))
    bad = client.post(
        f"/author/posts/{post_id}", data={"csrf_token": token, "published_at": "not a date"}
    )
    assert bad.status_code == 422
    saved = client.post(
        f"/author/posts/{post_id}", data={"csrf_token": token, "published_at": "2024-03-10T18:30"}
    )
    assert saved.status_code == 302
    post = db_session.scalars(select(Post)).one()
    db_session.refresh(post)
    local = datetime(2024, 3, 10, 18, 30).astimezone()  # the server's timezone
    assert post.published_at == local
    assert "2024-03-10" in client.get("/author/posts").get_data(as_text=True)
    cleared = client.post(f"/author/posts/{post_id}", data={"csrf_token": token})
    assert cleared.status_code == 302
    db_session.refresh(post)
    assert post.published_at is None
    assert client.get("/author/posts/987654").status_code == 404


def test_the_api_says_null(client, api_token: str, db_session: Session) -> None:
    (post_id,) = import_posts(db_session, feed("unlesbar")).post_ids
    auth = {"Authorization": f"Bearer {api_token}"}
    assert client.get(f"/api/v1/posts/{post_id}", headers=auth).json["published_at"] is None
    items = client.get("/api/v1/posts", headers=auth).json["items"]
    assert [i["published_at"] for i in items] == [None]


def test_the_cli_says_what_since_left_out(tmp_path: Path) -> None:
    env = stack_environment(tmp_path, NEWSLETTER_DATABASE_URL=f"sqlite:///{tmp_path / 'c.db'}")
    assert run_cli(env, "db", "upgrade").returncode == 0
    source = tmp_path / "feed.xml"
    source.write_bytes(feed("Mo, 25 Jun 2018 11:41:36", "unlesbar"))
    assert run_cli(env, "posts", "import", str(source)).returncode == 0
    created = run_cli(env, "issues", "create", "--subject", "S", "--since", "2000-01-01")
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().isdigit()  # stdout stays the id alone
    assert created.stderr.strip() == (
        "note: 1 post(s) with no date are never picked by --since; "
        "set their date under /author/posts or add them with --post ID"
    )
