"""Cron expressions in an IANA timezone: checking them and finding the next firing.

croniter does the calendar arithmetic (including DST: a time that does not exist on a
spring-forward day fires at the first minute after the gap, see croniter's tests) and
zoneinfo the timezone rules. A schedule fires at most once an hour: a newsletter that
goes out every minute is a mistake, and so the minute field must name one minute.
"""

from __future__ import annotations

import functools
import zoneinfo
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from croniter import croniter

from .errors import AutomationError

MIN_INTERVAL_MINUTES = 60  # "fires every minute" is refused: one minute value at most
MAX_SCHEDULE_LENGTH = 100


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_timezone(name: str) -> str:
    """An IANA name such as `Europe/Berlin` (or `UTC`); raises AutomationError otherwise.

    Checked against the known names first, so no path-like input ever reaches the
    zoneinfo file lookup.
    """
    name = (name or "").strip()
    if name not in _zone_names():
        raise AutomationError(f"unknown timezone {name!r}: use an IANA name such as Europe/Berlin")
    return name


def check_schedule(expression: str) -> str:
    """A 5-field cron expression (minute hour day-of-month month day-of-week) that fires at
    most once an hour; the expression with its whitespace tidied. Raises AutomationError."""
    text = " ".join((expression or "").split())
    if not text:
        raise AutomationError("the schedule is empty: give a cron expression like '0 8 * * 1'")
    if len(text) > MAX_SCHEDULE_LENGTH:
        raise AutomationError(f"the schedule is longer than {MAX_SCHEDULE_LENGTH} characters")
    fields = text.split(" ")
    if len(fields) != 5:
        raise AutomationError(
            f"the schedule {text!r} has {len(fields)} fields; a cron expression has 5 "
            "(minute hour day-of-month month day-of-week)"
        )
    try:
        expanded, _ = croniter.expand(text)
        croniter(text, datetime(2026, 1, 1, tzinfo=UTC)).get_next(datetime)
    # croniter raises several kinds for text it cannot read (its own errors, ValueError,
    # KeyError, IndexError...): all of them mean "not a cron expression".
    except Exception as exc:
        raise AutomationError(
            f"the schedule {text!r} is not a valid cron expression: {exc}"
        ) from None
    minutes = expanded[0]
    if minutes == ["*"] or len(minutes) != 1:
        raise AutomationError(
            f"the schedule {text!r} fires more than once an hour; automations run at most "
            f"every {MIN_INTERVAL_MINUTES} minutes: name one minute (e.g. '0 * * * *')"
        )
    return text


def next_run(expression: str, timezone: str, *, after: datetime) -> datetime:
    """The first firing strictly after `after` (aware), in UTC.

    `after` is "now" when a run is claimed: however many firings were missed while
    nothing ran, the next one is in the future, so a missed run runs once.
    """
    zone = ZoneInfo(timezone)
    local = after.astimezone(zone)
    following: datetime = croniter(expression, local).get_next(datetime)
    return following.astimezone(UTC)


def previous_run(expression: str, timezone: str, *, before: datetime) -> datetime:
    """The last firing at or before `before`, in UTC (for showing what a run covers)."""
    zone = ZoneInfo(timezone)
    prior: datetime = croniter(expression, before.astimezone(zone)).get_prev(datetime)
    return prior.astimezone(UTC)
