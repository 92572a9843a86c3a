"""The admin's area under /admin/: the dashboard (list growth, categories, the deliverability
check), sends (issues with live progress and stats) and subscribers."""

from __future__ import annotations

from . import dashboard, issues, subscribers

BLUEPRINTS = (dashboard.bp, issues.bp, subscribers.bp)
