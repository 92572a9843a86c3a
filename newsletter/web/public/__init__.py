"""Pages for readers, no login: home, signup and confirm, preferences, unsubscribe, archive,
open pixel and click redirects."""

from __future__ import annotations

from . import archive, home, subscribe, tracking

__all__ = ["archive", "home", "subscribe", "tracking"]
