"""`newsletter issues create|schedule|cancel` as a person at a shell runs them."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.compose.posts import set_post_date
from newsletter.db import make_engine
from newsletter.models import Issue, Post
from tests.compose.conftest import SEED
from tests.live import run_cli, stack_environment


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    # One database for the module: starting the CLI costs about a second per command.
    tmp_path = tmp_path_factory.mktemp("issues-cli")
    env = stack_environment(tmp_path, NEWSLETTER_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}")
    _run = functools.partial(run_cli, env)
    assert _run("db", "upgrade").returncode == 0
    assert _run("posts", "import", str(SEED)).returncode == 0
    _run.engine = make_engine(env["NEWSLETTER_DATABASE_URL"])  # type: ignore[attr-defined]
    return _run


def test_create_schedule_cancel(run):
    with Session(run.engine) as s:
        post_ids = sorted(s.scalars(select(Post.id)))
    created = run("issues", "create", "--subject", "Two posts", "--post", str(post_ids[1]),
                  "--post", str(post_ids[0]))  # fmt: skip
    assert created.returncode == 0, created.stderr
    issue_id = int(created.stdout)  # only the id on stdout
    assert created.stdout.strip() == str(issue_id)

    undated = run("issues", "create", "--subject", "AI", "--since", "2000-01-01")
    assert undated.returncode == 1  # the seed is a text scrape: its posts have no date
    assert "2 with no date are left out" in undated.stderr
    with Session(run.engine) as s:
        for post_id in post_ids:
            set_post_date(s, post_id=post_id, published_at=datetime(2026, 2, 1, tzinfo=UTC))
    since = run("issues", "create", "--subject", "AI", "--since", "2000-01-01", "--category", "AI")
    assert since.returncode == 0, since.stderr

    scheduled = run("issues", "schedule", str(issue_id), "--at", "2099-03-01T09:00:00+01:00")
    assert scheduled.returncode == 0, scheduled.stderr
    naive = run("issues", "schedule", since.stdout.strip(), "--at", "2099-03-01T09:00")
    assert naive.returncode == 0, naive.stderr

    with Session(run.engine) as s:
        issue = s.get(Issue, issue_id)
        assert [i.post_id for i in issue.items] == [post_ids[1], post_ids[0]]
        assert issue.status == "scheduled"
        assert issue.send_at == datetime(2099, 3, 1, 8, 0, tzinfo=UTC)
        assert issue.slug == "two-posts"

    cancelled = run("issues", "cancel", str(issue_id))
    assert cancelled.returncode == 0, cancelled.stderr
    with Session(run.engine) as s:
        assert s.get(Issue, issue_id).status == "cancelled"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("issues", "create", "--subject", "x", "--post", "999"), "error: no such post: 999"),
        (("issues", "create", "--subject", "x", "--since", "yesterday"), "error: --since must be"),
        (("issues", "create", "--subject", "x", "--since", "2999-01-01"), "error: there are no posts"),
        (("issues", "create", "--subject", "x", "--category", "Nope"), "error: no such category"),
        (("issues", "schedule", "999", "--at", "2099-01-01T00:00Z"), "error: no issue with id 999"),
        (("issues", "schedule", "1", "--at", "2001-01-01T00:00Z"), "error: send_at must be in the future"),
        (("issues", "cancel", "999"), "error: no issue with id 999"),
    ],
)  # fmt: skip
def test_errors_are_one_line(run, args, message):
    result = run(*args)
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.strip().startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
