"""The newsletter application: create_app() reads like its table of contents."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, cast

from flask import Flask, current_app

from .config import Settings, load_settings
from .db import Database
from .extensions import csrf, limiter, login_manager
from .queue import init_celery

if TYPE_CHECKING:
    from .mail.transport import EmailSender


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; `config` overrides settings (tests), after file and environment.

    Raises ConfigError when the settings do not validate (see config.load_settings).
    """
    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get(
        "NEWSLETTER_INSTANCE_PATH"
    )
    app = Flask(
        __name__,
        template_folder="../templates",
        # abspath, not Path.resolve(): normalise `..` without following symlinks.
        instance_path=os.path.abspath(instance_path) if instance_path else None,  # noqa: PTH100
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

    from .web import admin, auth, author, dev, errors, health, public, textguard, webhooks
    from .web.api import bp as api_bp

    # The order of before the split: request hooks and context processors run in it.
    for blueprint in (
        public.home.bp,
        auth.bp,
        *author.BLUEPRINTS,
        *admin.BLUEPRINTS,
        public.subscribe.bp,
        public.archive.bp,
        health.bp,
        dev.bp,
        public.tracking.bp,
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


# The running app's parts, for entry points only (views, CLI commands, task bodies):
# they run inside an app context and hand these to the services as arguments.
# Nothing else in newsletter/ reads the app context.


def current_settings() -> Settings:
    """The running app's validated Settings; raises RuntimeError outside an app context
    (Flask's "Working outside of application context").
    """
    settings = current_app.extensions["settings"]
    assert isinstance(settings, Settings)
    return settings


def get_db() -> Database:
    """The running app's Database (engine and sessionmaker); raises RuntimeError outside an
    app context.
    """
    db = current_app.extensions["db"]
    assert isinstance(db, Database)
    return db


def get_sender() -> EmailSender:
    """The running app's mail sender, made on first use from NEWSLETTER_SMTP_URL.

    Tests may put a MemorySender in `app.extensions["mail_sender"]`.
    """
    from .mail.transport import SmtpSender

    sender = current_app.extensions.get("mail_sender")
    if sender is None:
        sender = SmtpSender(current_settings().smtp_url)
        current_app.extensions["mail_sender"] = sender
    return cast("EmailSender", sender)
