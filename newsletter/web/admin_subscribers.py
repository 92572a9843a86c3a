"""Admin pages for subscribers under /admin/subscribers."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin_subscribers", __name__, url_prefix="/admin/subscribers")
