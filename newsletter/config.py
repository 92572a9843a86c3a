"""Settings: defaults < instance config file < NEWSLETTER_* environment.

Everything the application reads from the outside world is validated here, once,
so a malformed setting stops start-up with one clear line instead of failing
later in a request or a task.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

ENV_PREFIX = "NEWSLETTER"

DEFAULTS: dict[str, Any] = {
    "ENV": "development",
    "DATABASE_URL": None,  # default: SQLite file in the instance folder
    "BROKER_URL": None,  # default: an embedded broker that needs no server
    "REDIS_URL": None,  # locks and rate limits; memory when unset
    "SMTP_URL": "smtp://127.0.0.1:8025",
    "BASE_URL": "http://127.0.0.1:5000",
    "SECRET_KEY": None,
    "SECRET_KEY_FALLBACKS": "",
    "FROM_ADDRESS": "Newsletter <newsletter@example.org>",
    "RETURN_PATH_DOMAIN": "",
    "SEND_RATE": 0,
    "SMTP_POOL_SIZE": 4,
    "SEND_BATCH_SIZE": 250,  # recipients claimed per send task (bench/send.py: 100 -> 250 is +35%)
    "SEND_RETRY_DELAY": 60,  # seconds before the first retry after a 4xx; doubles each time
    "SEND_MAX_ATTEMPTS": 6,  # then the delivery fails
    "SEND_CLAIM_TIMEOUT": 300,  # seconds a silent claim is kept before others may take it
    "BOUNCE_MAILBOX": "",
    "TRACKING": "on",
    "DKIM_SELECTOR": "",
    "DKIM_PRIVATE_KEY_PATH": "",
    "DELIVERABILITY_NAMESERVER": "",  # HOST:PORT for `deliverability check`; empty = system's
    "POSTAL_ADDRESS": "",
    "SES_TOPIC_ARNS": "",
    "POSTMARK_WEBHOOK_AUTH": "",
    "MAILGUN_SIGNING_KEY": "",
    "SENDGRID_PUBLIC_KEY": "",
    "BOUNCE_SOFT_LIMIT": 3,  # soft bounces that suppress an address...
    "BOUNCE_SOFT_DAYS": 30,  # ...within this many days, with no delivery, open or click since
    "DEV_OUTBOX": False,
    "LOGIN_RATE_LIMIT": "10 per minute",
    "SUBSCRIBE_RATE_LIMIT": "10 per minute;60 per hour",
    "SUBSCRIBE_ADDRESS_RATE_LIMIT": "5 per hour",
    "SUBSCRIBE_CHECK_DNS": None,  # default: on in production only
    "DIGEST_FREQUENCIES": "",  # e.g. "weekly,monthly"; empty = every issue only
    "DIGEST_WEEKLY_CRON": "0 8 * * 1",  # 5-field cron in DIGEST_TIMEZONE
    "DIGEST_MONTHLY_CRON": "0 8 1 * *",
    "DIGEST_TIMEZONE": "UTC",  # IANA name
    "WELCOME_LATEST_ISSUE": False,  # a newly confirmed subscriber also gets the latest issue
    "IMPORT_ALLOW_PRIVATE_URLS": False,
    "SITE_NAME": "",  # empty: the display name of FROM_ADDRESS
    "SITE_DESCRIPTION": "",
}

DATABASE_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")
BROKER_SCHEMES = ("redis", "rediss", "memory")
SMTP_SCHEMES = ("smtp", "smtp+starttls", "smtps")
MAILBOX_SCHEMES = ("imap", "imaps", "pop3s", "maildir", "mbox")


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names it in one line."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting, validated (see load_settings); a field `x` comes from NEWSLETTER_X in the
    environment (or X in the instance config.py). `send_rate` is messages per second across
    all workers (0: no limit); delays and timeouts are in seconds.
    """

    env: str
    instance_path: Path
    database_url: str
    broker_url: str
    redis_url: str | None
    smtp_url: str
    base_url: str
    secret_key: str
    secret_key_fallbacks: tuple[str, ...]
    from_address: str
    return_path_domain: str
    send_rate: float
    smtp_pool_size: int
    send_batch_size: int
    send_retry_delay: float
    send_max_attempts: int
    send_claim_timeout: float
    bounce_mailbox: str
    tracking: bool
    dkim_selector: str
    dkim_private_key_path: str
    deliverability_nameserver: str
    postal_address: str
    ses_topic_arns: tuple[str, ...]
    postmark_webhook_auth: str
    mailgun_signing_key: str
    sendgrid_public_key: str
    bounce_soft_limit: int
    bounce_soft_days: int
    dev_outbox: bool
    login_rate_limit: str
    subscribe_rate_limit: str
    subscribe_address_rate_limit: str
    subscribe_check_dns: bool
    digest_frequencies: tuple[str, ...]
    import_allow_private_urls: bool
    digest_weekly_cron: str = "0 8 * * 1"
    digest_monthly_cron: str = "0 8 1 * *"
    digest_timezone: str = "UTC"
    welcome_latest_issue: bool = False
    site_name: str = "Newsletter"
    site_description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        """True under NEWSLETTER_ENV=production (stricter checks at start-up)."""
        return self.env == "production"

    @property
    def embedded_broker(self) -> bool:
        """True when NEWSLETTER_BROKER_URL is unset: Celery runs on SQLite files in the instance folder."""
        return not self.broker_url

    @property
    def broker_folder(self) -> Path:
        """`<instance>/broker`: the embedded broker's queue and results."""
        return self.instance_path / "broker"

    @property
    def outbox_folder(self) -> Path:
        """`<instance>/outbox`: mail the dev catcher keeps for /dev/outbox."""
        return self.instance_path / "outbox"

    @property
    def from_email(self) -> str:
        """The bare address of NEWSLETTER_FROM_ADDRESS (`jane@news.example.org`)."""
        return parseaddr(self.from_address)[1]

    @property
    def return_domain(self) -> str:
        """NEWSLETTER_RETURN_PATH_DOMAIN, else the From address's domain (VERP bounces go there)."""
        return self.return_path_domain or self.from_email.rpartition("@")[2]


