"""Every task module; Celery imports this package through `include`."""

from . import bounces, digests, sends, subscribers, system  # noqa: F401
