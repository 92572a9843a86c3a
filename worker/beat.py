"""What beat runs, and how often: polling the database, never long-ETA messages.

A scheduled issue is found by `sends.dispatch_due` when its send_at has passed, so
rescheduling or cancelling it needs no message to be revoked, and a broker restart
loses nothing. Running two beats by mistake is safe: starting an issue is a
conditional UPDATE that one caller wins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsletter.config import Settings

MAILBOX_EVERY = 60.0  # seconds between passes over the bounce mailbox

DISPATCH_EVERY = (
    5.0  # seconds: how late a scheduled issue may start, and how fast a stuck send is rescued
)

DIGESTS_EVERY = 60.0  # seconds between "is a digest due?" checks (cron has minute steps)

SCHEDULE: dict[str, dict[str, Any]] = {
    "sends-dispatch-due": {
        "task": "sends.dispatch_due",
        "schedule": DISPATCH_EVERY,
        # A tick that waited longer than its interval is useless: the next one comes.
        "options": {"expires": DISPATCH_EVERY},
    },
    # DIGEST_WEEKLY_CRON / DIGEST_MONTHLY_CRON are read by the task, not here: a marker
    # row per pace makes each scheduled time run once, however many beats ask.
    "digests-run-due": {
        "task": "digests.run_due",
        "schedule": DIGESTS_EVERY,
        "options": {"expires": DIGESTS_EVERY},
    },
}


def schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """SCHEDULE, plus `bounces.process_mailbox` every MAILBOX_EVERY seconds when
    NEWSLETTER_BOUNCE_MAILBOX is set."""
    entries = dict(SCHEDULE)
    if settings.bounce_mailbox:
        entries["bounces-process-mailbox"] = {
            "task": "bounces.process_mailbox",
            "schedule": MAILBOX_EVERY,
            "options": {"expires": MAILBOX_EVERY},
        }
    return entries
