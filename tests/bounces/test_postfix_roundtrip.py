"""The issue's round trip: an issue sent through the real pipeline to a real Postfix on
loopback; Postfix bounces the addresses that do not exist with its own DSNs, to our VERP
address, into a Maildir; one pass of the processor suppresses exactly those."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsletter.bounces.mailbox import process
from newsletter.compose import create_issue
from newsletter.mail.pool import SmtpPool
from newsletter.mail.smtp import SmtpTarget
from newsletter.models import Subscriber, SubscriberStatus
from newsletter.sends import variants
from newsletter.sends.stats import issue_stats
from newsletter.subscribers.suppression import is_suppressed

from ..conftest import make_test_app
from ..sends.conftest import add_post, add_subscriber, drain, start
from .mailservers import POSTFIX, Postfix, postfix

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(POSTFIX).exists() or os.getuid() != 0,
        reason="needs Debian's postfix and root (Postfix's master starts as root)",
    ),
]

EXISTING = ("alice", "bob", "carol")
MISSING = ("ghost", "nobody-here", "typo.alice")


@pytest.fixture
def mta() -> Iterator[Postfix]:
    # The send pipeline caches rendered templates per process by (issue id, post ids);
    # test databases roll back and reuse ids, so leave no template of ours behind.
    variants._cache.clear()
    with postfix(EXISTING) as server:
        yield server
    variants._cache.clear()


def messages_in(maildir: Path) -> list[Path]:
    new = maildir / "new"
    return sorted(new.iterdir()) if new.is_dir() else []


def wait_for(maildir: Path, count: int, mta: Postfix, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len(messages_in(maildir)) < count:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{len(messages_in(maildir))} of {count} in {maildir}\n{mta.log()}"
            )
        time.sleep(0.2)


def test_postfix_bounces_suppress_exactly_the_missing_recipients(
    connection, db_session, tmp_path, mta
):
    app = make_test_app(
        connection,
        tmp_path,
        SMTP_URL=mta.smtp_url,
        SEND_RETRY_DELAY=0,
        FROM_ADDRESS=f"Newsletter <news@{mta.local_domain}>",
        RETURN_PATH_DOMAIN=mta.bounce_domain,
    )
    with app.app_context():
        settings = app.extensions["settings"]
        post = add_post(db_session, "Round trip", ("Mail",))
        issue = create_issue(db_session, subject="Round trip", post_ids=[post.id])
        for name in EXISTING + MISSING:
            add_subscriber(db_session, f"{name}@{mta.local_domain}")
        start(db_session, issue.id)
        pool = SmtpPool(SmtpTarget.from_url(mta.smtp_url, timeout=10), 2)
        try:
            drain(db_session, settings, issue.id, pool)
        finally:
            pool.close()
        assert issue_stats(db_session, issue.id)["sent"] == len(EXISTING + MISSING)

        for name in EXISTING:
            wait_for(mta.maildir(name), 1, mta)
        bounces = mta.maildir("bounces")
        wait_for(bounces, len(MISSING), mta)
        dsns = [p.read_bytes() for p in messages_in(bounces)]
        assert all(b"Delivered-To: bounces+d" in raw for raw in dsns)  # our VERP address

        counts = process(db_session, settings, f"maildir://{bounces}")

        assert (counts.read, counts.bounces, counts.suppressed, counts.failed) == (3, 3, 3, 0)
        db_session.expire_all()
        for name in EXISTING:
            subscriber = db_session.query(Subscriber).filter_by(email=f"{name}@list.test").one()
            assert subscriber.status is SubscriberStatus.ACTIVE
            assert not is_suppressed(db_session, subscriber.email)
        for name in MISSING:
            subscriber = db_session.query(Subscriber).filter_by(email=f"{name}@list.test").one()
            assert subscriber.status is SubscriberStatus.BOUNCED
            assert is_suppressed(db_session, subscriber.email)
        stats = issue_stats(db_session, issue.id)
        assert stats["bounces"] == {"hard": len(MISSING), "soft": 0}
        assert messages_in(bounces) == []  # handled: moved to cur/ with S
        assert len(list((bounces / "cur").iterdir())) == len(MISSING)

        assert process(db_session, settings, f"maildir://{bounces}").read == 0
