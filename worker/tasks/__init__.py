"""Every task module; Celery imports this package through `include`."""

from . import bounces, sends, subscribers, system  # noqa: F401
