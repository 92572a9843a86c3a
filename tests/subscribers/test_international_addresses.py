"""International addresses from signup and import to the SMTP envelope, on a real aiosmtpd.

The case (tests/data/subscribers/05-idn-import.csv): importing four people without
--confirmed must mail all four, `zoe@bücher.example` through her A-label; the
confirmation task used to die on her with UnicodeEncodeError, leaving Bob and
Carl without mail and the pooled connection mid-transaction.
"""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from newsletter import current_settings
from newsletter.cli.subscribers import subscribers as cli
from newsletter.mail.transport import SmtpSender
from newsletter.models import Subscriber, SubscriberStatus
from newsletter.subscribers import emails, service
from tests.smtpd import smtp_server

CASE = Path(__file__).resolve().parent.parent / "data" / "subscribers" / "05-idn-import.csv"


def run_confirmation_tasks(tasks, db_session, sender) -> list[object]:
    """What the worker's confirmation tasks do (worker/tasks/subscribers.py is a thin wrapper)."""
    results: list[object] = []
    for name, args in tasks:
        if name == "subscribers.send_confirmations":
            results.append(
                emails.send_confirmations(
                    db_session, subscriber_ids=args[0], sender=sender, settings=current_settings()
                )
            )
        else:
            results.append(
                emails.send_confirmation(
                    db_session, subscriber_id=args[0], sender=sender, settings=current_settings()
                )
            )
    tasks.clear()
    return results


def addresses(db_session) -> dict[str, int]:
    db_session.expire_all()
    return {s.email: s.id for s in db_session.scalars(select(Subscriber))}


def to_header(content: bytes) -> str:
    parsed = email.message_from_string(content.decode(), policy=email.policy.default)
    return str(parsed["To"].addresses[0].addr_spec)


@pytest.mark.parametrize("smtputf8", [False, True], ids=["plain", "smtputf8"])
def test_the_idn_import_case_mails_all_four(app, db_session, tasks, smtputf8):
    result = CliRunner().invoke(cli, ["import", str(CASE)])
    assert result.exit_code == 0, result.output
    assert "4 created" in result.output and "0 failed" in result.output
    assert "zoe@bücher.example" in addresses(db_session)
    with smtp_server(smtputf8=smtputf8) as (url, server):
        sender = SmtpSender(url, timeout=5)
        [outcome] = run_confirmation_tasks(tasks, db_session, sender)
        sender.close()
    assert len(outcome.sent) == 4 and not outcome.failed and not outcome.retry
    envelopes = [m.rcpt_tos for m in server.messages]
    assert envelopes == [
        ["ann@example.org"],
        ["zoe@xn--bcher-kva.example"],
        ["bob@example.org"],
        ["carl@example.org"],
    ]
    zoe = server.messages[1]
    assert to_header(zoe.content) == "zoe@xn--bcher-kva.example"
    assert "Zoë" in email.message_from_bytes(zoe.content, policy=email.policy.default)["To"]
    assert len({m.peer for m in server.messages}) == 1


def test_a_batch_goes_on_past_recipients_that_fail(app, db_session, tasks, caplog):
    """Mixed batch: a 550, a 451 and an SMTPUTF8 address on a server without it."""
    for address in [
        "ann@example.org",
        "reject@example.org",
        "jürgen@example.org",
        "later@example.org",
        "zoe@bücher.example",
        "bob@example.org",
    ]:
        service.subscribe(db_session, email=address)
    ids = addresses(db_session)
    ordered = sorted(ids.values())
    tasks.clear()
    with smtp_server(smtputf8=False) as (url, server):
        sender = SmtpSender(url, timeout=5)
        outcome = emails.send_confirmations(
            db_session, subscriber_ids=ordered, sender=sender, settings=current_settings()
        )
        # The next message on the same pooled connection still goes out.
        assert emails.send_confirmation(
            db_session,
            subscriber_id=ids["bob@example.org"],
            sender=sender,
            settings=current_settings(),
        )
        sender.close()
    assert sorted(outcome.sent) == sorted(
        ids[a] for a in ("ann@example.org", "zoe@bücher.example", "bob@example.org")
    )
    assert set(outcome.failed) == {ids["reject@example.org"], ids["jürgen@example.org"]}
    assert "SMTPUTF8" in outcome.failed[ids["jürgen@example.org"]]
    assert "550" in outcome.failed[ids["reject@example.org"]]
    assert outcome.retry == [ids["later@example.org"]]
    assert "not sent: the SMTP server does not offer SMTPUTF8" in caplog.text
    delivered = [m.rcpt_tos[0] for m in server.messages]
    assert delivered == [
        "ann@example.org",
        "zoe@xn--bcher-kva.example",
        "bob@example.org",
        "bob@example.org",
    ]
    assert len({m.peer for m in server.messages}) == 1


