"""The Celery app, bound to the Flask app: `celery -A worker worker` / `celery -A worker beat`.

Tasks live in worker/tasks/ and only call services in newsletter/; this module
builds the app once per worker process, as the Flask + Celery pattern does.
"""

from newsletter import create_app

from .beat import schedule

flask_app = create_app()
celery = flask_app.extensions["celery"]
celery.conf.beat_schedule = schedule(flask_app.extensions["settings"])

__all__ = ["celery", "flask_app"]
