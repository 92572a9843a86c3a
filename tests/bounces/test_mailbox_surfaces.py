"""Where a mailbox pass shows: the issue stats API, the CLI, the beat schedule."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.bounces.mailbox import process
from newsletter.mail import verp
from newsletter.models import SubscriberStatus
from tests.live import run_cli, stack_environment
from worker.beat import schedule

from .conftest import subscriber_of
from .mailfactory import arf, dsn
from .test_mailbox import drop, make_maildir


def test_api_stats_count_mailbox_bounces_and_complaints(
    client, api_token, db_session, mailed, app, tmp_path
):
    settings = app.extensions["settings"]
    gone, full, angry = (mailed(f"{n}@example.com") for n in ("gone", "full", "angry"))
    box = make_maildir(tmp_path / "Maildir")
    drop(box, "1", dsn("gone@example.com", token=verp.make_token(gone.id, settings.secret_key)))
    drop(box, "2", dsn("full@example.com", token=verp.make_token(full.id, settings.secret_key),
                       status="4.2.2", diagnostic="smtp; 452 4.2.2 Mailbox full"))  # fmt: skip
    drop(box, "3", arf(verp.make_token(angry.id, settings.secret_key), angry.message_id))
    counts = process(db_session, settings, f"maildir://{box}")
    assert (counts.bounces, counts.complaints, counts.suppressed) == (2, 1, 2)
    assert subscriber_of(db_session, angry).status is SubscriberStatus.COMPLAINED

    stats = client.get(
        f"/api/v1/issues/{gone.issue_id}/stats", headers={"Authorization": f"Bearer {api_token}"}
    )
    assert stats.status_code == 200
    assert stats.json["bounces"] == {"hard": 1, "soft": 1}
    assert stats.json["complaints"] == 1

    from click.testing import CliRunner

    from newsletter.cli.issues import issues

    text = CliRunner().invoke(issues, ["stats", str(gone.issue_id)])
    assert text.exit_code == 0, text.output
    assert "bounces hard 1 soft 1\ncomplaints 1" in text.output


@pytest.mark.slow
def test_cli_process_prints_counts_and_a_second_pass_reads_nothing(tmp_path: Path):
    env = stack_environment(tmp_path, NEWSLETTER_DATABASE_URL=f"sqlite:///{tmp_path / 'c.db'}")
    assert run_cli(env, "db", "upgrade").returncode == 0
    box = make_maildir(tmp_path / "Maildir")
    drop(box, "1", dsn("never-mailed@example.com", token=None))
    drop(box, "2", b"\x00 not mail")
    first = run_cli(env, "bounces", "process", "--mailbox", f"maildir://{box}")
    assert first.returncode == 0, first.stderr
    assert "read=2 bounces=1" in first.stdout and "failed=1" in first.stdout
    assert "unknown=1" in first.stdout and "suppressed=0" in first.stdout
    second = run_cli(env, "bounces", "process", "--mailbox", f"maildir://{box}")
    assert second.returncode == 0 and "read=0" in second.stdout
    bad = run_cli(env, "bounces", "process", "--mailbox", "ftp://example.org/box")
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1
    unset = run_cli(env, "bounces", "process")
    assert unset.returncode != 0 and "NEWSLETTER_BOUNCE_MAILBOX" in unset.stderr


def test_beat_runs_the_mailbox_only_when_it_is_set(app, tmp_path):
    from tests.conftest import make_test_app

    assert "bounces-process-mailbox" not in schedule(app.extensions["settings"])
    with_box = make_test_app(None, tmp_path, BOUNCE_MAILBOX=f"maildir://{tmp_path}/Maildir")
    entry = schedule(with_box.extensions["settings"])["bounces-process-mailbox"]
    assert entry["task"] == "bounces.process_mailbox"
    assert "sends-dispatch-due" in schedule(with_box.extensions["settings"])
