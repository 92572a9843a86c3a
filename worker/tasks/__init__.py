"""Every task module; Celery imports this package through `include`."""

from . import issues, subscribers, system  # noqa: F401
