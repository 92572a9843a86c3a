"""The whole system, for real: a web server, a Celery worker and an SMTP catcher.

Session-scoped so every end-to-end and browser test shares one stack: a fresh
SQLite database built by the migrations, the embedded broker, a worker process and
aiosmtpd on loopback. Nothing here is a mock.
"""

from __future__ import annotations

import email
import email.policy
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from newsletter.db import make_engine
from newsletter.devtools.catcher import start_catcher
from newsletter.migrations import upgrade

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError as exc:
            last = exc
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer 200 within {timeout}s: {last}")


def run_cli(
    env: dict[str, str], *args: str, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`newsletter ARGS` in a fresh process, as a person at a shell runs it."""
    return subprocess.run(
        [sys.executable, "-m", "newsletter.cli", *args],
        input=input,
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )


@dataclass
class Outbox:
    """The .eml files the catcher wrote."""

    folder: Path

    def messages(self) -> list[EmailMessage]:
        files = sorted(self.folder.glob("*.eml")) if self.folder.exists() else []
        return [
            email.message_from_bytes(f.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for f in files
        ]

    def wait_for(
        self, predicate: Callable[[EmailMessage], bool], timeout: float = 30.0
    ) -> EmailMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.messages():
                if predicate(message):
                    return message
            time.sleep(0.2)
        subjects = [m["Subject"] for m in self.messages()]
        raise TimeoutError(f"no matching message within {timeout}s; outbox has {subjects}")


@dataclass
class LiveStack:
    base_url: str
    database_url: str
    smtp_url: str
    env: dict[str, str]
    outbox: Outbox
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def session(self) -> Session:
        return Session(make_engine(self.database_url), expire_on_commit=False)

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return run_cli(self.env, *args, input=input)

    def create_user(self, email: str, password: str, role: str = "author") -> None:
        result = self.cli("users", "create", email, "--role", role, input=password + "\n")
        assert result.returncode == 0, result.stderr


def stack_environment(tmp: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    env.update(
        {
            "NEWSLETTER_ENV": "testing",
            "NEWSLETTER_INSTANCE_PATH": str(tmp / "instance"),
            "NEWSLETTER_SECRET_KEY": "live-stack-secret-key-long-enough-for-anything",
            "NEWSLETTER_DEV_OUTBOX": "on",
            "NEWSLETTER_LOGIN_RATE_LIMIT": "1000 per minute",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(overrides)
    return env


def start_stack(
    tmp: Path, *, broker_url: str | None = None, **env_overrides: str
) -> tuple[LiveStack, object]:
    port, smtp_port = free_port(), free_port()
    database_url = f"sqlite:///{tmp / 'live.db'}"
    env = stack_environment(
        tmp,
        NEWSLETTER_DATABASE_URL=database_url,
        NEWSLETTER_BASE_URL=f"http://127.0.0.1:{port}",
        NEWSLETTER_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}",
    )
    if broker_url:
        env["NEWSLETTER_BROKER_URL"] = broker_url
    env.update(env_overrides)
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    outbox_folder = tmp / "instance" / "outbox"
    catcher = start_catcher(outbox_folder, port=smtp_port)
    logs = tmp / "logs"
    logs.mkdir(exist_ok=True)
    commands = {
        "web": [sys.executable, "-m", "flask", "--app", "newsletter:create_app", "run",
                "--host", "127.0.0.1", "--port", str(port), "--no-reload", "--no-debugger"],
        "worker": [sys.executable, "-m", "celery", "-A", "worker", "worker", "--pool=threads",
                   "--concurrency=4", "--loglevel=INFO", f"--hostname=live-{port}@%h"],
    }  # fmt: skip
    stack = LiveStack(
        base_url=f"http://127.0.0.1:{port}",
        database_url=database_url,
        smtp_url=env["NEWSLETTER_SMTP_URL"],
        env=env,
        outbox=Outbox(outbox_folder),
    )
    for name, command in commands.items():
        log = (logs / f"{name}.log").open("wb")
        stack.processes[name] = subprocess.Popen(
            command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
        )
    wait_for_http(f"{stack.base_url}/healthz")
    return stack, catcher


def stop_stack(stack: LiveStack, catcher: object) -> None:
    for proc in stack.processes.values():
        proc.terminate()
    for proc in stack.processes.values():
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    catcher.stop()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    stack, catcher = start_stack(tmp_path_factory.mktemp("live"))
    yield stack
    stop_stack(stack, catcher)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is not installed (apt-get install chromium)"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
