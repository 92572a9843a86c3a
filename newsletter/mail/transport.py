"""Sending message bytes: the `EmailSender` protocol, SMTP (smtp://, smtp+starttls://,
smtps://) for test sends and transactional mail, and memory for tests.

Errors are split the way the send pipeline needs them (`errors`): a 4xx or a lost
connection is temporary (retry with back-off), a 5xx is permanent for that address.
The SMTP session itself, shared with the bulk send's pool, is `smtp.SmtpConnection`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from .errors import PermanentFailure, SendError, TemporaryFailure
from .smtp import SmtpConnection, SmtpTarget

__all__ = [
    "EmailSender",
    "MemorySender",
    "PermanentFailure",
    "SendError",
    "SentMessage",
    "SmtpSender",
    "TemporaryFailure",
    "get_sender",
]


class EmailSender(Protocol):
    """Anything that sends one message: raises TemporaryFailure or PermanentFailure."""

    def send(self, *, envelope_from: str, recipients: Sequence[str], message: bytes) -> None:
        """Send `message` (RFC 5322 bytes, CRLF) from `envelope_from` (MAIL FROM) to
        `recipients` (RCPT TO); raises TemporaryFailure or PermanentFailure."""
        ...


@dataclass
class SentMessage:
    """One message a MemorySender kept."""

    envelope_from: str
    recipients: list[str]
    message: bytes


@dataclass
class MemorySender:
    """Keeps messages in a list; stands in for SMTP in unit tests."""

    outbox: list[SentMessage] = field(default_factory=list)

    def send(self, *, envelope_from: str, recipients: Sequence[str], message: bytes) -> None:
        """Append the message to `outbox`; never fails."""
        self.outbox.append(SentMessage(envelope_from, list(recipients), message))


class SmtpSender:
    """One reusable SMTP session per thread (`smtp.SmtpConnection`), reopened when the
    server drops it: for the web app's test sends and transactional mail."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.target = SmtpTarget.from_url(url, timeout=timeout)
        self._local = threading.local()

    def _connection(self) -> SmtpConnection:
        conn: SmtpConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = SmtpConnection(self.target)
        return conn

    def close(self) -> None:
        """QUIT this thread's session, if open."""
        self._connection().close()

    def send(self, *, envelope_from: str, recipients: Sequence[str], message: bytes) -> None:
        """Send one message; raises TemporaryFailure or PermanentFailure, nothing else
        (the rules are `smtp.SmtpConnection.send`'s)."""
        self._connection().send(envelope_from=envelope_from, recipients=recipients, message=message)


def get_sender() -> EmailSender:
    """Transitional alias of `newsletter.get_sender` (the app factory's accessor)."""
    from newsletter import get_sender as app_sender

    return app_sender()
