"""The webhook and soft-bounce settings are validated at start-up, each naming itself."""

from __future__ import annotations

import pytest

from newsletter.config import ConfigError
from tests.test_config import settings_for

from . import signing


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"NEWSLETTER_SES_TOPIC_ARNS": "ses-feedback"},
            "NEWSLETTER_SES_TOPIC_ARNS must list SNS topic ARNs",
        ),
        (
            {"NEWSLETTER_SES_TOPIC_ARNS": f"{signing.TOPIC},arn:aws:s3:::bucket"},
            "NEWSLETTER_SES_TOPIC_ARNS",
        ),
        (
            {"NEWSLETTER_POSTMARK_WEBHOOK_AUTH": "justapassword"},
            "NEWSLETTER_POSTMARK_WEBHOOK_AUTH must be user:password",
        ),
        (
            {"NEWSLETTER_POSTMARK_WEBHOOK_AUTH": "user:"},
            "NEWSLETTER_POSTMARK_WEBHOOK_AUTH must be user:password",
        ),
        (
            {"NEWSLETTER_SENDGRID_PUBLIC_KEY": "not-base64!"},
            "NEWSLETTER_SENDGRID_PUBLIC_KEY must be",
        ),
        ({"NEWSLETTER_SENDGRID_PUBLIC_KEY": "aGVsbG8="}, "NEWSLETTER_SENDGRID_PUBLIC_KEY must be"),
        ({"NEWSLETTER_BOUNCE_SOFT_LIMIT": "0"}, "NEWSLETTER_BOUNCE_SOFT_LIMIT must be at least 1"),
        ({"NEWSLETTER_BOUNCE_SOFT_DAYS": "month"}, "NEWSLETTER_BOUNCE_SOFT_DAYS must be a number"),
    ],
)
def test_bad_webhook_settings_name_the_setting(tmp_path, monkeypatch, env, message):
    with pytest.raises(ConfigError, match=message):
        settings_for(tmp_path, monkeypatch, env=env)


def test_good_webhook_settings(tmp_path, monkeypatch):
    settings = settings_for(
        tmp_path,
        monkeypatch,
        env={
            "NEWSLETTER_SES_TOPIC_ARNS": f"{signing.TOPIC}, arn:aws:sns:us-east-1:123456789012:b",
            "NEWSLETTER_POSTMARK_WEBHOOK_AUTH": "hooks:p:ss",
            "NEWSLETTER_SENDGRID_PUBLIC_KEY": signing.SENDGRID_VECTOR_KEY,
            "NEWSLETTER_BOUNCE_SOFT_LIMIT": "5",
        },
    )
    assert settings.ses_topic_arns == (signing.TOPIC, "arn:aws:sns:us-east-1:123456789012:b")
    assert settings.postmark_webhook_auth == "hooks:p:ss"
    assert (settings.bounce_soft_limit, settings.bounce_soft_days) == (5, 30)


def test_secret_settings_are_not_echoed(tmp_path, monkeypatch):
    with pytest.raises(ConfigError) as info:
        settings_for(tmp_path, monkeypatch, env={"NEWSLETTER_POSTMARK_WEBHOOK_AUTH": "hunter2"})
    assert "hunter2" not in str(info.value)
