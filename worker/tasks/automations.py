"""Feeds and automations on beat: thin wrappers over newsletter.automations."""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app
from sqlalchemy.exc import OperationalError

from newsletter.automations import feeds, notify, rules
from newsletter.automations.errors import NotFound
from newsletter.db import get_db
from newsletter.mail.transport import PermanentFailure, TemporaryFailure, get_sender
from newsletter.queue import enqueue

log = logging.getLogger(__name__)

_DB_RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": 1,
    "retry_backoff_max": 30,
    "max_retries": 10,
}


# Two beats ticking at once are harmless: each feed is claimed by one of them.
@shared_task(name="feeds.poll_due", **_DB_RETRY)
def poll_due() -> list[int]:
    """`feeds.poll_due` (beat): claim the feeds whose poll is due and publish one `feeds.poll`
    task for each; returns their ids. An OperationalError (database busy or restarting) is
    retried with backoff (1 s doubling, at most 30 s, 10 times), then raised to Celery.
    """
    with get_db().session_scope() as session:
        ids = feeds.due_feed_ids(session)
    for feed_id in ids:
        enqueue("feeds.poll", feed_id)
    return ids


@shared_task(name="feeds.poll", **_DB_RETRY)
def poll(feed_id: int) -> str:
    """`feeds.poll`: poll one feed; its failure is recorded on the feed (and backs off), never
    raised. Returns the PollResult status, or "gone" when the feed was removed meanwhile.
    OperationalError is retried as for poll_due.
    """
    settings = current_app.extensions["settings"]
    with get_db().session_scope() as session:
        try:
            result = feeds.poll_feed(
                session, feed_id=feed_id, allow_private_setting=settings.import_allow_private_urls
            )
        except NotFound:
            return "gone"  # removed since the tick claimed it
    log.info("%s", result.describe())
    return result.status


@shared_task(name="automations.run_due", **_DB_RETRY)
def run_due() -> int:
    """`automations.run_due` (beat): run every automation whose scheduled time has come, each
    time once; returns how many ran. OperationalError is retried as for poll_due.
    """
    with get_db().session_scope() as session:
        reports = rules.run_due(session)
    for report in reports:
        log.info("automation %s: %s", report.automation_id, report.message)
    return len(reports)


@shared_task(
    name="automations.notify_draft",
    acks_late=True,
    autoretry_for=(TemporaryFailure,),
    retry_backoff=30,
    retry_backoff_max=1800,
    max_retries=8,
)
def notify_draft(issue_id: int, automation_id: int) -> int:
    """`automations.notify_draft`: tell the authors a draft is waiting; returns how many were
    mailed (0 after a PermanentFailure, logged). A TemporaryFailure is retried with backoff
    (30 s doubling, at most 30 min, 8 times); a retry may mail someone twice (harmless).
    """
    with get_db().session_scope() as session:
        try:
            sent = notify.notify_draft(
                session,
                issue_id=issue_id,
                automation_id=automation_id,
                settings=current_app.extensions["settings"],
                sender=get_sender(),
            )
        except PermanentFailure as exc:
            log.warning("draft notice for issue %s not sent: %s", issue_id, exc)
            return 0
    return len(sent)
