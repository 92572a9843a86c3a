"""Domain errors of the composer; views map them to 404 / 409 / 422."""

from __future__ import annotations

from newsletter.subscribers.errors import SubscriberNotFound  # one class for both packages

__all__ = [
    "ComposeError",
    "InvalidSchedule",
    "InvalidTransition",
    "IssueNotFound",
    "SubscriberNotFound",
    "TestSendError",
]


class ComposeError(ValueError):
    """Bad input for a compose service; the message is fit to show to the author."""


class IssueNotFound(LookupError):
    """No issue with `issue_id` (the API answers 404)."""

    def __init__(self, issue_id: int) -> None:
        super().__init__(f"no issue with id {issue_id}")
        self.issue_id = issue_id


class InvalidTransition(Exception):
    """The issue is not in a state that allows this change (only drafts are editable)."""

    def __init__(self, issue_id: int, *, action: str, status: str | None = None) -> None:
        where = f"it is {status}" if status else "its status changed"
        super().__init__(f"issue {issue_id} cannot be {action}: {where}")
        self.issue_id = issue_id
        self.action = action
        self.status = status


class InvalidSchedule(ComposeError):
    """send_at is missing its timezone or is not in the future."""


class TestSendError(ComposeError):
    """A test message could not be handed to the SMTP server."""
