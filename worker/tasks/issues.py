"""Celery tasks for issues; thin wrappers over services in newsletter/."""

from __future__ import annotations
