"""Every task module; Celery imports this package through `include`."""

from . import automations, bounces, sends, subscribers, system  # noqa: F401
