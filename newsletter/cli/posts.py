"""`newsletter posts import SOURCE`: the command-line face of import_posts."""

from __future__ import annotations

import click

from newsletter import get_db  # works inside the app context the main CLI provides
from newsletter.posts.errors import PostImportError
from newsletter.posts.sources import FORMATS
from newsletter.posts.store import import_posts

posts = click.Group("posts", help="Import blog posts.")


@posts.command("import")
@click.argument("source")
# A plain string, checked by the service, so a wrong value is one `error:` line too.
@click.option("--format", "fmt", default=None, help=f"Skip detection: one of {', '.join(FORMATS)}.")
@click.option(
    "--base-url",
    default=None,
    metavar="URL",
    help="Where the file or folder was published, to resolve its relative links against.",
)
def import_command(source: str, fmt: str | None, base_url: str | None) -> None:
    """Import posts from a feed URL or file, a WXR export, a Markdown folder or a text scrape.

    \f
    Prints `imported N posts (C new, U updated)` on stdout and each warning on stderr; exit 0.
    Raises click.ClickException (exit 1) on a PostImportError (unreadable or unknown source,
    a bad --format or --base-url, too large, nothing importable).
    """
    try:
        with get_db().session_scope() as session:
            result = import_posts(
                session, source, fmt=fmt, allow_private_urls=True, base_url=base_url
            )
    except PostImportError as exc:
        raise click.ClickException(str(exc)) from None  # main() prints it as one line
    noun = "post" if result.total == 1 else "posts"
    click.echo(f"imported {result.total} {noun} ({result.created} new, {result.updated} updated)")
    for warning in result.warnings:
        click.echo(f"warning: {' '.join(warning.split())}", err=True)
