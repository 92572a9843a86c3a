"""A per-process pool of persistent SMTP connections for the send pipeline.

`SMTP_POOL_SIZE` connections at most, each reused across messages (a new
connection costs a TCP + EHLO (+ STARTTLS + AUTH) round trip, more than a
message). Each connection is an `smtp.SmtpConnection`, the one SMTP session every
email we send goes through (reconnects, resets after an error, error classes).
"""

from __future__ import annotations

import queue
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from .smtp import SmtpConnection, SmtpTarget


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
        """Send one message over an idle connection (see `SmtpConnection.send` for the
        errors raised: TemporaryFailure or PermanentFailure)."""
        with self.connection() as conn:
            conn.send(envelope_from=envelope_from, recipients=recipients, message=message)

    def close(self) -> None:
        """QUIT the idle connections (at worker shutdown, or between tests); they stay in
        the pool and reconnect on their next use. Connections lent out are not touched."""
        idle: list[SmtpConnection] = []
        while True:
            try:
                idle.append(self._idle.get_nowait())
            except queue.Empty:
                break
        for conn in idle:
            conn.close()
            self._idle.put(conn)


_pools: dict[tuple[str, int], SmtpPool] = {}


def get_pool(url: str, size: int) -> SmtpPool:
    """This process's pool for an SMTP URL (one per worker process, made on first use)."""
    key = (url, size)
    pool = _pools.get(key)
    if pool is None:
        pool = _pools[key] = SmtpPool(SmtpTarget.from_url(url), size)
    return pool
