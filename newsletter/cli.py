"""The `newsletter` command line.

Every command exits 0 on success and non-zero with one line on stderr otherwise;
the app is built lazily so `--help` works even with broken settings.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import NoReturn

import click
from flask import Flask, current_app
from sqlalchemy.orm import Session

from .config import ConfigError


@contextlib.contextmanager
def app_session() -> Iterator[tuple[Flask, Session]]:
    """The current app and a session for one command."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with app.extensions["db"].session_scope() as session:
        yield app, session


# Commands that must not build the app in this process (they start their own).
_NO_APP = {"dev", "bounces"}  # bounces builds the app only for commands that need it


@click.group(help="Self-hosted newsletters: import posts, compose issues, mail subscribers.")
@click.pass_context
def cli(ctx: click.Context) -> None:
    if ctx.invoked_subcommand in _NO_APP or ctx.resilient_parsing:
        return
    from . import create_app

    ctx.with_resource(create_app().app_context())


@cli.group(help="The database schema.")
def db() -> None:
    pass


@db.command("upgrade", help="Apply all migrations (alembic upgrade head).")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    from .migrations import upgrade

    with app_session() as (app, _session):
        upgrade(app.extensions["db"].engine, revision)
    click.echo(f"database at {revision}")


@db.command("downgrade", help="Revert migrations down to REVISION (base = empty).")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    from .migrations import downgrade

    with app_session() as (app, _session):
        downgrade(app.extensions["db"].engine, revision)
    click.echo(f"database at {revision}")


@cli.group(help="Authors and admins.")
def users() -> None:
    pass


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
    from .accounts import create_user

    password = _read_password()
    with app_session() as (_app, session):
        user = create_user(session, email=email, password=password, role=role)
        click.echo(f"created {user.role.value} {user.email}")


@users.command(
    "password",
    help="Set a user's password (from stdin or a prompt); ends every session of that user.",
)
@click.argument("email")
def users_password(email: str) -> None:
    from .accounts import set_password

    password = _read_password()
    with app_session() as (_app, session):
        user = set_password(session, email=email, new_password=password)
        click.echo(f"password changed for {user.email}; every session of theirs has ended")


@cli.group(help="API tokens for /api/v1.")
def tokens() -> None:
    pass


@tokens.command("create", help="Create a token and print it (only this once).")
@click.argument("name")
def tokens_create(name: str) -> None:
    from .accounts import create_api_token

    with app_session() as (_app, session):
        click.echo(create_api_token(session, name=name))


@tokens.command("revoke", help="Revoke the token called NAME.")
@click.argument("name")
def tokens_revoke(name: str) -> None:
    from .accounts import revoke_api_token

    with app_session() as (_app, session):
        revoke_api_token(session, name=name)
    click.echo(f"revoked {name}", err=True)


@cli.command("dev", help="Run web + worker + beat + mail catcher on the embedded default.")
@click.option("--port", default=5000, show_default=True)
@click.option("--smtp-port", default=8025, show_default=True)
@click.option("--no-demo", is_flag=True, help="Do not load the demo author and posts.")
def dev(port: int, smtp_port: int, no_demo: bool) -> None:
    from .devtools.runner import run_dev

    for number in (port, smtp_port):
        _check_port_free(number)  # else the web child fails later with its own traceback
    sys.exit(run_dev(port=port, smtp_port=smtp_port, demo=not no_demo))


def _check_port_free(port: int) -> None:
    import socket

    if not 0 < port < 65536:
        raise click.BadParameter(f"{port} is not a TCP port (1-65535)")
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is free
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise click.ClickException(f"port {port} is not free: {exc.strerror}") from None


def _add_optional_groups() -> None:
    """Command groups that live with their domain."""
    from .automations.cli import automations, feeds
    from .bounces.cli import bounces
    from .compose.cli import issues
    from .deliverability.cli import deliverability
    from .posts.cli import posts
    from .subscribers.cli import subscribers

    for group in (posts, subscribers, issues, bounces, deliverability, feeds, automations):
        cli.add_command(group)


_add_optional_groups()


def main() -> None:
    """Run the CLI: 0 on success; on failure a non-zero code and ONE line on stderr.

    Commands report failures by raising (click.ClickException for their own messages);
    this is the only place that turns an exception into output and an exit code.
    """
    try:
        code = cli.main(prog_name="newsletter", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        # A group with no subcommand: click's message is the whole help text.
        name = exc.ctx.command_path if exc.ctx else "newsletter"
        _fail(f"missing command; see `{name} --help`", 2)
    except click.exceptions.Abort:
        _fail("aborted", 1)
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except ConfigError as exc:
        _fail(str(exc), 2)
    except Exception as exc:  # one line for users; the traceback when debugging
        if os.environ.get("NEWSLETTER_DEBUG"):
            raise
        _fail(_describe(exc), 1)
    # Without standalone mode click returns, rather than raises, the code of an Exit.
    sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str, code: int) -> NoReturn:
    line = " ".join(message.split()) or "failed"
    click.echo(f"error: {line}", err=True)
    sys.exit(code or 1)


def _describe(exc: Exception) -> str:
    """The reason, without SQLAlchemy's SQL echo and "Background on this error" link."""
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return f"database error: {exc.orig}"
    if isinstance(exc, SQLAlchemyError):
        return f"database error: {str(exc).split(chr(10), 1)[0]}"
    return str(exc) or type(exc).__name__


if __name__ == "__main__":
    main()
