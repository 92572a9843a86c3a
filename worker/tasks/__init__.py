"""Every task module; Celery imports this package through `include`."""

from . import sends, subscribers, system  # noqa: F401
