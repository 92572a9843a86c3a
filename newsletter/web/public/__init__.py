"""Pages for readers, no login: home, signup and confirm, preferences, unsubscribe, archive,
open pixel and click redirects.

Importing the package registers the subscriber pages (signup, confirm, preferences,
unsubscribe) on the blueprint in subscribe.py.
"""

from __future__ import annotations

from . import archive, confirm, home, preferences, signup, subscribe, tracking, unsubscribe

__all__ = [
    "archive",
    "confirm",
    "home",
    "preferences",
    "signup",
    "subscribe",
    "tracking",
    "unsubscribe",
]
