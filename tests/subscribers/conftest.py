"""Fixtures for subscriber tests: categories, a memory sender, recorded Celery tasks."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.mail.transport import MemorySender
from newsletter.models import Category, Event, Subscriber, Suppression


@pytest.fixture
def categories(db_session: Session) -> dict[str, Category]:
    ai = Category(name="AI", slug="ai")
    db_session.add(ai)
    db_session.flush()
    llm = Category(
        name="AI: Large Language Models", slug="ai-large-language-models", parent_id=ai.id
    )
    china = Category(name="China", slug="china")
    db_session.add_all([llm, china])
    db_session.commit()
    return {c.name: c for c in (ai, llm, china)}


@pytest.fixture
def sender(app: Any) -> MemorySender:
    memory = MemorySender()
    app.extensions["mail_sender"] = memory
    return memory


@pytest.fixture
def tasks(app: Any, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[Any, ...]]]:
    """Tasks published after commit, recorded instead of sent to a broker."""
    published: list[tuple[str, tuple[Any, ...]]] = []

    def send_task(name: str, args: Any = (), kwargs: Any = None, **_: Any) -> None:
        published.append((name, tuple(args or ())))

    monkeypatch.setattr(app.extensions["celery"], "send_task", send_task)
    return published


def snapshot(session: Session) -> dict[str, Any]:
    """Enough of the subscriber tables to prove that nothing changed."""
    session.expire_all()
    return {
        "subscribers": session.execute(
            select(Subscriber.id, Subscriber.email, Subscriber.name, Subscriber.status).order_by(
                Subscriber.id
            )
        ).all(),
        "suppressions": session.execute(
            select(Suppression.email_hash, Suppression.reason).order_by(Suppression.email_hash)
        ).all(),
        "events": session.scalar(select(func.count()).select_from(Event)),
    }


@pytest.fixture
def client(app: Any) -> Any:
    """A test client whose every request closes its own DB session, as in production.

    The shared `app` fixture keeps one app context open for the whole test, and
    Flask reuses it for each request, so without this the request's session (and
    its SAVEPOINT) would outlive the request and interleave with `db_session`'s.
    """
    from newsletter.db import _close_session

    app.teardown_request(_close_session)
    return app.test_client()
