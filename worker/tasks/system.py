"""Operational tasks: a round trip through the broker that touches the database."""

from __future__ import annotations

import os
from typing import Any

from celery import shared_task
from sqlalchemy import text

from newsletter import get_db


@shared_task(name="system.ping", ignore_result=False)  # its caller waits for the answer
def ping(payload: str = "") -> dict[str, Any]:
    """Echo the payload with the worker's pid and a database check."""
    with get_db().session_scope() as session:
        db_ok = session.execute(text("SELECT 1")).scalar() == 1
    return {"payload": payload, "pid": os.getpid(), "db": "ok" if db_ok else "error"}
