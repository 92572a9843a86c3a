"""One SMTP session: the one place where a message goes over the wire.

Used by the bulk send's pool (`pool.SmtpPool`, several sessions per process) and by
`transport.SmtpSender` (one session per thread, for test sends and transactional
mail), so every email we send follows the same rules:

- Addresses go out with their domains as IDNA A-labels (RFC 5891); a non-ASCII local
  part, or a UTF-8 header, needs the server's SMTPUTF8 (RFC 6531/6532), and without
  it that one message fails permanently before any transaction starts.
- PIPELINING (RFC 2920) when offered: MAIL, RCPT and DATA in one write.
- Replies are classified by `errors.classify` (5xx permanent, the rest temporary);
  a lost connection or a timeout is temporary.
- Whatever fails mid-transaction, the session is reset (RSET, or closed when that
  fails, or when the server said 421) before the next message, so one bad recipient
  never poisons the next message with `503 nested MAIL command`.
- A connection the server dropped while idle is reopened once.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from .addresses import AddressError, wire_address
from .errors import PermanentFailure, SendError, TemporaryFailure, classify

_NOT_IN_PATH = re.compile(r"[\x00-\x20<>\x7f]")  # CR/LF would inject SMTP commands
_LINE_START_DOT = re.compile(rb"\n\.")


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    """Where and how to connect, parsed from SMTP_URL (smtp://, smtp+starttls://,
    smtps://, with optional user:password@); `timeout` in seconds per socket operation."""

    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 30.0) -> SmtpTarget:
        """Parse SMTP_URL; the port defaults to 465 (smtps), 587 (smtp+starttls) or 25."""
        parts = urlsplit(url)
        port = parts.port or {"smtps": 465, "smtp+starttls": 587}.get(parts.scheme, 25)
        return cls(
            scheme=parts.scheme,
            host=parts.hostname or "127.0.0.1",
            port=port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout=timeout,
        )


@dataclass(frozen=True, slots=True)
class Envelope:
    """The SMTP envelope in wire form."""

    sender: str
    recipients: list[str]
    smtputf8: bool  # a non-ASCII local part or header: the server must offer SMTPUTF8


def wire_envelope(envelope_from: str, recipients: Sequence[str], message: bytes) -> Envelope:
    """The envelope with A-label domains. Raises PermanentFailure for an address that
    cannot be written on the wire or that holds characters which would end the SMTP
    command (CR, LF, spaces, angle brackets)."""
    try:
        addresses = [wire_address(a) for a in (envelope_from, *recipients)]
    except AddressError as exc:
        raise PermanentFailure(str(exc)) from None
    for address in addresses:
        if _NOT_IN_PATH.search(address.address):
            raise PermanentFailure(f"not a deliverable address: {address.address!r}")
    end = message.find(b"\r\n\r\n")
    head = message if end < 0 else message[:end]
    utf8 = any(a.needs_smtputf8 for a in addresses) or not head.isascii()
    return Envelope(addresses[0].address, [a.address for a in addresses[1:]], utf8)


