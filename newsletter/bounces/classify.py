"""What one raw email that came back to us is: bounce, auto-reply, complaint or neither.

Pure: bytes in, a frozen `Classification` out; no database, no Flask, never raises on
any input (garbage, truncated MIME, huge attachments), and parses at most
`MAX_BYTES` of a message so a 20 MB attachment costs no more than a small one.

Order of evidence for a bounce's recipients:
1. RFC 3464 delivery-status fields (Final-Recipient, Original-Recipient, Action,
   Status, Diagnostic-Code), in a message/delivery-status part or, for MTAs that
   paste them into text, in the text itself;
2. for bounces with no DSN part, the X-Failed-Recipients header (Exim, Gmail), then
   flufl.bounce's detectors (Exim, qmail, Microsoft, Yahoo, Postfix transcripts, ...),
   keeping only addresses the report text names;
3. our own patterns: an address starting a line, then in angle brackets, then anywhere
   in the report text (never the bounce's own From/To nor our sender).
Each recipient's reason and hard/soft come from `reasons.decide` (RFC 3463 code plus
the diagnostic text). Complaints are ARF reports (RFC 5965) and Amazon SES complaint
notifications; auto-replies follow RFC 3834 (`Auto-Submitted: auto-replied` alone is not
enough: DSNs carry it too).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.parser import HeaderParser
from email.utils import parseaddr
from typing import Final, Literal

from .reasons import decide, find_reply_code, find_status, is_generic, reason_from_text

log = logging.getLogger(__name__)

Kind = Literal["bounce", "autoreply", "complaint", "not-bounce"]

# Enough for every DSN's report parts and the returned headers; the rest of a huge
# returned attachment is never looked at (measured need: parse time is linear in size).
MAX_BYTES: Final = 512 * 1024
# Text of one part we search with regexes; longer human parts are cut.
MAX_TEXT: Final = 64 * 1024
MAX_HEADERS: Final = 16 * 1024  # a quoted original's header block
MAX_PARTS: Final = 200
# What flufl.bounce's detectors are given of a message (measured need, see _flufl_addresses).
FLUFL_BYTES: Final = 32 * 1024
FLUFL_LINES: Final = 600
MAX_RECIPIENTS: Final = 100


@dataclass(frozen=True, slots=True)
class Recipient:
    """One failed (or complaining, or auto-replying) address.

    `address` lower-cased; `status` the RFC 3463 code when known ("5.1.1"); `reason`
    a sisimai-style name ("userunknown", "mailboxfull", "feedback", "vacation", ...);
    `hard` True only when the address itself is bad; `diagnostic` the remote text;
    `action` the DSN Action; `original_recipient` the DSN Original-Recipient (the address
    as we sent it, RFC 3464 2.3.1) when it differs from `address`, for later matching.
    """

    address: str
    status: str | None
    reason: str
    hard: bool
    diagnostic: str = ""
    action: str | None = None
    original_recipient: str | None = None


@dataclass(frozen=True, slots=True)
class Classification:
    """The result for one raw email.

    `original_message_id` and `original_headers` come from the returned original (or
    the headers the report quotes); `verp_tokens` are the raw TOKEN strings of any
    `bounces+TOKEN@` address seen (not verified here: see newsletter.mail.verp);
    `feedback_type` is the ARF Feedback-Type of a complaint; `error` says why a message
    could not be read (kind is then "not-bounce").
    """

    kind: Kind
    recipients: tuple[Recipient, ...] = ()
    original_message_id: str | None = None
    original_headers: tuple[tuple[str, str], ...] = ()
    verp_tokens: tuple[str, ...] = ()
    feedback_type: str | None = None
    error: str | None = None

    def as_json(self) -> dict[str, object]:
        """The DESIGN.md shape (without "file"): kind and recipients."""
        return {
            "kind": self.kind,
            "recipients": [
                {"address": r.address, "status": r.status, "reason": r.reason, "hard": r.hard}
                for r in self.recipients
            ],
        }


@dataclass(slots=True)
class _Found:
    """Evidence gathered from one message of a (possibly mbox) file."""

    kind: Kind = "not-bounce"
    recipients: list[Recipient] = field(default_factory=list)
    original: Message | None = None
    feedback_type: str | None = None


# --- entry point -------------------------------------------------------------------


def classify(raw: bytes) -> Classification:
    """Classify one raw email (RFC 5322 bytes, or an mbox holding several); only the first
    MAX_BYTES (512 KiB) are read.

    Evidence, strongest first: an Amazon SES notification, an ARF complaint (RFC 5965) or
    Microsoft JMRP report, an RFC 3464 delivery-status report, then bounce text (see the
    module docstring); otherwise an RFC 3834 auto-reply, else "not-bounce". Never raises:
    unreadable input gives kind "not-bounce" with `error` set.
    """
    try:
        return _classify(raw[:MAX_BYTES] if isinstance(raw, bytes | bytearray) else b"")
    except Exception as exc:  # a parser bug must not stop a mailbox pass
        log.warning("bounce classifier failed: %r", exc)
        return Classification(kind="not-bounce", error=f"unreadable: {type(exc).__name__}")


_PRIORITY: Final[dict[Kind, int]] = {"bounce": 3, "complaint": 2, "autoreply": 1, "not-bounce": 0}


def _classify(raw: bytes) -> Classification:
    if not raw.strip():
        return Classification(kind="not-bounce", error="empty message")
    results: list[tuple[_Found, Message]] = []
    for chunk in _split_mbox(raw):
        msg = message_from_bytes(chunk)
        results.append((_examine(msg, chunk), msg))
    best_kind = max((f.kind for f, _ in results), key=_PRIORITY.__getitem__)
    recipients: list[Recipient] = []
    seen: set[str] = set()
    original: Message | None = None
    feedback_type = None
    for found, _msg in results:
        if found.kind != best_kind:
            continue
        for r in found.recipients:
            if r.address not in seen:
                seen.add(r.address)
                recipients.append(r)
        original = original or found.original
        feedback_type = feedback_type or found.feedback_type
    tokens = _verp_tokens([m for _, m in results], original)
    headers: tuple[tuple[str, str], ...] = ()
    message_id = None
    if original is not None:
        headers = tuple((k, _clean(str(v))) for k, v in list(original.items())[:100])
        message_id = _message_id(original)
    if message_id is None:
        for _, msg in results:
            for name in ("X-Original-Message-ID", "In-Reply-To", "References"):
                message_id = message_id or _first_msgid(msg.get(name))
    return Classification(
        kind=best_kind,
        recipients=tuple(recipients[:MAX_RECIPIENTS]),
        original_message_id=message_id,
        original_headers=headers,
        verp_tokens=tokens,
        feedback_type=feedback_type,
    )


_MBOX_FROM: Final = re.compile(rb"^From \S*[ \t]+\w{3} \w{3}[ \t]+\d", re.MULTILINE)


def _split_mbox(raw: bytes) -> list[bytes]:
    """The messages of an mbox-style file (From_ separator lines); else the file."""
    starts = [m.start() for m in _MBOX_FROM.finditer(raw)]
    if not starts:
        return [raw]
    chunks = []
    if raw[: starts[0]].strip():
        chunks.append(raw[: starts[0]])
    for i, start in enumerate(starts[:10]):
        end = starts[i + 1] if i + 1 < len(starts) else len(raw)
        body = raw[start:end]
        chunks.append(body.split(b"\n", 1)[1] if b"\n" in body else b"")
    return [c for c in chunks if c.strip()] or [raw]


# --- one message ---------------------------------------------------------------------


def _examine(msg: Message, raw: bytes) -> _Found:
    parts = list(_walk(msg))
    ses = _ses_notification(msg, parts)
    if ses is not None:
        return ses
    arf = _arf(msg, parts)
    if arf is not None:
        return arf
    original = _returned_original(parts)
    dsn = _dsn(msg, parts, original)
    if dsn is not None:
        return dsn
    human = _human_text(msg, parts)
    if _looks_like_bounce(msg, human):
        if original is None:
            original = _original_from_text(human)
        recipients = _non_dsn_recipients(msg, human, original, raw)
        if recipients:
            return _Found("bounce", recipients, original)
    if _is_autoreply(msg, human):
        sender = parseaddr(_clean(str(msg.get("From", ""))))[1].lower()
        rcpts = [Recipient(sender, None, "vacation", False)] if "@" in sender else []
        return _Found("autoreply", rcpts, original)
    return _Found("not-bounce", [], original)


def _walk(msg: Message) -> Iterator[Message]:
    for i, part in enumerate(msg.walk()):
        if i >= MAX_PARTS:
            return
        yield part


def _text_of(part: Message) -> str:
    """A leaf part's text, decoded (transfer encoding, charset), at most MAX_TEXT."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        if isinstance(raw, list):  # message/* parsed into sub-messages
            return "\n".join(_as_text(p) for p in raw)[:MAX_TEXT]
        return str(raw)[:MAX_TEXT]
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload[:MAX_TEXT].decode(charset, errors="replace")
    except LookupError:
        return payload[:MAX_TEXT].decode("utf-8", errors="replace")


