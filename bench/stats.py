"""Issue stats at 1,000,000 events on PostgreSQL: the aggregates answer in under 200 ms.

Fills a fresh PostgreSQL database (COPY) with 100,000 subscribers and deliveries of
one issue, 20 links and 1,000,000 open and click events (70% opens, 15% machines,
spread over four days), builds the pre-aggregated counts from them
(`rebuild_counts`, the same numbers live recording keeps), then times `issue_stats`
(everything: ledger, bounces, unsubscribes, opens, clicks, per link, the series)
against baselines measured in the same run: a bare `SELECT count(*)` over the events
table, and the opens/clicks figures computed from the events on the fly (what the
pre-aggregation saves).
Run: .venv/bin/python bench/stats.py
"""

from __future__ import annotations

import io
import json
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from newsletter.db import make_engine
from newsletter.migrations import upgrade
from newsletter.models import Issue, IssueStatus, Link
from newsletter.tracking.record import rebuild_counts
from newsletter.tracking.stats import engagement_figures, issue_stats

EVENTS = 1_000_000
RECIPIENTS = 100_000
LINKS = 20
TARGET_MS = 200.0
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
STARTED = datetime(2026, 3, 2, 9, 3, tzinfo=UTC)


def copy(raw: object, statement: str, data: str) -> None:
    cursor = raw.cursor()  # type: ignore[attr-defined]
    with cursor.copy(statement) as sink:
        sink.write(data)


