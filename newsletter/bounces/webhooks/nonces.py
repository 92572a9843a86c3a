"""Remembering one-time tokens for a while, to refuse a replayed webhook request.

Redis (shared by every web process) when NEWSLETTER_REDIS_URL is set; otherwise a
per-process memory, which is enough for the single web process of `make run`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Protocol

import redis

from .errors import Unavailable


class NonceStore(Protocol):
    """Where one-time webhook tokens are remembered (MemoryNonces or RedisNonces)."""

    def claim(self, key: str, ttl_seconds: int) -> bool:
        """True the first time `key` is seen within `ttl_seconds`, False after."""
        ...

    def release(self, key: str) -> None:
        """Forget `key` (the request it came with failed on our side and will be retried)."""
        ...


class MemoryNonces:
    """A NonceStore in this process's memory (thread-safe): enough for one web process."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def claim(self, key: str, ttl_seconds: int) -> bool:
        """True the first time `key` is seen within `ttl_seconds` (in this process), False after;
        never raises. Expired keys are swept once more than 10,000 are held.
        """
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen = {k: exp for k, exp in self._seen.items() if exp > now}
            if self._seen.get(key, 0.0) > now:
                return False
            self._seen[key] = now + ttl_seconds
            return True

    def release(self, key: str) -> None:
        """Forget `key`, so a retry of a request that failed on our side is accepted."""
        with self._lock:
            self._seen.pop(key, None)


class RedisNonces:
    """A NonceStore in Redis at `url`, shared by every web process; keys under `prefix`."""

    def __init__(self, url: str, prefix: str = "newsletter:webhook-nonce:") -> None:
        self._redis = redis.Redis.from_url(url)
        self._prefix = prefix

    def claim(self, key: str, ttl_seconds: int) -> bool:
        """True the first time `key` is seen within `ttl_seconds` (at least 1 s) by any process
        sharing this Redis (SET NX EX), False after.

        Raises Unavailable (503) when Redis cannot be reached: refusing is safer than accepting
        a request that might be a replay.
        """
        try:
            return bool(self._redis.set(self._prefix + key, b"1", nx=True, ex=max(1, ttl_seconds)))
        except redis.RedisError as exc:
            raise Unavailable("the replay cache is unavailable; try again later") from exc

    def release(self, key: str) -> None:
        """Forget `key`; when Redis is away the key simply expires (never raises)."""
        # If Redis is away the key expires by itself; a retry within the window is refused.
        with contextlib.suppress(redis.RedisError):
            self._redis.delete(self._prefix + key)
