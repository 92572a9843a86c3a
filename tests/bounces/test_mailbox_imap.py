"""The bounce mailbox over IMAP (and POP3S) against a real Dovecot on loopback: `\\Seen`, the move
to `Processed` (when it exists), failures kept in `Failed`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import imapclient
import pytest

from newsletter.bounces.mailbox import MailboxError, process
from newsletter.mail import verp
from newsletter.models import SubscriberStatus

from .conftest import subscriber_of
from .mailfactory import BOUNCE_DOMAIN, GARBAGE, autoreply, dsn
from .mailservers import DOVECOT, Imap, dovecot

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(DOVECOT).exists(), reason="needs dovecot-imapd"),
]


@pytest.fixture
def imap() -> Iterator[Imap]:
    with dovecot() as server:
        yield server


def connect(server: Imap) -> imapclient.IMAPClient:
    client = imapclient.IMAPClient(server.host, port=server.port, ssl=False)
    client.login(server.user, server.password)
    return client


def flags_in(client: imapclient.IMAPClient, folder: str) -> list[tuple[bytes, ...]]:
    client.select_folder(folder, readonly=True)
    uids = client.search(["ALL"])
    return [data[b"FLAGS"] for data in client.fetch(uids, ["FLAGS"]).values()]


def test_seen_and_moved_to_processed_failures_to_failed(db_session, mailed, app, imap):
    settings = app.extensions["settings"]
    gone = mailed("gone@example.com")
    victim = mailed("victim@example.com")
    token = verp.make_token(gone.id, settings.secret_key)
    client = connect(imap)
    client.create_folder("Processed")
    client.append("INBOX", dsn("gone@example.com", token=token))
    client.append("INBOX", dsn("victim@example.com", token=f"d{victim.id}-" + "c" * 16))
    client.append("INBOX", autoreply(f"bounces+{token}@{BOUNCE_DOMAIN}"))
    client.append("INBOX", GARBAGE)

    counts = process(db_session, settings, imap.url())

    assert (counts.read, counts.bounces, counts.forged, counts.ignored, counts.failed) == (
        4, 1, 1, 1, 1,
    )  # fmt: skip
    assert counts.suppressed == 1
    assert subscriber_of(db_session, gone).status is SubscriberStatus.BOUNCED
    assert subscriber_of(db_session, victim).status is SubscriberStatus.ACTIVE
    assert flags_in(client, "INBOX") == []
    processed = flags_in(client, "Processed")
    assert len(processed) == 3 and all(b"\\Seen" in f for f in processed)
    client.select_folder("Failed", readonly=True)
    kept = client.fetch(client.search(["ALL"]), ["BODY.PEEK[]"])
    assert [b"not an email" in d[b"BODY[]"] for d in kept.values()] == [True]
    client.logout()

    assert process(db_session, settings, imap.url()).read == 0


def test_without_processed_folder_messages_stay_seen(db_session, mailed, app, imap):
    settings = app.extensions["settings"]
    full = mailed("full@example.com")
    client = connect(imap)
    client.append("INBOX", dsn("full@example.com", token=verp.make_token(full.id, settings.secret_key),
                               status="4.2.2", diagnostic="smtp; 452 4.2.2 Mailbox full"))  # fmt: skip
    counts = process(db_session, settings, imap.url())
    assert (counts.read, counts.bounces, counts.suppressed) == (1, 1, 0)
    assert subscriber_of(db_session, full).bounce_count == 1
    assert flags_in(client, "INBOX") == [(b"\\Seen",)]
    assert not client.folder_exists("Processed")
    # Unflagged again (as if the pass died before flagging): re-read, counted once.
    client.select_folder("INBOX")
    client.remove_flags(client.search(["ALL"]), [b"\\Seen"])
    again = process(db_session, settings, imap.url())
    assert (again.read, again.duplicates) == (1, 1)
    assert subscriber_of(db_session, full).bounce_count == 1
    client.logout()


def test_wrong_password_is_a_clear_error(db_session, app, imap):
    with pytest.raises(MailboxError, match="cannot open the IMAP mailbox"):
        process(db_session, app.extensions["settings"], imap.url().replace("imap-secret", "nope"))


@pytest.mark.skipif(not Path("/usr/lib/dovecot/pop3").exists(), reason="needs dovecot-pop3d")
def test_pop3s_deletes_handled_messages_and_leaves_failures(db_session, mailed, app, monkeypatch):
    settings = app.extensions["settings"]
    gone = mailed("gone@example.com")
    with dovecot(pop3s=True) as server:
        monkeypatch.setenv("SSL_CERT_FILE", server.ca_file)  # trust the throwaway certificate
        client = connect(server)
        client.append("INBOX", dsn("gone@example.com", token=verp.make_token(gone.id, settings.secret_key)))  # fmt: skip
        client.append("INBOX", GARBAGE)
        counts = process(db_session, settings, server.pop3s_url())
        assert (counts.read, counts.bounces, counts.suppressed, counts.failed) == (2, 1, 1, 1)
        assert subscriber_of(db_session, gone).status is SubscriberStatus.BOUNCED
        client.select_folder("INBOX", readonly=True)
        left = client.fetch(client.search(["ALL"]), ["BODY.PEEK[]"])
        assert [b"not an email" in d[b"BODY[]"] for d in left.values()] == [True]
        client.logout()
        again = process(db_session, settings, server.pop3s_url())
        assert (again.read, again.failed, again.suppressed) == (1, 1, 0)
