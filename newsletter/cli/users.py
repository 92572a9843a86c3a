"""`newsletter users create|password`: authors and admins."""

from __future__ import annotations

import sys

import click

from .context import app_session


@click.group(help="Authors and admins.")
def users() -> None:
    """`newsletter users ...`: the group only."""


def _read_password() -> str:
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        if not line.strip():
            raise click.ClickException("no password on stdin")
        return line.rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@users.command("create", help="Create a user; the password is read from stdin or a prompt.")
@click.argument("email")
@click.option("--role", type=click.Choice(["author", "admin"]), default="author", show_default=True)
def users_create(email: str, role: str) -> None:
    """`newsletter users create EMAIL [--role author|admin]`: password from stdin or a prompt.

    Prints `created ROLE EMAIL` on stdout; exit 0. Raises click.ClickException (exit 1)
    when stdin is not a terminal and its first line is empty; an AccountError (bad address,
    password outside 10-1000 characters, address taken) reaches main(): exit 1.
    """
    from newsletter.accounts import create_user

    password = _read_password()
    with app_session() as session:
        user = create_user(session, email=email, password=password, role=role)
        click.echo(f"created {user.role.value} {user.email}")


@users.command(
    "password",
    help="Set a user's password (from stdin or a prompt); ends every session of that user.",
)
@click.argument("email")
def users_password(email: str) -> None:
    """`newsletter users password EMAIL`: set the password (stdin or a prompt), end every session.

    Prints a confirmation on stdout; exit 0. Raises click.ClickException (exit 1) when stdin
    is not a terminal and its first line is empty; an AccountError (no such user, password
    outside 10-1000 characters) reaches main(): exit 1.
    """
    from newsletter.accounts import set_password

    password = _read_password()
    with app_session() as session:
        user = set_password(session, email=email, new_password=password)
        click.echo(f"password changed for {user.email}; every session of theirs has ended")
