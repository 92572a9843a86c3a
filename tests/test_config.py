"""Settings: defaults < instance file < environment, and one clear line for a bad one."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from flask import Flask

from newsletter.config import ConfigError, load_settings

from .conftest import REPO


def settings_for(tmp_path, monkeypatch, env=None, instance_file=None, overrides=None):
    for key in [k for k in __import__("os").environ if k.startswith("NEWSLETTER_")]:
        monkeypatch.delenv(key)
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    if instance_file is not None:
        (instance / "config.py").write_text(instance_file)
    app = Flask("newsletter", instance_path=str(instance), instance_relative_config=True)
    return load_settings(app, overrides)


def test_defaults_run_on_the_embedded_parts(tmp_path, monkeypatch):
    settings = settings_for(tmp_path, monkeypatch)
    assert settings.database_url == f"sqlite:///{tmp_path / 'instance' / 'newsletter.db'}"
    assert settings.broker_url == ""
    assert settings.embedded_broker
    assert settings.redis_url is None
    assert settings.tracking is True
    # Outside production a random key is kept in the instance folder across restarts.
    assert len(settings.secret_key) >= 32
    assert settings_for(tmp_path, monkeypatch).secret_key == settings.secret_key


def test_environment_beats_instance_file_beats_defaults(tmp_path, monkeypatch):
    settings = settings_for(
        tmp_path,
        monkeypatch,
        env={"NEWSLETTER_SEND_RATE": "25", "NEWSLETTER_TRACKING": "off"},
        instance_file='SEND_RATE = 5\nPOSTAL_ADDRESS = "1 Main St"\nSMTP_POOL_SIZE = 9\n',
    )
    assert settings.send_rate == 25.0  # environment wins
    assert settings.postal_address == "1 Main St"  # instance file beats the default
    assert settings.smtp_pool_size == 9
    assert settings.tracking is False


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"NEWSLETTER_DATABASE_URL": "mysql://x/y"}, "NEWSLETTER_DATABASE_URL must start with"),
        ({"NEWSLETTER_SMTP_URL": "http://mail"}, "NEWSLETTER_SMTP_URL must start with"),
        ({"NEWSLETTER_SMTP_URL": "smtp://"}, "NEWSLETTER_SMTP_URL has no host"),
        ({"NEWSLETTER_SMTP_URL": "smtp://h:99999"}, "NEWSLETTER_SMTP_URL has a bad port"),
        ({"NEWSLETTER_BASE_URL": "ftp://x"}, "NEWSLETTER_BASE_URL must start with"),
        ({"NEWSLETTER_SEND_RATE": "fast"}, "NEWSLETTER_SEND_RATE must be a number"),
        ({"NEWSLETTER_SEND_RATE": "-1"}, "NEWSLETTER_SEND_RATE must be at least"),
        ({"NEWSLETTER_TRACKING": "maybe"}, "NEWSLETTER_TRACKING must be on or off"),
        ({"NEWSLETTER_FROM_ADDRESS": "nobody"}, "NEWSLETTER_FROM_ADDRESS must look like"),
        ({"NEWSLETTER_BOUNCE_MAILBOX": "ftp://x"}, "NEWSLETTER_BOUNCE_MAILBOX must start with"),
        ({"NEWSLETTER_ENV": "staging"}, "NEWSLETTER_ENV must be"),
        ({"NEWSLETTER_DIGEST_WEEKLY_CRON": "every monday"}, "NEWSLETTER_DIGEST_WEEKLY_CRON must"),
        ({"NEWSLETTER_DIGEST_MONTHLY_CRON": "0 8 1 * * 5"}, "NEWSLETTER_DIGEST_MONTHLY_CRON"),
        ({"NEWSLETTER_DIGEST_MONTHLY_CRON": "0 25 1 * *"}, "NEWSLETTER_DIGEST_MONTHLY_CRON"),
        ({"NEWSLETTER_DIGEST_TIMEZONE": "Mars/Olympus"}, "NEWSLETTER_DIGEST_TIMEZONE must be"),
        ({"NEWSLETTER_DIGEST_TIMEZONE": "../etc/passwd"}, "NEWSLETTER_DIGEST_TIMEZONE must be"),
        ({"NEWSLETTER_WELCOME_LATEST_ISSUE": "maybe"}, "NEWSLETTER_WELCOME_LATEST_ISSUE must"),
        (
            {"NEWSLETTER_ENV": "production", "NEWSLETTER_BASE_URL": "https://news.example.org"},
            "NEWSLETTER_SECRET_KEY is required in production",
        ),
        (
            {"NEWSLETTER_ENV": "production", "NEWSLETTER_SECRET_KEY": "x" * 40},
            "NEWSLETTER_BASE_URL must be https:// in production",
        ),
    ],
)
def test_malformed_settings_name_the_setting(tmp_path, monkeypatch, env, message):
    with pytest.raises(ConfigError, match=message):
        settings_for(tmp_path, monkeypatch, env=env)


def test_redis_broker_url_accepted(tmp_path, monkeypatch):
    settings = settings_for(
        tmp_path, monkeypatch, env={"NEWSLETTER_BROKER_URL": "redis://127.0.0.1:6379/0"}
    )
    assert settings.broker_url == "redis://127.0.0.1:6379/0"
    assert not settings.embedded_broker


def test_password_in_url_is_not_echoed(tmp_path, monkeypatch):
    with pytest.raises(ConfigError) as info:
        settings_for(tmp_path, monkeypatch, env={"NEWSLETTER_SMTP_URL": "http://u:hunter2@mail"})
    assert "hunter2" not in str(info.value)


def test_cli_stops_with_one_line_on_a_bad_setting(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "NEWSLETTER_INSTANCE_PATH": str(tmp_path),
        "NEWSLETTER_SMTP_URL": "gopher://mail",
    }
    result = subprocess.run(
        [sys.executable, "-m", "newsletter.cli", "db", "upgrade"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: NEWSLETTER_SMTP_URL must start with")


def test_no_code_reads_a_setting_past_settings():
    # A raw value is unvalidated ("off" is a true string): code reads Settings only.
    from newsletter.config import DEFAULTS

    names = "|".join(DEFAULTS)
    raw = re.compile(
        rf"""config(?:\[|\.get\(|\.setdefault\()\s*["'](?:NEWSLETTER_)?({names})["']"""
    )
    offenders = [
        f"{path.relative_to(REPO)}:{text.count(chr(10), 0, match.start()) + 1}: {match[0]}"
        for folder in ("newsletter", "worker")
        for path in sorted((REPO / folder).rglob("*.py"))
        if path != REPO / "newsletter" / "config.py"
        for text in [path.read_text()]
        for match in raw.finditer(text)  # across lines too: calls get wrapped
    ]
    assert offenders == []


@pytest.mark.parametrize("value", ["off", "on"])
def test_raw_settings_leave_app_config(tmp_path, value):
    from newsletter import current_settings

    from .conftest import make_test_app

    app = make_test_app(None, tmp_path, IMPORT_ALLOW_PRIVATE_URLS=value, TRACKING="off")
    assert "IMPORT_ALLOW_PRIVATE_URLS" not in app.config and "TRACKING" not in app.config
    with app.app_context():
        settings = current_settings()
    assert settings.import_allow_private_urls is (value == "on")
    assert settings.tracking is False
    # Flask's own keys are set again from Settings: sessions and CSRF still sign.
    assert app.config["SECRET_KEY"] == settings.secret_key
