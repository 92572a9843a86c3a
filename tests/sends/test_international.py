"""Internationalized addresses through the whole send pipeline (RFC 6531/6532, RFC 5890).

A non-ASCII local part goes out with SMTPUTF8 and a UTF-8 To: header when the server
offers it; without it, that one delivery fails with a clear reason and the rest go.
"""

from __future__ import annotations

import email
import email.policy

import pytest
from sqlalchemy import select

from newsletter.mail.pool import SmtpPool
from newsletter.mail.smtp import SmtpTarget
from newsletter.models import Delivery, DeliveryStatus, Subscriber

from ..live import free_port
from .conftest import add_subscriber, drain, start
from .smtp_server import ScriptedHandler, start_server

INTERNATIONAL = {
    # stored address -> (address on the wire, needs SMTPUTF8)
    "jürgen@bücher.example": ("jürgen@xn--bcher-kva.example", True),
    "δοκιμή@example.org": ("δοκιμή@example.org", True),
    "zoe@bücher.example": ("zoe@xn--bcher-kva.example", False),
}


@pytest.fixture
def server(request):  # type: ignore[no-untyped-def]
    handler = ScriptedHandler()
    port = free_port()
    controller = start_server(port, handler, smtputf8=request.param)
    pool = SmtpPool(SmtpTarget.from_url(f"smtp://127.0.0.1:{port}", timeout=10), 2)
    yield handler, pool
    pool.close()
    controller.stop()


def _outcome(session, issue_id):  # type: ignore[no-untyped-def]
    session.expire_all()
    found = session.execute(
        select(Subscriber.email, Delivery)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.issue_id == issue_id)
    ).all()
    return dict(found)


@pytest.mark.parametrize("server", [True], indirect=True, ids=["smtputf8"])
def test_international_local_parts_go_out_with_smtputf8_and_a_utf8_to_header(
    db_session, settings, world, server
):
    smtp, pool = server
    for address in INTERNATIONAL:
        add_subscriber(db_session, address)
    issue = world["issue"]
    start(db_session, issue.id)
    drain(db_session, settings, issue.id, pool)

    got = smtp.by_rcpt()
    ledger_rows = _outcome(db_session, issue.id)
    for address, (wire, _utf8) in INTERNATIONAL.items():
        assert ledger_rows[address].status is DeliveryStatus.SENT, ledger_rows[address].last_error
        assert len(got[wire]) == 1, address
        # RFC 6532: the message is UTF-8, so read it as text (bytes parsing would escape it).
        message = email.message_from_string(got[wire][0].data.decode(), policy=email.policy.default)
        assert message["To"].addresses[0].addr_spec == wire  # RFC 6532 UTF-8 header
        body = message.get_body(("plain",)).get_content()
        assert "Shenzhen notes" in body
    raw = got["jürgen@xn--bcher-kva.example"][0].data
    assert "To: jürgen@xn--bcher-kva.example".encode() in raw  # UTF-8, not an encoded word
    # Everyone else still got their one message.
    assert got["all@example.org"] and len(got["bulk0@example.org"]) == 1


@pytest.mark.parametrize("server", [False], indirect=True, ids=["no-smtputf8"])
def test_without_smtputf8_only_the_international_local_parts_fail_with_a_reason(
    db_session, settings, world, server
):
    smtp, pool = server
    for address in INTERNATIONAL:
        add_subscriber(db_session, address)
    issue = world["issue"]
    start(db_session, issue.id)
    drain(db_session, settings, issue.id, pool)

    got = smtp.by_rcpt()
    ledger_rows = _outcome(db_session, issue.id)
    for address, (wire, utf8) in INTERNATIONAL.items():
        row = ledger_rows[address]
        if utf8:
            assert row.status is DeliveryStatus.FAILED
            assert "SMTPUTF8" in row.last_error and "non-ASCII local part" in row.last_error
            assert wire not in got
        else:  # an international domain alone needs nothing: its A-label is ASCII
            assert row.status is DeliveryStatus.SENT and len(got[wire]) == 1
    # The failures poisoned nobody: every other eligible subscriber got exactly one.
    assert all(len(v) == 1 for v in got.values())
    assert {f"bulk{n}@example.org" for n in range(20)} <= set(got)
