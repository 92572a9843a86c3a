"""Domain code takes its settings as arguments: only the web layer and the app factory
read Flask's app context, and the worker builds its app in one place."""

from __future__ import annotations

import subprocess
import sys

from .conftest import REPO


def test_only_the_web_layer_and_the_app_factory_read_current_app():
    package = REPO / "newsletter"
    readers = sorted(
        str(path.relative_to(REPO))
        for path in package.rglob("*.py")
        if "current_app" in path.read_text(encoding="utf-8")
    )
    outside = [
        p for p in readers if not p.startswith("newsletter/web/") and p != "newsletter/__init__.py"
    ]
    assert outside == []
    assert "newsletter/__init__.py" in readers  # the accessors entry points use


def test_importing_the_task_modules_builds_no_app():
    code = (
        "import sys, worker, worker.tasks\n"
        "assert 'worker.app' not in sys.modules, 'a task import built the app'\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_tasks_are_published_through_the_app_whose_context_is_pushed(tmp_path):
    from celery.app import app_or_default

    from .conftest import make_test_app

    first = make_test_app(None, tmp_path / "a")
    second = make_test_app(None, tmp_path / "b")
    for app in (first, second, first):
        with app.app_context():
            assert app_or_default() is app.extensions["celery"]