class SmtpConnection:
    """One SMTP session to `target`, opened on first use and reopened after a drop.
    Not thread-safe: the pool lends it to one thread at a time."""

    def __init__(self, target: SmtpTarget) -> None:
        self.target = target
        self.smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        t = self.target
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if t.scheme == "smtps":
            smtp = smtplib.SMTP_SSL(t.host, t.port, timeout=t.timeout, context=context)
        else:
            smtp = smtplib.SMTP(t.host, t.port, timeout=t.timeout)
            if t.scheme == "smtp+starttls":
                smtp.starttls(context=context)
        smtp.ehlo_or_helo_if_needed()
        if t.username:
            smtp.login(t.username, t.password or "")
        return smtp

    def close(self) -> None:
        """QUIT (or just close the socket when the server is gone); the next send reconnects."""
        smtp, self.smtp = self.smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def reset(self) -> None:
        """Abandon any half-done transaction: RSET, or close if the session is unusable."""
        if self.smtp is None:
            return
        try:
            code, _ = self.smtp.rset()
            if code != 250:
                self.close()
        except (smtplib.SMTPException, OSError):
            self.close()

    def send(self, *, envelope_from: str, recipients: Sequence[str], message: bytes) -> None:
        """Send one message (CRLF line endings). Raises TemporaryFailure (4xx, timeouts, no
        connection: retry later) or PermanentFailure (5xx, or an address this server
        cannot take); for several recipients, the first refusal fails the message."""
        envelope = wire_envelope(envelope_from, recipients, message)
        for attempt in (1, 2):
            try:
                if self.smtp is None:
                    self.smtp = self._open()
                self._transaction(self.smtp, envelope, message)
                return
            except smtplib.SMTPServerDisconnected:
                # A pooled connection the server closed while idle: reopen once.
                self.close()
                if attempt == 2:
                    raise TemporaryFailure("SMTP server disconnected") from None
            except smtplib.SMTPRecipientsRefused as exc:
                self.reset()
                code, reply = next(iter(exc.recipients.values()))
                raise classify(code, reply) from None
            except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                self._after_refusal(exc.smtp_code)
                raise classify(exc.smtp_code, exc.smtp_error) from None
            except SendError as exc:
                self._after_refusal(exc.code)
                raise
            except (OSError, smtplib.SMTPException) as exc:
                self.close()
                raise TemporaryFailure(f"SMTP error: {exc}") from None
            except BaseException:
                # Anything else mid-transaction (an encoding error, a bug): reset first.
                self.reset()
                raise

    def _after_refusal(self, code: int | None) -> None:
        self.reset()
        if code == 421:  # the server is closing this session (RFC 5321 3.8)
            self.close()

    def _transaction(self, smtp: smtplib.SMTP, envelope: Envelope, message: bytes) -> None:
        options: list[str] = []
        if envelope.smtputf8:
            if not smtp.has_extn("smtputf8"):
                raise PermanentFailure(
                    f"the SMTP server does not offer SMTPUTF8, which "
                    f"{', '.join(envelope.recipients)} needs (an address with a non-ASCII "
                    "local part)"
                )
            options.append("SMTPUTF8")
            if smtp.has_extn("8bitmime"):
                options.append("BODY=8BITMIME")
        if len(envelope.recipients) == 1 and smtp.has_extn("pipelining"):
            _send_pipelined(smtp, envelope.sender, envelope.recipients[0], message, options)
            return
        try:
            refused = smtp.sendmail(envelope.sender, envelope.recipients, message, options)
        finally:
            smtp.command_encoding = "ascii"  # smtplib switches it to UTF-8 for SMTPUTF8
        if refused:
            code, reply = next(iter(refused.values()))
            raise classify(code, reply)


def _send_pipelined(
    smtp: smtplib.SMTP, envelope_from: str, rcpt: str, message: bytes, options: list[str]
) -> None:
    """One message with RFC 2920 PIPELINING: MAIL, RCPT and DATA in one write, so a
    message costs two round trips instead of four. Raises SendError for any refusal
    (the caller resets the session); smtplib's own errors for a lost connection.

    smtplib has no pipelining, and at 1-2 ms per round trip it halves the rate of one
    connection; this is the measured reason for writing these lines ourselves.
    """
    encoding = "utf-8" if "SMTPUTF8" in options else "ascii"
    extra = "".join(f" {o}" for o in options)
    commands = f"MAIL FROM:<{envelope_from}>{extra}\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n"
    smtp.send(commands.encode(encoding))
    mail, to, data = smtp.getreply(), smtp.getreply(), smtp.getreply()
    if data[0] == 354 and (mail[0] != 250 or to[0] not in (250, 251)):
        smtp.send(b".\r\n")  # a server that opened DATA anyway gets an empty message...
        smtp.getreply()  # ...which has no recipient, and the refusal below explains why
    for code, reply in (mail, to):
        if code not in (250, 251):
            raise classify(code, reply)
    if data[0] != 354:
        raise classify(*data)
    # RFC 5321 4.5.2 dot-stuffing: a dot at the start of any line is doubled. re.sub over
    # a whole ~100 kB message was the largest single cost of a send in the profile
    # (bench/send.py under py-spy). Measured here: a compiled regex *search* is about 3x
    # faster than `b"\n." in message` (newlines are too frequent for bytes' search), and
    # bytes.replace then does the rare stuffing.
    body = message.replace(b"\n.", b"\n..") if _LINE_START_DOT.search(message) else message
    if body[:1] == b".":
        body = b"." + body
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    smtp.send(body + b".\r\n")
    code, reply = smtp.getreply()
    if code != 250:
        raise classify(code, reply)
