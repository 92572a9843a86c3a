"""`newsletter feeds ...` and `newsletter automations ...` in real processes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from newsletter.automations import rules
from newsletter.db import make_engine
from newsletter.models import Post

from ..live import run_cli, stack_environment
from .feedfixtures import feed_server  # noqa: F401 - fixtures
from .feedserver import Item


@pytest.fixture
def cli(tmp_path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = stack_environment(tmp_path, NEWSLETTER_DATABASE_URL=url)
    assert run_cli(env, "db", "upgrade").returncode == 0

    def _run(*args: str):  # type: ignore[no-untyped-def]
        return run_cli(env, *args)

    _run.url = url  # type: ignore[attr-defined]
    return _run


def test_feeds_commands(cli, feed_server):
    # The command line may watch a feed on a private host (here: loopback).
    added = cli("feeds", "add", feed_server.url(), "--every", "30m")
    assert added.returncode == 0, added.stderr
    assert (
        added.stdout.strip()
        == "watching feed 1 every 30 minutes: imported 2 posts (2 new, 0 updated)"
    )
    listed = json.loads(cli("feeds", "list", "--json").stdout)
    assert listed["items"][0]["every_minutes"] == 30 and listed["items"][0]["etag"]
    polled = cli("feeds", "poll")
    assert polled.returncode == 0 and polled.stdout.strip() == "feed 1: not modified"
    feed_server.state.change(
        [*feed_server.state.items, Item("p9", "New one", "b", datetime(2026, 3, 9, tzinfo=UTC))]
    )
    polled = cli("feeds", "poll", "1")
    assert polled.stdout.strip() == "feed 1: 1 new, 2 updated"
    feed_server.state.fail = True
    failed = cli("feeds", "poll")
    assert failed.returncode == 1 and failed.stderr.strip() == "error: 1 of 1 feeds failed"
    assert "HTTP 500" in cli("feeds", "list").stdout
    assert cli("feeds", "remove", "1").stdout.strip() == "removed feed 1"
    assert json.loads(cli("feeds", "list", "--json").stdout)["items"] == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["feeds", "add", "{base}/loop0"], "infinite loop"),
        (["feeds", "add", "{base}/huge.xml"], "larger than the limit"),
        (["feeds", "add", "{base}/page.html"], "not an RSS or Atom feed"),
        (["feeds", "add", "{base}/feed.xml", "--every", "1m"], "every 5 minutes"),
        (["feeds", "add", "{base}/feed.xml", "--every", "often"], "--every must look like"),
        (["feeds", "remove", "7"], "no feed with id 7"),
        (["automations", "run", "7"], "no automation with id 7"),
    ],
)
def test_bad_input_is_one_line_and_saves_nothing(cli, feed_server, args, words):
    result = cli(*[a.replace("{base}", feed_server.base) for a in args])
    assert result.returncode != 0
    assert len(result.stderr.splitlines()) == 1 and words in result.stderr
    assert json.loads(cli("feeds", "list", "--json").stdout)["items"] == []


def test_automations_list_and_run(cli):
    engine = make_engine(cli.url)
    with Session(engine, expire_on_commit=False) as session:
        now = datetime.now(UTC)
        automation = rules.create_automation(
            session, name="Weekly", schedule="0 8 * * 1", subject="{count} new: {first_title}",
            min_posts=2, now=now - timedelta(days=1),
        )  # fmt: skip
        session.add(
            Post(
                title="Only one",
                slug="only-one",
                html="<p>x</p>",
                excerpt="x",
                published_at=now - timedelta(hours=2),
            )
        )
        session.commit()
    engine.dispose()
    listed = cli("automations", "list")
    assert listed.returncode == 0 and "Weekly\t0 8 * * 1 UTC\ton" in listed.stdout
    dry = cli("automations", "run", str(automation.id), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines()[:2] == ["would take 1 posts:", "  1\tOnly one"]
    assert "skipped: 1 new post, fewer than min_posts (2)" in dry.stdout
    ran = cli("automations", "run", str(automation.id))
    assert (
        ran.returncode == 0
        and ran.stdout.strip() == "skipped: 1 new post, fewer than min_posts (2)"
    )
    items = json.loads(cli("automations", "list", "--json").stdout)["items"]
    assert items[0]["last_result"] == "skipped: 1 new post, fewer than min_posts (2)"
