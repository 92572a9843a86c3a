"""Engine and sessions: one session per request or task; services commit, models never do."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, g
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An Engine for a SQLAlchemy URL; SQLite gets foreign keys, WAL (file databases) and a 30 s
    busy timeout; PostgreSQL pings pooled connections before use."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    """Foreign keys on, WAL for web + worker + beat in parallel, and real SAVEPOINTs.

    pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy's documented
    recipe is to disable it and emit BEGIN ourselves.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")


class Database:
    """The app's engine and session factory, kept in app.extensions['db']."""

    def __init__(self, url: str, *, bind: Engine | Connection | None = None) -> None:
        self.engine = bind if isinstance(bind, Engine) else make_engine(url)
        session_bind: Engine | Connection = bind if bind is not None else self.engine
        self._joins_connection = isinstance(bind, Connection)
        options: dict[str, Any] = {"expire_on_commit": False}
        if isinstance(bind, Connection):
            # Tests hand in a connection inside a transaction; commits become savepoints.
            options["join_transaction_mode"] = "create_savepoint"
        self.sessionmaker: Callable[[], Session] = sessionmaker(bind=session_bind, **options)

    def init_app(self, app: Flask) -> None:
        """Register as `app.extensions["db"]` and close the request's session at teardown."""
        app.extensions["db"] = self
        # After each request, and when an app context ends (CLI, tasks): a request that
        # runs inside an already-pushed app context (tests) still gets a fresh session.
        app.teardown_request(_close_session)
        app.teardown_appcontext(_close_session)

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        """A session for a task or a command; rolled back on error, always closed."""
        session = self.sessionmaker()
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def batch_session(self) -> Iterator[Session]:
        """Like `session_scope`, but holding one connection from the pool for the whole
        scope, across its commits. A send batch commits a dozen times; giving the
        connection back each time cost a checkout and a pre-ping round trip per commit
        (seen in the send's profile). A connection lost mid-scope raises, as usual."""
        if self._joins_connection:  # tests hand in one connection already
            with self.session_scope() as session:
                yield session
            return
        with self.engine.connect() as connection:
            # Not in a transaction yet, so the session begins and really commits its own.
            session = Session(bind=connection, expire_on_commit=False)
            try:
                yield session
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()


def get_session() -> Session:
    """The request's session, opened lazily."""
    if "db_session" not in g:
        from newsletter import get_db  # the app factory's accessor

        g.db_session = get_db().sessionmaker()
    return g.db_session  # type: ignore[no-any-return]


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()  # anything uncommitted is rolled back


def get_db() -> Database:
    """Transitional alias of `newsletter.get_db` (the app factory's accessor)."""
    from newsletter import get_db as app_db

    return app_db()