def load_settings(app: Flask, overrides: dict[str, Any] | None = None) -> Settings:
    """Layer the sources into app.config, then validate them into Settings.

    Order, later wins: DEFAULTS, the instance folder's config.py, NEWSLETTER_* environment
    variables, `overrides`. The raw values then leave app.config, so no code can read one
    past its validation (a raw "off" is a true string); read `newsletter.current_settings()`
    instead. Raises ConfigError naming the first setting that is invalid: an unknown
    NEWSLETTER_ENV, a URL with the wrong scheme or no host, a bad number or on/off value,
    and in production a non-https BASE_URL (RFC 8058 one-click links) or a missing or short
    (< 32 characters) SECRET_KEY.
    """
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env(ENV_PREFIX)
    if overrides:
        app.config.from_mapping(overrides)
    settings = _validate(app.config, Path(app.instance_path))
    for key in DEFAULTS:
        app.config.pop(key, None)
    return settings


def _validate(cfg: Any, instance_path: Path) -> Settings:
    env = str(cfg["ENV"]).lower()
    if env not in ("development", "production", "testing"):
        raise ConfigError(
            f"NEWSLETTER_ENV must be development, production or testing (got {env!r})"
        )

    database_url = cfg["DATABASE_URL"] or f"sqlite:///{instance_path / 'newsletter.db'}"
    _check_url("DATABASE_URL", database_url, DATABASE_SCHEMES)
    broker_url = cfg["BROKER_URL"] or ""  # empty: the embedded broker (newsletter/broker.py)
    if broker_url:
        _check_url("BROKER_URL", broker_url, BROKER_SCHEMES, need_host=False)
    redis_url = cfg["REDIS_URL"] or None
    if redis_url:
        _check_url("REDIS_URL", redis_url, ("redis", "rediss", "unix"))
    smtp_url = str(cfg["SMTP_URL"])
    _check_url("SMTP_URL", smtp_url, SMTP_SCHEMES)
    base_url = str(cfg["BASE_URL"]).rstrip("/")
    _check_url("BASE_URL", base_url, ("http", "https"))
    if env == "production" and not base_url.startswith("https://"):
        raise ConfigError("NEWSLETTER_BASE_URL must be https:// in production (RFC 8058 links)")

    secret_key = cfg["SECRET_KEY"]
    if not secret_key:
        if env == "production":
            raise ConfigError("NEWSLETTER_SECRET_KEY is required in production")
        secret_key = _dev_secret(instance_path)
    secret_key = str(secret_key)
    if env == "production" and len(secret_key) < 32:
        raise ConfigError("NEWSLETTER_SECRET_KEY must be at least 32 characters in production")

    from_address = str(cfg["FROM_ADDRESS"])
    if "@" not in parseaddr(from_address)[1] or any(c in from_address for c in "\r\n"):
        raise ConfigError(
            f"NEWSLETTER_FROM_ADDRESS must look like 'Name <addr@domain>' (got {from_address!r})"
        )

    bounce_mailbox = str(cfg["BOUNCE_MAILBOX"] or "")
    if bounce_mailbox:
        _check_url("BOUNCE_MAILBOX", bounce_mailbox, MAILBOX_SCHEMES, need_host=False)

    return Settings(
        env=env,
        instance_path=instance_path,
        database_url=database_url,
        broker_url=broker_url,
        redis_url=redis_url,
        smtp_url=smtp_url,
        base_url=base_url,
        secret_key=secret_key,
        secret_key_fallbacks=_split(cfg["SECRET_KEY_FALLBACKS"]),
        from_address=from_address,
        return_path_domain=str(cfg["RETURN_PATH_DOMAIN"] or ""),
        send_rate=_number("SEND_RATE", cfg["SEND_RATE"], float, minimum=0),
        smtp_pool_size=int(_number("SMTP_POOL_SIZE", cfg["SMTP_POOL_SIZE"], int, minimum=1)),
        send_batch_size=int(_number("SEND_BATCH_SIZE", cfg["SEND_BATCH_SIZE"], int, minimum=1)),
        send_retry_delay=_number("SEND_RETRY_DELAY", cfg["SEND_RETRY_DELAY"], float, minimum=0),
        send_max_attempts=int(
            _number("SEND_MAX_ATTEMPTS", cfg["SEND_MAX_ATTEMPTS"], int, minimum=1)
        ),
        send_claim_timeout=_number(
            "SEND_CLAIM_TIMEOUT", cfg["SEND_CLAIM_TIMEOUT"], float, minimum=1
        ),
        bounce_mailbox=bounce_mailbox,
        tracking=_flag("TRACKING", cfg["TRACKING"]),
        dkim_selector=str(cfg["DKIM_SELECTOR"] or ""),
        dkim_private_key_path=str(cfg["DKIM_PRIVATE_KEY_PATH"] or ""),
        deliverability_nameserver=_nameserver(cfg["DELIVERABILITY_NAMESERVER"]),
        postal_address=str(cfg["POSTAL_ADDRESS"] or ""),
        ses_topic_arns=_topic_arns(cfg["SES_TOPIC_ARNS"]),
        postmark_webhook_auth=_basic_auth("POSTMARK_WEBHOOK_AUTH", cfg["POSTMARK_WEBHOOK_AUTH"]),
        mailgun_signing_key=_one_line("MAILGUN_SIGNING_KEY", cfg["MAILGUN_SIGNING_KEY"], 200),
        sendgrid_public_key=_sendgrid_key(cfg["SENDGRID_PUBLIC_KEY"]),
        bounce_soft_limit=int(
            _number("BOUNCE_SOFT_LIMIT", cfg["BOUNCE_SOFT_LIMIT"], int, minimum=1)
        ),
        bounce_soft_days=int(_number("BOUNCE_SOFT_DAYS", cfg["BOUNCE_SOFT_DAYS"], int, minimum=1)),
        dev_outbox=_flag("DEV_OUTBOX", cfg["DEV_OUTBOX"]) and env != "production",
        login_rate_limit=str(cfg["LOGIN_RATE_LIMIT"]),
        subscribe_rate_limit=str(cfg["SUBSCRIBE_RATE_LIMIT"]),
        subscribe_address_rate_limit=str(cfg["SUBSCRIBE_ADDRESS_RATE_LIMIT"]),
        subscribe_check_dns=env == "production"
        if cfg["SUBSCRIBE_CHECK_DNS"] is None
        else _flag("SUBSCRIBE_CHECK_DNS", cfg["SUBSCRIBE_CHECK_DNS"]),
        digest_frequencies=_split(cfg["DIGEST_FREQUENCIES"]),
        digest_weekly_cron=_cron("DIGEST_WEEKLY_CRON", cfg["DIGEST_WEEKLY_CRON"]),
        digest_monthly_cron=_cron("DIGEST_MONTHLY_CRON", cfg["DIGEST_MONTHLY_CRON"]),
        digest_timezone=_timezone("DIGEST_TIMEZONE", cfg["DIGEST_TIMEZONE"]),
        welcome_latest_issue=_flag("WELCOME_LATEST_ISSUE", cfg["WELCOME_LATEST_ISSUE"]),
        import_allow_private_urls=_flag(
            "IMPORT_ALLOW_PRIVATE_URLS", cfg["IMPORT_ALLOW_PRIVATE_URLS"]
        ),
        site_name=_one_line("SITE_NAME", cfg["SITE_NAME"], 100)
        or parseaddr(from_address)[0].strip()
        or "Newsletter",
        site_description=_one_line("SITE_DESCRIPTION", cfg["SITE_DESCRIPTION"], 300),
    )