@pytest.mark.parametrize(
    "address", ["jürgen@example.org", "Jürgen@Bücher.example", "用户@例子.广告"]
)
def test_international_local_parts_are_accepted_at_signup_and_sent_with_smtputf8(
    app, db_session, tasks, address
):
    outcome = service.subscribe(db_session, email=address)
    assert outcome.outcome == "created"
    sub = db_session.get(Subscriber, outcome.subscriber_id)
    assert sub.status is SubscriberStatus.PENDING and sub.email == address.lower()
    with smtp_server(smtputf8=True) as (url, server):
        sender = SmtpSender(url, timeout=5)
        [result] = run_confirmation_tasks(tasks, db_session, sender)
        sender.close()
    assert result is True
    [received] = server.messages
    assert received.smtp_utf8
    local = address.lower().rpartition("@")[0]
    assert received.rcpt_tos[0].startswith(local + "@")
    assert received.rcpt_tos[0].isascii() is False and received.rcpt_tos[0].split("@")[1].isascii()


def test_international_local_part_without_smtputf8_fails_alone_with_a_clear_log(
    app, db_session, tasks, caplog
):
    for address in ("ann@example.org", "jürgen@example.org", "bob@example.org"):
        service.subscribe(db_session, email=address)
    ids = addresses(db_session)
    with smtp_server(smtputf8=False) as (url, server):
        sender = SmtpSender(url, timeout=5)
        [outcome] = run_confirmation_tasks(
            [("subscribers.send_confirmations", (sorted(ids.values()),))], db_session, sender
        )
        sender.close()
    assert [m.rcpt_tos for m in server.messages] == [["ann@example.org"], ["bob@example.org"]]
    assert list(outcome.failed) == [ids["jürgen@example.org"]] and outcome.retry == []
    assert f"confirmation to subscriber {ids['jürgen@example.org']} not sent" in caplog.text
    assert "does not offer SMTPUTF8" in caplog.text


def test_import_accepts_international_local_parts(app, db_session, tasks, tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("email,name\njürgen@example.org,Jürgen\nδοκιμή@παράδειγμα.δοκιμή,\n")
    result = CliRunner().invoke(cli, ["import", str(path)])
    assert result.exit_code == 0 and "2 created" in result.output, result.output
    assert {"jürgen@example.org", "δοκιμή@παράδειγμα.δοκιμή"} <= set(addresses(db_session))


@pytest.mark.slow
def test_the_idn_import_case_end_to_end_through_the_worker(live_stack):
    """The CLI imports the case file; the real Celery worker mails all four via the catcher."""
    result = live_stack.cli("subscribers", "import", str(CASE))
    assert result.returncode == 0, result.stderr
    wanted = {"ann@example.org", "zoe@xn--bcher-kva.example", "bob@example.org", "carl@example.org"}

    def envelope(message) -> str:
        return str(message["X-Envelope-To"])

    for address in sorted(wanted):
        live_stack.outbox.wait_for(lambda m, a=address: envelope(m) == a, timeout=60)
    zoe = live_stack.outbox.wait_for(lambda m: envelope(m) == "zoe@xn--bcher-kva.example")
    assert zoe["To"].addresses[0].addr_spec == "zoe@xn--bcher-kva.example"


def test_the_signup_form_and_api_accept_international_addresses(
    client, db_session, api_token, tasks
):
    form = client.post("/subscribe", data={"email": "Jürgen@Bücher.example", "name": "Jürgen"})
    assert form.status_code == 200
    api = client.post(
        "/api/v1/subscribers",
        json={"email": "zoë@example.org"},
        headers={"Authorization": f"Bearer {api_token}"},
    )
    assert api.status_code == 201, api.get_data(as_text=True)
    assert {"jürgen@bücher.example", "zoë@example.org"} <= set(addresses(db_session))
