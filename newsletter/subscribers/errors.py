"""Domain errors for subscribers; views, API and CLI turn them into their own shapes."""

from __future__ import annotations


class SubscriberError(Exception):
    """Base class: the message is one line a person can act on."""


class InvalidEmail(SubscriberError):
    """The address is not syntactically valid or its domain cannot receive mail."""


class InvalidInput(SubscriberError):
    """A field other than the address is wrong (unknown category, bad status...)."""


class InvalidToken(SubscriberError):
    """A link token that is forged, truncated, or for another purpose."""


class SubscriberNotFound(SubscriberError, LookupError):
    """No subscriber with this id (or the link names one that no longer exists)."""


class Conflict(SubscriberError):
    """The request contradicts the current state (duplicate address, suppressed address)."""
