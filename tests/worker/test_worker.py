"""A real Celery task through a real broker to a real worker process, and back."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from newsletter import create_app
from newsletter.db import make_engine
from newsletter.migrations import upgrade
from tests.conftest import REDIS_URL, REPO, drop_postgres_database, fresh_database_url
from tests.live import stack_environment

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("broker", "backend"), [("embedded", "sqlite"), ("redis", "postgresql")])
def test_task_round_trip(broker, backend, tmp_path):
    database_url, pg_name = fresh_database_url(backend, tmp_path)
    upgrade(make_engine(database_url))
    overrides = {"NEWSLETTER_DATABASE_URL": database_url}
    if broker == "redis":
        overrides["NEWSLETTER_BROKER_URL"] = REDIS_URL
    env = stack_environment(tmp_path, **overrides)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "worker", "worker", "--pool=solo",
         "--loglevel=WARNING", f"--hostname=test-{uuid.uuid4().hex[:6]}@%h"],
        env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        app = create_app(
            {
                "ENV": "testing",
                "INSTANCE_PATH": env["NEWSLETTER_INSTANCE_PATH"],
                "SECRET_KEY": env["NEWSLETTER_SECRET_KEY"],
                "DATABASE_URL": database_url,
                "BROKER_URL": overrides.get("NEWSLETTER_BROKER_URL"),
            }
        )
        payload = uuid.uuid4().hex
        with app.app_context():
            result = app.extensions["celery"].send_task("system.ping", args=[payload])
            answer = result.get(timeout=60)
        assert answer["payload"] == payload
        assert answer["db"] == "ok"
        assert answer["pid"] == worker.pid  # the solo pool runs tasks in the worker process itself
        assert answer["pid"] != os.getpid()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        if pg_name:
            drop_postgres_database(pg_name)
