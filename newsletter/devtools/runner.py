"""`newsletter dev` (what `make run` starts): the whole system on the embedded default.

Web, one worker, beat and the mail catcher run together; Ctrl-C stops them all.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time

import click
from sqlalchemy import func, select

from newsletter import create_app
from newsletter.migrations import upgrade
from newsletter.models import Post, User

from .catcher import start_catcher

DEMO_EMAIL = "demo@example.org"


def run_dev(*, port: int, smtp_port: int, demo: bool) -> int:
    """`newsletter dev`: migrate, load the demo author and posts (when `demo`), start the mail
    catcher on `smtp_port` and web (`port`), worker and beat as child processes, then watch.

    Prints the URLs (and the demo login) on stdout. Returns 0 after Ctrl-C or SIGTERM (the
    children are stopped, killed after 15 s), 1 when a child exits on its own. Raises
    ConfigError for bad settings and what the migration raises, before anything starts.
    """
    env = _dev_environment(port, smtp_port)
    os.environ.update(env)
    app = create_app()
    settings = app.extensions["settings"]
    with app.app_context():
        upgrade(app.extensions["db"].engine)
        login = _ensure_demo_author(app) if demo else None
        if demo:
            _load_demo_posts(app)

    catcher = start_catcher(settings.outbox_folder, port=smtp_port)
    children = _start_children(port)
    # Stop cleanly on Ctrl-C and on SIGTERM, even when started with SIGINT ignored.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    base = settings.base_url
    click.echo(f"\n  Newsletter is running at {base}/")
    if login:
        click.echo(f"  Log in as {login[0]} with password {login[1]}")
    click.echo(f"  Caught mail: {base}/dev/outbox    Health: {base}/healthz")
    click.echo("  Press Ctrl-C to stop.\n")
    try:
        return _watch(children)
    except KeyboardInterrupt:
        click.echo("\nstopping…")
        return 0
    finally:
        _stop(children)
        catcher.stop()


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _dev_environment(port: int, smtp_port: int) -> dict[str, str]:
    return {
        "NEWSLETTER_ENV": os.environ.get("NEWSLETTER_ENV", "development"),
        "NEWSLETTER_DEV_OUTBOX": "on",
        "NEWSLETTER_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "NEWSLETTER_BASE_URL": os.environ.get("NEWSLETTER_BASE_URL", f"http://127.0.0.1:{port}"),
    }


def _ensure_demo_author(app: object) -> tuple[str, str] | None:
    from newsletter.accounts import create_user

    db = app.extensions["db"]  # type: ignore[attr-defined]
    settings = app.extensions["settings"]  # type: ignore[attr-defined]
    remembered = settings.instance_path / "demo-login.txt"
    with db.session_scope() as session:
        if session.scalar(select(User).where(User.email == DEMO_EMAIL)) is None:
            password = secrets.token_urlsafe(12)
            create_user(session, email=DEMO_EMAIL, password=password, role="admin")
            remembered.write_text(password)
            remembered.chmod(0o600)
    if remembered.exists():
        return DEMO_EMAIL, remembered.read_text().strip()
    return None


def _load_demo_posts(app: object) -> None:
    from newsletter.demo import load_demo_posts

    db = app.extensions["db"]  # type: ignore[attr-defined]
    with db.session_scope() as session:
        if session.scalar(select(func.count()).select_from(Post)):
            return  # the author's own posts are there; leave them alone
        result = load_demo_posts(session)
        click.echo(f"  loaded {result.created} demo posts")


def _start_children(port: int) -> dict[str, subprocess.Popen[bytes]]:
    python = sys.executable
    commands = {
        "web": [
            python,
            "-m",
            "flask",
            "--app",
            "newsletter:create_app",
            "run",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-reload",
            "--no-debugger",
        ],
        "worker": [
            python,
            "-m",
            "celery",
            "-A",
            "worker",
            "worker",
            "--pool=threads",
            "--concurrency=4",
            "--loglevel=INFO",
            "--hostname=dev@%h",
        ],
        "beat": [python, "-m", "celery", "-A", "worker", "beat", "--loglevel=INFO"],
    }
    # Own sessions: Ctrl-C reaches only us, and we stop the children in order.
    return {
        name: subprocess.Popen(cmd, start_new_session=True)  # noqa: S603 - our own interpreter
        for name, cmd in commands.items()
    }


def _watch(children: dict[str, subprocess.Popen[bytes]]) -> int:
    while True:
        for name, proc in children.items():
            code = proc.poll()
            if code is not None:
                click.echo(f"error: {name} exited with code {code}; stopping the rest", err=True)
                return 1
        time.sleep(0.5)


def _stop(children: dict[str, subprocess.Popen[bytes]]) -> None:
    # A second Ctrl-C while stopping means "now": kill instead of waiting.
    def _kill_all(_signum: int, _frame: object) -> None:
        for proc in children.values():
            if proc.poll() is None:
                proc.kill()

    signal.signal(signal.SIGINT, _kill_all)
    signal.signal(signal.SIGTERM, _kill_all)
    for proc in children.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for proc in children.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
