"""Celery tasks for subscribers; thin wrappers over services in newsletter/."""

from __future__ import annotations

import logging

from celery import Task, shared_task

from newsletter import current_settings, get_db, get_sender
from newsletter.mail.transport import PermanentFailure, TemporaryFailure
from newsletter.subscribers import emails

log = logging.getLogger(__name__)

# Transactional mail is one message per task: a retry after a crash may send a
# second copy of a confirm link, which is harmless, so these are late-acked.
_RETRY = {
    "acks_late": True,
    "autoretry_for": (TemporaryFailure,),
    "retry_backoff": 30,
    "retry_backoff_max": 1800,
    "max_retries": 8,
}


@shared_task(name="subscribers.send_confirmation", **_RETRY)
def send_confirmation(subscriber_id: int) -> bool:
    """`subscribers.send_confirmation`: mail one subscriber their double opt-in link.

    Returns True when sent, False when the person no longer needs one or the server refused
    it for good (PermanentFailure, logged). A TemporaryFailure is retried with backoff
    (30 s doubling, at most 30 min, 8 times), then raised to Celery.
    """
    with get_db().session_scope() as session:
        try:
            return emails.send_confirmation(
                session,
                subscriber_id=subscriber_id,
                sender=get_sender(),
                settings=current_settings(),
            )
        except PermanentFailure as exc:
            # Retrying cannot help (a 5xx, or an address this server cannot take).
            log.warning("confirmation to subscriber %s not sent: %s", subscriber_id, exc)
            return False


@shared_task(
    bind=True,
    name="subscribers.send_confirmations",
    acks_late=True,
    max_retries=8,
)
def send_confirmations(self: Task, subscriber_ids: list[int]) -> int:
    """`subscribers.send_confirmations`: one task per import batch instead of one per address
    (a task costs ~2 ms); returns how many were sent.

    Addresses that failed temporarily are retried, alone, by raising celery's Retry
    (self.retry; backoff 30 s doubling, at most 30 min, 8 retries; then MaxRetriesExceeded).
    """
    with get_db().session_scope() as session:
        outcome = emails.send_confirmations(
            session, subscriber_ids=subscriber_ids, sender=get_sender(), settings=current_settings()
        )
    if outcome.retry:
        # Retry only those, so the ones already mailed are not mailed twice.
        countdown = min(1800, 30 * 2**self.request.retries)
        raise self.retry(args=[outcome.retry], countdown=countdown)
    return len(outcome.sent)


@shared_task(name="subscribers.send_welcome", **_RETRY)
def send_welcome(subscriber_id: int) -> bool:
    """`subscribers.send_welcome`: mail the welcome (RFC 8058 one-click headers) to a newly
    confirmed subscriber.

    Returns True when sent, False when they are gone or no longer active or the server
    refused it for good (PermanentFailure, logged). A TemporaryFailure is retried with
    backoff (30 s doubling, at most 30 min, 8 times), then raised to Celery.
    """
    with get_db().session_scope() as session:
        try:
            return emails.send_welcome(
                session,
                subscriber_id=subscriber_id,
                sender=get_sender(),
                settings=current_settings(),
            )
        except PermanentFailure as exc:
            log.warning("welcome to subscriber %s not sent: %s", subscriber_id, exc)
            return False
