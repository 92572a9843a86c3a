"""Run Alembic from code: `newsletter db upgrade`, `make run` and the tests."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from sqlalchemy import Engine

from alembic import command

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(engine: Engine | None = None) -> Config:
    """Alembic's Config for alembic/ beside the package, bound to `engine`'s URL."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    if engine is not None:
        config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to `revision` (default the newest), in one transaction.

    Raises alembic.util.CommandError for an unknown revision, and SQLAlchemy's errors when
    the database cannot be reached or a migration fails (its changes are rolled back).
    """
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Migrate the database down to `revision` (`base` empties it), in one transaction.

    Raises alembic.util.CommandError for an unknown revision, and SQLAlchemy's errors when
    the database cannot be reached or a step fails (its changes are rolled back).
    """
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
