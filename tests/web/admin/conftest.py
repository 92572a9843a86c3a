"""The admin pages use the subscriber tests' fixtures and the DNS tests' keys and zone."""

from __future__ import annotations

from tests.deliverability.conftest import good_zone, key_path, other_key, rsa_key  # noqa: F401
from tests.subscribers.conftest import categories, client, sender, tasks  # noqa: F401
