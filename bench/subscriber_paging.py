"""Admin subscriber list at 1,000,000 rows: keyset paging stays as fast deep down as on page 1.

Fills a scratch database (SQLite file and PostgreSQL) with 1M subscribers, then times
`list_subscribers` (the service behind /admin/subscribers and /api/v1/subscribers) on
the first page and on a page 990,000 rows deep, plain and filtered by status. The
baseline, measured in the same run, is the same deep page fetched with OFFSET.
Run: .venv/bin/python bench/subscriber_paging.py
"""

from __future__ import annotations

import io
import json
import resource
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from newsletter.db import make_engine
from newsletter.migrations import upgrade
from newsletter.models import Subscriber, SubscriberStatus
from newsletter.subscribers.queries import encode_cursor, list_subscribers

ROWS = 1_000_000
DEEP = 990_000
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
STATUSES = ["active"] * 8 + ["unsubscribed", "pending"]


def rows() -> list[tuple[int, str, str, str]]:
    return [
        (i, f"reader{i}@example.org", f"Reader {i}", STATUSES[i % len(STATUSES)])
        for i in range(1, ROWS + 1)
    ]


def fill_sqlite(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO subscribers (id, email, name, status, frequency, created_at,"
            " bounce_count, is_disposable, is_role_address, source, attributes)"
            " VALUES (?, ?, ?, ?, 'every', '2026-01-01 00:00:00', 0, 0, 0, 'bench', '{}')",
            rows(),
        )
    engine.dispose()


def fill_postgres(url: str) -> None:
    engine = make_engine(url)
    buffer = io.StringIO()
    for i, email, name, status in rows():
        buffer.write(
            f"{i}\t{email}\t{name}\t{status}\tevery\t2026-01-01 00:00:00+00\t0\tf\tf\tbench\t{{}}\n"
        )
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(  # type: ignore[attr-defined]
            "COPY subscribers (id, email, name, status, frequency, created_at, bounce_count,"
            " is_disposable, is_role_address, source, attributes) FROM STDIN"
        ) as copy:
            copy.write(buffer.getvalue())
        cursor.execute("SELECT setval('subscribers_id_seq', %s)", (ROWS,))
        cursor.execute("ANALYZE subscribers")
        raw.commit()
    finally:
        raw.close()
    engine.dispose()


def timed(fn: Callable[[], object], repeat: int = 15) -> float:
    fn()  # warm the cache: we measure the query, not the disk
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def measure(url: str) -> dict[str, float]:
    engine = make_engine(url)
    session = Session(engine)
    deep = encode_cursor(DEEP)
    active = SubscriberStatus.ACTIVE
    figures = {
        "first page": timed(lambda: list_subscribers(session, limit=50)),
        "page 990,000 rows deep": timed(lambda: list_subscribers(session, cursor=deep, limit=50)),
        "deep, status=active": timed(
            lambda: list_subscribers(session, cursor=deep, limit=50, status=active)
        ),
        "search 'reader99999' (substring scan)": timed(
            lambda: list_subscribers(session, search="reader99999", limit=50), repeat=3
        ),
        "baseline: same deep page with OFFSET": timed(
            lambda: session.scalars(
                select(Subscriber).order_by(Subscriber.id).offset(DEEP).limit(50)
            ).all()
        ),
    }
    session.close()
    engine.dispose()
    return figures


def main() -> None:
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite:///{Path(tmp) / 'paging.db'}"
        upgrade(make_engine(sqlite_url))
        started = time.perf_counter()
        fill_sqlite(sqlite_url)
        print(f"sqlite: filled {ROWS:,} rows in {time.perf_counter() - started:.1f} s")
        results["sqlite"] = measure(sqlite_url)

    name = f"newsletter_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    pg_url = make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(make_engine(pg_url))
        started = time.perf_counter()
        fill_postgres(pg_url)
        print(f"postgresql: filled {ROWS:,} rows in {time.perf_counter() - started:.1f} s")
        results["postgresql"] = measure(pg_url)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    verdict = True
    for backend, figures in results.items():
        first = figures["first page"]
        deep = figures["page 990,000 rows deep"]
        offset = figures["baseline: same deep page with OFFSET"]
        print(f"{backend}: 50-row pages of {ROWS:,} subscribers (median of 15)")
        for label, ms in figures.items():
            print(f"  {label:40s} {ms:8.2f} ms")
        ok = deep < 3 * first + 1  # "stays fast": deep costs about what page 1 costs
        verdict &= ok
        print(
            f"  deep / first page = {deep / first:.2f}x; OFFSET / keyset at the same depth"
            f" = {offset / deep:.0f}x  {'PASS' if ok else 'FAIL'}"
        )
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {rss_mb:.0f} MB")
    print(json.dumps({"bench": "subscriber_paging", "ms": results, "pass": verdict}))


if __name__ == "__main__":
    main()
