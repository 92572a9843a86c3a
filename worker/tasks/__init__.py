"""Every task module; Celery imports this package through `include`."""

from . import system  # noqa: F401
