"""Fixtures for the feed and automation tests: a loopback feed server, and an app whose web
and API may reach it. Imported by those test modules (not a conftest, so the digest tests
in this folder keep their own `app`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from ..conftest import make_test_app
from .feedserver import FeedServer, Item


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    server.state.items = [
        Item("p1", "First post", "Hello one", datetime(2026, 3, 2, 9, tzinfo=UTC), ("AI",)),
        Item("p2", "Second post", "Hello two", datetime(2026, 3, 3, 9, tzinfo=UTC), ("China",)),
    ]
    yield server
    server.stop()


@pytest.fixture
def app(connection, tmp_path):  # type: ignore[no-untyped-def]
    # The loopback server is a private address: this app's web and API may reach it.
    app = make_test_app(connection, tmp_path, IMPORT_ALLOW_PRIVATE_URLS=True)
    with app.app_context():
        yield app
