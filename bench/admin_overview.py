# ruff: noqa: S608 - the statements are built from this file's constants only
"""The admin dashboard's list growth and per-category counts on a large list.

Fills a scratch database (SQLite file and PostgreSQL) with SUBSCRIBERS subscribers and
their history spread over the last year (a sign-up each, half confirmed, 5%
unsubscribed, 1% bounced hard, and OPENS open events as the noise a real events table
carries), then times `list_growth` over 30 and 365 days and `category_counts`
(median of 7). Baseline in the same run: the same list growth with the index
`ix_events_kind_occurred_at` dropped.
Run: .venv/bin/python bench/admin_overview.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from newsletter.db import make_engine
from newsletter.migrations import upgrade
from newsletter.tracking.overview import category_counts, list_growth

SUBSCRIBERS = 200_000
OPENS = 1_000_000
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

# (kind, every n-th subscriber, extra columns) - one event per chosen subscriber.
HISTORY = [("subscribe", 1), ("confirm", 2), ("unsubscribe", 20), ("bounce", 100)]


def fill(engine_url: str, postgres: bool) -> None:
    """Generated in the database (generate_series / a recursive CTE): seconds, not minutes.
    Every statement is built from the constants above, never from input."""
    engine = make_engine(engine_url)
    with engine.begin() as raw:

        class Conn:
            @staticmethod
            def exec_driver_sql(statement: str) -> None:
                raw.exec_driver_sql(statement.replace("%", "%%") if postgres else statement)

        conn = Conn()
        if postgres:
            series = "SELECT i::bigint AS i FROM generate_series(1, {n}) AS i"
            ago = "now() - make_interval(secs => (i * 7919) % 31536000)"
        else:
            series = "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s"
            ago = (
                "strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || ((i * 7919) % 31536000) || ' seconds')"
            )
        conn.exec_driver_sql(
            "INSERT INTO subscribers (id, email, name, status, frequency, created_at, bounce_count,"
            " is_disposable, is_role_address, source, attributes)"
            f" SELECT i, 'r' || i || '@example.org', '', 'active', 'every', {ago}, 0, false, false, 'bench', '{{}}'"
            f" FROM ({series.format(n=SUBSCRIBERS)}) AS t"
        )
        for cid, name in enumerate(("AI", "China", "AI: Large Language Models"), start=1):
            conn.exec_driver_sql(
                f"INSERT INTO categories (id, name, slug) VALUES ({cid}, '{name}', 'c{cid}')"
            )
        conn.exec_driver_sql(
            "INSERT INTO subscriber_categories (subscriber_id, category_id)"
            f" SELECT i, 1 + i % 3 FROM ({series.format(n=SUBSCRIBERS)}) AS t WHERE i % 5 < 3"
        )
        for kind, every in HISTORY:
            hard = "true" if kind == "bounce" else "NULL"
            conn.exec_driver_sql(
                "INSERT INTO events (kind, occurred_at, subscriber_id, machine, hard, data)"
                f" SELECT '{kind}', {ago}, i, false, {hard}, '{{}}'"
                f" FROM ({series.format(n=SUBSCRIBERS)}) AS t WHERE i % {every} = 0"
            )
        conn.exec_driver_sql(
            "INSERT INTO events (kind, occurred_at, subscriber_id, machine, data)"
            f" SELECT 'open', {ago}, 1 + i % {SUBSCRIBERS}, false, '{{}}'"
            f" FROM ({series.format(n=OPENS)}) AS t"
        )
        if postgres:
            raw.exec_driver_sql("ANALYZE")
    engine.dispose()


def median_ms(fn: Callable[[], object], rounds: int = 7) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(name: str, url: str, postgres: bool) -> None:
    engine = make_engine(url)
    upgrade(engine)
    start = time.perf_counter()
    fill(url, postgres)
    filled = time.perf_counter() - start
    with Session(engine) as session:
        growth = list_growth(session, days=365)
        assert sum(d.subscribed for d in growth) >= SUBSCRIBERS * 0.99, "the fill went wrong"
        g30 = median_ms(lambda: list_growth(session, days=30))
        g365 = median_ms(lambda: list_growth(session, days=365))
        cats = median_ms(lambda: category_counts(session))
        session.execute(text("DROP INDEX ix_events_kind_occurred_at"))
        session.commit()
        if postgres:
            session.execute(text("ANALYZE events"))
            session.commit()
        base30 = median_ms(lambda: list_growth(session, days=30))
        base365 = median_ms(lambda: list_growth(session, days=365))
    engine.dispose()
    print(
        f"{name}: filled in {filled:.1f} s; list growth 30 days {g30:.1f} ms"
        f" (no index: {base30:.1f} ms), 365 days {g365:.1f} ms (no index: {base365:.1f} ms);"
        f" per category {cats:.1f} ms"
    )


def main() -> None:
    print(f"{SUBSCRIBERS:,} subscribers, {SUBSCRIBERS * 1.57:,.0f} history events, {OPENS:,} opens")
    with tempfile.TemporaryDirectory() as tmp:
        measure("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", postgres=False)
    name = f"bench_overview_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        measure("PostgreSQL", make_url(POSTGRES).set(database=name).render_as_string(False), True)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
