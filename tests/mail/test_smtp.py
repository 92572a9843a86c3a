"""One SMTP session (newsletter.mail.smtp) against a real server (aiosmtpd): replies,
resets, reconnects, SMTPUTF8, A-labels, dot-stuffing, command injection."""

from __future__ import annotations

import pytest

from newsletter.mail.errors import PermanentFailure, TemporaryFailure, classify
from newsletter.mail.smtp import SmtpConnection, SmtpTarget

from ..live import free_port
from ..sends.smtp_server import ScriptedHandler, start_server

MESSAGE = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nbody\r\n"


def connection(server) -> SmtpConnection:  # type: ignore[no-untyped-def]
    return SmtpConnection(SmtpTarget.from_url(f"smtp://127.0.0.1:{server.port}", timeout=5))


def send(conn: SmtpConnection, rcpt: str) -> None:
    conn.send(envelope_from="bounces@example.org", recipients=[rcpt], message=MESSAGE)


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        ("550 5.1.1 no such user", PermanentFailure),
        ("553 5.1.3 bad address syntax", PermanentFailure),
        ("421 4.3.2 closing", TemporaryFailure),
        ("452 4.2.2 mailbox full", TemporaryFailure),
    ],
)
@pytest.mark.parametrize("pipelining", [True, False])
def test_a_refused_recipient_never_poisons_the_next_message(server, reply, kind, pipelining):
    server.reply = lambda rcpt: reply if rcpt.startswith("bad") else None
    conn = connection(server)
    conn.smtp = conn._open()
    if pipelining:
        conn.smtp.esmtp_features["pipelining"] = ""
    with pytest.raises(kind) as info:
        send(conn, "bad@example.org")
    assert str(info.value).startswith(reply[:3])
    send(conn, "good@example.org")
    send(conn, "good2@example.org")
    assert [r.rcpt for r in server.received] == ["good@example.org", "good2@example.org"]
    conn.close()


@pytest.mark.parametrize("offered", [True, False])
def test_an_address_that_needs_smtputf8_uses_it_or_fails_clearly(offered):
    handler = ScriptedHandler()
    port = free_port()
    controller = start_server(port, handler, smtputf8=offered)
    try:
        conn = SmtpConnection(SmtpTarget.from_url(f"smtp://127.0.0.1:{port}", timeout=5))
        if offered:
            send(conn, "jöhn@example.org")
        else:
            with pytest.raises(PermanentFailure, match="SMTPUTF8"):
                send(conn, "jöhn@example.org")
        send(conn, "john@example.org")  # the next message is unaffected either way
        expected = ["jöhn@example.org", "john@example.org"] if offered else ["john@example.org"]
        assert [r.rcpt for r in handler.received] == expected
    finally:
        controller.stop()


def test_a_dropped_connection_is_reopened(server):
    conn = connection(server)
    send(conn, "one@example.org")
    assert conn.smtp is not None
    conn.smtp.sock.close()  # the server side sees the connection go away
    send(conn, "two@example.org")
    assert [r.rcpt for r in server.received] == ["one@example.org", "two@example.org"]


def test_a_server_that_is_down_is_a_temporary_failure():
    conn = SmtpConnection(SmtpTarget.from_url(f"smtp://127.0.0.1:{free_port()}", timeout=2))
    with pytest.raises(TemporaryFailure):
        send(conn, "x@example.org")


def test_classify_follows_rfc_5321_classes():
    assert isinstance(classify(550, b"5.1.1 unknown"), PermanentFailure)
    assert isinstance(classify(451, "later"), TemporaryFailure)
    assert isinstance(classify(-1, "connection lost"), TemporaryFailure)


@pytest.mark.parametrize("pipelining", [True, False])
def test_lines_starting_with_a_dot_arrive_intact(server, pipelining):
    conn = connection(server)
    body = MESSAGE + b".\r\n..two dots\r\n.one dot\r\nend"
    conn.smtp = conn._open()
    if not pipelining:
        conn.smtp.esmtp_features.pop("pipelining", None)
    else:  # aiosmtpd reads commands in order, so it copes with pipelined input
        conn.smtp.esmtp_features["pipelining"] = ""
    conn.send(envelope_from="b@example.org", recipients=["dots@example.org"], message=body)
    received = server.received[0].data.replace(b"\r\n", b"\n")
    assert received.endswith(b"\n.\n..two dots\n.one dot\nend\n")
    conn.close()


def test_international_domains_go_out_as_a_labels(server):
    conn = connection(server)
    send(conn, "reader@bücher.example")
    assert [r.rcpt for r in server.received] == ["reader@xn--bcher-kva.example"]


@pytest.mark.parametrize("pipelining", [True, False])
def test_an_address_with_line_breaks_cannot_inject_smtp_commands(server, pipelining):
    conn = connection(server)
    conn.smtp = conn._open()
    if pipelining:
        conn.smtp.esmtp_features["pipelining"] = ""
    with pytest.raises(PermanentFailure):
        send(conn, "x@example.org>\r\nRCPT TO:<victim@example.org")
    send(conn, "ok@example.org")
    assert [r.rcpt for r in server.received] == ["ok@example.org"]
