"""A real SMTP server on loopback (aiosmtpd) that records every transaction, for transport tests.

Recipients whose local part starts with `reject` get `550`, `later` get `451`,
and a message to `slow@...` is answered only after `slow_seconds` (a client
timeout mid-DATA). Everything else is accepted and kept in `messages`.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    smtp_utf8: bool
    peer: Any  # (host, port) of the client connection: the same pair = the same connection


@dataclass
class RecordingHandler:
    slow_seconds: float = 0.0
    messages: list[Received] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)  # every reply to MAIL/RCPT, in order

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        self.replies.append(f"MAIL {address}: 250")
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        local = address.rpartition("@")[0]
        if local.startswith("reject"):
            reply = "550 5.1.1 no such mailbox"
        elif local.startswith("later"):
            reply = "451 4.7.1 greylisted, try again later"
        else:
            envelope.rcpt_tos.append(address)
            reply = "250 OK"
        self.replies.append(f"RCPT {address}: {reply[:3]}")
        return reply

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        if any(a.startswith("slow@") for a in envelope.rcpt_tos):
            await asyncio.sleep(self.slow_seconds)
        self.messages.append(
            Received(
                mail_from=str(envelope.mail_from),
                rcpt_tos=list(envelope.rcpt_tos),
                content=envelope.original_content or b"",
                smtp_utf8=bool(envelope.smtp_utf8),
                peer=session.peer,
            )
        )
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_server(
    *, smtputf8: bool, slow_seconds: float = 0.0
) -> Iterator[tuple[str, RecordingHandler]]:
    """(smtp:// URL, handler) of a server that offers SMTPUTF8 or not."""
    handler = RecordingHandler(slow_seconds=slow_seconds)
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        decode_data=False,
        enable_SMTPUTF8=smtputf8,
    )
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", handler
    finally:
        controller.stop()
