"""A per-process pool of persistent SMTP connections for the send pipeline.

`SMTP_POOL_SIZE` connections at most, each reused across messages (a new
connection costs a TCP + EHLO (+ STARTTLS + AUTH) round trip, more than a
message). A connection the server dropped is reopened once; after any error in
the middle of a transaction the connection is reset (RSET, or closed when that
fails) before it goes back to the pool, so one bad recipient can never poison the
next message. Errors are the transport's: TemporaryFailure (4xx, connection
problems: retry later) and PermanentFailure (5xx: this address failed).

transport.py keeps the single-connection sender used for test sends and
transactional mail; this module adds pooling and the reset rule the bulk send
depends on, reusing its error types.
"""

from __future__ import annotations

import queue
import re
import smtplib
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from .transport import PermanentFailure, SendError, TemporaryFailure


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    """Where and how to connect, parsed from SMTP_URL."""

    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 30.0) -> SmtpTarget:
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


def classify(code: int, reply: bytes | str) -> SendError:
    """An SMTP reply as our error: 5xx permanent, anything else temporary (RFC 5321 4.2.1)."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    message = f"{code} {text}".strip()
    if 500 <= code < 600:
        return PermanentFailure(message, code=code)
    return TemporaryFailure(message, code=code)


def a_label(address: str) -> str:
    """The address with its domain as IDNA A-labels (RFC 5891): `bücher.example` goes out
    as `xn--bcher-kva.example`, which every server accepts; only a non-ASCII local part
    still needs SMTPUTF8. Raises UnicodeError for a domain IDNA refuses."""
    local, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return address
    return f"{local}@{domain.encode('idna').decode('ascii')}"


class SmtpConnection:
    """One SMTP session, reopened lazily."""

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
        """Send one message; raises TemporaryFailure or PermanentFailure."""
        for address in (envelope_from, *recipients):
            if _NOT_IN_PATH.search(address):  # CR/LF would inject SMTP commands
                raise PermanentFailure(f"not a deliverable address: {address!r}")
        try:
            recipients = [a_label(r) for r in recipients]
        except UnicodeError:
            raise PermanentFailure("the address has a domain that is not a valid IDN") from None
        for attempt in (1, 2):
            try:
                if self.smtp is None:
                    self.smtp = self._open()
                smtp = self.smtp
                options: list[str] = []
                if not all(r.isascii() for r in recipients) or not envelope_from.isascii():
                    # RFC 6531: a non-ASCII local part needs SMTPUTF8 end to end.
                    if not smtp.has_extn("smtputf8"):
                        raise PermanentFailure(
                            "the address has a non-ASCII local part and the server does "
                            "not offer SMTPUTF8"
                        )
                    options.append("SMTPUTF8")
                if len(recipients) == 1 and smtp.has_extn("pipelining"):
                    _send_pipelined(smtp, envelope_from, recipients[0], message, options)
                    return
                refused = smtp.sendmail(envelope_from, list(recipients), message, options)
            except smtplib.SMTPServerDisconnected:
                # A pooled connection the server closed while idle: reopen once.
                self.close()
                if attempt == 2:
                    raise TemporaryFailure("SMTP server disconnected") from None
                continue
            except smtplib.SMTPRecipientsRefused as exc:
                self.reset()
                code, reply = next(iter(exc.recipients.values()))
                raise classify(code, reply) from None
            except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                self.reset()
                if exc.smtp_code == 421:  # the server is closing this session
                    self.close()
                raise classify(exc.smtp_code, exc.smtp_error) from None
            except SendError as exc:
                self.reset()
                if exc.code == 421:  # the server is closing this session
                    self.close()
                raise
            except (OSError, smtplib.SMTPException) as exc:
                self.close()
                raise TemporaryFailure(f"SMTP error: {exc}") from None
            except Exception:
                # Anything else mid-transaction (an encoding error, say): reset first.
                self.reset()
                raise
            if refused:
                code, reply = next(iter(refused.values()))
                raise classify(code, reply)
            return


_LINE_START_DOT = re.compile(rb"\n\.")
_NOT_IN_PATH = re.compile(r"[\x00-\x20<>\x7f]")


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


class SmtpPool:
    """Up to `size` persistent connections shared by the threads of one process."""

    def __init__(self, target: SmtpTarget, size: int) -> None:
        self.target = target
        self.size = max(1, size)
        self._idle: queue.LifoQueue[SmtpConnection] = queue.LifoQueue()
        for _ in range(self.size):
            self._idle.put(SmtpConnection(target))

    @contextmanager
    def connection(self, timeout: float = 300.0) -> Iterator[SmtpConnection]:
        """Borrow a connection (waits when all are busy)."""
        conn = self._idle.get(timeout=timeout)
        try:
            yield conn
        finally:
            self._idle.put(conn)

    def send(self, *, envelope_from: str, recipients: Sequence[str], message: bytes) -> None:
        with self.connection() as conn:
            conn.send(envelope_from=envelope_from, recipients=recipients, message=message)

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


_pools: dict[tuple[str, int], SmtpPool] = {}


def get_pool(url: str, size: int) -> SmtpPool:
    """This process's pool for an SMTP URL (one per worker process, made on first use)."""
    key = (url, size)
    pool = _pools.get(key)
    if pool is None:
        pool = _pools[key] = SmtpPool(SmtpTarget.from_url(url), size)
    return pool
