"""The author's composer under /author/: posts, issues, preview, test send."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("compose", __name__, url_prefix="/author")
