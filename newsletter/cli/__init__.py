"""The `newsletter` command line.

Every command exits 0 on success and non-zero with one line on stderr otherwise;
the app is built lazily so `--help` works even with broken settings.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import click

from newsletter.config import ConfigError

from . import (
    automations,
    bounces,
    db,
    deliverability,
    dev,
    issues,
    posts,
    subscribers,
    tokens,
    users,
)

# Commands that must not build the app in this process (they start their own).
_NO_APP = {"dev", "bounces"}  # bounces builds the app only for commands that need it


@click.group(help="Self-hosted newsletters: import posts, compose issues, mail subscribers.")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """The root group: pushes an app context (create_app) for every subcommand but `dev` and
    `bounces`, which build their own; `--help` and completion build nothing.

    Raises ConfigError (main() prints it and exits 2) when the settings are invalid.
    """
    if ctx.invoked_subcommand in _NO_APP or ctx.resilient_parsing:
        return
    from newsletter import create_app

    ctx.with_resource(create_app().app_context())


for _group in (
    db.db,
    users.users,
    tokens.tokens,
    dev.dev,
    posts.posts,
    subscribers.subscribers,
    issues.issues,
    bounces.bounces,
    deliverability.deliverability,
    automations.feeds,
    automations.automations,
):
    cli.add_command(_group)


def main() -> None:
    """Run the CLI: 0 on success; on failure a non-zero code and ONE line on stderr.

    Commands report failures by raising (click.ClickException for their own messages);
    this is the only place that turns an exception into output and an exit code:
    `error: <reason>` on stderr, then exit 2 for a usage error (click.UsageError, a missing
    subcommand) or a ConfigError, 1 for click.ClickException, Abort and any other exception.
    With NEWSLETTER_DEBUG set, an unexpected exception propagates with its traceback.
    Never returns: it always ends with SystemExit.
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
