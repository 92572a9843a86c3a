"""The Celery app bound to Flask, and publishing tasks only after the data they need is committed.

Services enqueue tasks by name (`sends.send_batch`), so `newsletter/` never imports
`worker/`; the worker process registers the task bodies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celery import Celery, Task
from celery.app import app_or_default
from flask import Flask, appcontext_pushed
from kombu.entity import Queue
from sqlalchemy import event
from sqlalchemy.orm import Session

from .broker import TRANSPORT
from .config import Settings

SEND_QUEUE = "sends"


def init_celery(app: Flask, settings: Settings) -> Celery:
    """The app's Celery app (also `app.extensions["celery"]`): tasks run inside an app
    context, publishing goes through it whenever the app's context is pushed.
    """

    class FlaskTask(Task):  # type: ignore[misc]
        """Every task body runs inside an application context."""

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.import_name, task_cls=FlaskTask)
    celery.conf.update(celery_config(settings))
    celery.set_default()
    app.extensions["celery"] = celery

    # Whoever works inside this app (a request, a command, a task) publishes through
    # its Celery app, also when a process holds several apps (tests).
    def _make_current(_sender: Flask, **_: Any) -> None:
        celery.set_current()

    # Held by the app, connected weakly: a process that builds many apps (tests) lets
    # each one go with its handler.
    app.extensions["celery_make_current"] = _make_current
    appcontext_pushed.connect(_make_current, app)
    return celery


def celery_config(settings: Settings) -> dict[str, Any]:
    """Celery's settings for these Settings: broker, queues (`celery`, `sends`), late acks,
    one prefetched message per process, result backend (embedded SQLite, Redis or memory).
    """
    config: dict[str, Any] = {
        "broker_url": settings.broker_url,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        # Nobody reads task return values (state lives in the database); tasks that are
        # awaited (system.ping) opt back in.
        "task_ignore_result": True,
        "result_expires": 3600,
        # Sends get their own queue, so a big send never delays a confirmation email
        # and workers can be dedicated to it (`-Q sends`); a plain worker consumes both.
        "task_queues": (Queue("celery"), Queue(SEND_QUEUE)),
        "task_default_queue": "celery",
        "task_routes": {"sends.*": {"queue": SEND_QUEUE}},
        # One message reserved per process: with late acks a prefetched batch task is
        # stuck behind a running one, while an idle worker on another host could run it.
        "worker_prefetch_multiplier": 1,
        # Redis re-delivers an un-acked message (a worker killed mid-batch) after this
        # long. It must exceed the longest task (a batch takes seconds) or a slow task
        # would run twice; the dispatcher on beat rescues a stuck send long before.
        "broker_transport_options": {"visibility_timeout": 600},
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
        "include": ["worker.tasks"],
        "beat_schedule_filename": str(settings.instance_path / "celerybeat-schedule"),
        "timezone": "UTC",
    }
    if settings.embedded_broker:
        folder = ensure_folder(settings.broker_folder)
        config["broker_url"] = f"sqlite:///{folder / 'queue.sqlite'}"
        config["broker_transport"] = TRANSPORT
        config["result_backend"] = f"db+sqlite:///{folder / 'results.sqlite'}"
    elif settings.broker_url.startswith("memory://"):
        config["result_backend"] = "cache+memory://"  # tests that never start a worker
    else:
        config["result_backend"] = settings.redis_url or settings.broker_url
    return config


def ensure_folder(path: Path) -> Path:
    """`path`, created with its parents if missing."""
    path.mkdir(parents=True, exist_ok=True)
    return path


def enqueue(name: str, *args: Any, **kwargs: Any) -> Any:
    """Publish a task by name now, through the Celery app `init_celery` made current."""
    return app_or_default().send_task(name, args=args, kwargs=kwargs)


def enqueue_after_commit(session: Session, name: str, *args: Any, **kwargs: Any) -> None:
    """Publish the task once the session commits, so it never runs before its rows exist.

    The Celery app is the one current now (`init_celery` makes each app's current, the
    worker runs with its own), so no Flask app context is needed.
    """
    celery = app_or_default()
    session.info.setdefault("pending_tasks", []).append((celery, name, args, kwargs))


@event.listens_for(Session, "after_commit")
def _publish_pending(session: Session) -> None:
    for celery, name, args, kwargs in session.info.pop("pending_tasks", []):
        celery.send_task(name, args=args, kwargs=kwargs)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop("pending_tasks", None)
