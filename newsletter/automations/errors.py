"""Errors of feeds and automations; each message is one line a user can act on."""

from __future__ import annotations


class AutomationError(ValueError):
    """Bad input for a feed or an automation (a 4xx, a one-line CLI error)."""


class FeedError(AutomationError):
    """A feed URL that cannot be watched: private, unreachable, not a feed, too big..."""


class NotFound(LookupError):
    """No feed or automation with that id; the message says which (`no feed with id 7`)."""

    def __init__(self, kind: str, item_id: int) -> None:
        super().__init__(f"no {kind} with id {item_id}")


class Conflict(AutomationError):
    """The thing exists already (a feed URL watched twice)."""