def _as_text(m: object) -> str:
    if isinstance(m, Message):
        try:
            return m.as_string()
        except Exception:
            return "\n".join(f"{k}: {v}" for k, v in m.items())
    return str(m)


def _clean(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip()


# --- Amazon SES notifications sent by email (JSON) ---------------------------------


def _ses_notification(msg: Message, parts: list[Message]) -> _Found | None:
    for part in parts:
        if part.is_multipart() or part.get_content_maintype() not in ("text", "application"):
            continue
        text = _text_of(part)
        if "notificationType" not in text and "eventType" not in text:
            continue
        data = _json_object(text[text.find("{") :])
        if isinstance(data, dict) and isinstance(data.get("Message"), str):
            # An SNS envelope (Type "Notification") around the SES notification.
            data = _json_object(str(data["Message"]))
        if isinstance(data, dict):
            found = _ses_event(data)
            if found is not None:
                return found
    return None


def _json_object(text: str) -> object:
    """The JSON value at the start of `text`; sendmail breaks lines over 990 octets with
    "!" + newline + space (RFC 5322 2.1.1 limit), which is undone on a second try."""
    for candidate in (text, re.sub(r"!\r?\n ", "", text)):
        try:
            return json.JSONDecoder(strict=False).raw_decode(candidate)[0]
        except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested too deep
            continue
    return None


def _ses_event(data: dict[str, object]) -> _Found | None:
    kind = str(data.get("notificationType") or data.get("eventType") or "").lower()
    if kind == "bounce":
        bounce = data.get("bounce") if isinstance(data.get("bounce"), dict) else {}
        assert isinstance(bounce, dict)
        transient = str(bounce.get("bounceType", "")).lower() == "transient"
        rcpts = []
        for r in _dicts(bounce.get("bouncedRecipients")):
            address = str(r.get("emailAddress", "")).lower()
            diagnostic = str(r.get("diagnosticCode") or "")
            status = str(r.get("status") or "") or find_status(diagnostic)
            reason, hard = decide(status, diagnostic, temporary=transient)
            if "@" in address:
                rcpts.append(Recipient(address, status, reason, hard, diagnostic))
        return _Found("bounce", rcpts)
    if kind == "complaint":
        complaint = data.get("complaint") if isinstance(data.get("complaint"), dict) else {}
        assert isinstance(complaint, dict)
        rcpts = [
            Recipient(str(r.get("emailAddress", "")).lower(), None, "feedback", False)
            for r in _dicts(complaint.get("complainedRecipients"))
        ]
        ftype = complaint.get("complaintFeedbackType")
        return _Found("complaint", rcpts, feedback_type=str(ftype) if ftype else "abuse")
    if kind == "delivery":
        delivery = data.get("delivery") if isinstance(data.get("delivery"), dict) else {}
        assert isinstance(delivery, dict)
        raw = delivery.get("recipients")
        addresses = [str(a).lower() for a in raw] if isinstance(raw, list) else []
        status = find_status(str(delivery.get("smtpResponse", ""))) or "2.0.0"
        return _Found("not-bounce", [Recipient(a, status, "delivered", False) for a in addresses])
    return None


def _dicts(value: object) -> list[dict[str, object]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


# --- ARF complaints (RFC 5965) -------------------------------------------------------

_FIELD_RE: Final = re.compile(r"^([A-Za-z][\w-]*)[ \t]*:[ \t]*(.*)$")


def _fields(text: str) -> list[dict[str, str]]:
    """Header-style blocks (separated by blank lines) as lower-cased dicts; folded
    lines unfolded. Used for message/delivery-status and message/feedback-report."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
                current, last = {}, ""
            continue
        if line[0] in " \t" and last:
            current[last] += " " + line.strip()
            continue
        m = _FIELD_RE.match(line)
        if m:
            last = m.group(1).lower()
            if last in current:  # a repeated field starts a new recipient in sloppy MTAs
                if (
                    last in ("final-recipient", "original-recipient")
                    and "final-recipient" in current
                ):
                    blocks.append(current)
                    current = {}
                else:
                    current[last] += ", " + m.group(2).strip()
                    continue
            current[last] = m.group(2).strip()
    if current:
        blocks.append(current)
    return blocks


def _arf(msg: Message, parts: list[Message]) -> _Found | None:
    report = [p for p in parts if p.get_content_type() == "message/feedback-report"]
    is_arf = report or (
        msg.get_content_type() == "multipart/report"
        and str(msg.get_param("report-type", "")).lower() == "feedback-report"
    )
    if not is_arf:
        return _jmrp(parts)
    info: dict[str, str] = {}
    for part in report:
        for block in _fields(_text_of(part)):
            for k, v in block.items():
                info.setdefault(k, v)
    original = _returned_original(parts)
    addresses = _addresses(info.get("original-rcpt-to", ""))
    if not addresses and original is not None:
        # Most reports redact the recipient; the returned original's To may still name it.
        addresses = _addresses(str(original.get("To", "")))
    rcpts = [Recipient(a, None, "feedback", False) for a in addresses]
    return _Found("complaint", rcpts, original, info.get("feedback-type", "").lower() or None)


def _jmrp(parts: list[Message]) -> _Found | None:
    """Microsoft's feedback loop (JMRP) predates ARF: the complained-about message comes
    back attached, its recipient in the X-HmXmrOriginalRecipient header."""
    original = _returned_original(parts)
    if original is None or original.get("X-HmXmrOriginalRecipient") is None:
        return None
    addresses = _addresses(str(original.get("X-HmXmrOriginalRecipient", "")))
    rcpts = [Recipient(a, None, "feedback", False) for a in addresses]
    return _Found("complaint", rcpts, original, "abuse")


# A dot-atom or quoted local part (RFC 5321 4.1.2: "neko....nyaan"@example.org is valid).
_ADDR_RE: Final = re.compile(
    r"(?:\"[^\"\r\n<>@]{1,64}\"|[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]+)@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)+"
)


def _addresses(value: str) -> list[str]:
    """Valid-looking addresses in a header or DSN field value, lower-cased, in order."""
    out: list[str] = []
    for m in _ADDR_RE.finditer(value or ""):
        addr = m.group(0).strip(".").lower()
        if addr not in out:
            out.append(addr)
    return out


# --- RFC 3464 delivery status notifications -----------------------------------------


def _dsn(msg: Message, parts: list[Message], original: Message | None) -> _Found | None:
    texts = [
        _text_of(p)
        for p in parts
        if p.get_content_type() in ("message/delivery-status", "message/global-delivery-status")
    ]
    if not texts:
        # Some MTAs paste the DSN fields into a text part: accept that when both
        # Final-Recipient and Status/Action lines are there.
        for p in parts:
            if not p.is_multipart() and p.get_content_maintype() in ("text", "multipart"):
                t = _unquote(_text_of(p))
                if re.search(r"^[ \t]*Final-Recipient[ \t]*:", t, re.I | re.M) and re.search(
                    r"^[ \t]*(?:Action|Status)[ \t]*:", t, re.I | re.M
                ):
                    texts.append(t)
    if not texts:
        return None
    human = _human_text(msg, parts)
    blocks = [b for t in texts for b in _fields(_unindent(t))]
    rcpts: list[Recipient] = []
    failed = delivered = 0
    for block in blocks:
        if len(rcpts) >= MAX_RECIPIENTS:
            break
        if "final-recipient" not in block and "original-recipient" not in block:
            continue
        action = block.get("action", "").lower().split()[0] if block.get("action") else ""
        address = _dsn_address(block, original, msg)
        if not address:
            continue
        orcpt = _field_address(block, "original-recipient")
        orcpt = orcpt if orcpt != address else None
        status_field = find_status(block.get("status", ""))
        diagnostic = _clean(block.get("diagnostic-code", ""))
        diagnostic = re.sub(r"^(?:smtp|x-[\w-]+|unix|x-unix)\s*;\s*", "", diagnostic, flags=re.I)
        if not diagnostic:
            diagnostic = _text_near(human, address)
            if not reason_from_text(diagnostic) and _count_recipients(blocks) == 1:
                # No Diagnostic-Code: the report's own transcript speaks for a lone
                # recipient (sendmail's "mail.local: unknown user").
                diagnostic = _clean(diagnostic + " " + _report_part(human))[:2000]
        status = status_field
        in_text = find_status(diagnostic)
        if is_generic(status) and in_text and not is_generic(in_text):
            status = in_text
        if status is None:
            code = find_reply_code(diagnostic)
            if code:
                status = f"{code[0]}.0.0"
        if action in ("delivered", "relayed", "expanded", "deliverable") or (
            action not in ("failed", "delayed", "failure", "error")
            and status is not None
            and status.startswith("2.")
        ):
            delivered += 1
            rcpts.append(Recipient(address, status, "delivered", False, diagnostic, action, orcpt))
            continue
        reason, hard = decide(
            status,
            diagnostic,
            temporary=action == "delayed",
            command=_smtp_command(diagnostic, _text_near(human, address), human),
        )
        failed += 1
        rcpts.append(Recipient(address, status, reason, hard, diagnostic, action or None, orcpt))
    if not rcpts:
        return None
    if failed:
        return _Found("bounce", [r for r in rcpts if r.reason != "delivered"], original)
    return _Found("not-bounce", rcpts, original)


def _count_recipients(blocks: list[dict[str, str]]) -> int:
    return sum(1 for b in blocks if "final-recipient" in b or "original-recipient" in b)


def _unindent(text: str) -> str:
    return "\n".join(
        line.lstrip() if _FIELD_RE.match(line.lstrip()) else line for line in text.splitlines()
    )


def _field_address(block: dict[str, str], name: str) -> str | None:
    """The address in a DSN field value ("rfc822; a@b"), lower-cased, or None."""
    value = block.get(name, "")
    value = value.split(";", 1)[1] if ";" in value else value
    found = _addresses(value)
    return found[0] if found else None


def _dsn_address(block: dict[str, str], original: Message | None, msg: Message) -> str:
    """Final-Recipient (RFC 3464 2.3.2), else Original-Recipient; when the field has no
    usable address (a bare "@host"), the returned original's To."""
    for name in ("final-recipient", "original-recipient", "x-actual-recipient"):
        found = _field_address(block, name)
        if found:
            return found
    if original is not None:
        to = _addresses(str(original.get("To", "")))
        if to:
            return to[0]
    return ""


# --- the returned original -----------------------------------------------------------


def _returned_original(parts: list[Message]) -> Message | None:
    for part in parts:
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        # text/rfc822-headers (RFC 6522) and the variants MTAs really send.
        if "rfc822-header" in ctype or ctype == "message/global-headers":
            return _parse_headers(_text_of(part))
    return None


def _parse_headers(text: str) -> Message | None:
    try:
        return HeaderParser().parsestr(text.lstrip(), headersonly=True)
    except Exception:
        return None


_ORIG_START: Final = re.compile(
    r"^(?:Return-Path|Received|Message-I[Dd]|From|To|Subject|Date|DKIM-Signature|"
    r"MIME-Version|Content-Type|X-[\w-]+):[^\n]*\n(?:[ \t][^\n]*\n)*"
    r"(?:[A-Za-z][\w-]*:|[ \t])",
    re.MULTILINE,
)


def _original_from_text(text: str) -> Message | None:
    """The quoted headers of the original in a text-only bounce (qmail, Exim, ...)."""
    best: Message | None = None
    marker = _ORIGINAL_MARKER.search(text)
    if marker:
        text = text[marker.end() :]
    for i, m in enumerate(_ORIG_START.finditer(text)):
        if i >= 3:  # a few tries: each parse reads on to the end of the text
            break
        headers = _parse_headers(text[m.start() : m.start() + MAX_HEADERS])
        if headers is not None and (headers.get("Message-ID") or headers.get("Subject")):
            return headers
        best = best or headers
    return best


def _message_id(original: Message) -> str | None:
    return _first_msgid(original.get("Message-ID"))


def _first_msgid(value: object) -> str | None:
    if not value:
        return None
    text = _clean(str(value))
    m = re.search(r"<[^<>\s]+>", text)
    if m:
        return m.group(0)
    return text.split()[0] if text else None


_VERP_RE: Final = re.compile(r"\bbounces\+([A-Za-z0-9._=\-]{1,200})@", re.IGNORECASE)


def _verp_tokens(messages: Iterable[Message], original: Message | None) -> tuple[str, ...]:
    """Raw TOKEN strings of bounces+TOKEN@ addresses: the envelope recipient headers of
    the bounce, then every header of the returned original."""
    values: list[str] = []
    for msg in messages:
        for name in ("Delivered-To", "X-Original-To", "To", "Envelope-To", "X-Envelope-To"):
            values.extend(str(v) for v in msg.get_all(name, []))
    if original is not None:
        values.extend(str(v) for _, v in original.items())
    tokens: list[str] = []
    for value in values:
        for token in _VERP_RE.findall(value):
            if token not in tokens:
                tokens.append(token)
    return tuple(tokens)


# --- non-standard bounces ------------------------------------------------------------

_BOUNCE_SENDER: Final = re.compile(
    r"mailer-daemon|post_?master|mail delivery|mail administrator|mail\.?delivery|"
    r"maildeliverysystem|mdaemon|bounce|returned|noreply-dmarc|double-bounce|"
    r"mail system|delivery subsystem|microsoftexchange|\bmta\b|\bdaemon\b",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT: Final = re.compile(
    r"undeliver|undelivered|delivery (?:status|failure|failed|has failed|problem|notification)|"
    r"returned mail|failure notice|mail delivery|could not be delivered|non-?delivery|"
    r"delivery report|not delivered|bounce|mail system error|error sending|"
    r"rejected|failed|failure|warning: could not|message status|delivery incomplete|"
    r"unable to deliver|unzustellbar|nicht zustellbar|fehlgeschlagen|"
    r"no se puede entregar|non remis|undeliverable",
    re.IGNORECASE,
)
_BOUNCE_BODY: Final = re.compile(
    r"could not be delivered|couldn't be delivered|was not delivered|undeliverable|"
    r"delivery (?:to the following|has failed|failed|to these recipients)|"
    r"permanent(?:ly)? (?:error|fatal|failure)|i'm afraid i wasn't able|"
    r"unable to deliver|following address(?:es)? failed|message delivery failed|"
    r"returned to sender|could not deliver|failed to deliver|delivery failure|"
    r"your message .{0,80}(?:rejected|bounced|could not)|mail delivery failed|"
    r"this is the mail system at|the following addresses had permanent|"
    r"did not reach the following|was undeliverable|error delivering your mail|"
    # Mailing-list managers (fml, Mailman, Majordomo) refusing or looping a post.
    r"not (?:a )?member of|non-?member|members[- ]only|not allowed to post|"
    r"duplicated message-id|loop alert|mail loop",
    re.IGNORECASE,
)
# A list manager's own address: weaker evidence than MAILER-DAEMON, as lists also send
# ordinary notices from it.
_LIST_SENDER: Final = re.compile(r"-admin@|^owner-|-owner@|-request@|-bounces?@", re.IGNORECASE)


def _looks_like_bounce(msg: Message, human: str) -> bool:
    sender = _clean(str(msg.get("From", "")))
    subject = _clean(str(msg.get("Subject", "")))
    return_path = _clean(str(msg.get("Return-Path", "")))
    null_sender = return_path in ("<>", "<MAILER-DAEMON>") or not sender
    score = 0
    address = parseaddr(sender)[1]
    score += 2 if _BOUNCE_SENDER.search(sender) else (1 if _LIST_SENDER.search(address) else 0)
    score += 2 if _BOUNCE_SUBJECT.search(subject) else 0
    score += 2 if _BOUNCE_BODY.search(human[:8000]) else 0
    score += 1 if null_sender else 0
    return score >= 2


def _unquote(text: str) -> str:
    """A forwarded report quoted with "> " read as the report itself."""
    lines = text.splitlines()
    quoted = sum(1 for line in lines if line.startswith(">"))
    if lines and quoted > len(lines) / 2:
        return "\n".join(re.sub(r"^(?:> ?)+", "", line) for line in lines)
    return text


def _human_text(msg: Message, parts: list[Message]) -> str:
    """The text meant for people: text/* leaves outside any returned message."""
    chunks: list[str] = []
    skip: set[int] = set()
    for part in parts:
        if part.get_content_type() in ("message/rfc822", "message/global"):
            for sub in part.walk():
                if sub is not part:
                    skip.add(id(sub))
    for part in parts:
        if id(part) in skip or part.is_multipart():
            continue
        if part.get_content_maintype() in ("text", "multipart") or part is msg:
            # A multipart left unsplit (its boundary lost to bad folding) is read as text.
            if "rfc822-header" in part.get_content_type():
                continue
            text = _text_of(part)
            if part.get_content_subtype() == "html":
                text = re.sub(
                    r"<[^>]+>", " ", re.sub(r"<br\s*/?>|</p>|</div>", "\n", text, flags=re.I)
                )
            chunks.append(text)
        if sum(len(c) for c in chunks) > MAX_TEXT:
            break
    return _unquote("\n".join(chunks)[:MAX_TEXT])


# Where the quoted original starts in a text-only bounce; nothing after it is evidence.
# A marker is a short line of its own, maybe framed by dashes.
_ORIGINAL_MARKER: Final = re.compile(
    r"^[-=*_>| \t]*(?:(?:[A-Za-z]+ ){0,3}(?:below this line is a copy of the message|"
    r"below is a copy of the (?:original )?message|(?:this is )?a copy of the (?:original )?message|"
    r"the following is (?:the|a) copy)[^\n]{0,60}|"
    r"(?:(?:the|your|[-]+) )?(?:original message(?: follows| headers?| is attached)?|message headers follow|"
    r"(?:the )?headers? of the original message|undelivered message headers|returned message|"
    r"attached message|content-description: undelivered message|message text follows|"
    r"original mail (?:as follows|follows))"
    r"[ \t\r:.=*_|-]*)$",
    re.IGNORECASE | re.MULTILINE,
)


def _report_part(human: str) -> str:
    m = _ORIGINAL_MARKER.search(human)
    return human[: m.start()] if m else human


# The SMTP command a reply answered, when the report says: a "user unknown" given after
# DATA is a content filter speaking, not a verdict on the address (sisimai: filtered).
_SMTP_COMMAND: Final = re.compile(
    r"(?:in reply to|after|response to|refused to accept your message) \(?(?:the )?"
    r"(RCPT TO|RCPT|MAIL FROM|end of DATA|DATA|end of data|data)\b|"
    r">>> (DATA|RCPT TO)[^\n]*\n[ \t\r]*<<< [45]|\b(DATA|RCPT TO) command|"
    r"SMTP command[\s:-]*(DATA|RCPT)\b",
    re.IGNORECASE,
)


def _smtp_command(*texts: str) -> str | None:
    """The SMTP command ("RCPT", "DATA", "MAIL") the failing reply answered, when the
    report says: the first one named in the recipient's own text, else in the report."""
    for text in texts:
        m = _SMTP_COMMAND.search(text or "")
        if m:
            command = next(g for g in m.groups() if g).upper()
            return "DATA" if "DATA" in command else command.split()[0]
    return None


_TEMPORARY: Final = re.compile(
    r"temporar|will (?:continue|keep) (?:to )?try|still trying|delayed|not yet been delivered|"
    r"will be retried|retry (?:again|later)",
    re.IGNORECASE,
)
_PERMANENT: Final = re.compile(
    r"permanent|given up|giving up|gave up|not going to try|failed|could not be delivered",
    re.IGNORECASE,
)
_REPLY_LINE: Final = re.compile(
    r"^.*(?:\b[245]\d\d[ \-]|\b[245]\.\d{1,3}\.\d{1,3}\b).*$", re.MULTILINE
)


def _non_dsn_recipients(
    msg: Message, human: str, original: Message | None, raw: bytes
) -> list[Recipient]:
    report = _report_part(human)
    in_report = report.lower()
    # X-Failed-Recipients (Exim, Gmail) is the reporting MTA's own list: best evidence.
    addresses = _addresses(" ".join(str(v) for v in msg.get_all("X-Failed-Recipients", [])))
    if not addresses:
        addresses = [a for a in _flufl_addresses(msg, raw) if a in in_report]
    if not addresses:
        addresses = _pattern_addresses(msg, report, original)
    if not addresses and original is not None:
        addresses = _addresses(str(original.get("To", "")))[:1]
    temporary = bool(_TEMPORARY.search(report[:4000])) and not _PERMANENT.search(report[:4000])
    first_reply = _REPLY_LINE.search(report)
    rcpts = []
    for address in addresses[:MAX_RECIPIENTS]:
        near = _text_near(report, address)
        diagnostic = near
        if not reason_from_text(near) or not (find_status(near) or find_reply_code(near)):
            # The recipient's own lines name no cause: for a lone recipient the whole
            # report speaks of it, else the first SMTP reply in the report.
            if len(addresses) == 1:
                diagnostic = _clean(near + " " + report)[:2000]
            elif first_reply:
                diagnostic = _clean(near + " " + first_reply.group(0))
            if reason_from_text(near):
                diagnostic = near + " " + (find_status(diagnostic) or "")
        status = find_status(near) or find_status(diagnostic)
        if status is not None and status.startswith("2."):
            status = None  # a success code in a failure report is noise (a version, a date)
        if status is None:
            code = find_reply_code(near) or find_reply_code(diagnostic)
            status = f"{code[0]}.0.0" if code else None
        reason, hard = decide(
            status, diagnostic, temporary=temporary, command=_smtp_command(near, report)
        )
        rcpts.append(Recipient(address, status, reason, hard, near or diagnostic[:1000]))
    return rcpts


def _flufl_addresses(msg: Message, raw: bytes) -> list[str]:
    """Addresses flufl.bounce's detectors find; any detector exception is swallowed
    (flufl.bounce re-raises them, and some detectors fail on odd input). A big message
    is cut first: its line-by-line detectors took seconds on 500,000 short lines, and
    the report they read sits at the top."""
    if len(raw) > FLUFL_BYTES or raw.count(b"\n", 0, FLUFL_BYTES) > FLUFL_LINES:
        head = b"\n".join(raw[:FLUFL_BYTES].split(b"\n")[:FLUFL_LINES])
        msg = message_from_bytes(head)
    try:
        from flufl.bounce import all_failures

        temporary, permanent = all_failures(msg)
    except Exception as exc:
        log.debug("flufl.bounce failed: %r", exc)
        return []
    out: list[str] = []
    for raw in sorted(permanent) + sorted(temporary):
        text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else str(raw)
        for a in _addresses(text):
            if a not in out:
                out.append(a)
    return out


_A: Final = _ADDR_RE.pattern
# An address at the start of a line, alone or followed by its diagnostic:
# "<a@b>:", "a@b: 550 ...", "a@b [User unknown]", "* a@b", "RCPT TO:<a@b>".
_LINE_ADDR: Final = re.compile(
    r"^[ \t]*(?:[*\-•>][ \t]*|RCPT TO:[ \t]*|Recipient:[ \t]*|To:[ \t]*)?[<\"'(]?("
    + _A
    + r")[>\"')]?"
    r"(?:[ \t\r]*$|[ \t]*[:;,.]|[ \t]+[\[(]|[ \t]+[245]\d\d\b|[ \t]+\.\.\.|[ \t]+-)",
    re.MULTILINE | re.IGNORECASE,
)
_ANGLE_ADDR: Final = re.compile(r"<(" + _A + r")>")
# A list manager names the list it refused our post to.
_LIST_ADDR: Final = re.compile(r"mailing list\s*<?(" + _A + r")>?", re.IGNORECASE)
_ANY_ADDR: Final = re.compile(r"(?<![\w.+-])(" + _A + r")")
_OWN_ADDR: Final = re.compile(
    r"mailer-daemon|postmaster@|double-bounce|^bounces?[+@]", re.IGNORECASE
)


def _pattern_addresses(msg: Message, report: str, original: Message | None) -> list[str]:
    """Our own last resort: addresses starting a line, then in angle brackets, then
    anywhere in the report text; never the bounce's own From/To nor our sender."""
    exclude = set(_addresses(str(msg.get("From", ""))) + _addresses(str(msg.get("To", ""))))
    if original is not None:
        exclude.update(_addresses(str(original.get("From", ""))))
        exclude.update(_addresses(str(original.get("Return-Path", ""))))
    for rx in (_LIST_ADDR, _LINE_ADDR, _ANGLE_ADDR, _ANY_ADDR):
        out: list[str] = []
        for m in rx.finditer(report):
            addr = m.group(1).strip(".").lower()
            if addr not in out and addr not in exclude and not _OWN_ADDR.search(addr):
                out.append(addr)
        if out:
            return out
    return []


_NEXT_RCPT: Final = re.compile(r"^\s*[<\"(]?[^\s@<>\"]+@[^\s>\"]+[>\")]?\s*(?:$|:)")


def _text_near(text: str, address: str) -> str:
    """The diagnostic next to `address` in a report: the line that names it and the
    lines after it up to a blank line or the next recipient (qmail, Exim, Postfix and
    most MTAs use this shape)."""
    if not text or not address:
        return ""
    idx = text.lower().find(address)
    if idx < 0:
        return ""
    start = text.rfind("\n", 0, idx) + 1
    lines = text[start:].splitlines()
    out = [lines[0]]
    # A line holding only the address: its diagnostic may follow a blank line (Gmail).
    bare = len(re.sub(r"[\W_]+", "", lines[0].lower().replace(address, ""))) < 3
    for line in lines[1:12]:
        if not line.strip():
            if len(out) > 1 or not bare:
                break
            continue
        if re.match(r"^\s*[|=*_-]{4,}", line):
            break  # a separator: the next section
        if _NEXT_RCPT.match(line) and address not in line.lower():
            break
        out.append(line)
    return _clean(" ".join(out))[:1000]


# --- auto-replies (RFC 3834) ----------------------------------------------------------

_AUTOREPLY_SUBJECT: Final = re.compile(
    r"^(?:auto(?:matic)?[ -]?(?:reply|response|answer)|auto:|out of (?:the )?office|"
    r"vacation|on vacation|away from|abwesenheit|absence|autosvar|r[ée]ponse automatique|"
    r"respuesta autom|risposta automatica|automatisch|自動応答|自動返信)",
    re.IGNORECASE,
)
_AUTOREPLY_BODY: Final = re.compile(
    r"out of (?:the )?office|on vacation|on holiday|away from (?:my|the) (?:desk|office)|"
    r"limited access to (?:my )?e-?mail|will be back|i am away|i'm away|currently away",
    re.IGNORECASE,
)


def _is_autoreply(msg: Message, human: str) -> bool:
    """RFC 3834 auto-replies and vacation notices. `Auto-Submitted: auto-replied` counts
    only with a reply-like subject or body, since DSNs carry it too."""
    auto = str(msg.get("Auto-Submitted", "")).lower()
    subject = _clean(str(msg.get("Subject", "")))
    flagged = (
        auto.startswith("auto-replied")
        or msg.get("X-Autoreply") is not None
        or msg.get("X-Autorespond") is not None
        or str(msg.get("Precedence", "")).lower() == "auto_reply"
        or "autoreply" in str(msg.get("X-Auto-Response-Suppress", "")).lower()
    )
    by_subject = bool(
        _AUTOREPLY_SUBJECT.search(re.sub(r"^(?:re|aw|fw|fwd):\s*", "", subject, flags=re.I))
    )
    by_body = bool(_AUTOREPLY_BODY.search(human[:4000]))
    return by_subject or (flagged and by_body)
