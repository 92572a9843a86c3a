"""The subscriber pages use the subscriber tests' fixtures: categories, a memory sender,
recorded tasks, and a client whose requests close their own session."""

from __future__ import annotations

from tests.subscribers.conftest import categories, client, sender, tasks  # noqa: F401
