"""Reading the bounce mailbox: each new message classified, recorded once, put away.

`NEWSLETTER_BOUNCE_MAILBOX` names the store: `imap://` / `imaps://user:pass@host[:port]
[/FOLDER]` (imapclient), `pop3s://user:pass@host[:port]` (poplib), `maildir:///path`,
`mbox:///path`. One pass (`process`) reads every message not yet handled:

- handled (recorded, or not a bounce at all) -> Maildir: moved from `new/` to `cur/`
  with the seen flag `S`; IMAP: flagged `\\Seen` and moved to `Processed` when that
  folder exists; mbox: `Status: RO`; POP3: deleted (POP3 keeps no flags).
- cannot be parsed (no headers, empty, a classifier error) -> kept aside, never deleted:
  Maildir `.failed/` (a Maildir++ folder), IMAP `Failed` (created when missing), mbox
  `PATH.failed` (an mbox); POP3 leaves it on the server. The reason is logged.

A crash mid-pass leaves the message unflagged, so the next pass reads it again; every
event carries a provider_event_id made from the message (its Message-ID, else a hash
of its bytes) and the recipient, so record.py stores it once and nothing counts twice.

Finding the delivery: our VERP token first (newsletter.mail.verp; its MAC checked
against the secret key and its fallbacks). A message that carries tokens none of which
verifies is forged or not ours and suppresses nobody. With no token at all, record.py
falls back to the returned original's Message-ID, then the DSN recipient address.
"""

from __future__ import annotations

import email
import email.policy
import functools
import hashlib
import logging
import mailbox as stdlib_mailbox
import poplib
import ssl
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from newsletter.mail import verp

from . import policy
from .classify import MAX_BYTES, Classification, classify
from .record import events_from_classified, record_events

if TYPE_CHECKING:
    from newsletter.config import Settings

log = logging.getLogger(__name__)

PROCESSED_FOLDER = "Processed"
FAILED_FOLDER = "Failed"
# What is read of one message: enough for the classifier and a stable hash; a 20 MB
# attachment costs no more than this.
READ_LIMIT = 4 * MAX_BYTES


class MailboxError(RuntimeError):
    """The mailbox cannot be opened or read (bad URL, refused login, missing path)."""


@dataclass(slots=True)
class PassCounts:
    """What one pass did: messages `read`, of which `bounces`, `complaints`, `ignored`
    (auto-replies, not bounces), `forged` (VERP tokens that do not verify) and `failed`
    (kept aside); recipients `suppressed`, `duplicates` (already stored: a re-read),
    `unknown` (no delivery or subscriber matches)."""

    read: int = 0
    bounces: int = 0
    complaints: int = 0
    ignored: int = 0
    forged: int = 0
    failed: int = 0
    suppressed: int = 0
    duplicates: int = 0
    unknown: int = 0

    def as_dict(self) -> dict[str, int]:
        """Every counter by name, in field order (what `newsletter bounces process` prints)."""
        return {name: getattr(self, name) for name in self.__slots__}


class Unparseable(ValueError):
    """A message that is not an email at all; the text says why."""


@dataclass(slots=True)
class _Item:
    raw: bytes
    done: Callable[[], None]
    failed: Callable[[str], None]
    name: str = ""


