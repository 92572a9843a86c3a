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
FEEDS_EVERY = 30.0  # seconds between looks for due feeds (each feed has its own interval)
AUTOMATIONS_EVERY = 10.0  # seconds: how late an automation may run after its cron time

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
    # Feeds and automations keep their schedules in the database (next_poll_at,
    # next_run_at); these ticks only look for what is due, and claim it with a
    # conditional UPDATE, so two beats still poll a feed once and run a cron time once.
    "feeds-poll-due": {
        "task": "feeds.poll_due",
        "schedule": FEEDS_EVERY,
        "options": {"expires": FEEDS_EVERY},
    },
    "automations-run-due": {
        "task": "automations.run_due",
        "schedule": AUTOMATIONS_EVERY,
        "options": {"expires": AUTOMATIONS_EVERY},
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
