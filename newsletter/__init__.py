"""The newsletter application: create_app() reads like its table of contents."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from .config import load_settings
from .db import Database
from .extensions import csrf, limiter, login_manager
from .queue import init_celery


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; `config` overrides settings (tests), after file and environment."""
    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get(
        "NEWSLETTER_INSTANCE_PATH"
    )
    app = Flask(
        __name__,
        template_folder="../templates",
        instance_path=os.path.abspath(instance_path) if instance_path else None,
        instance_relative_config=True,
    )
    settings = load_settings(app, config)
    app.extensions["settings"] = settings
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SECRET_KEY_FALLBACKS=list(settings.secret_key_fallbacks),
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.base_url.startswith("https://"),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=32 * 1024 * 1024,
        RATELIMIT_STORAGE_URI=settings.redis_url or "memory://",
        RATELIMIT_KEY_PREFIX="newsletter-limits",
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]

    Database(settings.database_url, bind=(config or {}).get("DB_BIND")).init_app(app)
    init_celery(app, settings)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)

    from .web import (
        admin,
        admin_subscribers,
        archive,
        auth,
        author,
        automations,
        compose,
        dev,
        errors,
        health,
        public,
        subscribe,
        textguard,
        webhooks,
    )
    from .web.api import bp as api_bp

    for blueprint in (
        public.bp,
        auth.bp,
        author.bp,
        compose.bp,
        automations.bp,
        admin.bp,
        admin_subscribers.bp,
        subscribe.bp,
        archive.bp,
        health.bp,
        dev.bp,
        webhooks.bp,
    ):
        app.register_blueprint(blueprint)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens, not cookies
    csrf.exempt(webhooks.bp)  # providers sign their requests or use Basic Auth, never cookies
    health.instrument(app)
    errors.register(app)
    textguard.init_app(app)
    _security_headers(app)
    return app


def _security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response: Any) -> Any:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        return response
