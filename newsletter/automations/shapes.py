"""The JSON shapes of feeds and automations (DESIGN.md), shared by the API and the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from newsletter.models import Automation, Feed


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def feed_dict(feed: Feed) -> dict[str, Any]:
    """{id, url, every_minutes, last_polled_at, last_error, etag, last_modified} plus
    next_poll_at (when beat polls it next; later after failures)."""
    return {
        "id": feed.id,
        "url": feed.url,
        "every_minutes": feed.every_minutes,
        "last_polled_at": _iso(feed.last_polled_at),
        "last_error": feed.last_error,
        "etag": feed.etag,
        "last_modified": feed.last_modified,
        "next_poll_at": _iso(feed.next_poll_at),
    }


def automation_dict(automation: Automation) -> dict[str, Any]:
    """{id, name, schedule, timezone, categories, min_posts, action, subject, enabled,
    last_run_at, next_run_at} plus last_result and last_issue_id."""
    return {
        "id": automation.id,
        "name": automation.name,
        "schedule": automation.schedule,
        "timezone": automation.timezone,
        "categories": [c.name for c in automation.categories],
        "min_posts": automation.min_posts,
        "action": automation.action.value,
        "subject": automation.subject,
        "enabled": automation.enabled,
        "last_run_at": _iso(automation.last_run_at),
        "next_run_at": _iso(automation.next_run_at),
        "last_result": automation.last_result,
        "last_issue_id": automation.last_issue_id,
    }
