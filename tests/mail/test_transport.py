"""SmtpSender against a real aiosmtpd on loopback: A-labels, SMTPUTF8, and clean connections.

The fault: an address with an international domain raised UnicodeEncodeError in
the middle of an SMTP transaction; the pooled connection was left after MAIL FROM,
so the next message met `503 nested MAIL command`.
"""

from __future__ import annotations

import pytest

from newsletter.mail.transport import PermanentFailure, SmtpSender, TemporaryFailure
from tests.smtpd import smtp_server

FROM = "news@news.example.org"


def message(to: str) -> bytes:
    return f"From: {FROM}\r\nTo: {to}\r\nSubject: hello\r\n\r\nHi.\r\n".encode()


def send(sender: SmtpSender, to: str, *, header_to: str | None = None) -> None:
    sender.send(envelope_from=FROM, recipients=[to], message=message(header_to or to))


@pytest.mark.parametrize("smtputf8", [False, True], ids=["plain", "smtputf8"])
@pytest.mark.parametrize(
    ("address", "wire"),
    [
        ("zoe@bücher.example", "zoe@xn--bcher-kva.example"),
        ("ann@straße.example", "ann@xn--strae-oqa.example"),
        ("yuki@例え.jp", "yuki@xn--r8jz45g.jp"),
    ],
)
def test_international_domain_goes_out_as_its_a_label(smtputf8, address, wire):
    with smtp_server(smtputf8=smtputf8) as (url, server):
        sender = SmtpSender(url, timeout=5)
        send(sender, address, header_to=wire)
        send(sender, "bob@example.org")  # the same connection, still clean
        sender.close()
    first, second = server.messages
    assert first.rcpt_tos == [wire] and not first.smtp_utf8
    assert second.rcpt_tos == ["bob@example.org"]
    assert first.peer == second.peer  # the pooled connection was reused


@pytest.mark.parametrize(
    ("address", "wire"),
    [
        ("jürgen@example.org", "jürgen@example.org"),
        ("δοκιμή@παράδειγμα.δοκιμή", "δοκιμή@xn--hxajbheg2az3al.xn--jxalpdlp"),
        ("用户@例子.广告", "用户@xn--fsqu00a.xn--4rr70v"),
    ],
)
def test_international_local_part_is_sent_with_smtputf8_when_offered(address, wire):
    with smtp_server(smtputf8=True) as (url, server):
        sender = SmtpSender(url, timeout=5)
        send(sender, address, header_to=wire)
        send(sender, "bob@example.org")
        sender.close()
    first, second = server.messages
    assert first.smtp_utf8 and first.rcpt_tos == [wire]
    assert f"To: {wire}".encode() in first.content
    assert not second.smtp_utf8 and second.rcpt_tos == ["bob@example.org"]


def test_international_local_part_fails_alone_without_smtputf8():
    with smtp_server(smtputf8=False) as (url, server):
        sender = SmtpSender(url, timeout=5)
        send(sender, "ann@example.org")
        with pytest.raises(PermanentFailure, match=r"does not offer SMTPUTF8.*jürgen@example\.org"):
            send(sender, "jürgen@example.org")
        send(sender, "bob@example.org")
        sender.close()
    assert [m.rcpt_tos for m in server.messages] == [["ann@example.org"], ["bob@example.org"]]
    assert not any("jürgen" in reply for reply in server.replies)  # no transaction begun
    assert server.messages[0].peer == server.messages[1].peer


def test_a_batch_where_middle_recipients_fail_delivers_the_rest_on_one_connection():
    batch = [
        "ann@example.org",
        "reject-me@example.org",  # 550 at RCPT
        "zoe@bücher.example",
        "later@example.org",  # 451 at RCPT
        "jürgen@example.org",  # needs SMTPUTF8, which this server lacks
        "bad@-x-.ü",  # a domain with no ASCII form
        "bob@example.org",
        "carl@example.org",
    ]
    outcomes: dict[str, str] = {}
    with smtp_server(smtputf8=False) as (url, server):
        sender = SmtpSender(url, timeout=5)
        for address in batch:
            try:
                send(sender, address, header_to="reader@example.org")
                outcomes[address] = "sent"
            except PermanentFailure as exc:
                outcomes[address] = f"permanent {exc.code}"
            except TemporaryFailure as exc:
                outcomes[address] = f"temporary {exc.code}"
        sender.close()
    assert outcomes == {
        "ann@example.org": "sent",
        "reject-me@example.org": "permanent 550",
        "zoe@bücher.example": "sent",
        "later@example.org": "temporary 451",
        "jürgen@example.org": "permanent None",
        "bad@-x-.ü": "permanent None",
        "bob@example.org": "sent",
        "carl@example.org": "sent",
    }
    delivered = [m.rcpt_tos[0] for m in server.messages]
    assert delivered == [
        "ann@example.org",
        "zoe@xn--bcher-kva.example",
        "bob@example.org",
        "carl@example.org",
    ]
    assert len({m.peer for m in server.messages}) == 1  # every failure left the connection clean


def test_a_timeout_mid_data_drops_the_connection_and_the_next_message_goes_out():
    with smtp_server(smtputf8=False, slow_seconds=1.5) as (url, server):
        sender = SmtpSender(url, timeout=0.5)
        with pytest.raises(TemporaryFailure):
            send(sender, "slow@example.org")
        send(sender, "bob@example.org")
        sender.close()
    assert [m.rcpt_tos for m in server.messages][-1] == ["bob@example.org"]


def test_connection_refused_is_temporary():
    from tests.smtpd import free_port

    sender = SmtpSender(f"smtp://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(TemporaryFailure) as caught:
        send(sender, "bob@example.org")
    assert caught.value.code is None
