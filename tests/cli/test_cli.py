"""The `newsletter` command: exit codes, one-line errors, tokens printed once."""

from __future__ import annotations

import functools

import pytest
from sqlalchemy import func, select

from newsletter.db import make_engine
from newsletter.models import ApiToken, User
from tests.live import run_cli, stack_environment


@pytest.fixture
def run(tmp_path):
    env = stack_environment(tmp_path, NEWSLETTER_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}")
    _run = functools.partial(run_cli, env)
    assert _run("db", "upgrade").returncode == 0
    _run.engine = make_engine(env["NEWSLETTER_DATABASE_URL"])  # type: ignore[attr-defined]
    return _run


def count(engine, model):
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model))


def test_users_create_reads_the_password_from_stdin(run):
    result = run(
        "users", "create", "Writer@Example.org", "--role", "admin", input="a long password\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "created admin writer@example.org"
    with run.engine.connect() as conn:
        assert conn.execute(select(User.email, User.role)).one() == ("writer@example.org", "admin")


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("users", "create", "nobody"), "a long password\n", "error: invalid email address"),
        (("users", "create", "a@example.org"), "short\n", "error: password must be at least"),
        (("users", "create", "a@example.org"), "", "error: no password on stdin"),
    ],
)
def test_users_create_errors_are_one_line(run, args, stdin, message):
    result = run(*args, input=stdin)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(message)
    assert count(run.engine, User) == 0


def test_bad_role_is_refused(run):
    result = run("users", "create", "a@example.org", "--role", "owner", input="a long password\n")
    assert result.returncode != 0
    assert "owner" in result.stderr
    assert count(run.engine, User) == 0


def test_tokens_create_prints_only_the_token_and_revoke_works(run):
    result = run("tokens", "create", "deploy")
    assert result.returncode == 0, result.stderr
    token = result.stdout
    assert (
        token.startswith("nl_")
        and token.strip() == token.rstrip("\n")
        and "\n" not in token.strip()
    )
    assert run("tokens", "create", "deploy").stderr.startswith(
        "error: a token named 'deploy' already exists"
    )
    assert count(run.engine, ApiToken) == 1
    assert run("tokens", "revoke", "deploy").returncode == 0
    again = run("tokens", "revoke", "deploy")
    assert again.returncode != 0 and again.stderr.startswith("error: no active token")


def test_db_downgrade_and_upgrade(run):
    assert run("db", "downgrade", "base").returncode == 0
    assert run("db", "upgrade").returncode == 0
    assert count(run.engine, User) == 0


def test_unknown_command_fails(run):
    result = run("frobnicate")
    assert result.returncode != 0
    assert "frobnicate" in result.stderr
