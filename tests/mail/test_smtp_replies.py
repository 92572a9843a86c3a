"""SmtpSender's 4xx/5xx handling against a real aiosmtpd on loopback.

RFC 5321 §4.2.1: a 4yz reply is a transient failure (try again later), a 5yz reply a
permanent one. The server below answers 421, 450, 550 or 552 at MAIL FROM, at RCPT
TO or after DATA, as the test names. Each reply must come out as the right
SendError with its code and text, nothing must be delivered, and the next message
on the same sender must go out: on the same connection after a reset, or on a
new one after 421 (the server is closing the channel, RFC 5321 §3.8).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from newsletter.mail.transport import PermanentFailure, SmtpSender, TemporaryFailure
from tests.smtpd import free_port

FROM = "news@news.example.org"
REPLIES = {
    421: "421 4.3.2 service shutting down",
    450: "450 4.2.1 mailbox busy, try later",
    550: "550 5.1.1 no such mailbox",
    552: "552 5.2.2 mailbox full",
}


@dataclass
class ScriptedServer:
    """Answers `REPLIES[code]` at the stage an address names: `mail421@`, `rcpt550@`,
    `data552@` (the sender for MAIL, the recipient otherwise); accepts the rest."""

    delivered: list[tuple[str, list[str], Any]] = field(default_factory=list)
    peers: list[Any] = field(default_factory=list)  # the client's (host, port) per MAIL

    @staticmethod
    def _scripted(address: str, stage: str) -> str | None:
        local = address.partition("@")[0]
        if local.startswith(stage) and local[len(stage) :].isdigit():
            return REPLIES[int(local[len(stage) :])]
        return None

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        self.peers.append(session.peer)
        if reply := self._scripted(address, "mail"):
            return reply
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if reply := self._scripted(address, "rcpt"):
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        for rcpt in envelope.rcpt_tos:
            if reply := self._scripted(rcpt, "data"):
                return reply
        self.delivered.append((envelope.mail_from, list(envelope.rcpt_tos), session.peer))
        return "250 Message accepted"


@contextmanager
def scripted_server() -> Iterator[tuple[str, ScriptedServer]]:
    handler = ScriptedServer()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", handler
    finally:
        controller.stop()


def message(to: str) -> bytes:
    return f"From: {FROM}\r\nTo: {to}\r\nSubject: hello\r\n\r\nHi.\r\n".encode()


CASES = [(stage, code) for stage in ("mail", "rcpt", "data") for code in REPLIES]


@pytest.mark.parametrize(("stage", "code"), CASES, ids=[f"{s}-{c}" for s, c in CASES])
def test_a_reply_becomes_the_right_failure_and_the_next_message_still_goes_out(stage, code):
    envelope_from = f"mail{code}@news.example.org" if stage == "mail" else FROM
    to = f"{stage}{code}@example.org" if stage != "mail" else "ann@example.org"
    expected = TemporaryFailure if code < 500 else PermanentFailure
    with scripted_server() as (url, server):
        sender = SmtpSender(url, timeout=5)
        try:
            with pytest.raises((TemporaryFailure, PermanentFailure)) as failed:
                sender.send(envelope_from=envelope_from, recipients=[to], message=message(to))
            assert type(failed.value) is expected
            assert failed.value.code == code
            assert str(failed.value) == REPLIES[code]  # code, enhanced status and text
            assert server.delivered == []

            sender.send(envelope_from=FROM, recipients=["bob@example.org"], message=message("bob"))
        finally:
            sender.close()
    assert [(m[0], m[1]) for m in server.delivered] == [(FROM, ["bob@example.org"])]
    first_peer, next_peer = server.peers[0], server.peers[-1]
    if code == 421:
        assert next_peer != first_peer  # the server closed the channel: a new connection
    else:
        assert next_peer == first_peer  # RSET kept the pooled connection usable


@pytest.mark.parametrize("code", sorted(REPLIES))
def test_one_refused_recipient_of_several_fails_the_message_with_its_reply(code):
    """smtplib sends to the accepted recipients and reports the refused ones; the sender
    reports the refusal so the caller can decide per address (the pipeline sends one
    recipient per message, transactional mail too)."""
    with scripted_server() as (url, server):
        sender = SmtpSender(url, timeout=5)
        try:
            with pytest.raises((TemporaryFailure, PermanentFailure)) as failed:
                sender.send(
                    envelope_from=FROM,
                    recipients=["ann@example.org", f"rcpt{code}@example.org"],
                    message=message("ann"),
                )
        finally:
            sender.close()
    assert failed.value.code == code
    assert isinstance(failed.value, TemporaryFailure if code < 500 else PermanentFailure)
    if code == 421:
        assert server.delivered == []  # the channel closed before DATA
    else:
        assert [m[1] for m in server.delivered] == [["ann@example.org"]]
