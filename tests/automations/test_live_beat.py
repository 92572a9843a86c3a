"""Feeds and automations run by a real Celery worker and two real beats (Redis, PostgreSQL).

Time cannot be moved inside other processes, so the test moves the data instead: a
feed's next poll and an automation's next run are set in the past (a run "missed while
everything was down"), and the real beats must pick each up once. The cron arithmetic
and the missed-run rule under a moved clock are in test_rules.py (time-machine).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from newsletter.automations import rules
from newsletter.db import make_engine
from newsletter.migrations import upgrade
from newsletter.models import (
    Automation,
    AutomationRun,
    Feed,
    Issue,
    IssueStatus,
    Post,
    Subscriber,
    SubscriberStatus,
)

from ..conftest import REDIS_URL, REPO, drop_postgres_database, fresh_database_url
from ..live import free_port, run_cli, stack_environment
from ..sends.smtp_server import ScriptedHandler, start_server
from .feedserver import FeedServer, Item

pytestmark = pytest.mark.slow


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[dict[str, object]]:
    url, pg_name = fresh_database_url("postgresql", tmp_path)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    smtp = ScriptedHandler()
    port = free_port()
    controller = start_server(port, smtp)
    redis.Redis.from_url(REDIS_URL).flushdb()  # no task of an earlier test runs here
    env = stack_environment(
        tmp_path,
        NEWSLETTER_DATABASE_URL=url,
        NEWSLETTER_SMTP_URL=f"smtp://127.0.0.1:{port}",
        NEWSLETTER_BROKER_URL=REDIS_URL,
        NEWSLETTER_REDIS_URL=REDIS_URL,
        NEWSLETTER_FROM_ADDRESS="Live <news@example.org>",
    )
    processes: list[subprocess.Popen[bytes]] = []

    def start(kind: str, name: str) -> None:
        if kind == "worker":
            command = [sys.executable, "-m", "celery", "-A", "worker", "worker", "--pool=threads",
                       "--concurrency=4", "--loglevel=INFO", f"--hostname={name}@%h"]  # fmt: skip
        else:
            command = [sys.executable, "-m", "celery", "-A", "worker", "beat", "--loglevel=INFO",
                       "-s", str(tmp_path / f"{name}-schedule")]  # fmt: skip
        log = (tmp_path / f"{name}.log").open("wb")
        processes.append(
            subprocess.Popen(command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        )

    def wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.5)
        logs = "\n".join(p.read_text()[-3000:] for p in tmp_path.glob("*.log"))
        raise TimeoutError(f"{what} did not happen within {timeout}s\n{logs}")

    yield {"url": url, "env": env, "smtp": smtp, "start": start, "wait": wait}
    for proc in processes:
        proc.terminate()
    for proc in processes:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    controller.stop()
    if pg_name:
        drop_postgres_database(pg_name)


def test_beats_poll_feeds_and_run_missed_automations_once(stack):  # type: ignore[no-untyped-def]
    url, env, smtp = stack["url"], stack["env"], stack["smtp"]
    server = FeedServer()
    try:
        now = datetime.now(UTC)
        server.state.items = [Item("a", "Fresh A", "a", now - timedelta(hours=3), ("AI",))]
        assert run_cli(env, "feeds", "add", server.url(), "--every", "5m").returncode == 0
        assert run_cli(env, "users", "create", "writer@example.org", "--role", "author",
                       input="a long password\n").returncode == 0  # fmt: skip
        engine = make_engine(url)
        with Session(engine, expire_on_commit=False) as s:
            s.add(Subscriber(email="reader@example.org", status=SubscriberStatus.ACTIVE))
            created = now - timedelta(days=30)
            rules.create_automation(
                s, name="Draft", schedule="0 8 * * 1", subject="Draft: {first_title}", now=created
            )
            rules.create_automation(
                s,
                name="Send",
                schedule="0 9 * * 1",
                subject="Sent: {count}",
                action="schedule",
                now=created,
            )
            # Both were due three weeks ago: everything was down since.
            missed = now - timedelta(days=21)
            s.execute(update(Automation).values(next_run_at=missed))
            s.commit()
        # The feed changes, and its poll is due.
        server.state.change(
            [*server.state.items, Item("b", "Fresh B", "b", now - timedelta(hours=1), ("AI",))]
        )
        with Session(engine) as s:
            s.execute(update(Feed).values(next_poll_at=now - timedelta(minutes=1)))
            s.commit()

        stack["start"]("worker", "worker-a")
        stack["start"]("beat", "beat-a")
        stack["start"]("beat", "beat-b")

        def count(model) -> int:  # type: ignore[no-untyped-def]
            with Session(engine) as s:
                return s.scalar(select(func.count()).select_from(model)) or 0

        def runs() -> int:
            return count(AutomationRun)

        stack["wait"](lambda: runs() >= 2, 90, "both automations to run")
        stack["wait"](lambda: count(Post) == 2, 90, "the feed to be polled")
        with Session(engine) as s:
            issues = {i.subject: i for i in s.scalars(select(Issue))}
        # Which posts each took depends on whether the feed's poll came first; one each.
        assert sorted(subject.split(":")[0] for subject in issues) == ["Draft", "Sent"]
        stack["wait"](
            lambda: any(r.rcpt == "writer@example.org" for r in smtp.received),
            60,
            "the draft notice",
        )
        stack["wait"](
            lambda: any(r.rcpt == "reader@example.org" for r in smtp.received), 60, "the send"
        )
        time.sleep(25)  # more ticks of both beats: nothing runs again
        assert runs() == 2 and count(Issue) == 2
        with Session(engine) as s:
            for automation in s.scalars(select(Automation)):
                assert automation.next_run_at > now  # computed from now: the missed ones ran once
            sent = s.scalar(select(Issue).where(Issue.subject.startswith("Sent:")))
            assert sent.status is IssueStatus.SENT
            assert s.scalar(select(Feed.last_error)) is None
        assert [r.rcpt for r in smtp.received].count("writer@example.org") == 1
        assert [r.rcpt for r in smtp.received].count("reader@example.org") == 1
        # The poll was conditional: the beat's request carried the validator from `feeds add`.
        polls = [r for r in server.state.requests if r["path"] == "/feed.xml"]
        assert len(polls) >= 2 and polls[1]["if-none-match"]
        engine.dispose()
    finally:
        server.stop()
