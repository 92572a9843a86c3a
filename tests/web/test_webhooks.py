"""POST /webhooks/<provider> end to end: real app, real database, real Redis for Mailgun tokens."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from newsletter.models import Event, SubscriberStatus, Suppression
from newsletter.web.webhooks import HTTP_GET, MAX_BODY
from tests.bounces import signing
from tests.bounces.conftest import subscriber_of
from tests.conftest import REDIS_URL, make_test_app

MAILGUN_KEY = "key-test-mailgun"
POSTMARK_AUTH = "hooks:pm-secret"
SNS = signing.SnsSigner()
SENDGRID = signing.SendGridSigner()
PROVIDERS = ["ses", "postmark", "mailgun", "sendgrid"]


@pytest.fixture
def hooks_app(connection, tmp_path):  # type: ignore[no-untyped-def]
    app = make_test_app(
        connection,
        tmp_path,
        SES_TOPIC_ARNS=signing.TOPIC,
        POSTMARK_WEBHOOK_AUTH=POSTMARK_AUTH,
        MAILGUN_SIGNING_KEY=MAILGUN_KEY,
        SENDGRID_PUBLIC_KEY=SENDGRID.public_key,
        REDIS_URL=REDIS_URL,
    )
    app.extensions[HTTP_GET] = SNS.fetch  # the outside world: AWS's certificate host
    with app.app_context():
        yield app


@pytest.fixture
def hooks(hooks_app):  # type: ignore[no-untyped-def]
    return hooks_app.test_client()


def hard_bounce_request(
    provider: str, email: str, *, event_id: str = "ev-1"
) -> tuple[bytes, dict[str, str]]:
    """A valid, signed request reporting a hard bounce (5.1.1) for `email`."""
    if provider == "ses":
        message = SNS.sign(signing.sns_notification(signing.ses_bounce(email), message_id=event_id))
        return json.dumps(message).encode(), {"x-amz-sns-message-type": "Notification"}
    if provider == "postmark":
        body = {
            "RecordType": "Bounce",
            "ID": event_id,
            "Type": "HardBounce",
            "Email": email,
            "Details": "smtp;550 5.1.1 The email account does not exist.",
            "BouncedAt": "2026-11-29T10:00:00Z",
        }
        return json.dumps(body).encode(), signing.basic(POSTMARK_AUTH)
    if provider == "mailgun":
        body = {
            "signature": signing.mailgun_sign(MAILGUN_KEY, token=uuid.uuid4().hex),
            "event-data": signing.mailgun_failed(email, event_id=event_id),
        }
        return json.dumps(body).encode(), {}
    events = [
        {
            "email": email,
            "event": "bounce",
            "type": "bounce",
            "status": "5.1.1",
            "reason": "550 5.1.1 does not exist",
            "sg_event_id": event_id,
            "timestamp": 1707819123,
        }
    ]
    body_bytes = json.dumps(events).encode() + b"\r\n"
    return body_bytes, SENDGRID.headers(body_bytes)


def post(client, provider: str, body: bytes, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post(
        f"/webhooks/{provider}", data=body, headers={"Content-Type": "application/json", **headers}
    )


def nothing_changed(db_session, delivery) -> bool:  # type: ignore[no-untyped-def]
    events = db_session.scalar(
        select(func.count()).select_from(Event).where(Event.provider_event_id.is_not(None))
    )
    suppressions = db_session.scalar(select(func.count()).select_from(Suppression))
    return (
        events == 0
        and suppressions == 0
        and subscriber_of(db_session, delivery).status is SubscriberStatus.ACTIVE
    )


@pytest.mark.parametrize("provider", PROVIDERS)
def test_valid_request_suppresses_the_hard_bounce(hooks, db_session, mailed, provider):
    delivery = mailed("jane@example.com")
    body, headers = hard_bounce_request(provider, "Jane@Example.com")
    response = post(hooks, provider, body, headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"received": 1, "recorded": 1}
    assert subscriber_of(db_session, delivery).status is SubscriberStatus.BOUNCED


@pytest.mark.parametrize("provider", PROVIDERS)
def test_replayed_request_changes_nothing_the_second_time(hooks, db_session, mailed, provider):
    mailed("jane@example.com")
    body, headers = hard_bounce_request(provider, "jane@example.com")
    assert post(hooks, provider, body, headers).status_code == 200
    count = db_session.scalar(
        select(func.count()).select_from(Event).where(Event.provider_event_id.is_not(None))
    )
    again = post(hooks, provider, body, headers)
    if provider == "mailgun":
        assert again.status_code == 403  # its token was used already
    else:
        assert again.status_code == 200 and again.get_json()["recorded"] == 0
    assert (
        db_session.scalar(
            select(func.count()).select_from(Event).where(Event.provider_event_id.is_not(None))
        )
        == count
        == 1
    )


def forge(provider: str, body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """The same request with its credentials broken the way an attacker would."""
    if provider == "ses":
        message = json.loads(body)
        message["Message"] = message["Message"].replace("5.1.1", "5.1.2")
        return json.dumps(message).encode(), headers
    if provider == "postmark":
        return body, signing.basic("hooks:guess")
    if provider == "mailgun":
        data = json.loads(body)
        data["signature"]["signature"] = "0" * 64
        return json.dumps(data).encode(), headers
    return body.replace(b"bounce", b"bounce ", 1), headers


@pytest.mark.parametrize("provider", PROVIDERS)
def test_forged_request_is_403_and_changes_nothing(hooks, db_session, mailed, provider):
    delivery = mailed("jane@example.com")
    body, headers = forge(provider, *hard_bounce_request(provider, "jane@example.com"))
    response = post(hooks, provider, body, headers)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert nothing_changed(db_session, delivery)


def strip_credentials(provider: str, body: bytes) -> bytes:
    if provider == "ses":
        message = json.loads(body)
        del message["Signature"]
        return json.dumps(message).encode()
    if provider == "mailgun":
        data = json.loads(body)
        del data["signature"]
        return json.dumps(data).encode()
    return body


@pytest.mark.parametrize("provider", PROVIDERS)
def test_missing_credentials_is_401_and_changes_nothing(hooks, db_session, mailed, provider):
    delivery = mailed("jane@example.com")
    body, _ = hard_bounce_request(provider, "jane@example.com")
    response = post(hooks, provider, strip_credentials(provider, body), {})
    assert response.status_code == 401
    if provider == "postmark":
        assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert nothing_changed(db_session, delivery)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_disabled_endpoint_is_404(client, provider):
    body, headers = hard_bounce_request(provider, "jane@example.com")
    response = post(client, provider, body, headers)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def signed(provider: str, body: bytes) -> dict[str, str]:
    """Valid credentials for an arbitrary body where the provider signs outside it."""
    if provider == "postmark":
        return signing.basic(POSTMARK_AUTH)
    if provider == "sendgrid":
        return SENDGRID.headers(body)
    return {}


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe\x00",
        b"[1, 2",
        b"null",
        b"42",
        b'"text"',
        b"[[[]]]",
        b"[" * 5000 + b"]" * 5000,
        b'{"Email": 5, "RecordType": "Bounce", "ID": 1}',
        b'[{"email": ["x"], "event": "bounce", "sg_event_id": "e"}]',
    ],
)
def test_malformed_bodies_are_4xx_and_change_nothing(hooks, db_session, mailed, provider, body):
    delivery = mailed("jane@example.com")
    response = post(hooks, provider, body, signed(provider, body))
    assert 400 <= response.status_code < 500, response.get_data()
    assert "error" in response.get_json()
    assert nothing_changed(db_session, delivery)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_ten_megabyte_body_is_413(hooks, db_session, mailed, provider):
    delivery = mailed("jane@example.com")
    body = b"[" + b" " * (10 * 1024 * 1024) + b"]"
    response = post(hooks, provider, body, signed(provider, b"[]"))
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
    assert nothing_changed(db_session, delivery)


def test_body_just_under_the_cap_is_read(hooks, db_session, mailed):
    mailed("jane@example.com")
    body, _ = hard_bounce_request("sendgrid", "jane@example.com")
    body = body + b" " * (MAX_BODY - len(body))
    response = post(hooks, "sendgrid", body, SENDGRID.headers(body))
    assert response.status_code == 200 and response.get_json()["recorded"] == 1


@pytest.mark.parametrize("field", ["Details", "Email"])
def test_lone_surrogates_never_reach_the_database(hooks, db_session, mailed, field):
    delivery = mailed("jane@example.com")
    record = {
        "RecordType": "Bounce",
        "ID": f"s-{field}",
        "Type": "SoftBounce",
        "Email": "jane@example.com",
        "Details": "mailbox full",
    }
    body = (
        json.dumps(record)
        .encode()
        .replace(f'"{field}": "'.encode(), f'"{field}": "\\ud800'.encode())
    )
    assert b"\\ud800" in body
    response = post(hooks, "postmark", body, signing.basic(POSTMARK_AUTH))
    assert response.status_code in (200, 400)
    if field == "Email":  # "?jane@example.com" is nobody we mailed
        assert response.get_json() == {"received": 1, "recorded": 0}
        assert nothing_changed(db_session, delivery)
    else:
        assert response.get_json() == {"received": 1, "recorded": 1}


def test_ses_subscription_confirmation_over_http(hooks):
    SNS.fetched.clear()
    confirmation = SNS.sign(
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": "c-web",
            "Token": "tok",
            "TopicArn": signing.TOPIC,
            "Message": "confirm",
            "SubscribeURL": signing.SUBSCRIBE_URL,
            "Timestamp": signing.sns_notification({})["Timestamp"],
        }
    )
    response = post(
        hooks,
        "ses",
        json.dumps(confirmation).encode(),
        {"x-amz-sns-message-type": "SubscriptionConfirmation"},
    )
    assert response.status_code == 200 and response.get_json()["received"] == 0
    assert signing.SUBSCRIBE_URL in SNS.fetched


def test_mailgun_soft_then_policy_failures(hooks, db_session, mailed):
    delivery = mailed("jane@example.com")
    for n, (severity, code, message) in enumerate(
        [
            ("permanent", "5.7.1", "rejected by policy"),
            ("temporary", "4.2.2", "mailbox full"),
            ("temporary", "4.2.2", "mailbox full"),
        ]
    ):
        body = json.dumps(
            {
                "signature": signing.mailgun_sign(MAILGUN_KEY, token=uuid.uuid4().hex),
                "event-data": signing.mailgun_failed(
                    "jane@example.com",
                    event_id=f"e{n}",
                    severity=severity,
                    code=code,
                    message=message,
                ),
            }
        ).encode()
        assert post(hooks, "mailgun", body, {}).status_code == 200
    # The policy failure never counts; two temporary reports of one message count once.
    subscriber = subscriber_of(db_session, delivery)
    assert subscriber.status is SubscriberStatus.ACTIVE and subscriber.bounce_count == 1


def test_admin_page_says_why_someone_was_suppressed(
    hooks_app, hooks, db_session, mailed, make_user
):
    from tests.conftest import csrf_token_from

    delivery = mailed("jane@example.com")
    body, headers = hard_bounce_request("ses", "jane@example.com")
    assert post(hooks, "ses", body, headers).status_code == 200
    user, password = make_user(email="admin@example.org", role="admin")
    page = hooks.get("/login").get_data(as_text=True)
    hooks.post(
        "/login",
        data={"email": user.email, "password": password, "csrf_token": csrf_token_from(page)},
    )
    html = hooks.get(f"/admin/subscribers/{delivery.subscriber_id}").get_data(as_text=True)
    assert "bounced" in html
    assert "hard bounce via ses: 5.1.1 smtp; 550 5.1.1 user unknown" in html
    assert "Hard bounce" in html and "Permanent/General" in html


def test_database_unavailable_is_503_and_the_retry_is_accepted(hooks, connection):
    """A locked table (PostgreSQL lock timeout) answers 503; Mailgun's retry with the
    same token is then accepted, since a request we failed to record gives its token back."""
    if connection.dialect.name != "postgresql":
        pytest.skip("needs a second connection holding a lock")
    from sqlalchemy import text

    body, headers = hard_bounce_request("mailgun", "nobody@example.com")
    connection.execute(text("SET LOCAL lock_timeout = '200ms'"))
    with connection.engine.connect() as other:
        other.execute(text("LOCK TABLE events IN ACCESS EXCLUSIVE MODE"))
        response = post(hooks, "mailgun", body, headers)
        other.rollback()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    retry = post(hooks, "mailgun", body, headers)
    assert retry.status_code == 200, retry.get_json()


BODIES = st.one_of(
    st.binary(max_size=300),
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False)
        | st.text(max_size=30),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "event",
                        "email",
                        "sg_event_id",
                        "type",
                        "status",
                        "reason",
                        "RecordType",
                        "Type",
                        "ID",
                        "Email",
                        "Details",
                        "BouncedAt",
                        "Recipient",
                        "MessageID",
                    ]
                ),
                children,
                max_size=6,
            )
        ),
        max_leaves=15,
    ).map(lambda value: json.dumps(value).encode()),
)


@settings(
    derandomize=True,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=BODIES)
def test_no_body_gets_a_server_error(hooks, body):
    """Whatever a provider with valid credentials sends: an answer, never a 5xx."""
    for provider in ("postmark", "sendgrid", "mailgun", "ses"):
        response = post(hooks, provider, body, signed(provider, body))
        assert response.status_code < 500, (provider, body, response.get_data())
        assert response.is_json


def test_redis_away_is_503_for_mailgun(connection, tmp_path):
    # Port 9 on loopback: nothing listens, so the replay cache cannot be reached.
    app = make_test_app(
        connection, tmp_path, MAILGUN_SIGNING_KEY=MAILGUN_KEY, REDIS_URL="redis://127.0.0.1:9/0"
    )
    body, headers = hard_bounce_request("mailgun", "jane@example.com")
    with app.app_context():
        response = post(app.test_client(), "mailgun", body, headers)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"


def test_an_earlier_hook_reading_the_json_body_does_not_break_signatures(
    connection, tmp_path, db_session, mailed
):
    """App-wide hooks (a text guard, say) may parse a JSON body before the view runs."""
    from flask import request

    app = make_test_app(connection, tmp_path, SENDGRID_PUBLIC_KEY=SENDGRID.public_key)
    app.before_request_funcs.setdefault(None, []).insert(
        0, lambda: request.get_json(silent=True) and None
    )
    delivery = mailed("jane@example.com")
    body, headers = hard_bounce_request("sendgrid", "jane@example.com")
    with app.app_context():
        response = post(app.test_client(), "sendgrid", body, headers)
    assert response.status_code == 200, response.get_json()
    assert subscriber_of(db_session, delivery).status is SubscriberStatus.BOUNCED


def test_a_nul_in_a_provider_diagnostic_is_cleaned_not_refused(hooks, db_session, mailed):
    """The app-wide text guard leaves webhook bodies alone; the stored text has no NUL."""
    mailed("jane@example.com")
    record = {
        "RecordType": "Bounce",
        "ID": "nul-1",
        "Type": "HardBounce",
        "Email": "jane@example.com",
        "Details": "smtp;550 5.1.1 no\u0000such user",
    }
    response = post(hooks, "postmark", json.dumps(record).encode(), signing.basic(POSTMARK_AUTH))
    assert response.status_code == 200 and response.get_json()["recorded"] == 1
    event = db_session.scalar(select(Event).where(Event.provider_event_id == "postmark:nul-1"))
    assert event.data["diagnostic"] == "smtp;550 5.1.1 no such user"
