"""Benchmark: import 100,000 subscribers from CSV on SQLite and PostgreSQL.

    .venv/bin/python bench/import_subscribers.py [--rows 100000] [--backend sqlite|postgresql|both]

Generates a CSV (with ~2% duplicates in other letter case and ~1% bad rows), then
runs the real import service against a database built by the real migrations.
Prints rows/s, seconds and peak RSS, next to a baseline measured in the same run
(just parsing the file with the csv module), and PASS/FAIL against the 10 s target.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from newsletter import create_app
from newsletter.db import make_engine
from newsletter.migrations import upgrade
from newsletter.models import Category, Subscriber
from newsletter.subscribers.importer import import_csv

TARGET_SECONDS = 10.0
POSTGRES_URL = os.environ.get(
    "NEWSLETTER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
CATEGORIES = ["AI", "AI: Large Language Models", "China"]


def generate(path: Path, rows: int) -> None:
    rng = random.Random(42)
    domains = [f"mail{i}.example.com" for i in range(500)] + ["example.org", "gmail.com"]
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name", "categories", "created_at", "status"])
        for i in range(rows):
            roll = rng.random()
            if roll < 0.01:
                email = f"broken{i}@@nowhere"  # a bad row, reported and skipped
            elif roll < 0.03 and i > 10:
                j = rng.randrange(i)  # the same person again, in other letter case
                email = f"USER{j}@{domains[j % len(domains)]}".upper()
            else:
                email = f"user{i}@{domains[i % len(domains)]}"
            cats = "|".join(rng.sample(CATEGORIES, rng.randrange(3)))
            writer.writerow([email, f"Reader {i}", cats, "2024-01-02T03:04:05Z", ""])


def baseline(path: Path) -> float:
    start = time.perf_counter()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for _row in csv.reader(handle):
            pass
    return time.perf_counter() - start


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def run(backend: str, csv_path: Path, rows: int, tmp: Path) -> tuple[float, bool]:
    pg_name = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp / 'bench.db'}"
    else:
        pg_name = f"newsletter_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{pg_name}"'))
        admin.dispose()
        url = make_url(POSTGRES_URL).set(database=pg_name).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        upgrade(engine)
        app = create_app(
            {
                "ENV": "testing",
                "SECRET_KEY": "bench-secret-key-bench-secret-key",
                "INSTANCE_PATH": str(tmp / f"instance-{backend}"),
                "BROKER_URL": "memory://",
                "DATABASE_URL": url,
                "DB_BIND": engine,
            }
        )
        celery = app.extensions["celery"]
        celery.send_task = lambda *a, **k: None  # confirmations are not part of the figure
        with app.app_context(), app.extensions["db"].session_scope() as session:
            session.add_all(
                Category(name=n, slug=n.lower().replace(":", "").replace(" ", "-"))
                for n in CATEGORIES
            )
            session.commit()
            rss_before = peak_rss_mb()
            start, cpu_start = time.perf_counter(), time.process_time()
            with csv_path.open("rb") as handle:
                report = import_csv(session, handle, confirmed=True)
            seconds = time.perf_counter() - start
            cpu = time.process_time() - cpu_start
            stored = session.scalar(select(func.count()).select_from(Subscriber))
        ok = seconds < TARGET_SECONDS
        print(
            f"{backend:<10} {rows:>7} rows  {seconds:6.2f} s (this process's CPU {cpu:.2f} s)  "
            f"{rows / seconds:9,.0f} rows/s  "
            f"created {report.created}, merged {report.merged + report.updated}, "
            f"failed {report.failed}, stored {stored}  "
            f"peak RSS {peak_rss_mb():.0f} MB (was {rss_before:.0f} MB before the import)  "
            f"{'PASS' if ok else 'FAIL'} (< {TARGET_SECONDS:.0f} s)"
        )
        return seconds, ok
    finally:
        engine.dispose()
        if pg_name:
            admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
            admin.dispose()


def machine_load() -> str:
    # Other work on the machine inflates wall time; print it beside the figures.
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} on {os.cpu_count()} CPUs"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        csv_path = tmp / "subscribers.csv"
        generate(csv_path, args.rows)
        size_mb = csv_path.stat().st_size / 1e6
        parse = baseline(csv_path)
        print(f"CSV: {args.rows} rows, {size_mb:.1f} MB; baseline csv.reader parse: {parse:.2f} s")
        print(machine_load())
        backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
        results = [(b, *run(b, csv_path, args.rows, tmp)) for b in backends]
        for backend, seconds, _ok in results:
            print(f"{backend}: import / plain parse = {seconds / parse:.1f}x")
    return 0 if all(ok for _b, _s, ok in results) else 1


if __name__ == "__main__":
    sys.exit(main())
