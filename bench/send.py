"""How fast does a real send go, next to the raw SMTP limit measured in the same run?

Real parts only: PostgreSQL, Redis (broker + rate-limit store), Celery worker processes
(`celery -A worker worker --pool=threads`), and Postfix's `smtp-sink` as the SMTP server
(it accepts and discards; aiosmtpd caps near 300-400 messages/s here and would measure
itself). The issue has two content variants (half the list chose `AI`, half `China`).

Figures printed:
- pipeline messages/s, from `issues send` until the last message was accepted
  (the newest `sent_at` in the ledger), for 1 and for 2 worker processes;
- the raw limit: plain smtplib sending the same number of pre-built messages over as
  many reused connections from as many processes as the pipeline uses;
- the ratio pipeline / raw, the peak RSS of each worker process (VmHWM), and the
  duplicate bound of a crash (FLUSH_EVERY x concurrency per killed worker).

Run: .venv/bin/python bench/send.py [--subscribers 20000] [--workers 1 2] [--rss 200000]
(BENCH_CONCURRENCY=8 threads per worker; BENCH_BATCH sets SEND_BATCH_SIZE, else its default).
Needs `smtp-sink` (Debian package `postfix`; installed when missing if run as root).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from multiprocessing import Process, Queue
from pathlib import Path

import redis
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from newsletter.compose import create_issue  # noqa: E402
from newsletter.config import DEFAULTS  # noqa: E402
from newsletter.db import make_engine  # noqa: E402
from newsletter.models import (  # noqa: E402
    Delivery,
    DeliveryStatus,
    Issue,
    IssueStatus,
    Post,
    Subscriber,
    SubscriberStatus,
    subscriber_categories,
)
from newsletter.posts import get_or_create_categories  # noqa: E402
from newsletter.sends.deliver import FLUSH_EVERY  # noqa: E402
from tests.conftest import create_postgres_database, drop_postgres_database  # noqa: E402
from tests.live import free_port, stack_environment  # noqa: E402

# Threads per worker process = SMTP connections per worker.
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))  # as the Procfile
REDIS = os.environ.get("NEWSLETTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
BROKER = os.environ.get("NEWSLETTER_TEST_BROKER_URL", REDIS)


def ensure_smtp_sink() -> str:
    found = shutil.which("smtp-sink") or (
        "/usr/sbin/smtp-sink" if Path("/usr/sbin/smtp-sink").exists() else None
    )
    if found:
        return found
    # As .ci/services does: "No configuration" installs postfix without configuring or
    # starting a mail server; only its smtp-sink binary is wanted.
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(
        ["debconf-set-selections"],
        input=b"postfix postfix/main_mailer_type select No configuration\n",
        check=True,
    )
    subprocess.run(["apt-get", "install", "-y", "-q", "postfix"], check=True, env=env)
    subprocess.run(["postfix", "stop"], capture_output=True, check=False)
    return shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"


def start_sink(binary: str, port: int) -> subprocess.Popen[bytes]:
    # -u: drop privileges to this user when run as root; backlog 1024.
    proc = subprocess.Popen(
        [binary, "-u", "nobody", f"127.0.0.1:{port}", "1024"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            smtplib.SMTP("127.0.0.1", port, timeout=2).quit()
            return proc
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("smtp-sink did not start")


def populate(url: str, n: int) -> int:
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as s:
        posts: list[Post] = []
        for title, category in (("Transformers explained", "AI: Large Language Models"),
                                ("Shenzhen notes", "China")):  # fmt: skip
            post = Post(title=title, slug=title.lower().replace(" ", "-"),
                        url=f"https://blog.example.org/{len(posts)}",
                        html=f"<p>{title}</p>" * 40, excerpt=title)  # fmt: skip
            post.categories = get_or_create_categories(s, [category])
            s.add(post)
            posts.append(post)
        s.commit()
        cats = {c.name: c.id for c in get_or_create_categories(s, ["AI", "China"])}
        issue = create_issue(s, subject="Bench issue", post_ids=[p.id for p in posts])
        for start in range(0, n, 10_000):
            rows = [
                {
                    "email": f"r{i}@bench.example.org",
                    "status": SubscriberStatus.ACTIVE,
                    "name": f"R {i}",
                }
                for i in range(start, min(n, start + 10_000))
            ]
            s.execute(insert(Subscriber), rows)
        ids = s.execute(select(Subscriber.id).order_by(Subscriber.id)).scalars().all()
        links = [
            {"subscriber_id": sid, "category_id": cats["AI" if k % 2 else "China"]}
            for k, sid in enumerate(ids)
        ]
        for start in range(0, len(links), 10_000):
            s.execute(insert(subscriber_categories), links[start : start + 10_000])
        s.commit()
        issue_id = issue.id
    engine.dispose()
    return issue_id


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def vm_hwm_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def run_pipeline(
    n: int, workers: int, sink_port: int, tmp: Path, *, rate: float = 0
) -> dict[str, float]:
    name = f"newsletter_bench_{uuid.uuid4().hex[:8]}"
    url = create_postgres_database(name)
    try:
        from newsletter.migrations import upgrade

        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        issue_id = populate(url, n)
        for target in {REDIS, BROKER}:
            redis.Redis.from_url(target).flushdb()
        env = stack_environment(
            tmp,
            NEWSLETTER_DATABASE_URL=url,
            NEWSLETTER_BROKER_URL=BROKER,
            NEWSLETTER_REDIS_URL=REDIS,
            NEWSLETTER_SMTP_URL=f"smtp://127.0.0.1:{sink_port}",
            NEWSLETTER_SMTP_POOL_SIZE=str(CONCURRENCY),
            NEWSLETTER_SEND_BATCH_SIZE=os.environ.get(
                "BENCH_BATCH", str(DEFAULTS["SEND_BATCH_SIZE"])
            ),
            NEWSLETTER_FROM_ADDRESS="Bench <news@example.org>",
            NEWSLETTER_SEND_RATE=str(rate),
        )
        command = [sys.executable, "-m", "celery", "-A", "worker", "worker", "--pool=threads",
                   f"--concurrency={CONCURRENCY}", "--loglevel=WARNING"]  # fmt: skip
        raw = 0.0 if rate else raw_limit(n, workers, sink_port, real_messages(url, issue_id, env))
        procs = [
            subprocess.Popen(
                [*command, f"--hostname=bench{k}-{uuid.uuid4().hex[:4]}@%h"],
                env=env,
                cwd=REPO,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for k in range(workers)
        ]
        time.sleep(6)  # let the workers connect before the clock starts
        spy = None
        if os.environ.get("BENCH_PYSPY"):  # a profile of the first worker (py-spy, raw format)
            spy = subprocess.Popen(
                [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(procs[0].pid),
                 "--rate", "200", "--format", "raw", "--threads", "--gil",
                 "--duration", os.environ.get("BENCH_PYSPY_SECONDS", "15"),
                 "--output", os.environ["BENCH_PYSPY"]],
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
        peak = {p.pid: 0 for p in procs}
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                for p in procs:
                    with contextlib.suppress(OSError):  # the process just ended
                        peak[p.pid] = max(peak[p.pid], vm_hwm_kb(p.pid))
                time.sleep(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        cpu_start = _cpu_seconds(procs[0].pid)
        result = subprocess.run(
            [sys.executable, "-m", "newsletter.cli", "issues", "send", str(issue_id)],
            env=env, cwd=REPO, capture_output=True, text=True,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        engine = make_engine(url)
        deadline = time.monotonic() + 3600
        with Session(engine) as s:
            while time.monotonic() < deadline:
                status = s.scalar(select(Issue.status).where(Issue.id == issue_id))
                s.commit()
                if status is IssueStatus.SENT:
                    break
                time.sleep(0.5)
            last = s.scalar(select(func.max(Delivery.sent_at)).where(Delivery.issue_id == issue_id))
            # "From send": the moment `issues send` moved the issue to sending.
            began = s.scalar(select(Issue.started_at).where(Issue.id == issue_id))
            assert began is not None and last is not None, "the send never started"
            sent = s.scalar(
                select(func.count()).where(
                    Delivery.issue_id == issue_id, Delivery.status == DeliveryStatus.SENT
                )
            )
            paced = 0.0
            if rate:  # messages accepted in the minute from 5 s after the start
                window = (began + timedelta(seconds=5), began + timedelta(seconds=65))
                in_minute = s.scalar(
                    select(func.count()).where(
                        Delivery.issue_id == issue_id,
                        Delivery.sent_at >= window[0],
                        Delivery.sent_at < window[1],
                    )
                )
                paced = float(in_minute or 0) / 60
        engine.dispose()
        cpu_end = _cpu_seconds(procs[0].pid)
        stop.set()
        sampler.join()
        if spy is not None:
            spy.wait(timeout=120)
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        assert sent == n, f"{sent} of {n} sent"
        elapsed = last.timestamp() - began.timestamp()
        return {
            "raw": raw,
            "rate": n / elapsed,
            "elapsed": elapsed,
            "rss_mb": max(peak.values()) / 1024,
            "paced": paced,
            # CPU seconds of the first worker per wall second of the send (1.0 = one core)
            "cpu": (cpu_end - cpu_start) / elapsed,
        }
    finally:
        drop_postgres_database(name)


def real_messages(url: str, issue_id: int, env: dict[str, str]) -> list[bytes]:
    """One personalised message of each content variant, built by the real code."""
    from newsletter import create_app, get_db
    from newsletter.mail.message import Recipient
    from newsletter.sends import audience, variants
    from newsletter.tracking.tokens import delivery_token

    app = create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": url,
            "BROKER_URL": "memory://",
            "SECRET_KEY": env["NEWSLETTER_SECRET_KEY"],
            "INSTANCE_PATH": env["NEWSLETTER_INSTANCE_PATH"],
            "FROM_ADDRESS": env["NEWSLETTER_FROM_ADDRESS"],
        }
    )
    found = []
    with app.app_context(), get_db().session_scope() as session:
        plan = audience.issue_plan(session, issue_id)
        for post_id, _cats in plan.items:
            template = variants.render_variant(
                session, app.extensions["settings"], issue_id=issue_id, post_ids=(post_id,)
            )
            recipient = Recipient(
                email="r1@bench.example.org",
                name="R 1",
                message_id=f"<bench.{post_id}@example.org>",
                unsubscribe_url="https://news.example.org/unsubscribe/" + "t" * 80,
                preferences_url="https://news.example.org/preferences/" + "t" * 80,
                tracking_token=delivery_token(app.extensions["settings"], 1)
                if "track" in template.keys
                else "",
            )
            found.append(template.personalise(recipient))
    return found


def _blast(port: int, messages: int, threads: int, bodies: list[bytes], out: Queue) -> None:  # type: ignore[type-arg]
    def one(count: int) -> None:
        smtp = smtplib.SMTP("127.0.0.1", port)
        for i in range(count):
            body = bodies[i % len(bodies)]
            smtp.sendmail("bounces@example.org", [f"r{i}@bench.example.org"], body)
        smtp.quit()

    per = messages // threads
    workers = [threading.Thread(target=one, args=(per,)) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put(per * threads)


def raw_limit(n: int, processes: int, sink_port: int, bodies: list[bytes]) -> float:
    """smtplib alone: `processes` processes x CONCURRENCY reused connections."""
    out: Queue = Queue()  # type: ignore[type-arg]
    procs = [
        Process(target=_blast, args=(sink_port, n // processes, CONCURRENCY, bodies, out))
        for _ in range(processes)
    ]
    started = time.monotonic()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    elapsed = time.monotonic() - started
    total = sum(out.get() for _ in procs)
    return total / elapsed


def pace(rate: float) -> None:
    """NEWSLETTER_SEND_RATE across two worker processes: messages accepted in one minute
    (from 5 s after the start, so the first batches' start-up is left out), against the
    setting; the target is within 5%."""
    sink = start_sink(ensure_smtp_sink(), port := free_port())
    try:
        with tempfile.TemporaryDirectory() as folder:
            n = int(rate * 75)  # the send lasts 75 s: the measured minute is inside it
            got = run_pipeline(n, 2, port, Path(folder), rate=rate)
    finally:
        sink.terminate()
    error = got["paced"] / rate - 1
    verdict = "within" if abs(error) <= 0.05 else "NOT within"
    print(
        f"SEND_RATE={rate:g} msg/s, 2 workers x {CONCURRENCY} threads: {got['paced']:.2f} "
        f"msg/s over one minute ({error * 100:+.1f}%, {verdict} 5%); whole send "
        f"{got['rate']:.2f} msg/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=20_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rss", type=int, default=0, help="also measure RSS at this list size")
    parser.add_argument(
        "--rate",
        type=float,
        default=0,
        help="instead: hold SEND_RATE at this many msg/s with 2 workers, report the minute",
    )
    args = parser.parse_args()
    if args.rate:
        pace(args.rate)
        return
    sink = start_sink(ensure_smtp_sink(), port := free_port())
    try:
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            results = {}
            for workers in args.workers:
                got = run_pipeline(args.subscribers, workers, port, tmp)
                raw = got["raw"]
                results[workers] = got
                print(
                    f"{args.subscribers} subscribers, {workers} worker(s) x {CONCURRENCY} threads: "
                    f"{got['rate']:.0f} msg/s ({got['elapsed']:.1f} s); raw smtplib "
                    f"{raw:.0f} msg/s; ratio {got['rate'] / raw:.2f}; peak worker RSS "
                    f"{got['rss_mb']:.0f} MB; first worker's CPU {got['cpu']:.2f} cores",
                    flush=True,
                )
            if 1 in results and 2 in results:
                print(f"scaling 1 -> 2 workers: x{results[2]['rate'] / results[1]['rate']:.2f}")
            if args.rss:
                big = run_pipeline(args.rss, 1, port, tmp)
                small = results.get(1) or run_pipeline(args.subscribers, 1, port, tmp)
                print(
                    f"peak worker RSS: {small['rss_mb']:.0f} MB at {args.subscribers}, "
                    f"{big['rss_mb']:.0f} MB at {args.rss} "
                    f"({(big['rss_mb'] / small['rss_mb'] - 1) * 100:+.0f}%)"
                )
            print(
                f"duplicates a SIGKILL can cause: at most {FLUSH_EVERY} x {CONCURRENCY} = "
                f"{FLUSH_EVERY * CONCURRENCY} per killed worker (measured in "
                "tests/sends/test_live_send.py)"
            )
    finally:
        sink.terminate()


if __name__ == "__main__":
    main()
