"""The embedded broker: kombu's SQLAlchemy transport on a SQLite file in the instance folder.

Chosen by measurement (bench/broker.py): kombu's filesystem transport loses messages
when a worker reads a file the publisher is still writing, so it cannot serve web,
worker and beat in separate processes; the SQLAlchemy transport is transactional.
Two adjustments: kombu passes every transport option to create_engine (so the polling
interval is a class attribute here), and SQLite needs WAL and a busy timeout to be
shared by several processes.
"""

from __future__ import annotations

from typing import Any

from kombu.transport.sqlalchemy import Channel as _SqlaChannel
from kombu.transport.sqlalchemy import Transport as _SqlaTransport
from sqlalchemy import create_engine, event

TRANSPORT = "newsletter.broker:Transport"


class Channel(_SqlaChannel):
    """kombu's SQLAlchemy channel on SQLite with WAL, a 30 s busy timeout and synchronous=NORMAL,
    so web, worker and beat processes can share the file.
    """

    def _engine_from_config(self) -> Any:
        url = self.connection.client.hostname
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine


class Transport(_SqlaTransport):
    """The embedded broker's transport (`newsletter.broker:Transport`), polling every 0.1 s."""

    Channel = Channel
    polling_interval = 0.1  # seconds between polls when the queue is empty
