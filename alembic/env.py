"""Alembic environment: the only source of the schema.

The connection comes from `config.attributes["connection"]` (tests, `newsletter db
upgrade`) or else from the newsletter settings.
"""

from sqlalchemy import Connection

from alembic import context
from newsletter.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from flask import Flask

    from newsletter.config import load_settings
    from newsletter.db import make_engine

    url = (
        config.get_main_option("sqlalchemy.url") or load_settings(Flask("newsletter")).database_url
    )
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
