"""Per-recipient MIME messages, built from bytes precomputed once per content variant.

The stdlib `email` package costs milliseconds per message, more than rendering
and personalising together. So `MessageTemplate.build` does all the MIME work
once: headers shared by everyone, the boundary, and each body part split at its
placeholders into quoted-printable bytes. `personalise` then only validates the
recipient, quoted-printable-encodes the few per-recipient values (C speed) and
joins bytes.

The trick that makes this exact: quoted-printable soft line breaks (`=` CRLF)
disappear on decoding, so every static segment and every value can be encoded
on its own and ended with a soft break. Encoded lines stay within 76 octets.
"""

from __future__ import annotations

import binascii
import html
import re
import secrets
import time
from base64 import b64encode
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formatdate, parseaddr

from newsletter.render.content import RenderedEmail
from newsletter.render.placeholders import KEYS, OPEN, PATTERN

from .addresses import wire_address

# Control characters (CR and LF above all) in any header value would let a name
# or URL add headers of its own; they are rejected, never cleaned up silently.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ATEXT_PHRASE = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]+")
_ADDRESS = re.compile(r"[^\s<>()\[\],;:\"@\\]+@[A-Za-z0-9.\-]+")
_MESSAGE_ID = re.compile(r"<[!-;=?-~]+@[!-;=?-~]+>")  # printable ASCII without < >
_HEADER_NAME = re.compile(r"[!-9;-~]+")
_URL = re.compile(r"https?://[!-~]+", re.IGNORECASE)
_WS = re.compile(r"\s+")
_TOKEN = re.compile(r"[A-Za-z0-9._-]{1,100}")

MAX_LINE = 998  # RFC 5322 hard limit, CRLF excluded
_ENCODED_WORD_BYTES = 45  # 60 base64 chars + 12 of framing: each word fits in 75
_FOLD = "\r\n "

