"""/api/v1/subscribers."""

from __future__ import annotations

from . import api  # noqa: F401 - operations attach to the shared Api
