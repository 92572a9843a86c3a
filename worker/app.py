"""The one place the worker process builds the app: `celery -A worker` ends here.

Importing a task module (worker.tasks.*) builds nothing; the tasks read what they
need from the app context their Celery task class pushes (newsletter/queue.py).
"""

from newsletter import create_app

from .beat import schedule

flask_app = create_app()
celery = flask_app.extensions["celery"]
celery.conf.beat_schedule = schedule(flask_app.extensions["settings"])

__all__ = ["celery", "flask_app"]
