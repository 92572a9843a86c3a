"""`newsletter issues create|schedule|send|pause|resume|cancel|stats`: the command-line face
of the issue and send services."""

from __future__ import annotations

from datetime import date, datetime

import click

from newsletter import get_db  # the main CLI has pushed an app context
from newsletter.compose.errors import ComposeError, InvalidTransition, IssueNotFound
from newsletter.compose.issues import aware, create_issue, schedule_issue, undated_post_count

issues = click.Group("issues", help="Create, schedule and send issues.")


def _parse_when(value: str, *, option: str) -> datetime | date:
    """ISO 8601 date or date-time; naive values are in the server's timezone."""
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.ClickException(
            f"{option} must be an ISO 8601 date or date-time (got {value!r})"
        ) from None


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


@issues.command("create")
@click.option("--subject", required=True, help="The email subject.")
@click.option(
    "--since",
    help="Posts published since DATE (default: since the last sent issue); "
    "posts with no date are never included (use --post).",
)
@click.option("--category", "categories", multiple=True, help="Limit to a category (repeatable).")
@click.option("--post", "post_ids", multiple=True, type=int, help="A post id (repeatable).")
def create_command(
    subject: str, since: str | None, categories: tuple[str, ...], post_ids: tuple[int, ...]
) -> None:
    """Create a draft issue and print only its id.

    \f
    stdout is the id alone; a note about undated posts goes to stderr. Exit 0. Raises
    click.ClickException (exit 1) for a --since that is not ISO 8601, and on a ComposeError,
    IssueNotFound or InvalidTransition (no posts match, an unknown post id, a bad subject).
    """
    when = _parse_when(since, option="--since") if since else None
    try:
        with get_db().session_scope() as session:
            issue = create_issue(
                session,
                subject=subject,
                post_ids=list(post_ids) if post_ids else None,
                since=when,
                categories=list(categories) or None,
            )
            undated = 0 if post_ids else undated_post_count(session)
    except (ComposeError, IssueNotFound, InvalidTransition) as exc:
        raise _fail(exc) from None
    click.echo(issue.id)
    if undated:
        # stdout stays the id alone (scripts read it); the note is for the person.
        click.echo(
            f"note: {undated} post(s) with no date are never picked by --since; "
            "set their date under /author/posts or add them with --post ID",
            err=True,
        )


@issues.command("schedule")
@click.argument("issue_id", type=int)
@click.option("--at", "at", required=True, help="ISO 8601 date-time; naive = server timezone.")
def schedule_command(issue_id: int, at: str) -> None:
    """Schedule a draft to be sent at a future time.

    \f
    Prints `issue ID scheduled for ISO8601` on stderr; exit 0. Raises click.ClickException
    (exit 1) for an --at that is not ISO 8601 or not in the future, an unknown issue, or one
    that is not a draft (ComposeError, IssueNotFound, InvalidTransition).
    """
    when = _parse_when(at, option="--at")
    try:
        send_at = aware(when)
        with get_db().session_scope() as session:
            issue = schedule_issue(session, issue_id=issue_id, send_at=send_at)
    except (ComposeError, IssueNotFound, InvalidTransition) as exc:
        raise _fail(exc) from None
    assert issue.send_at is not None
    click.echo(f"issue {issue.id} scheduled for {issue.send_at.isoformat()}", err=True)


def _control(action: str, issue_id: int) -> None:
    from newsletter.sends import control

    try:
        with get_db().session_scope() as session:
            getattr(control, action)(session, issue_id=issue_id)
    except (ComposeError, IssueNotFound, InvalidTransition) as exc:
        raise _fail(exc) from None


@issues.command("send")
@click.argument("issue_id", type=int)
@click.option("--wait", is_flag=True, help="Show progress until the send ends.")
@click.option("--strict", is_flag=True, help="With --wait: exit non-zero if any delivery failed.")
def send_command(issue_id: int, wait: bool, strict: bool) -> None:
    """Start sending an issue now (workers do the sending).

    \f
    Prints `issue ID is sending` on stderr; with --wait, a progress line on stderr until the
    send ends. Raises click.ClickException (exit 1) for an unknown issue or one that cannot
    be sent now (IssueNotFound, InvalidTransition, ComposeError); with --wait, also when the
    issue ends paused or cancelled and, with --strict, when any delivery failed.
    """
    _control("send_now", issue_id)
    click.echo(f"issue {issue_id} is sending", err=True)
    if wait:
        _wait(issue_id, strict=strict)


