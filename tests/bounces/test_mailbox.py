"""A pass over a real Maildir and a real mbox: each message handled once, a crash
re-reads without counting twice, garbage kept aside, forged VERP suppresses nobody."""

from __future__ import annotations

import mailbox as stdlib_mailbox
from pathlib import Path

import pytest
from sqlalchemy import func, select

from newsletter.bounces import mailbox
from newsletter.bounces.mailbox import MailboxError, process
from newsletter.mail import verp
from newsletter.models import Event, EventKind, SubscriberStatus
from newsletter.sends.stats import issue_stats

from .conftest import subscriber_of
from .mailfactory import BOUNCE_DOMAIN, GARBAGE, autoreply, dsn


@pytest.fixture
def settings(app):  # type: ignore[no-untyped-def]
    return app.extensions["settings"]


def token_for(settings, delivery) -> str:  # type: ignore[no-untyped-def]
    return verp.make_token(delivery.id, settings.secret_key)


def make_maildir(root: Path) -> Path:
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def drop(root: Path, name: str, raw: bytes) -> None:
    (root / "tmp" / name).write_bytes(raw)
    (root / "tmp" / name).rename(root / "new" / name)


def events(db_session) -> int:  # type: ignore[no-untyped-def]
    return db_session.scalar(select(func.count()).where(Event.kind == EventKind.BOUNCE))


def test_maildir_pass_handles_each_message_once(db_session, mailed, settings, tmp_path):
    gone = mailed("gone@example.com")
    moved = mailed("moved@example.com")
    victim = mailed("victim@example.com")
    fine = mailed("fine@example.com")
    box = make_maildir(tmp_path / "Maildir")
    drop(box, "1.a", dsn("gone@example.com", token=token_for(settings, gone)))
    drop(box, "2.a", dsn("moved@example.com", token=token_for(settings, moved), status="5.1.6",
                         diagnostic="smtp; 550 5.1.6 mailbox has moved"))  # fmt: skip
    # A forged token (right shape, wrong MAC) naming a real subscriber's delivery.
    forged = f"d{victim.id}-" + "a" * 16
    drop(box, "3.a", dsn("victim@example.com", token=forged))
    drop(box, "4.a", autoreply(f"bounces+{token_for(settings, fine)}@{BOUNCE_DOMAIN}"))
    drop(box, "5.a", GARBAGE)
    drop(box, "6.a", b"")

    counts = process(db_session, settings, f"maildir://{box}")

    assert counts.as_dict() == {
        "read": 6, "bounces": 2, "complaints": 0, "ignored": 1, "forged": 1, "failed": 2,
        "suppressed": 2, "duplicates": 0, "unknown": 0,
    }  # fmt: skip
    assert subscriber_of(db_session, gone).status is SubscriberStatus.BOUNCED
    assert subscriber_of(db_session, moved).status is SubscriberStatus.BOUNCED
    assert subscriber_of(db_session, victim).status is SubscriberStatus.ACTIVE
    assert subscriber_of(db_session, fine).status is SubscriberStatus.ACTIVE
    assert list((box / "new").iterdir()) == []
    assert sorted(p.name for p in (box / "cur").iterdir()) == [
        "1.a:2,S", "2.a:2,S", "3.a:2,S", "4.a:2,S",
    ]  # fmt: skip
    # Nothing that failed to parse is deleted: kept aside, bytes intact.
    assert (box / ".failed" / "new" / "5.a").read_bytes() == GARBAGE
    assert (box / ".failed" / "new" / "6.a").exists()
    # The issue's stats count them.
    stats = issue_stats(db_session, gone.issue_id)
    assert stats["bounces"] == {"hard": 2, "soft": 0} and stats["complaints"] == 0

    again = process(db_session, settings, f"maildir://{box}")
    assert again.read == 0


def test_crash_mid_pass_rereads_without_counting_twice(
    db_session, mailed, settings, tmp_path, monkeypatch
):
    full = mailed("full@example.com")
    other = mailed("other@example.com")
    box = make_maildir(tmp_path / "Maildir")
    soft = {"status": "4.2.2", "diagnostic": "smtp; 452 4.2.2 Mailbox full"}
    drop(box, "1.a", dsn("full@example.com", token=token_for(settings, full), **soft))
    drop(box, "2.a", dsn("other@example.com", token=token_for(settings, other), **soft))

    def crash(self, path, base, info):  # type: ignore[no-untyped-def]
        raise RuntimeError("killed after recording, before the move")

    monkeypatch.setattr(mailbox._Maildir, "_seen", crash)
    with pytest.raises(RuntimeError):
        process(db_session, settings, f"maildir://{box}")
    monkeypatch.undo()
    assert events(db_session) == 1  # the first message was recorded, then the crash
    assert len(list((box / "new").iterdir())) == 2

    counts = process(db_session, settings, f"maildir://{box}")
    assert (counts.read, counts.duplicates, counts.bounces) == (2, 1, 2)
    assert events(db_session) == 2
    assert subscriber_of(db_session, full).bounce_count == 1  # counted once, not twice
    assert subscriber_of(db_session, other).bounce_count == 1
    assert list((box / "new").iterdir()) == []


