"""DKIM signatures (RFC 6376) with dkimpy, when DKIM_SELECTOR and DKIM_PRIVATE_KEY_PATH are set.

Signed headers: From, To, Subject, Date, Message-ID, List-Unsubscribe and
List-Unsubscribe-Post (RFC 8058 section 4 requires the last two to be covered for
one-click to be honoured), plus MIME headers; relaxed/relaxed canonicalization, so
a relay that re-folds headers does not break the signature. The signing domain is
the From address's domain (DMARC alignment).
"""

from __future__ import annotations

import threading
from pathlib import Path

import dkim

SIGNED_HEADERS = (
    b"from", b"to", b"subject", b"date", b"message-id", b"list-unsubscribe",
    b"list-unsubscribe-post", b"list-id", b"mime-version", b"content-type", b"feedback-id",
)  # fmt: skip


class DkimError(RuntimeError):
    """The key cannot be read or the message cannot be signed."""


class DkimSigner:
    def __init__(self, *, selector: str, domain: str, private_key: bytes) -> None:
        self.selector = selector.encode("ascii")
        self.domain = domain.encode("idna")
        self.private_key = private_key

    @classmethod
    def from_file(cls, *, selector: str, domain: str, path: str) -> DkimSigner:
        """A signer with the PEM private key at `path`; raises DkimError when it cannot
        be read (the key itself is checked at the first signature)."""
        try:
            key = Path(path).read_bytes()
        except OSError as exc:
            raise DkimError(f"cannot read the DKIM key {path}: {exc.strerror}") from None
        return cls(selector=selector, domain=domain, private_key=key)

    def sign(self, message: bytes) -> bytes:
        """The message with a DKIM-Signature header in front (CRLF line endings)."""
        try:
            signature = dkim.sign(
                message,
                self.selector,
                self.domain,
                self.private_key,
                canonicalize=(b"relaxed", b"relaxed"),
                include_headers=[h for h in SIGNED_HEADERS if _has_header(message, h)],
                linesep=b"\r\n",
            )
        except dkim.DKIMException as exc:
            raise DkimError(f"DKIM signing failed: {exc}") from None
        return bytes(signature) + message


def _has_header(message: bytes, name: bytes) -> bool:
    head = message.split(b"\r\n\r\n", 1)[0].lower()
    return head.startswith(name + b":") or (b"\r\n" + name + b":") in head


_lock = threading.Lock()
_signers: dict[tuple[str, str, str], DkimSigner] = {}


def get_signer(*, selector: str, domain: str, path: str) -> DkimSigner | None:
    """This process's signer for the settings, or None when DKIM is not configured."""
    if not selector or not path:
        return None
    key = (selector, domain, path)
    with _lock:
        if key not in _signers:
            _signers[key] = DkimSigner.from_file(selector=selector, domain=domain, path=path)
        return _signers[key]
