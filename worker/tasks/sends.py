"""Celery tasks for sending issues; thin wrappers over newsletter.sends.

Delivery settings, on purpose:
- `acks_late`: the broker keeps a batch message until the batch is done, so a
  worker killed mid-batch does not lose it;
- `reject_on_worker_lost`: a pool child killed by a signal (OOM, SIGKILL) gives the
  message back instead of acking it as failed;
- visibility timeout and prefetch: see newsletter/queue.py.
A re-delivered batch is harmless: the ledger's claims decide who sends what.
"""

from __future__ import annotations

import logging

from celery import shared_task
from sqlalchemy.exc import OperationalError

from newsletter import current_settings, get_db
from newsletter.mail.pool import get_pool
from newsletter.mail.ratelimit import RateLimiter, make_limiter
from newsletter.mail.transport import EmailSender
from newsletter.queue import enqueue
from newsletter.sends import deliver

log = logging.getLogger(__name__)
_limiter: dict[tuple[float, str | None], RateLimiter] = {}


def _rate_limiter() -> RateLimiter:
    settings = current_settings()
    key = (settings.send_rate, settings.redis_url)
    if key not in _limiter:
        _limiter[key] = make_limiter(settings.send_rate, settings.redis_url)
    return _limiter[key]


def _sender() -> EmailSender:
    """This worker process's SMTP pool (SMTP_POOL_SIZE persistent connections)."""
    settings = current_settings()
    return get_pool(settings.smtp_url, settings.smtp_pool_size)


# A database that is restarting or busy (SQLite's lock) fails the batch; it is tried
# again shortly, and claims it held come back through the dispatcher's requeue.
_DB_RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": 1,
    "retry_backoff_max": 30,
    "retry_jitter": True,
    "max_retries": 20,
}


@shared_task(name="sends.send_batch", acks_late=True, reject_on_worker_lost=True, **_DB_RETRY)
def send_batch(issue_id: int) -> None:
    """`sends.send_batch`: send one batch of an issue, publishing the next batch as soon as
    this one has claimed work (deliver.run_batch). Late-acked and idempotent (rows are
    claimed in the database); an OperationalError is retried with jittered backoff (1 s
    doubling, at most 30 s, 20 times), and the dispatcher requeues claims it left behind.
    """
    settings = current_settings()
    with get_db().batch_session() as session:
        outcome = deliver.run_batch(
            session,
            settings,
            issue_id=issue_id,
            sender=_sender(),
            limiter=_rate_limiter(),
            on_claimed=lambda: enqueue("sends.send_batch", issue_id),
        )
    log.info(
        "issue %s batch: %s claimed, %s sent, %s failed, %s skipped, %s retried%s",
        issue_id,
        outcome.claimed,
        outcome.sent,
        outcome.failed,
        outcome.skipped,
        outcome.retried,
        " (stopped)" if outcome.stopped else " (finished)" if outcome.finished else "",
    )


@shared_task(name="sends.dispatch_due", acks_late=True, reject_on_worker_lost=True, **_DB_RETRY)
def dispatch_due() -> None:
    """`sends.dispatch_due` (beat): start due issues and keep running sends going (kick a
    batch, finish what is done, requeue stale claims). OperationalError is retried as for
    send_batch.
    """
    settings = current_settings()
    with get_db().session_scope() as session:
        tick = deliver.dispatch(
            session, settings, kick=lambda issue_id: enqueue("sends.send_batch", issue_id)
        )
    if tick.started or tick.kicked or tick.finished or tick.requeued:
        log.info(
            "dispatch: started %s, kicked %s, finished %s, requeued %s claims",
            tick.started,
            tick.kicked,
            tick.finished,
            tick.requeued,
        )
