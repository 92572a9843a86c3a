"""Subscriber pages: /subscribe, /confirm, /preferences, /unsubscribe (no login; signed tokens)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("subscribe", __name__)
