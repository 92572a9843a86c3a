"""/api/v1/issues."""

from __future__ import annotations

from . import api  # noqa: F401 - operations attach to the shared Api
