"""`newsletter bounces ...`."""

from __future__ import annotations

import json
from pathlib import Path

import click

# Subcommands that need the app (settings, database); `classify` needs neither, so it
# works with no settings at all and can never touch the database.
_NEEDS_APP: frozenset[str] = frozenset({"process"})


@click.group(
    "bounces", help="Bounces and complaints: read the bounce mailbox, classify returned mail."
)
@click.pass_context
def bounces(ctx: click.Context) -> None:
    """`newsletter bounces ...`: builds the app (ConfigError, exit 2, on bad settings) only for
    subcommands that need it (`process`); `classify` runs with no settings at all.
    """
    if ctx.invoked_subcommand in _NEEDS_APP and not ctx.resilient_parsing:
        from newsletter import create_app

        ctx.with_resource(create_app().app_context())


@bounces.command(
    "classify",
    help="Tell what each raw email FILE is (bounce, autoreply, complaint, not-bounce), "
    "without touching the database.",
)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file, one per line.")
def classify_command(files: tuple[Path, ...], as_json: bool) -> None:
    """`newsletter bounces classify FILE... [--json]`: classify raw emails, offline.

    Reads at most bounces.classify.MAX_BYTES of each file. Prints to stdout one line per
    recipient, `FILE: KIND ADDRESS STATUS REASON hard|soft|-` (STATUS an RFC 3463 enhanced
    code, or `-`), or `FILE: KIND` when no recipient was found; with --json, one JSON object
    per file per line. Exit 0, also for mail that is not a bounce. Raises
    click.ClickException (exit 1, nothing printed) when a FILE is missing or not a file,
    and (exit 1, after the earlier files' lines) when one cannot be read.
    """
    from newsletter.bounces.classify import MAX_BYTES, classify

    for path in files:  # every file is checked before any output
        if not path.is_file():
            raise click.ClickException(f"no such file: {path}")
    for path in files:
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_BYTES)
        except OSError as exc:
            raise click.ClickException(f"cannot read {path}: {exc.strerror}") from None
        result = classify(raw)
        if as_json:
            click.echo(json.dumps({"file": str(path), **result.as_json()}))
            continue
        if not result.recipients:
            click.echo(f"{path}: {result.kind}")
        for r in result.recipients:
            severity = "hard" if r.hard else ("soft" if result.kind == "bounce" else "-")
            click.echo(f"{path}: {result.kind} {r.address} {r.status or '-'} {r.reason} {severity}")


@bounces.command(
    "process",
    help="One pass over the bounce mailbox (NEWSLETTER_BOUNCE_MAILBOX): record each new "
    "bounce and complaint once, then print the counts.",
)
@click.option(
    "--mailbox",
    "url",
    default=None,
    help="imap://, imaps://, pop3s://, maildir:///path or mbox:///path (default: the setting).",
)
def process_command(url: str | None) -> None:
    """`newsletter bounces process [--mailbox URL]`: one pass over the bounce mailbox.

    Records each new bounce and complaint once, then prints the counts on stdout as one line
    of `name=N` pairs (PassCounts.as_dict order). Exit 0 on success. Raises
    click.BadParameter (exit 2) when URL's scheme is not one of config.MAILBOX_SCHEMES, and
    click.ClickException (exit 1) on a MailboxError (no mailbox set, a bad URL or path, a refused
    connection or login).
    """
    from newsletter import current_settings, get_db
    from newsletter.bounces.mailbox import MailboxError, process
    from newsletter.config import MAILBOX_SCHEMES

    if url is not None and url.partition("://")[0] not in MAILBOX_SCHEMES:
        raise click.BadParameter(
            "must start with " + ", ".join(s + "://" for s in MAILBOX_SCHEMES),
            param_hint="--mailbox",
        )
    settings = current_settings()
    try:
        with get_db().session_scope() as session:
            counts = process(session, settings, url)
    except MailboxError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(" ".join(f"{name}={n}" for name, n in counts.as_dict().items()))
