"""The bounce mailbox on beat: a thin wrapper over newsletter.bounces.mailbox."""

from __future__ import annotations

import logging

from celery import shared_task

from newsletter import current_settings, get_db
from newsletter.bounces.mailbox import MailboxError, process

log = logging.getLogger(__name__)


# Two overlapping passes are harmless (events are stored once), so no lock; a pass
# that waited longer than the interval is dropped by `expires` in the schedule.
@shared_task(name="bounces.process_mailbox")
def process_mailbox() -> dict[str, int]:
    """`bounces.process_mailbox` (beat): one pass over NEWSLETTER_BOUNCE_MAILBOX; returns the
    counts (mailbox.PassCounts.as_dict), or {} when no mailbox is set or it cannot be
    opened (MailboxError, logged; the next tick tries again). Database errors propagate.
    """
    settings = current_settings()
    if not settings.bounce_mailbox:
        return {}
    try:
        with get_db().session_scope() as session:
            counts = process(session, settings)
    except MailboxError as exc:
        log.warning("bounce mailbox: %s", exc)  # next tick tries again
        return {}
    if counts.read:
        log.info("bounce mailbox: %s", counts.as_dict())
    return counts.as_dict()
