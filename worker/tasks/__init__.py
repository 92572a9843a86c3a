"""Every task module; Celery imports this package through `include`."""

from . import automations, bounces, digests, sends, subscribers, system  # noqa: F401
