"""Sending message bytes: SMTP (smtp://, smtp+starttls://, smtps://) or memory for tests.

Errors are split the way the send pipeline needs them: a 4xx or a lost connection
is temporary (retry with back-off), a 5xx is permanent for that address.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import unquote, urlsplit

from .addresses import AddressError, wire_address


class SendError(Exception):
    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class TemporaryFailure(SendError):
    """Try again later (SMTP 4xx, timeouts, connection refused)."""


class PermanentFailure(SendError):
    """Do not try this address again for this message (SMTP 5xx)."""


class EmailSender(Protocol):
    def send(self, *, envelope_from: str, recipients: Sequence[str], message: bytes) -> None: ...


@dataclass
class SentMessage:
    envelope_from: str
    recipients: list[str]
    message: bytes


@dataclass
class MemorySender:
    """Keeps messages in a list; stands in for SMTP in unit tests."""

    outbox: list[SentMessage] = field(default_factory=list)

    def send(self, *, envelope_from: str, recipients: Sequence[str], message: bytes) -> None:
        self.outbox.append(SentMessage(envelope_from, list(recipients), message))


class SmtpSender:
    """One reusable SMTP connection per thread, reopened when the server drops it."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        self.scheme = parts.scheme
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or {"smtps": 465, "smtp+starttls": 587}.get(parts.scheme, 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout
        self._local = threading.local()

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.scheme == "smtps":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.scheme == "smtp+starttls":
                smtp.starttls(context=context)
        if self.username:
            smtp.login(self.username, self.password or "")
        return smtp

    def _connection(self) -> smtplib.SMTP:
        smtp = getattr(self._local, "smtp", None)
        if smtp is None:
            smtp = self._local.smtp = self._connect()
        return smtp

    def close(self) -> None:
        smtp = getattr(self._local, "smtp", None)
        self._local.smtp = None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def send(self, *, envelope_from: str, recipients: Sequence[str], message: bytes) -> None:
        """Send one message; raises TemporaryFailure or PermanentFailure, nothing else.

        Addresses go out with A-label domains; a non-ASCII local part (or UTF-8
        header) needs the server's SMTPUTF8 (RFC 6531), and without it this one
        message fails permanently before any transaction starts. Whatever fails
        mid-transaction, the connection is reset (RSET, else dropped) so the next
        message starts clean instead of meeting `503 nested MAIL command`.
        """
        sender, rcpts, utf8 = _envelope(envelope_from, recipients, message)
        for attempt in (1, 2):
            try:
                smtp = self._connection()
            except (OSError, smtplib.SMTPException) as exc:
                self._local.smtp = None
                raise TemporaryFailure(f"cannot connect to the SMTP server: {exc}") from None
            try:
                refused = self._transaction(smtp, sender, rcpts, message, utf8=utf8)
            except smtplib.SMTPServerDisconnected:
                # A pooled connection the server closed: reconnect once before giving up.
                self._local.smtp = None
                if attempt == 2:
                    raise TemporaryFailure("SMTP server disconnected") from None
                continue
            except SendError:
                self._reset(smtp)
                raise
            except smtplib.SMTPRecipientsRefused as exc:
                self._reset(smtp)
                code, reply = next(iter(exc.recipients.values()))
                raise _classify(code, reply) from None
            except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                self._reset(smtp)
                raise _classify(exc.smtp_code, exc.smtp_error) from None
            except (OSError, smtplib.SMTPException) as exc:
                self.close()
                raise TemporaryFailure(f"SMTP error: {exc}") from None
            except BaseException:
                # Anything else (a bug, an interrupt) may have left a transaction open.
                self._reset(smtp)
                raise
            if refused:
                code, reply = next(iter(refused.values()))
                raise _classify(code, reply)
            return

    def _transaction(
        self, smtp: smtplib.SMTP, sender: str, rcpts: list[str], message: bytes, *, utf8: bool
    ) -> dict[str, tuple[int, bytes]]:
        smtp.ehlo_or_helo_if_needed()
        options: list[str] = []
        if utf8:
            if not smtp.has_extn("smtputf8"):
                raise PermanentFailure(
                    f"the SMTP server does not offer SMTPUTF8, which {', '.join(rcpts)} needs "
                    "(an address with a non-ASCII local part)"
                )
            options = ["SMTPUTF8"]
            if smtp.has_extn("8bitmime"):
                options.append("BODY=8BITMIME")
        try:
            return smtp.sendmail(sender, rcpts, message, mail_options=options)
        finally:
            smtp.command_encoding = "ascii"  # smtplib switches it to UTF-8 for SMTPUTF8

    def _reset(self, smtp: smtplib.SMTP) -> None:
        """End any open transaction; drop the connection if even RSET fails."""
        try:
            smtp.rset()
        except (OSError, smtplib.SMTPException):
            self.close()


def _envelope(
    envelope_from: str, recipients: Sequence[str], message: bytes
) -> tuple[str, list[str], bool]:
    """(sender, recipients, needs SMTPUTF8) in wire form; PermanentFailure if not writable."""
    try:
        addresses = [wire_address(a) for a in (envelope_from, *recipients)]
    except AddressError as exc:
        raise PermanentFailure(str(exc)) from None
    head = message.split(b"\r\n\r\n", 1)[0]
    utf8 = any(a.needs_smtputf8 for a in addresses) or not head.isascii()
    return addresses[0].address, [a.address for a in addresses[1:]], utf8


def _classify(code: int, reply: bytes | str) -> SendError:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    message = f"{code} {text}".strip()
    if 500 <= code < 600:
        return PermanentFailure(message, code=code)
    return TemporaryFailure(message, code=code)


def get_sender() -> EmailSender:
    """Transitional alias of `newsletter.get_sender` (the app factory's accessor)."""
    from newsletter import get_sender as app_sender

    return app_sender()
