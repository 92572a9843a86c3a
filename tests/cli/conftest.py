"""The commands' tests use the domain tests' fixtures: subscribers' and the DNS tests' ones."""

from __future__ import annotations

from tests.deliverability.conftest import good_zone, key_path, other_key, rsa_key  # noqa: F401
from tests.subscribers.conftest import categories, client, sender, tasks  # noqa: F401
