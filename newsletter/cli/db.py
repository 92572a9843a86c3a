"""`newsletter db upgrade|downgrade`: the schema, through Alembic."""

from __future__ import annotations

import click

from newsletter import get_db


@click.group(help="The database schema.")
def db() -> None:
    """`newsletter db ...`: the group only; its subcommands run Alembic."""


@db.command("upgrade", help="Apply all migrations (alembic upgrade head).")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """`newsletter db upgrade [--revision REV]`: migrate up to REV (default `head`).

    Prints `database at REV` on stdout; exit 0. Alembic's and the database's errors
    (an unknown revision, no connection) reach main(): one line on stderr, exit 1.
    """
    from newsletter.migrations import upgrade

    upgrade(get_db().engine, revision)
    click.echo(f"database at {revision}")


@db.command("downgrade", help="Revert migrations down to REVISION (base = empty).")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """`newsletter db downgrade REVISION`: migrate down to REVISION (`base` empties the schema).

    Prints `database at REVISION` on stdout; exit 0. Alembic's and the database's errors
    reach main(): one line on stderr, exit 1.
    """
    from newsletter.migrations import downgrade

    downgrade(get_db().engine, revision)
    click.echo(f"database at {revision}")