def _wait(issue_id: int, *, strict: bool, every: float = 1.0) -> None:
    """Redraw one progress line until the issue leaves `sending`."""
    import time

    from newsletter.tracking.stats import issue_stats

    while True:
        with get_db().session_scope() as session:
            stats = issue_stats(session, issue_id)
        done = stats["sent"] + stats["failed"] + stats["skipped"]
        total = stats["recipients"] or 1
        width = 30
        bar = "#" * int(width * done / total)
        click.echo(
            f"\r[{bar:<{width}}] {done}/{stats['recipients']}  sent {stats['sent']}  "
            f"failed {stats['failed']}  skipped {stats['skipped']}  "
            f"{stats['rate_per_s']:.0f}/s ",
            nl=False,
            err=True,
        )
        if stats["status"] != "sending":
            break
        time.sleep(every)
    click.echo(f"\nissue {issue_id} {stats['status']}", err=True)
    if stats["status"] in ("paused", "cancelled"):
        raise click.ClickException(f"issue {issue_id} ended {stats['status']}")
    if strict and stats["failed"]:
        raise click.ClickException(f"{stats['failed']} deliveries failed")


@issues.command("pause")
@click.argument("issue_id", type=int)
def pause_command(issue_id: int) -> None:
    """Pause a running send; `resume` carries on where it stopped.

    \f
    Prints `issue ID paused` on stderr; exit 0. Raises click.ClickException (exit 1) for an
    unknown issue or one that is not sending (IssueNotFound, InvalidTransition).
    """
    _control("pause", issue_id)
    click.echo(f"issue {issue_id} paused", err=True)


@issues.command("resume")
@click.argument("issue_id", type=int)
def resume_command(issue_id: int) -> None:
    """Resume a paused send.

    \f
    Prints `issue ID sending` on stderr; exit 0. Raises click.ClickException (exit 1) for an
    unknown issue or one that is not paused (IssueNotFound, InvalidTransition).
    """
    _control("resume", issue_id)
    click.echo(f"issue {issue_id} sending", err=True)


@issues.command("cancel")
@click.argument("issue_id", type=int)
def cancel_command(issue_id: int) -> None:
    """Cancel an issue that has not finished sending.

    \f
    Prints `issue ID cancelled` on stderr; exit 0. Raises click.ClickException (exit 1) for
    an unknown issue or one already sent or cancelled (IssueNotFound, InvalidTransition).
    """
    _control("cancel", issue_id)
    click.echo(f"issue {issue_id} cancelled", err=True)


@issues.command("stats")
@click.argument("issue_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV: summary, each link, the time series.")
def stats_command(issue_id: int, as_json: bool, as_csv: bool) -> None:
    """Delivery, bounce, unsubscribe, open and click figures of an issue.

    \f
    Prints `name value` lines and one line per clicked link on stdout; with --json one JSON
    object (issue_stats, datetimes ISO 8601); with --csv RFC 4180 CSV. Exit 0. Raises
    click.UsageError (exit 2) for --json with --csv, and click.ClickException (exit 1) for
    an unknown issue (IssueNotFound).
    """
    import json

    from newsletter.tracking.stats import csv_text, issue_stats, stats_csv_rows

    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    try:
        with get_db().session_scope() as session:
            if as_csv:
                click.echo(csv_text(stats_csv_rows(session, issue_id)), nl=False)
                return
            stats = issue_stats(session, issue_id)
    except IssueNotFound as exc:
        raise _fail(exc) from None
    if as_json:
        click.echo(json.dumps(stats, default=lambda value: value.isoformat()))
        return
    opens, clicks = stats["opens"], stats["clicks"]
    click.echo(
        f"status {stats['status']}\nrecipients {stats['recipients']}\nsent {stats['sent']}\n"
        f"failed {stats['failed']}\nskipped {stats['skipped']}\n"
        f"remaining {stats['remaining']}\nrate {stats['rate_per_s']}/s\n"
        f"bounces hard {stats['bounces']['hard']} soft {stats['bounces']['soft']}\n"
        f"complaints {stats['complaints']}\nunsubscribes {stats['unsubscribes']}\n"
        f"opens unique {opens['unique']} total {opens['total']} "
        f"machine {opens['machine']} ({stats['rates']['open']:.1%})\n"
        f"clicks unique {clicks['unique']} total {clicks['total']} "
        f"machine {clicks['machine']} ({stats['rates']['click']:.1%})"
    )
    for link in clicks["links"]:
        click.echo(f"  {link['unique']:>6} {link['total']:>6}  {link['url']}")