def test_message_without_message_id_is_keyed_by_its_bytes(db_session, mailed, settings, tmp_path):
    full = mailed("full@example.com")
    raw = dsn("full@example.com", token=token_for(settings, full), status="4.2.2",
              diagnostic="smtp; 452 4.2.2 Mailbox full")  # fmt: skip
    raw = b"\r\n".join(line for line in raw.split(b"\r\n") if not line.startswith(b"Message-ID: <")
                       or b"mx.example.net" not in line)  # fmt: skip
    box = make_maildir(tmp_path / "Maildir")
    drop(box, "1.a", raw)
    drop(box, "2.a", raw)  # the same message delivered twice
    counts = process(db_session, settings, f"maildir://{box}")
    assert (counts.read, counts.duplicates) == (2, 1)
    assert subscriber_of(db_session, full).bounce_count == 1


def test_bounce_without_token_found_by_original_message_id(db_session, mailed, settings, tmp_path):
    delivery = mailed("jane@example.com", message_id="<c1.s1.xyz@news.example.org>")
    box = make_maildir(tmp_path / "Maildir")
    # The DSN names another address (a forward), but quotes our Message-ID.
    drop(box, "1.a", dsn("jane.forward@elsewhere.example", token=None,
                         original_message_id="<c1.s1.xyz@news.example.org>"))  # fmt: skip
    drop(box, "2.a", dsn("never-mailed@example.com", token=None,
                         original_message_id="<unknown@news.example.org>"))  # fmt: skip
    counts = process(db_session, settings, f"maildir://{box}")
    assert (counts.suppressed, counts.unknown) == (1, 1)
    assert subscriber_of(db_session, delivery).status is SubscriberStatus.BOUNCED


def test_mbox_pass(db_session, mailed, settings, tmp_path):
    gone = mailed("gone@example.com")
    victim = mailed("victim@example.com")
    path = tmp_path / "bounces.mbox"
    box = stdlib_mailbox.mbox(str(path))
    for raw in (
        dsn("gone@example.com", token=token_for(settings, gone)),
        dsn("victim@example.com", token=f"d{victim.id}-" + "b" * 16),
        GARBAGE,
    ):
        box.add(raw)
    box.flush()
    box.close()

    counts = process(db_session, settings, f"mbox://{path}")
    assert (counts.read, counts.bounces, counts.forged, counts.failed, counts.suppressed) == (
        3, 1, 1, 1, 1,
    )  # fmt: skip
    assert subscriber_of(db_session, gone).status is SubscriberStatus.BOUNCED
    assert subscriber_of(db_session, victim).status is SubscriberStatus.ACTIVE
    reread = stdlib_mailbox.mbox(str(path))
    assert [set(m.get_flags()) >= {"R", "O"} for m in reread] == [True, True]
    kept = stdlib_mailbox.mbox(str(path) + ".failed")
    assert len(kept) == 1 and b"not an email" in kept.get_bytes(kept.keys()[0])

    assert process(db_session, settings, f"mbox://{path}").read == 0


@pytest.mark.parametrize(
    "url", ["maildir:///no/such/maildir", "mbox:///no/such.mbox", "imap://127.0.0.1:1/INBOX"]
)
def test_unopenable_mailbox_is_a_clear_error(db_session, settings, url):
    with pytest.raises(MailboxError):
        process(db_session, settings, url)


def test_a_20_mb_message_costs_a_bounded_read_and_is_handled(db_session, settings, tmp_path):
    box = make_maildir(tmp_path / "Maildir")
    big = (
        b"From: someone@example.net\r\nTo: bounces@" + BOUNCE_DOMAIN.encode()
        + b"\r\nSubject: a huge attachment\r\nMessage-ID: <big@example.net>\r\n\r\n"
        + b"A" * (20 * 1024 * 1024)
    )  # fmt: skip
    drop(box, "big", big)
    counts = process(db_session, settings, f"maildir://{box}")
    assert (counts.read, counts.ignored, counts.failed) == (1, 1, 0)
    assert (box / "cur" / "big:2,S").stat().st_size == len(big)  # untouched, put away
