"""What every command that needs the app shares: one session from the app the group built."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy.orm import Session


@contextlib.contextmanager
def app_session() -> Iterator[Session]:
    """A session for one command (rolled back on error, always closed)."""
    from newsletter import get_db

    with get_db().session_scope() as session:
        yield session
