"""`newsletter dev` (what `make run` starts) from an empty instance folder."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest
import requests

from tests.conftest import (
    REDIS_URL,
    REPO,
    create_postgres_database,
    csrf_token_from,
    drop_postgres_database,
)
from tests.live import free_port, stack_environment, wait_for_http

pytestmark = pytest.mark.slow


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(params=["embedded", "postgresql+redis"])
def dev_environment(request, tmp_path):
    """As a user runs it: nothing set, or a PostgreSQL database and Redis."""
    env = stack_environment(tmp_path)
    env.pop("NEWSLETTER_ENV")
    env.pop("NEWSLETTER_SECRET_KEY")
    if request.param == "embedded":
        yield env
        return
    name = f"newsletter_dev_{uuid.uuid4().hex[:8]}"
    env["NEWSLETTER_DATABASE_URL"] = create_postgres_database(name)
    env["NEWSLETTER_BROKER_URL"] = env["NEWSLETTER_REDIS_URL"] = REDIS_URL
    yield env
    drop_postgres_database(name)


def test_dev_runs_everything_and_stops_cleanly(dev_environment):
    port, smtp_port = free_port(), free_port()
    env = dev_environment
    env["NEWSLETTER_BASE_URL"] = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "newsletter.cli",
            "dev",
            "--port",
            str(port),
            "--smtp-port",
            str(smtp_port),
        ],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        started = time.monotonic()
        wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=60)
        assert time.monotonic() - started < 60
        health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()
        assert health == {"db": "ok", "broker": "ok"}

        output = ""
        while "Log in as" not in output:
            output += proc.stdout.readline()  # type: ignore[union-attr]
        email, password = re.search(r"Log in as (\S+) with password (\S+)", output).groups()
        assert "loaded 2 demo posts" in output

        browser = requests.Session()
        page = browser.get(f"http://127.0.0.1:{port}/login", timeout=5).text
        response = browser.post(
            f"http://127.0.0.1:{port}/login",
            data={"email": email, "password": password, "csrf_token": csrf_token_from(page)},
            timeout=5,
        )
        assert response.status_code == 200 and response.url.endswith("/admin/")
        assert port_open(smtp_port)  # the mail catcher is up
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=30)
    assert code == 0
    assert not port_open(port) and not port_open(smtp_port)
