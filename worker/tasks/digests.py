"""Celery tasks for digests and welcome-latest; thin wrappers over newsletter.automations."""

from __future__ import annotations

import logging

from celery import Task, shared_task
from flask import current_app
from sqlalchemy.exc import OperationalError

from newsletter.automations import digests, welcome
from newsletter.db import get_db
from newsletter.queue import enqueue

from .sends import _rate_limiter, _sender

log = logging.getLogger(__name__)


@shared_task(
    name="digests.run_due",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=1,
    max_retries=5,
)
def run_due() -> list[int]:
    """`digests.run_due` (beat, every minute): make the digests whose time has come and
    publish `sends.send_batch` for each; returns their issue ids. An OperationalError is
    retried (backoff from 1 s, 5 times), then raised to Celery.
    """
    settings = current_app.extensions["settings"]
    with get_db().session_scope() as session:
        made = digests.run_due(session, settings)
    for digest_id in made:
        enqueue("sends.send_batch", digest_id)
        log.info("digest %s made; sending", digest_id)
    return made


@shared_task(bind=True, name="digests.welcome_latest", acks_late=True, max_retries=8)
def welcome_latest(self: Task, subscriber_id: int) -> str:
    """`digests.welcome_latest`: the latest sent issue for a newly confirmed subscriber
    (WELCOME_LATEST_ISSUE); returns "off" when the setting is off, else the outcome's result.

    When the outcome asks to retry (rate limit, a temporary failure), raises celery's Retry
    (self.retry) after `outcome.retry_in` seconds (at least 1), up to 8 times.
    """
    settings = current_app.extensions["settings"]
    if not settings.welcome_latest_issue:
        return "off"
    with get_db().session_scope() as session:
        outcome = welcome.send_latest(
            session,
            settings,
            subscriber_id=subscriber_id,
            sender=_sender(),
            limiter=_rate_limiter(),
        )
    log.info(
        "welcome-latest for subscriber %s: %s %s", subscriber_id, outcome.result, outcome.detail
    )
    if outcome.result == "retry":
        raise self.retry(countdown=max(1.0, outcome.retry_in))
    return outcome.result
