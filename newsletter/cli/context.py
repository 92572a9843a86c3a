"""What every command that needs the app shares: the app and one session."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from flask import Flask, current_app
from sqlalchemy.orm import Session


@contextlib.contextmanager
def app_session() -> Iterator[tuple[Flask, Session]]:
    """The current app and a session for one command."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with app.extensions["db"].session_scope() as session:
        yield app, session
