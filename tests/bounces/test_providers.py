"""Provider modules without Flask or a database: verification and normalisation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.bounces.events import Kind, ProviderEvent
from newsletter.bounces.webhooks import (
    BadSignature,
    MalformedPayload,
    MissingCredentials,
    WebhookError,
    mailgun,
    postmark,
    sendgrid,
    ses,
)
from newsletter.bounces.webhooks.nonces import MemoryNonces

from . import signing

# --- SES through SNS ----------------------------------------------------------------


@pytest.fixture
def sns() -> signing.SnsSigner:
    return signing.SnsSigner()


def ses_parse(sns: signing.SnsSigner, message: dict, **kwargs):  # type: ignore[no-untyped-def]
    body = json.dumps(message).encode()
    return ses.parse(
        {},
        body,
        topic_arns=kwargs.pop("topics", [signing.TOPIC]),
        fetch=sns.fetch,
        certs=ses.CertCache(),
        **kwargs,
    )


@pytest.mark.parametrize("version", ["1", "2"])
def test_ses_bounce_verifies_with_both_signature_versions(sns, version):
    message = sns.sign(
        signing.sns_notification(
            signing.ses_bounce("Jane@Example.com", message_id="<c42.s7.abc@news.example.org>")
        ),
        version,
    )
    [event] = ses_parse(sns, message)
    assert event.kind is Kind.BOUNCE
    assert event.recipient == "jane@example.com"
    assert event.hard is True
    assert event.status == "5.1.1"
    assert event.message_id == "c42.s7.abc@news.example.org"
    assert event.provider_event_id.startswith("ses:165545c9")
    assert sns.fetched == [signing.CERT_URL]


def test_ses_forged_signature_is_refused(sns):
    message = sns.sign(signing.sns_notification(signing.ses_bounce("jane@example.com")))
    message["Message"] = message["Message"].replace("jane@", "john@")
    with pytest.raises(BadSignature):
        ses_parse(sns, message)


def test_ses_signed_by_another_key_is_refused(sns):
    other = signing.SnsSigner()
    message = other.sign(signing.sns_notification(signing.ses_bounce("jane@example.com")))
    with pytest.raises(BadSignature):
        ses_parse(sns, message)  # sns serves its own certificate, not other's


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.eu-west-1.amazonaws.com.evil.example/SimpleNotificationService-abc.pem",
        "https://evil.example/SimpleNotificationService-abc.pem",
        "https://sns.eu-west-1.amazonaws.com:8443/SimpleNotificationService-abc.pem",
        "https://user@sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.eu-west-1.amazonaws.com/other.pem",
        "https://s3.amazonaws.com/SimpleNotificationService-abc.pem",
    ],
)
def test_ses_certificate_only_from_an_sns_host(sns, url):
    message = sns.sign(signing.sns_notification(signing.ses_bounce("jane@example.com")))
    message["SigningCertURL"] = url
    with pytest.raises(BadSignature):
        ses_parse(sns, message)
    assert sns.fetched == []  # never fetched from elsewhere


def test_ses_unknown_topic_is_refused_before_any_fetch(sns):
    topic = "arn:aws:sns:eu-west-1:999999999999:other"
    message = sns.sign(signing.sns_notification(signing.ses_bounce("j@example.com"), topic=topic))
    with pytest.raises(BadSignature, match="topic"):
        ses_parse(sns, message)
    assert sns.fetched == []


def test_ses_stale_message_is_refused(sns):
    old = datetime.now(UTC) - timedelta(hours=2)
    message = sns.sign(signing.sns_notification(signing.ses_bounce("j@example.com"), timestamp=old))
    with pytest.raises(BadSignature, match="hour"):
        ses_parse(sns, message)


def test_ses_certificate_is_cached(sns):
    certs = ses.CertCache()
    for n in range(3):
        message = sns.sign(
            signing.sns_notification(signing.ses_bounce("j@example.com"), message_id=f"m{n}")
        )
        ses.parse(
            {},
            json.dumps(message).encode(),
            topic_arns=[signing.TOPIC],
            fetch=sns.fetch,
            certs=certs,
        )
    assert sns.fetched == [signing.CERT_URL]


def test_ses_subscription_confirmation_gets_the_subscribe_url(sns):
    confirmation = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "c1",
        "Token": "tok",
        "TopicArn": signing.TOPIC,
        "Message": "You have chosen to subscribe",
        "SubscribeURL": signing.SUBSCRIBE_URL,
        "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    assert ses_parse(sns, sns.sign(confirmation)) == []
    assert sns.fetched == [signing.CERT_URL, signing.SUBSCRIBE_URL]


def test_ses_subscription_to_an_outside_url_is_not_fetched(sns):
    confirmation = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "c1",
        "Token": "tok",
        "TopicArn": signing.TOPIC,
        "Message": "You have chosen to subscribe",
        "SubscribeURL": "https://127.0.0.1/internal",
        "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    with pytest.raises(BadSignature):
        ses_parse(sns, sns.sign(confirmation))
    assert signing.SUBSCRIBE_URL not in sns.fetched and len(sns.fetched) == 1


@pytest.mark.parametrize(
    ("bounce_type", "sub_type", "status", "diagnostic", "hard"),
    [
        ("Permanent", "General", "5.1.1", "smtp; 550 5.1.1 user unknown", True),
        ("Permanent", "NoEmail", "5.1.2", "smtp; 550 5.1.2 bad domain", True),
        ("Permanent", "Suppressed", "5.0.0", "Amazon SES has suppressed sending", True),
        ("Permanent", "General", "5.7.1", "smtp; 550 5.7.1 rejected by policy", None),
        ("Permanent", "General", "5.0.0", "smtp; 554 blocked using Spamhaus", None),
        ("Transient", "MailboxFull", "5.2.2", "smtp; 552 5.2.2 mailbox full", False),
        ("Transient", "General", "4.4.7", "smtp; 421 timed out", False),
        ("Transient", "MessageTooLarge", "5.3.4", "smtp; 552 5.3.4 too big", None),
        ("Undetermined", "Undetermined", "", "", None),
    ],
)
def test_ses_hard_and_soft(sns, bounce_type, sub_type, status, diagnostic, hard):
    message = sns.sign(
        signing.sns_notification(
            signing.ses_bounce(
                "j@example.com",
                bounce_type=bounce_type,
                sub_type=sub_type,
                status=status,
                diagnostic=diagnostic,
            )
        )
    )
    [event] = ses_parse(sns, message)
    assert event.hard is hard


def test_ses_complaint(sns):
    message = sns.sign(signing.sns_notification(signing.ses_complaint("j@example.com")))
    [event] = ses_parse(sns, message)
    assert (event.kind, event.recipient, event.reason) == (Kind.COMPLAINT, "j@example.com", "abuse")


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"Type": "Other"}', b'{"Type": "Notification"}', b"\xff\xfe"],
)
def test_ses_malformed(sns, body):
    with pytest.raises(MalformedPayload):
        ses.parse({}, body, topic_arns=[signing.TOPIC], fetch=sns.fetch, certs=ses.CertCache())


# --- Postmark ---------------------------------------------------------------------

POSTMARK_BOUNCE = {
    "RecordType": "Bounce",
    "ID": 4323372036854775807,
    "Type": "HardBounce",
    "TypeCode": 1,
    "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
    "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
    "Email": "jane@example.com",
    "BouncedAt": "2024-02-13T10:12:03Z",
}


def test_postmark_reference_payload():
    [event] = postmark.parse(
        signing.basic("hook:s3cret"), json.dumps(POSTMARK_BOUNCE).encode(), auth="hook:s3cret"
    )
    assert event.hard is True and event.status == "5.1.1"
    assert event.provider_event_id == "postmark:4323372036854775807"
    assert event.occurred_at == datetime(2024, 2, 13, 10, 12, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({}, MissingCredentials),
        ({"Authorization": "Bearer x"}, MissingCredentials),
        (signing.basic("hook:wrong"), BadSignature),
        (signing.basic("hook:s3cret2"), BadSignature),
        ({"Authorization": "Basic %%%"}, BadSignature),
    ],
)
def test_postmark_credentials(headers, error):
    with pytest.raises(error):
        postmark.parse(headers, json.dumps(POSTMARK_BOUNCE).encode(), auth="hook:s3cret")


@pytest.mark.parametrize(
    ("bounce_type", "details", "hard"),
    [
        ("SoftBounce", "smtp;452 4.2.2 mailbox full", False),
        ("Transient", "", False),
        ("Blocked", "smtp;550 5.7.1 blocked", None),
        ("DMARCPolicy", "", None),
        ("BadEmailAddress", "", True),
        ("HardBounce", "smtp;550 5.7.26 unauthenticated mail is prohibited", None),
    ],
)
def test_postmark_types(bounce_type, details, hard):
    body = json.dumps({**POSTMARK_BOUNCE, "Type": bounce_type, "Details": details}).encode()
    [event] = postmark.parse(signing.basic("a:b"), body, auth="a:b")
    assert event.hard is hard


def test_postmark_complaint_and_autoreply():
    complaint = {**POSTMARK_BOUNCE, "RecordType": "SpamComplaint", "Type": "SpamComplaint"}
    [event] = postmark.parse(signing.basic("a:b"), json.dumps(complaint).encode(), auth="a:b")
    assert event.kind is Kind.COMPLAINT
    auto = {**POSTMARK_BOUNCE, "Type": "AutoResponder"}
    assert postmark.parse(signing.basic("a:b"), json.dumps(auto).encode(), auth="a:b") == []


# --- Mailgun ----------------------------------------------------------------------

KEY = "key-mailgun-signing"


def mailgun_body(event: dict, **sign) -> bytes:  # type: ignore[no-untyped-def]
    token = sign.pop("token", "e0b5477167110d68991efc6b9f89f0a11066af27834600e123")
    return json.dumps(
        {"signature": signing.mailgun_sign(KEY, token=token, **sign), "event-data": event}
    ).encode()


def test_mailgun_reference_vector_shape_verifies():
    # The reference example's timestamp and token, signed with our key, at its own time.
    body = mailgun_body(signing.mailgun_failed("Jane@example.com"), timestamp=1707819123)
    [event] = mailgun.parse(
        {},
        body,
        signing_key=KEY,
        nonces=MemoryNonces(),
        now=datetime.fromtimestamp(1707819130, UTC),
    )
    assert (event.recipient, event.hard, event.status) == ("jane@example.com", True, "5.1.1")
    assert event.message_id == "c42.s1007.1707819121@news.example.org"
    assert event.provider_event_id == "mailgun:G9Bn5sl1TC6nu79C8C0bwg"


def test_mailgun_forged_and_replayed():
    nonces = MemoryNonces()
    body = mailgun_body(signing.mailgun_failed("j@example.com"))
    forged = body.replace(b"j@example.com", b"k@example.com")
    with pytest.raises(BadSignature):
        mailgun.parse(
            {}, json.dumps({**json.loads(forged)}).encode(), signing_key="other", nonces=nonces
        )
    assert len(mailgun.parse({}, body, signing_key=KEY, nonces=nonces)) == 1
    with pytest.raises(BadSignature, match="already used"):
        mailgun.parse({}, body, signing_key=KEY, nonces=nonces)


def test_mailgun_stale_timestamp_and_missing_signature():
    old = int(datetime.now(UTC).timestamp()) - 3600
    with pytest.raises(BadSignature, match="window"):
        mailgun.parse(
            {},
            mailgun_body(signing.mailgun_failed("j@example.com"), timestamp=old),
            signing_key=KEY,
            nonces=MemoryNonces(),
        )
    with pytest.raises(MissingCredentials):
        mailgun.parse(
            {}, json.dumps({"event-data": {}}).encode(), signing_key=KEY, nonces=MemoryNonces()
        )


@pytest.mark.parametrize(
    ("severity", "code", "message", "hard"),
    [
        ("permanent", "5.1.1", "No such user", True),
        ("permanent", "5.7.1", "Message rejected due to policy", None),
        ("permanent", "", "blocked by Spamhaus", None),
        ("temporary", "4.2.2", "mailbox full", False),
        ("permanent", "5.2.2", "mailbox full", False),
    ],
)
def test_mailgun_severity(severity, code, message, hard):
    body = mailgun_body(
        signing.mailgun_failed("j@example.com", severity=severity, code=code, message=message)
    )
    [event] = mailgun.parse({}, body, signing_key=KEY, nonces=MemoryNonces())
    assert event.hard is hard


def test_mailgun_expired_after_retries_is_soft():
    event_data = signing.mailgun_failed("j@example.com", code="", message="Too old")
    event_data["reason"] = "old"
    [event] = mailgun.parse({}, mailgun_body(event_data), signing_key=KEY, nonces=MemoryNonces())
    assert event.hard is False and event.reason == "permanent/old"


# --- SendGrid ---------------------------------------------------------------------


def test_sendgrid_known_good_vector():
    headers = {
        sendgrid.SIGNATURE_HEADER: signing.SENDGRID_VECTOR_SIGNATURE,
        sendgrid.TIMESTAMP_HEADER: signing.SENDGRID_VECTOR_TIMESTAMP,
    }
    [event] = sendgrid.parse(
        headers, signing.SENDGRID_VECTOR_BODY, public_key=signing.SENDGRID_VECTOR_KEY
    )
    assert (event.kind, event.recipient, event.hard) == (Kind.BOUNCE, "hello@world.com", True)
    assert event.message_id == "LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net"


@pytest.mark.parametrize(
    "change",
    [
        lambda h, b: (h, b.rstrip(b"\r\n")),  # without the trailing CRLF
        lambda h, b: (h, json.dumps(json.loads(b)).encode()),  # re-serialised JSON
        lambda h, b: ({**h, sendgrid.TIMESTAMP_HEADER: "1600112503"}, b),  # another timestamp
    ],
)
def test_sendgrid_vector_fails_when_anything_changes(change):
    headers = {
        sendgrid.SIGNATURE_HEADER: signing.SENDGRID_VECTOR_SIGNATURE,
        sendgrid.TIMESTAMP_HEADER: signing.SENDGRID_VECTOR_TIMESTAMP,
    }
    headers, body = change(headers, signing.SENDGRID_VECTOR_BODY)
    with pytest.raises(BadSignature):
        sendgrid.parse(headers, body, public_key=signing.SENDGRID_VECTOR_KEY)


def test_sendgrid_generated_key_and_kinds():
    signer = signing.SendGridSigner()
    body = json.dumps(
        [
            {
                "email": "a@example.com",
                "event": "bounce",
                "type": "bounce",
                "status": "5.1.1",
                "reason": "550 5.1.1 does not exist",
                "sg_event_id": "e1",
                "timestamp": 1707819123,
            },
            {
                "email": "b@example.com",
                "event": "bounce",
                "type": "blocked",
                "status": "5.0.0",
                "reason": "550 blocked",
                "sg_event_id": "e2",
                "timestamp": 1707819123,
            },
            {"email": "c@example.com", "event": "deferred", "sg_event_id": "e3"},
            {"email": "d@example.com", "event": "spamreport", "sg_event_id": "e4"},
            {"email": "e@example.com", "event": "delivered", "sg_event_id": "e5"},
            {"email": "f@example.com", "event": "open", "sg_event_id": "e6"},
        ]
    ).encode()
    events = sendgrid.parse(signer.headers(body), body, public_key=signer.public_key)
    assert [(e.recipient, e.kind, e.hard) for e in events] == [
        ("a@example.com", Kind.BOUNCE, True),
        ("b@example.com", Kind.BOUNCE, None),
        ("d@example.com", Kind.COMPLAINT, None),
        ("e@example.com", Kind.DELIVERY, None),
    ]
    with pytest.raises(MissingCredentials):
        sendgrid.parse({}, body, public_key=signer.public_key)
    with pytest.raises(BadSignature):
        sendgrid.parse(signing.SendGridSigner().headers(body), body, public_key=signer.public_key)


def test_sendgrid_one_bad_event_refuses_the_batch():
    signer = signing.SendGridSigner()
    body = json.dumps(
        [
            {"email": "a@example.com", "event": "spamreport", "sg_event_id": "e1"},
            {"email": 5, "event": "spamreport", "sg_event_id": "e2"},
        ]
    ).encode()
    with pytest.raises(MalformedPayload):
        sendgrid.parse(signer.headers(body), body, public_key=signer.public_key)


# --- no body raises anything but a WebhookError -----------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "event",
                    "email",
                    "sg_event_id",
                    "recipient",
                    "id",
                    "Type",
                    "RecordType",
                    "Email",
                    "ID",
                    "TopicArn",
                    "Message",
                    "severity",
                    "delivery-status",
                    "message",
                    "x",
                ]
            ),
            children,
            max_size=6,
        )
    ),
    max_leaves=20,
)


@settings(derandomize=True, max_examples=150, deadline=None)
@given(JSON)
def test_any_verified_body_gives_events_or_a_webhook_error(value):
    body = json.dumps(value).encode()
    signer = SIGNER
    calls = [
        lambda: postmark.parse(signing.basic("a:b"), body, auth="a:b"),
        lambda: sendgrid.parse(signer.headers(body), body, public_key=signer.public_key),
        lambda: mailgun.normalise(value) if isinstance(value, dict) else None,
        lambda: ses.normalise(value, sns_message_id="m") if isinstance(value, dict) else None,
    ]
    for call in calls:
        try:
            events = call()
        except WebhookError as exc:
            assert 400 <= exc.status < 500, exc
            continue
        for event in events or []:
            assert isinstance(event, ProviderEvent)
            assert event.provider_event_id and event.recipient == event.recipient.lower()


SIGNER = signing.SendGridSigner()
