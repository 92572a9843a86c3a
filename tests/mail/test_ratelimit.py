"""The send rate limiters (newsletter.mail.ratelimit), the shared one against real Redis."""

from __future__ import annotations

import threading
import time
import uuid

import redis

from newsletter.mail.ratelimit import LocalRateLimiter, RedisRateLimiter, Unlimited, make_limiter

from ..conftest import REDIS_URL


def test_local_limiter_holds_the_pace():
    limiter = LocalRateLimiter(200)
    started = time.monotonic()
    for _ in range(101):
        limiter.acquire()
    elapsed = time.monotonic() - started
    assert 0.48 <= elapsed <= 0.6  # 100 intervals of 5 ms


def test_redis_limiter_is_shared_by_every_limiter_on_the_key():
    key = f"test-rate-{uuid.uuid4().hex}"
    client = redis.Redis.from_url(REDIS_URL)
    a, b = RedisRateLimiter(client, 200, key=key), RedisRateLimiter(client, 200, key=key)
    started = time.monotonic()
    threads = [
        threading.Thread(target=lambda lim=lim: [lim.acquire() for _ in range(50)])
        for lim in (a, b)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    assert 0.45 <= elapsed <= 0.7  # 100 messages at 200/s together, not 50 at 200/s each
    client.delete(key)


def test_make_limiter_picks_the_right_kind():
    assert isinstance(make_limiter(0, REDIS_URL), Unlimited)
    assert isinstance(make_limiter(5, None), LocalRateLimiter)
    assert isinstance(make_limiter(5, REDIS_URL), RedisRateLimiter)
