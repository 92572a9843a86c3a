"""The per-process SMTP pool (newsletter.mail.pool) against a real server (aiosmtpd)."""

from __future__ import annotations

import threading

from newsletter.mail.pool import SmtpPool
from newsletter.mail.smtp import SmtpTarget

MESSAGE = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nbody\r\n"


def test_the_pool_shares_at_most_size_connections_between_threads(server):
    pool = SmtpPool(SmtpTarget.from_url(f"smtp://127.0.0.1:{server.port}", timeout=5), 2)
    errors: list[Exception] = []

    def work(n: int) -> None:
        try:
            for i in range(10):
                pool.send(
                    envelope_from="b@example.org",
                    recipients=[f"t{n}-{i}@example.org"],
                    message=MESSAGE,
                )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(server.received) == 50
    opened = [c for c in pool._idle.queue if c.smtp is not None]
    assert len(opened) <= 2
    pool.close()
