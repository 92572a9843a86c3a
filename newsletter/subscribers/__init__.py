"""Subscribers: signup with double opt-in, preferences, unsubscribe, suppression, import/export.

The send pipeline needs only `is_mailable` (the send-time check; who gets an
issue is newsletter.sends.audience), `unsubscribe_url` /
`preferences_url` (personal links) and `suppress` (bounces and complaints).
"""

from .errors import (
    Conflict,
    InvalidEmail,
    InvalidInput,
    InvalidToken,
    SubscriberError,
    SubscriberNotFound,
)
from .service import (
    SignupResult,
    confirm,
    is_mailable,
    subscribe,
    unsubscribe,
    update_preferences,
)
from .suppression import email_hash, is_suppressed, suppress
from .tokens import Purpose, confirm_url, preferences_url, read_token, unsubscribe_url

__all__ = [
    "Conflict",
    "InvalidEmail",
    "InvalidInput",
    "InvalidToken",
    "Purpose",
    "SignupResult",
    "SubscriberError",
    "SubscriberNotFound",
    "confirm",
    "confirm_url",
    "email_hash",
    "is_mailable",
    "is_suppressed",
    "preferences_url",
    "read_token",
    "subscribe",
    "suppress",
    "unsubscribe",
    "unsubscribe_url",
    "update_preferences",
]
