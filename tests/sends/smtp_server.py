"""A real SMTP server on loopback (aiosmtpd) whose answers a test can script.

`reply(rcpt)` decides the answer to each RCPT TO: None accepts, a string such as
"550 5.1.1 no such user" or "421 4.3.2 try later" is sent as the reply. Accepted
messages are kept as (envelope sender, recipient, bytes).
"""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    rcpt: str
    data: bytes
    at: float = 0.0  # time.monotonic() when accepted

    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)  # type: ignore[return-value]


@dataclass
class ScriptedHandler:
    reply: Callable[[str], str | None] = lambda rcpt: None
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        answer = self.reply(address)
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.received.append(
                    Received(envelope.mail_from, rcpt, envelope.original_content, time.monotonic())
                )
        return "250 Message accepted"

    def by_rcpt(self) -> dict[str, list[Received]]:
        found: dict[str, list[Received]] = {}
        with self.lock:
            for item in self.received:
                found.setdefault(item.rcpt, []).append(item)
        return found


def start_server(port: int, handler: ScriptedHandler, *, smtputf8: bool = True) -> Controller:
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, decode_data=False, enable_SMTPUTF8=smtputf8
    )
    controller.start()
    return controller
