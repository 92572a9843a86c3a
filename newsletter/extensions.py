"""Flask extensions, created unbound and attached in create_app()."""

from __future__ import annotations

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.session_protection = "strong"

csrf = CSRFProtect()


def _client_address() -> str:
    return get_remote_address() or request.remote_addr or "unknown"


# Storage is chosen in create_app(): Redis when NEWSLETTER_REDIS_URL is set, memory otherwise.
limiter = Limiter(key_func=_client_address, default_limits=[], headers_enabled=True)
