"""Shared fixtures: real databases built by the real migrations, rolled back per test.

Every test that takes `db_session` (or `app`/`client`) runs twice: on SQLite and on
PostgreSQL (`NEWSLETTER_TEST_POSTGRES_URL`). Each backend is migrated once per run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from newsletter.db import make_engine
from newsletter.migrations import upgrade

# Property tests draw the same examples on every run, so CI never goes red by luck;
# HYPOTHESIS_PROFILE=explore draws fresh ones (and remembers failures) when hunting bugs.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

POSTGRES_URL = os.environ.get(
    "NEWSLETTER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _redis_of_this_process(base: str) -> str:
    """The Redis database of this pytest process: the configured one, or under pytest-xdist
    one per worker counting down from it (gw0 the configured one, gw1 the one below...),
    so parallel workers never flush each other's queues."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return base
    head, _, db = base.rpartition("/")
    return f"{head}/{(int(db or 0) - int(worker[2:])) % 16}"


REDIS_URL = _redis_of_this_process(
    os.environ.get("NEWSLETTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
)
REPO = Path(__file__).resolve().parent.parent
BACKENDS = ["sqlite", "postgresql"]


def create_postgres_database(name: str) -> str:
    """A fresh, empty database on the test server; returns its URL."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(name: str) -> None:
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def fresh_database_url(backend: str, tmp_path: Path) -> tuple[str, str | None]:
    """A new empty database of the given backend: (url, postgres name to drop or None)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}", None
    name = f"newsletter_t_{uuid.uuid4().hex[:10]}"
    return create_postgres_database(name), name


@pytest.fixture(scope="session", params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        name = None
    else:
        # One database per pytest process, so parallel runs never drop each other's.
        name = f"newsletter_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"
        url = create_postgres_database(name)
    eng = make_engine(url)
    upgrade(eng)
    yield eng
    eng.dispose()
    if name:
        drop_postgres_database(name)


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        if outer.is_active:
            outer.rollback()


@pytest.fixture
def db_session(connection: Connection) -> Iterator[Session]:
    """A session whose commits are savepoints inside the test's transaction."""
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    yield session
    session.close()


TEST_SECRET = "test-secret-key-that-is-long-enough-for-production-checks"


def make_test_app(connection: Connection | None, tmp_path: Path, **overrides):  # type: ignore[no-untyped-def]
    """An app bound to the test's connection (so its commits roll back with the test)."""
    from newsletter import create_app

    config = {
        "ENV": "testing",
        "SECRET_KEY": TEST_SECRET,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "BROKER_URL": "memory://",
        "DB_BIND": connection,
        "DATABASE_URL": connection.engine.url.render_as_string(hide_password=False)
        if connection is not None
        else None,
        "BASE_URL": "http://localhost",
        "LOGIN_RATE_LIMIT": "1000 per minute",
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture
def app(connection: Connection, tmp_path: Path):  # type: ignore[no-untyped-def]
    app = make_test_app(connection, tmp_path)
    with app.app_context():
        yield app


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


def csrf_token_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    import re

    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "page has no CSRF token"
    return match.group(1)


@pytest.fixture
def make_user(db_session: Session):  # type: ignore[no-untyped-def]
    """Create a user through the real service; returns (user, password)."""
    from newsletter.accounts import create_user

    def _make(
        email: str = "author@example.org",
        role: str = "author",
        password: str = "correct horse battery",
    ):
        return create_user(db_session, email=email, password=password, role=role), password

    return _make


@pytest.fixture
def api_token(db_session: Session) -> str:
    from newsletter.accounts import create_api_token

    return create_api_token(db_session, name="tests")


@pytest.fixture
def login(client, make_user):  # type: ignore[no-untyped-def]
    """Log a fresh user in through the real form; returns the user."""

    def _login(role: str = "author", email: str | None = None):
        user, password = make_user(email=email or f"{role}@example.org", role=role)
        form_page = client.get("/login").get_data(as_text=True)
        response = client.post(
            "/login",
            data={
                "email": user.email,
                "password": password,
                "csrf_token": csrf_token_from(form_page),
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return _login


# End-to-end fixtures (live_stack, browser, page) live in tests/live.py.
pytest_plugins = ["tests.live"]


@pytest.fixture(autouse=True)
def _fresh_variant_templates() -> Iterator[None]:
    """Each test starts with an empty per-process template cache: tests roll their
    database back, so a later test's issue may reuse an id with different content."""
    from newsletter.sends import variants

    variants._cache.clear()
    yield
    variants._cache.clear()
