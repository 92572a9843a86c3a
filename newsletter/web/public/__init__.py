"""Pages for readers, no login: home, signup and confirm, preferences, unsubscribe, archive."""

from __future__ import annotations

from . import archive, home, subscribe

__all__ = ["archive", "home", "subscribe"]
