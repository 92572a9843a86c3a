"""`newsletter subscribers ...`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

subscribers = click.Group("subscribers", help="Import, export and manage subscribers.")


@subscribers.command("import", help="Import subscribers from a CSV file with a header row.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--confirmed",
    is_flag=True,
    help="The addresses already opted in: make them active at once (no confirmation email).",
)
@click.option("--categories", default="", help="Comma-separated categories given to every row.")
def import_command(file: Path, confirmed: bool, categories: str) -> None:
    """`newsletter subscribers import FILE.csv [--confirmed] [--categories a,b]`.

    FILE is CSV (RFC 4180; `;` is taken as the separator when the header has more of them)
    with a header row (DESIGN.md "Command line"). Prints warnings and `line N: reason` errors
    on stderr (the first MAX_REPORTED_ERRORS, then `... and N more errors`) and the summary
    line (ImportReport.summary) on stdout; exit 0 even when some rows failed. Raises
    click.ClickException (exit 1), nothing imported, when FILE cannot be opened or the file
    is refused as a whole (ImportFileError: empty, not UTF-8, malformed CSV, no `email`
    column; InvalidInput: an unknown --categories name).
    """
    from newsletter import get_db
    from newsletter.subscribers.errors import SubscriberError
    from newsletter.subscribers.importer import import_csv

    try:
        handle = file.open("rb")
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc.strerror}") from None
    with handle, get_db().session_scope() as session:
        try:
            report = import_csv(
                session,
                handle,
                confirmed=confirmed,
                categories=[c for c in categories.split(",") if c.strip()],
            )
        except SubscriberError as exc:
            raise click.ClickException(str(exc)) from None
    for line in (*report.warnings, *report.errors):
        click.echo(line, err=True)
    if report.failed > len(report.errors):
        click.echo(f"... and {report.failed - len(report.errors)} more errors", err=True)
    click.echo(report.summary())


@subscribers.command("export", help="Write every subscriber to stdout.")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option(
    "--excel",
    is_flag=True,
    help="CSV for Excel: start with a UTF-8 byte order mark so accents show right.",
)
def export_command(fmt: str, excel: bool) -> None:
    """`newsletter subscribers export [--format csv|json] [--excel]`: every subscriber to stdout.

    CSV (RFC 4180, header row; with --excel a UTF-8 byte order mark first) or JSON, written
    in chunks as they are read; exit 0. Raises click.UsageError (exit 2) for --excel with
    --format json.
    """
    from newsletter import get_db
    from newsletter.subscribers.exporter import export_csv, export_json

    if excel and fmt != "csv":
        raise click.UsageError("--excel applies to --format csv only")
    with get_db().session_scope() as session:
        chunks = export_csv(session, excel=excel) if fmt == "csv" else export_json(session)
        for chunk in chunks:
            sys.stdout.write(chunk)
    sys.stdout.flush()