def fill(url: str) -> int:
    engine = make_engine(url)
    with Session(engine) as session:
        issue = Issue(subject="Bench", status=IssueStatus.SENT, started_at=STARTED, slug="bench")
        session.add(issue)
        session.flush()
        links = [
            Link(issue_id=issue.id, url=f"https://blog.example.org/p{n}") for n in range(LINKS)
        ]
        session.add_all(links)
        session.commit()
        issue_id, link_ids = issue.id, [link.id for link in links]
    rng = random.Random(7)
    subscribers, deliveries, events = io.StringIO(), io.StringIO(), io.StringIO()
    sent = STARTED.isoformat()
    for i in range(1, RECIPIENTS + 1):
        subscribers.write(
            f"{i}\treader{i}@example.org\t\tactive\tevery\t{sent}\t0\tf\tf\tbench\t{{}}\n"
        )
        deliveries.write(
            f"{i}\t{issue_id}\t{i}\tsent\t<d{i}@example.org>\tv\t1\t{sent}\t{sent}\t{sent}\n"
        )
    for i in range(1, EVENTS + 1):
        # Two readers in five open at all; a few of them open many times.
        delivery = rng.randrange(1, RECIPIENTS * 2 // 5 + 1)
        if rng.random() < 0.2:
            delivery = int(rng.paretovariate(1.2)) % RECIPIENTS + 1
        at = STARTED + timedelta(seconds=rng.expovariate(1 / 30000) % (4 * 86400))
        machine = "t" if rng.random() < 0.15 else "f"
        if rng.random() < 0.7:
            kind, link = "open", r"\N"
        else:
            kind, link = "click", str(link_ids[int(rng.paretovariate(1.5)) % LINKS])
        events.write(
            f"{i}\t{kind}\t{at.isoformat()}\t{issue_id}\t{delivery}\t{delivery}\t{link}\t{machine}\t{{}}\n"
        )
    raw = engine.raw_connection()
    try:
        # The rows are consistent by construction: skip the per-row foreign-key triggers
        # (they made loading take minutes). Needs a superuser, as the test server has.
        raw.cursor().execute("SET session_replication_role = replica")
        copy(raw, "COPY subscribers (id, email, name, status, frequency, created_at, bounce_count,"
             " is_disposable, is_role_address, source, attributes) FROM STDIN", subscribers.getvalue())  # fmt: skip
        copy(raw, "COPY deliveries (id, issue_id, subscriber_id, status, message_id, variant,"
             " attempts, sent_at, created_at, updated_at) FROM STDIN", deliveries.getvalue())  # fmt: skip
        copy(raw, "COPY events (id, kind, occurred_at, issue_id, subscriber_id, delivery_id,"
             " link_id, machine, data) FROM STDIN", events.getvalue())  # fmt: skip
        cursor = raw.cursor()
        cursor.execute("SELECT setval('subscribers_id_seq', (SELECT max(id) FROM subscribers))")
        cursor.execute("SELECT setval('deliveries_id_seq', (SELECT max(id) FROM deliveries))")
        cursor.execute("SELECT setval('events_id_seq', (SELECT max(id) FROM events))")
        raw.commit()
    finally:
        raw.close()
    engine.dispose()
    return issue_id


def timed(fn: Callable[[], object], repeat: int = 15) -> float:
    fn()  # warm the cache: we measure the query, not the disk
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


ON_THE_FLY = text(
    "SELECT kind, machine, link_id, count(*), count(DISTINCT delivery_id) FROM events"
    " WHERE issue_id = :issue AND kind IN ('open', 'click') GROUP BY kind, machine, link_id"
)


def main() -> None:
    # BENCH_KEEP=1 leaves the database behind and BENCH_REUSE=NAME measures it again
    # (loading takes a while on a busy machine).
    reuse = os.environ.get("BENCH_REUSE")
    name = reuse or f"newsletter_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    if not reuse:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(make_engine(url))
        started = time.perf_counter()
        issue_id = 1 if reuse else fill(url)
        print(f"postgresql: {EVENTS:,} events, {RECIPIENTS:,} deliveries loaded in "
              f"{time.perf_counter() - started:.1f} s (COPY)")  # fmt: skip
        engine = make_engine(url)
        session = Session(engine)
        started = time.perf_counter()
        if not reuse:
            rebuild_counts(session, issue_id)
            took = time.perf_counter() - started
            print(f"rebuild_counts (pre-aggregation from scratch): {took:.1f} s")
        # What autovacuum keeps true in production: statistics and the visibility map.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
            counts = conn.execute(text("SELECT count(*) FROM tracking_counts")).scalar()
        stats = issue_stats(session, issue_id)
        print(f"opens {stats['opens']}, clicks unique {stats['clicks']['unique']} total "
              f"{stats['clicks']['total']} machine {stats['clicks']['machine']}, "
              f"{len(stats['series'])} series points, {counts:,} count rows")  # fmt: skip
        baseline = timed(lambda: session.execute(text("SELECT count(*) FROM events")).scalar())
        ours = timed(lambda: issue_stats(session, issue_id))
        engagement = timed(lambda: engagement_figures(session, issue_id, STARTED))
        load = os.getloadavg()
        fly = timed(lambda: session.execute(ON_THE_FLY, {"issue": issue_id}).all(), repeat=3)
        session.close()
        engine.dispose()
    finally:
        if os.environ.get("BENCH_KEEP"):
            print(f"kept database {name}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    ok = ours < TARGET_MS
    print(
        f"median of 15 (on the fly: of 3); load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )
    print(f"  issue_stats (all figures, series, per link)  {ours:8.1f} ms")
    print(f"    of which opens, clicks, links, series       {engagement:8.1f} ms")
    print(f"  baseline: a bare count(*) over the events     {baseline:8.1f} ms")
    print(f"  opens/clicks from the events on the fly       {fly:8.1f} ms")
    print(f"  issue_stats / count(*) = {ours / baseline:.2f}x; on the fly / issue_stats = "
          f"{fly / ours:.0f}x; target < {TARGET_MS:.0f} ms  {'PASS' if ok else 'FAIL'}")  # fmt: skip
    print(json.dumps({"bench": "stats", "ms": {"issue_stats": ours, "engagement": engagement, "count": baseline,
                      "on_the_fly": fly}, "pass": ok}))  # fmt: skip
    assert ok, f"issue_stats took {ours:.1f} ms at {EVENTS:,} events (target {TARGET_MS:.0f} ms)"


if __name__ == "__main__":
    main()