@dataclass(slots=True)
class Handler:
    """Classify and record one message (no I/O on the store)."""

    session: Session
    keys: tuple[str, ...]
    soft_policy: policy.SoftBouncePolicy
    counts: PassCounts = field(default_factory=PassCounts)

    def handle(self, raw: bytes) -> None:
        """Record what `raw` says; raises Unparseable for a message that is not one."""
        result = classify(raw)
        if result.error:
            raise Unparseable(result.error)
        msg = email.message_from_bytes(raw[:MAX_BYTES], policy=email.policy.compat32)
        if not msg.keys():
            raise Unparseable("no header fields")
        if result.kind not in ("bounce", "complaint"):
            self.counts.ignored += 1
            return
        tokens = result.verp_tokens
        delivery_id = next(
            (d for d in (verp.read_token(t, self.keys) for t in tokens) if d is not None),
            None,
        )
        if tokens and delivery_id is None:
            log.warning(
                "bounce mailbox: %s with VERP tokens that do not verify (%s); ignored",
                result.kind,
                ", ".join(tokens[:3]),
            )
            self.counts.forged += 1
            return
        events = events_from_classified(
            message_key=message_key(raw, msg),
            kind=result.kind,
            recipients=_recipients(result, delivery_id),
            message_id=result.original_message_id,
            delivery_id=delivery_id,
        )
        if result.kind == "bounce":
            self.counts.bounces += 1
        else:
            self.counts.complaints += 1
        for outcome in record_events(self.session, events, soft_policy=self.soft_policy):
            if outcome.result == "duplicate":
                self.counts.duplicates += 1
            elif outcome.result == "unknown":
                self.counts.unknown += 1
            elif outcome.action == "suppressed":
                self.counts.suppressed += 1


def message_key(raw: bytes, msg: email.message.Message) -> str:
    """Stable per message: its Message-ID, else the SHA-256 of its bytes."""
    mid = str(msg.get("Message-ID") or "").strip().strip("<>").strip()
    if mid:
        return f"mid:{mid[:200]}"
    return f"sha256:{hashlib.sha256(raw).hexdigest()}"


def _recipients(result: Classification, delivery_id: int | None) -> list[dict[str, object]]:
    recipients: list[dict[str, object]] = [
        {"address": r.address, "status": r.status, "reason": r.reason, "hard": r.hard}
        for r in result.recipients
    ]
    if delivery_id is not None and len(recipients) > 1:
        # One VERP token names one delivery: the recipient that matches it wins, the
        # rest are the same message's other names (Original-Recipient, aliases).
        recipients = recipients[:1]
    return recipients


def process(session: Session, settings: Settings, url: str | None = None) -> PassCounts:
    """One pass over the mailbox at `url` (default the setting); returns the counts.

    Each message is classified and recorded in its own transaction, then marked done
    (deleted or moved, per store). Raises MailboxError when no mailbox is set or the store
    cannot be opened; a SQLAlchemyError (the database is away) stops the pass and leaves
    the message for next time; any other failure on one message keeps it aside and the pass
    carries on.
    """
    url = url or settings.bounce_mailbox
    if not url:
        raise MailboxError("no bounce mailbox: set NEWSLETTER_BOUNCE_MAILBOX or pass --mailbox")
    handler = Handler(
        session,
        keys=(settings.secret_key, *settings.secret_key_fallbacks),
        soft_policy=policy.SoftBouncePolicy(settings.bounce_soft_limit, settings.bounce_soft_days),
    )
    with open_store(url) as items:
        for item in items:
            handler.counts.read += 1
            try:
                handler.handle(item.raw)
            except SQLAlchemyError:
                raise  # the database is away: stop; the message stays unhandled for next time
            except Exception as exc:  # unparseable, or a bug on odd input: kept aside
                reason = str(exc) if isinstance(exc, Unparseable) else f"error: {exc!r}"
                log.warning("bounce mailbox: %s kept aside: %s", item.name or "message", reason)
                handler.counts.failed += 1
                session.rollback()
                item.failed(reason)
                continue
            item.done()
    return handler.counts


def open_store(url: str) -> AbstractContextManager[Iterator[_Item]]:
    """The messages not yet handled in the store at `url`; raises MailboxError."""
    parts = urlsplit(url)
    if parts.scheme == "maildir":
        return _Maildir(Path(unquote(parts.path)))
    if parts.scheme == "mbox":
        return _Mbox(Path(unquote(parts.path)))
    if parts.scheme in ("imap", "imaps"):
        return _Imap(url)
    if parts.scheme == "pop3s":
        return _Pop3(url)
    raise MailboxError(
        "the mailbox URL must start with imap://, imaps://, pop3s://, maildir:// or mbox://"
    )


