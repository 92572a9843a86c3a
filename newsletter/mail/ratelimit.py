"""NEWSLETTER_SEND_RATE: messages per second across every worker on every host.

A reservation scheduler (GCRA without burst): each message reserves the next free
slot, `1/rate` seconds after the previous one, and the caller sleeps until its
slot. With Redis the slot pointer lives in one key updated by a Lua script using
Redis's own clock, so workers on hosts with skewed clocks still share one pace;
without Redis (`make run`) an in-process pointer does the same for one process.
Written here rather than taken from a library because the pace must hold within
5% over a minute across processes; token-bucket libraries allow bursts or count
per fixed window, which overshoots at window edges.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import redis

# KEYS[1] = pointer (microseconds, Redis clock); ARGV[1] = interval us; ARGV[2] = count.
# Returns how many microseconds the caller waits before its first slot.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local at = tonumber(redis.call('GET', KEYS[1]) or '0')
if at < now then at = now end
local after = at + tonumber(ARGV[1]) * tonumber(ARGV[2])
redis.call('SET', KEYS[1], string.format('%.0f', after), 'PX', 60000)
return at - now
"""


class RateLimiter(Protocol):
    def acquire(self, count: int = 1) -> float:
        """Block until `count` messages may go; returns the seconds waited."""
        ...


class Unlimited:
    """SEND_RATE=0: no pace at all."""

    def acquire(self, count: int = 1) -> float:
        """Returns at once: 0.0 seconds waited."""
        return 0.0


class LocalRateLimiter:
    """One process's pace (threads share it)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self, count: int = 1) -> float:
        """Reserve the next `count` slots of this process's pace and sleep until the first;
        returns the seconds waited."""
        with self._lock:
            now = time.monotonic()
            at = max(self._next, now)
            self._next = at + self.interval * count
        wait = at - now
        if wait > 0:
            time.sleep(wait)
        return max(wait, 0.0)


class RedisRateLimiter:
    """Every process on every host that uses the same Redis and key shares one pace."""

    def __init__(self, client: redis.Redis, rate: float, *, key: str = "newsletter:send-rate"):
        self.interval_us = 1_000_000.0 / rate
        self.key = key
        self._script = client.register_script(_RESERVE)

    def acquire(self, count: int = 1) -> float:
        """Reserve the next `count` slots of the shared pace (one Lua call on Redis's clock)
        and sleep until the first; returns the seconds waited. Raises redis.RedisError
        when Redis cannot be reached."""
        wait = int(self._script(keys=[self.key], args=[self.interval_us, count])) / 1_000_000
        if wait > 0:
            time.sleep(wait)
        return max(wait, 0.0)


def make_limiter(rate: float, redis_url: str | None, *, key: str | None = None) -> RateLimiter:
    """`rate` messages/s (0 = unlimited), shared through Redis when `redis_url` is set."""
    if rate <= 0:
        return Unlimited()
    if redis_url:
        client = redis.Redis.from_url(redis_url)
        return RedisRateLimiter(client, rate, key=key or "newsletter:send-rate")
    return LocalRateLimiter(rate)