def _check_url(name: str, url: str, schemes: tuple[str, ...], *, need_host: bool = True) -> None:
    parts = urlsplit(url)
    if parts.scheme not in schemes:
        raise ConfigError(
            f"NEWSLETTER_{name} must start with one of {', '.join(s + '://' for s in schemes)}"
            f" (got {_redact(url)!r})"
        )
    if need_host and not parts.scheme.startswith("sqlite") and not parts.hostname:
        raise ConfigError(f"NEWSLETTER_{name} has no host (got {_redact(url)!r})")
    try:
        parts.port  # noqa: B018 - urlsplit validates the port lazily
    except ValueError as exc:
        raise ConfigError(f"NEWSLETTER_{name} has a bad port (got {_redact(url)!r})") from exc


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def _number(name: str, value: Any, kind: type, *, minimum: float) -> float:
    try:
        number: float = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"NEWSLETTER_{name} must be a number (got {value!r})") from None
    if number < minimum:
        raise ConfigError(f"NEWSLETTER_{name} must be at least {minimum} (got {value!r})")
    return number


def _flag(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "on", "true", "yes"):
        return True
    if text in ("0", "off", "false", "no", ""):
        return False
    raise ConfigError(f"NEWSLETTER_{name} must be on or off (got {value!r})")


def _one_line(name: str, value: Any, limit: int) -> str:
    """Text shown on pages and in mail headers: one line, at most `limit` characters."""
    text = str(value or "").strip()
    if any(c in text for c in "\r\n\x00"):
        raise ConfigError(f"NEWSLETTER_{name} must be one line of text")
    if len(text) > limit:
        raise ConfigError(f"NEWSLETTER_{name} must be at most {limit} characters")
    return text


