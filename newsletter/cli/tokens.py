"""`newsletter tokens create|revoke`: API tokens for /api/v1."""

from __future__ import annotations

import click

from .context import app_session


@click.group(help="API tokens for /api/v1.")
def tokens() -> None:
    pass


@tokens.command("create", help="Create a token and print it (only this once).")
@click.argument("name")
def tokens_create(name: str) -> None:
    from newsletter.accounts import create_api_token

    with app_session() as session:
        click.echo(create_api_token(session, name=name))


@tokens.command("revoke", help="Revoke the token called NAME.")
@click.argument("name")
def tokens_revoke(name: str) -> None:
    from newsletter.accounts import revoke_api_token

    with app_session() as session:
        revoke_api_token(session, name=name)
    click.echo(f"revoked {name}", err=True)
