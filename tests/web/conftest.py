"""Fixtures the web tests borrow from the domain tests they build on."""

from __future__ import annotations

# The webhook pages act on deliveries mailed the way the bounce tests mail them.
from tests.bounces.conftest import issue, mailed  # noqa: F401
