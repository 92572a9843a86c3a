"""The author's area under /author/: the dashboard (`author.*`) and the composer (`compose.*`).

Importing the modules registers their routes on the composer's blueprint.
"""

from __future__ import annotations

from . import automations, dashboard, issues, posts, previews, sending
from .base import bp as compose_bp

BLUEPRINTS = (dashboard.bp, compose_bp, automations.bp)

__all__ = ["BLUEPRINTS", "issues", "posts", "previews", "sending"]
