"""The Celery worker and beat: `celery -A worker worker` / `celery -A worker beat`.

Tasks live in worker/tasks/ and only call services in newsletter/. The app is
built once per process, in worker/app.py, when Celery asks for `worker.celery`;
importing this package or a task module builds nothing.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    # Celery's `-A worker` looks up `worker.app`, then `worker.celery`: only the latter
    # is ours (`app` is the submodule, which Celery skips).
    if name in ("celery", "flask_app"):
        from . import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
