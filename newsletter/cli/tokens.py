"""`newsletter tokens create|revoke`: API tokens for /api/v1."""

from __future__ import annotations

import click

from .context import app_session


@click.group(help="API tokens for /api/v1.")
def tokens() -> None:
    """`newsletter tokens ...`: the group only."""


@tokens.command("create", help="Create a token and print it (only this once).")
@click.argument("name")
def tokens_create(name: str) -> None:
    """`newsletter tokens create NAME`: prints only the new token on stdout (it is shown once).

    Exit 0. An AccountError (NAME empty or over 100 characters, or already taken) reaches
    main(): one line on stderr, exit 1.
    """
    from newsletter.accounts import create_api_token

    with app_session() as session:
        click.echo(create_api_token(session, name=name))


@tokens.command("revoke", help="Revoke the token called NAME.")
@click.argument("name")
def tokens_revoke(name: str) -> None:
    """`newsletter tokens revoke NAME`: prints `revoked NAME` on stderr; exit 0.

    An AccountError (no active token called NAME) reaches main(): one line on stderr, exit 1.
    """
    from newsletter.accounts import revoke_api_token

    with app_session() as session:
        revoke_api_token(session, name=name)
    click.echo(f"revoked {name}", err=True)
