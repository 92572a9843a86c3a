"""`newsletter db upgrade|downgrade`: the schema, through Alembic."""

from __future__ import annotations

import click

from newsletter import get_db


@click.group(help="The database schema.")
def db() -> None:
    pass


@db.command("upgrade", help="Apply all migrations (alembic upgrade head).")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    from newsletter.migrations import upgrade

    upgrade(get_db().engine, revision)
    click.echo(f"database at {revision}")


@db.command("downgrade", help="Revert migrations down to REVISION (base = empty).")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    from newsletter.migrations import downgrade

    downgrade(get_db().engine, revision)
    click.echo(f"database at {revision}")
