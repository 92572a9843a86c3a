"""Celery tasks for subscribers; thin wrappers over services in newsletter/."""

from __future__ import annotations