def _read(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(READ_LIMIT)


class _Maildir(AbstractContextManager[Iterator[_Item]]):
    """A Maildir: `new/` and unseen `cur/` messages; handled ones get `cur/NAME:2,S`.

    Plain renames rather than stdlib mailbox.Maildir's rewrite, so the bytes on disk
    (and so the hash that keys a message with no Message-ID) never change.
    """

    def __init__(self, root: Path) -> None:
        if not (root / "new").is_dir() or not (root / "cur").is_dir():
            raise MailboxError(f"not a Maildir (no new/ and cur/): {root}")
        self.root = root

    def __enter__(self) -> Iterator[_Item]:
        return self._items()

    def __exit__(self, *exc: object) -> None:
        return None

    def _items(self) -> Iterator[_Item]:
        for sub in ("new", "cur"):
            for path in sorted((self.root / sub).iterdir()):
                if path.name.startswith(".") or not path.is_file():
                    continue
                base, _, info = path.name.partition(":2,")
                if sub == "cur" and "S" in info:
                    continue
                try:
                    raw = _read(path)
                except OSError as exc:  # vanished (another pass took it) or unreadable
                    log.warning("bounce mailbox: cannot read %s: %s", path, exc)
                    continue
                yield _Item(
                    raw,
                    done=functools.partial(self._seen, path, base, info),
                    failed=functools.partial(self._aside, path, base),
                    name=path.name,
                )

    def _seen(self, path: Path, base: str, info: str) -> None:
        flags = "".join(sorted(set(info) | {"S"}))
        path.replace(self.root / "cur" / f"{base}:2,{flags}")

    def _aside(self, path: Path, base: str, reason: str) -> None:
        failed = self.root / ".failed"
        for sub in ("cur", "new", "tmp"):
            (failed / sub).mkdir(parents=True, exist_ok=True)
        path.replace(failed / "new" / base)


class _Mbox(AbstractContextManager[Iterator[_Item]]):
    """An mbox, locked for the pass: handled messages get `Status: RO` (as mutt and
    Thunderbird mark read mail), failed ones move to `PATH.failed`. Flags are written
    when the pass ends, so a crash mid-pass re-reads everything (stored once)."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise MailboxError(f"no such mbox file: {path}")
        self.path = path
        self.box = stdlib_mailbox.mbox(str(path), create=False)

    def __enter__(self) -> Iterator[_Item]:
        try:
            self.box.lock()
        except stdlib_mailbox.ExternalClashError as exc:
            raise MailboxError(f"mbox is locked by another process: {self.path}") from exc
        return self._items()

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                self.box.flush()
        finally:
            self.box.unlock()
            self.box.close()

    def _items(self) -> Iterator[_Item]:
        for key in list(self.box.keys()):
            message = self.box.get_message(key)
            if "R" in message.get_flags():
                continue
            raw = self.box.get_bytes(key)[:READ_LIMIT]
            yield _Item(
                raw,
                done=functools.partial(self._seen, key, message),
                failed=functools.partial(self._aside, key, message),
                name=f"{self.path.name}#{key}",
            )

    def _seen(self, key: str, message: stdlib_mailbox.mboxMessage) -> None:
        message.add_flag("RO")
        self.box[key] = message

    def _aside(self, key: str, message: stdlib_mailbox.mboxMessage, reason: str) -> None:
        failed = stdlib_mailbox.mbox(str(self.path) + ".failed", create=True)
        try:
            failed.lock()
            failed.add(message)
            failed.flush()
        finally:
            failed.unlock()
            failed.close()
        self.box.remove(key)


def _credentials(url: str) -> tuple[str, int | None, str, str, str]:
    parts = urlsplit(url)
    if not parts.hostname:
        raise MailboxError("the mailbox URL has no host")
    user = unquote(parts.username or "")
    password = unquote(parts.password or "")
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    try:
        port = parts.port
    except ValueError as exc:
        raise MailboxError("the mailbox URL has a bad port") from exc
    return parts.hostname, port, user, password, folder


class _Imap(AbstractContextManager[Iterator[_Item]]):
    """IMAP: UNSEEN messages fetched with BODY.PEEK[] (reading sets no flag), then
    `\\Seen` and moved to `Processed` when it exists; failures go to `Failed`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.tls = urlsplit(url).scheme == "imaps"

    def __enter__(self) -> Iterator[_Item]:
        import imapclient
        from imapclient.exceptions import IMAPClientError

        host, port, user, password, folder = _credentials(self.url)
        try:
            self.client = imapclient.IMAPClient(
                host,
                port=port or (993 if self.tls else 143),
                ssl=self.tls,
                ssl_context=ssl.create_default_context() if self.tls else None,
                timeout=60,
            )
            self.client.login(user, password)
            self.client.select_folder(folder)
            self.has_processed = self.client.folder_exists(PROCESSED_FOLDER)
            self.can_move = self.client.has_capability("MOVE")
        except (IMAPClientError, OSError) as exc:
            raise MailboxError(f"cannot open the IMAP mailbox: {exc}") from exc
        return self._items()

    def __exit__(self, *exc: object) -> None:
        try:
            if not self.can_move:
                self.client.expunge()
            self.client.logout()
        except Exception:  # the pass is over; a failed goodbye loses nothing
            log.debug("IMAP logout failed", exc_info=True)

    def _items(self) -> Iterator[_Item]:
        for uid in self.client.search(["UNSEEN"]):
            # A partial fetch: a 20 MB attachment is not downloaded past READ_LIMIT.
            data = self.client.fetch([uid], [f"BODY.PEEK[]<0.{READ_LIMIT}>"]).get(uid, {})
            raw = data.get(b"BODY[]<0>") or data.get(b"BODY[]") or b""
            yield _Item(
                bytes(raw)[:READ_LIMIT],
                done=functools.partial(self._seen, uid),
                failed=functools.partial(self._aside, uid),
                name=f"IMAP uid {uid}",
            )

    def _move(self, uid: int, folder: str) -> None:
        if self.can_move:
            self.client.move([uid], folder)
        else:
            self.client.copy([uid], folder)
            self.client.delete_messages([uid])

    def _seen(self, uid: int) -> None:
        self.client.add_flags([uid], [b"\\Seen"])
        if self.has_processed:
            self._move(uid, PROCESSED_FOLDER)

    def _aside(self, uid: int, reason: str) -> None:
        if not self.client.folder_exists(FAILED_FOLDER):
            self.client.create_folder(FAILED_FOLDER)
        self._move(uid, FAILED_FOLDER)


class _Pop3(AbstractContextManager[Iterator[_Item]]):
    """POP3 over TLS: no flags exist, so a handled message is deleted (at QUIT) and a
    failed one stays on the server, logged again at each pass."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> Iterator[_Item]:
        host, port, user, password, _ = _credentials(self.url)
        try:
            self.client = poplib.POP3_SSL(
                host, port or 995, context=ssl.create_default_context(), timeout=60
            )
            self.client.user(user)
            self.client.pass_(password)
        except (poplib.error_proto, OSError) as exc:
            raise MailboxError(f"cannot open the POP3 mailbox: {exc}") from exc
        return self._items()

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                self.client.quit()  # deletions take effect only here
            else:
                self.client.close()
        except (poplib.error_proto, OSError):
            log.debug("POP3 quit failed", exc_info=True)

    def _items(self) -> Iterator[_Item]:
        _, listing, _ = self.client.list()
        for line in listing:
            number = int(line.split()[0])
            _, lines, _ = self.client.retr(number)
            yield _Item(
                b"\r\n".join(lines)[:READ_LIMIT],
                done=functools.partial(self._delete, number),
                failed=functools.partial(self._keep, number),
                name=f"POP3 message {number}",
            )

    def _delete(self, number: int) -> None:
        self.client.dele(number)

    def _keep(self, number: int, reason: str) -> None:
        return None  # stays on the server; the pass logged why
