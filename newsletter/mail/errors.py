"""Why a message was not sent, split the way the send pipeline acts on it.

A 4xx reply, a timeout or a lost connection is temporary: try again later, with
back-off. A 5xx reply is permanent for that address and that message (RFC 5321
section 4.2.1: the first digit gives the class).
"""

from __future__ import annotations


class SendError(Exception):
    """A message was not accepted; `code` is the SMTP reply code when there was one."""

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class TemporaryFailure(SendError):
    """Try again later (SMTP 4xx, timeouts, connection refused)."""


class PermanentFailure(SendError):
    """Do not try this address again for this message (SMTP 5xx)."""


def classify(code: int, reply: bytes | str) -> SendError:
    """An SMTP reply as our error: 5xx permanent, anything else temporary (RFC 5321 4.2.1)."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    message = f"{code} {text}".strip()
    if 500 <= code < 600:
        return PermanentFailure(message, code=code)
    return TemporaryFailure(message, code=code)