# Headers this module writes itself; extra_headers may not replace them.
_RESERVED = frozenset(
    {
        "from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version",
        "content-type", "content-transfer-encoding", "list-id", "list-unsubscribe",
        "list-unsubscribe-post", "feedback-id", "precedence", "return-path",
    }
)  # fmt: skip
_PART_HEADERS = (
    b'Content-Type: text/%s; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
)


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who one message goes to, with their personal links."""

    email: str
    name: str
    message_id: str  # e.g. "<d123.i4.abc@news.example.org>"
    unsubscribe_url: str  # empty: no List-Unsubscribe (transactional mail)
    preferences_url: str
    open_pixel_url: str = ""  # empty: no tracking pixel
    tracking_token: str = ""  # fills `track` in a tracked variant's pixel and links
    return_path: str = ""  # envelope sender, for the transport; never a header


def _check_line(value: str, what: str) -> str:
    if _CONTROL.search(value):
        raise ValueError(f"{what} contains control characters (CR/LF injection?)")
    return value


def _check_url(value: str, what: str) -> str:
    _check_line(value, what)
    if not _URL.fullmatch(value):
        raise ValueError(f"{what} must be an absolute http(s) URL without spaces")
    return value


def _qp(data: bytes) -> bytes:
    """Quoted-printable with CRLF everywhere.

    binascii picks the soft-break line ending from the first newline in the input,
    so a segment without any newline would get bare LF soft breaks; fix those.
    """
    encoded = binascii.b2a_qp(data, quotetabs=False, istext=True, header=False)
    encoded = encoded if b"\n" in data else encoded.replace(b"\n", b"\r\n")
    if encoded[:1] == b"." or b"\n." in encoded or (len(encoded) > 76 and _has_long_line(encoded)):
        return _fix_lines(encoded)
    return encoded


def _has_long_line(encoded: bytes) -> bool:
    return any(len(line) > 76 for line in encoded.split(b"\r\n"))


def _fix_lines(encoded: bytes) -> bytes:
    """Quoted-printable lines within 76 characters (RFC 2045 6.7 (5)) with none starting
    with a period.

    - A leading "." becomes "=2E" (any character may be encoded; RFC 2049 section 3
      advises it, since SMTP treats a line's leading period specially). Every segment and
      value starts a line, so a message built here has no line that starts with a period,
      and SMTP's dot-stuffing (RFC 5321 4.5.2), a copy of the whole ~100 kB message per
      send, never has anything to do: that copy was a sixth of a worker's CPU in the
      profile of bench/send.py (MJML's CSS has lines starting ".mj-").
    - binascii.b2a_qp writes a 77-character line when it encodes whitespace at the very
      end of a full line; such a line gets one more soft break.
    """
    out: list[bytes] = []
    for line in encoded.split(b"\r\n"):
        while True:
            if line[:1] == b".":
                line = b"=2E" + line[1:]
            if len(line) <= 76:
                break
            cut = 75  # with the soft break "=", 76; never inside an =XX escape
            if line[cut - 1 : cut] == b"=":
                cut -= 1
            elif line[cut - 2 : cut - 1] == b"=":
                cut -= 2
            out.append(line[:cut] + b"=")
            line = line[cut:]
        out.append(line)
    return b"\r\n".join(out)


def _encoded_words(text: str) -> list[str]:
    """RFC 2047 base64 words, split on character boundaries."""
    words: list[str] = []
    chunk = bytearray()
    for char in text:
        raw = char.encode("utf-8")
        if len(chunk) + len(raw) > _ENCODED_WORD_BYTES:
            words.append(f"=?utf-8?b?{b64encode(chunk).decode('ascii')}?=")
            chunk = bytearray()
        chunk += raw
    if chunk:
        words.append(f"=?utf-8?b?{b64encode(chunk).decode('ascii')}?=")
    return words


def encode_unstructured(text: str, *, header: str) -> str:
    """A header value like Subject: ASCII folded at spaces, else RFC 2047 words."""
    _check_line(text, header)
    text = _WS.sub(" ", text).strip()
    if text.isascii() and "=?" not in text:  # "=?" would read as an encoded word
        lines: list[str] = []
        line = ""
        width = 78 - len(header) - 2
        for word in text.split(" "):
            if line and len(line) + 1 + len(word) > width:
                lines.append(line)
                line, width = word, 77  # continuation lines start with a space
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
        return _FOLD.join(lines)
    return _FOLD.join(_encoded_words(text))


def format_address(name: str, address: str) -> str:
    """`Name <addr>` with the name quoted or RFC 2047-encoded as needed."""
    address = _ascii_address(address)
    name = _WS.sub(" ", _check_line(name, "name")).strip()
    if not name:
        return address
    if name.isascii():
        if _ATEXT_PHRASE.fullmatch(name) and "=?" not in name:
            return f"{name} <{address}>"
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" <{address}>'
    return f"{_FOLD.join(_encoded_words(name))}{_FOLD}<{address}>"


def _ascii_address(address: str) -> str:
    """The address for a header: domain as an A-label (the same form as the SMTP envelope).

    A non-ASCII local part stays UTF-8 (RFC 6532); the transport sends such a
    message only with SMTPUTF8.
    """
    address = wire_address(_check_line(address, "email address")).address
    if not _ADDRESS.fullmatch(address):
        raise ValueError(f"not an email address: {address!r}")
    return address


_Slot = tuple[str, str, str | None]  # (part, key, fallback); a fallback is part-ready


def _split_part(text: str, part: str, slots: dict[_Slot, int]) -> list[bytes | int]:
    """Body text -> QP-encoded static bytes and slot numbers, in order."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
    if not text.endswith("\r\n"):
        text += "\r\n"
    items: list[bytes | int] = []
    position = 0
    for match in PATTERN.finditer(text):
        key, fallback = match.group(1), match.group(2)
        if key not in KEYS:
            raise ValueError(f"unknown placeholder {match.group(0)!r}")
        static = text[position : match.start()]
        if static:
            encoded = _qp(static.encode("utf-8"))
            # A soft break ends the line so that the value starts a fresh one.
            items.append(encoded if encoded.endswith(b"\r\n") else encoded + b"=\r\n")
        items.append(slots.setdefault((part, key, fallback), len(slots)))
        position = match.end()
    items.append(_qp(text[position:].encode("utf-8")))
    if OPEN in text[position:]:
        raise ValueError("malformed placeholder in rendered email")
    return items


class MessageTemplate:
    """Everything shared by all recipients of one content variant, precomputed once."""

    __slots__ = (
        "_body",
        "_fill",
        "_head_from",
        "_head_middle",
        "_head_tail",
        "_mailto",
        "_slots",
        "boundary",
        "keys",
    )

    def __init__(self) -> None:  # use build()
        self.boundary = ""
        self._head_from = b""
        self._head_middle = b""
        self._head_tail = b""
        self._mailto: str | None = None
        self._slots: tuple[_Slot, ...] = ()
        # The body parts as bytes, with b"" where a slot's value goes; `_fill` names those
        # (position, slot): a copy and a few assignments per message instead of a type
        # test per segment (a tracked variant has dozens of segments).
        self._body: list[bytes] = []
        self._fill: tuple[tuple[int, int], ...] = ()
        self.keys: frozenset[str] = frozenset()  # the placeholders this template fills

    @classmethod
    def build(
        cls,
        rendered: RenderedEmail,
        *,
        from_address: str,
        list_id: str,
        feedback_id: str,
        unsubscribe_mailto: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        bulk: bool = True,
    ) -> MessageTemplate:
        """Validate and encode everything that does not depend on the recipient.

        `bulk=False` (transactional mail) leaves out `Precedence: bulk`.
        """
        self = cls()
        from_name, from_addr = parseaddr(_check_line(from_address, "from_address"))
        if "@" not in from_addr:
            raise ValueError(f"from_address has no address: {from_address!r}")
        if OPEN in rendered.subject:
            raise ValueError("the subject cannot hold per-recipient placeholders")
        list_id = _check_line(list_id, "list_id").strip()
        if not list_id.isascii() or not list_id:
            raise ValueError("list_id must be ASCII")
        if "<" not in list_id:
            list_id = f"<{list_id}>"
        feedback_id = _check_line(feedback_id, "feedback_id").strip()
        if not feedback_id.isascii() or " " in feedback_id:
            raise ValueError("feedback_id must be ASCII without spaces")
        if unsubscribe_mailto:
            mailto = _check_line(unsubscribe_mailto, "unsubscribe_mailto").strip()
            mailto = mailto if mailto.lower().startswith("mailto:") else f"mailto:{mailto}"
            if not mailto.isascii() or " " in mailto or ">" in mailto:
                raise ValueError("unsubscribe_mailto must be an ASCII mailto address")
            self._mailto = mailto

        self.boundary = f"=_nl_{secrets.token_hex(16)}"  # "=_" never occurs in QP text
        head_from = f"From: {format_address(from_name, from_addr)}\r\n"
        middle = [f"Subject: {encode_unstructured(rendered.subject, header='Subject')}\r\n"]
        tail = [
            "MIME-Version: 1.0\r\n",
            f"List-Id: {list_id}\r\n",
            f"Feedback-ID: {feedback_id}\r\n",
        ]
        if bulk:
            tail.append("Precedence: bulk\r\n")
        for name, value in (extra_headers or {}).items():
            if not _HEADER_NAME.fullmatch(name) or name.lower() in _RESERVED:
                raise ValueError(f"extra header not allowed: {name!r}")
            tail.append(f"{name}: {encode_unstructured(value, header=name)}\r\n")
        tail.append(f'Content-Type: multipart/alternative; boundary="{self.boundary}"\r\n\r\n')
        tail.append(f"--{self.boundary}\r\n")
        self._head_from = head_from.encode("ascii")
        self._head_middle = "".join(middle).encode("ascii")
        self._head_tail = "".join(tail).encode("ascii") + _PART_HEADERS % b"plain"

        slots: dict[_Slot, int] = {}
        text = _split_part(rendered.text, "text", slots)
        between = f"--{self.boundary}\r\n".encode("ascii") + _PART_HEADERS % b"html"
        html_items = _split_part(rendered.html, "html", slots)
        items = (*text, between, *html_items, f"--{self.boundary}--\r\n".encode("ascii"))
        self._body = [item if isinstance(item, bytes) else b"" for item in items]
        self._fill = tuple(
            (position, item) for position, item in enumerate(items) if isinstance(item, int)
        )
        self._slots = tuple(sorted(slots, key=slots.__getitem__))
        self.keys = frozenset(key for _, key, _ in self._slots)
        return self

    def personalise(self, recipient: Recipient, *, date: str | None = None) -> bytes:
        """The complete RFC 5322 message for one recipient, CRLF line endings."""
        to = format_address(recipient.name, recipient.email)
        message_id = _check_line(recipient.message_id, "message_id")
        if not _MESSAGE_ID.fullmatch(message_id) or len(message_id) > 250:
            raise ValueError(f"malformed Message-ID: {message_id!r}")
        unsubscribe = recipient.unsubscribe_url
        preferences = recipient.preferences_url
        pixel = recipient.open_pixel_url
        if unsubscribe:
            _check_url(unsubscribe, "unsubscribe_url")
        if preferences:
            _check_url(preferences, "preferences_url")
        if pixel:
            _check_url(pixel, "open_pixel_url")
        date = _check_line(date, "date") if date else _now()

        headers = [
            self._head_from,
            f"To: {to}\r\n".encode(),  # UTF-8 only for a non-ASCII local part
            self._head_middle,
            f"Date: {date}\r\nMessage-ID: {message_id}\r\n".encode("ascii"),
        ]
        if unsubscribe:
            headers.append(self._list_unsubscribe(unsubscribe))
        headers.append(self._head_tail)

        values = self._values(recipient, unsubscribe, preferences, pixel)
        body = self._body.copy()
        for position, slot in self._fill:
            body[position] = values[slot]
        return b"".join(headers) + b"".join(body)

    def _list_unsubscribe(self, url: str) -> bytes:
        # One line, never folded: relays that re-fold headers break DKIM otherwise.
        value = f"<{url}>"
        if self._mailto and len("List-Unsubscribe: ") + len(value) + len(self._mailto) + 4 <= (
            MAX_LINE
        ):
            value = f"{value}, <{self._mailto}>"
        line = f"List-Unsubscribe: {value}"
        if len(line) > MAX_LINE:
            raise ValueError("unsubscribe_url is too long for one header line")
        return f"{line}\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n".encode("ascii")

    def _values(
        self, recipient: Recipient, unsubscribe: str, preferences: str, pixel: str
    ) -> list[bytes]:
        """Each slot's value for this recipient, QP-encoded and ended by a soft break."""
        plain = {
            "name": _WS.sub(" ", recipient.name).strip(),
            "email": recipient.email.strip(),
            "unsubscribe_url": unsubscribe,
            "preferences_url": preferences,
            "open_pixel": "",
            "track": recipient.tracking_token,
        }
        if "track" in self.keys and not _TOKEN.fullmatch(recipient.tracking_token):
            raise ValueError("a tracked message needs a tracking token (letters, digits, . _ -)")
        values: list[bytes] = []
        for part, key, fallback in self._slots:
            raw = plain[key]
            if key == "track":  # inside URLs in both parts; nothing to escape
                value = raw
            elif part == "text":
                value = raw or fallback or ""
            elif key == "open_pixel":
                value = (
                    f'<img src="{html.escape(pixel)}" width="1" height="1" alt="" '
                    'style="display:block;width:1px;height:1px;border:0;">'
                    if pixel
                    else ""
                )
            else:  # the HTML part: values escaped here, fallbacks were escaped at render
                value = html.escape(raw) if raw else fallback or ""
            values.append(_qp(value.encode("utf-8")) + b"=\r\n" if value else b"")
        return values


_date_cache: tuple[int, str] = (0, "")


def _now() -> str:
    """RFC 5322 date, formatted at most once a second (it shows in every message)."""
    global _date_cache
    second = int(time.time())
    if _date_cache[0] != second:
        _date_cache = (second, formatdate(second, usegmt=True))
    return _date_cache[1]
