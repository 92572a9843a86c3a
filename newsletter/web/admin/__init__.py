"""The admin's area under /admin/: the dashboard with the deliverability check, and subscribers."""

from __future__ import annotations

from . import dashboard, subscribers

BLUEPRINTS = (dashboard.bp, subscribers.bp)