_TOPIC_ARN = re.compile(r"arn:aws(-cn|-us-gov)?:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}")


def _topic_arns(value: Any) -> tuple[str, ...]:
    arns = _split(value)
    for arn in arns:
        if not _TOPIC_ARN.fullmatch(arn):
            raise ConfigError(
                f"NEWSLETTER_SES_TOPIC_ARNS must list SNS topic ARNs like "
                f"arn:aws:sns:eu-west-1:123456789012:ses-feedback (got {arn[:100]!r})"
            )
    return arns


def _nameserver(value: Any) -> str:
    from newsletter.deliverability.lookup import parse_nameserver

    text = _one_line("DELIVERABILITY_NAMESERVER", value, 100)
    if text:
        try:
            parse_nameserver(text)
        except ValueError as exc:
            raise ConfigError(f"NEWSLETTER_DELIVERABILITY_NAMESERVER: {exc}") from None
    return text


def _basic_auth(name: str, value: Any) -> str:
    text = _one_line(name, value, 500)
    user, colon, password = text.partition(":")
    if text and not (colon and user and password):
        raise ConfigError(f"NEWSLETTER_{name} must be user:password")
    return text


def _sendgrid_key(value: Any) -> str:
    from newsletter.bounces.webhooks.sendgrid import load_public_key

    text = _one_line("SENDGRID_PUBLIC_KEY", value, 1000)
    if text:
        try:
            load_public_key(text)
        except ValueError as exc:
            raise ConfigError(
                f"NEWSLETTER_SENDGRID_PUBLIC_KEY must be SendGrid's base64 DER P-256 key ({exc})"
            ) from None
    return text


def _cron(name: str, value: Any) -> str:
    """A standard 5-field cron expression (minute hour day month weekday)."""
    from croniter import croniter

    text = " ".join(str(value or "").split())
    if len(text.split(" ")) != 5 or not croniter.is_valid(text):
        raise ConfigError(
            f"NEWSLETTER_{name} must be a 5-field cron expression such as '0 8 * * 1'"
            f" (got {value!r})"
        )
    return text


def _timezone(name: str, value: Any) -> str:
    """An IANA time zone name (`Europe/Berlin`), checked against the zone database."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    text = str(value or "").strip()
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder such as 'Europe'
        raise ConfigError(
            f"NEWSLETTER_{name} must be an IANA time zone such as Europe/Berlin (got {value!r})"
        ) from None
    return text


def _split(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return tuple(part.strip() for part in str(value or "").split(",") if part.strip())


def _dev_secret(instance_path: Path) -> str:
    """Outside production, keep one random key in the instance folder across restarts."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def current_settings() -> Settings:
    """Transitional alias of `newsletter.current_settings` (the app factory's accessor,
    for entry points only); code still importing it from here keeps working."""
    from newsletter import current_settings as app_settings

    return app_settings()
