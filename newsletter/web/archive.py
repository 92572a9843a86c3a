"""Public archive of sent issues: /archive, /archive/SLUG, /feed.xml."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("archive", __name__)
