"""`newsletter feeds add|list|remove|poll` and `newsletter automations list|run`."""

from __future__ import annotations

import json

import click

from newsletter import get_db  # the main CLI has pushed an app context
from newsletter.automations import feeds as feed_service
from newsletter.automations import rules
from newsletter.automations.errors import AutomationError, NotFound
from newsletter.automations.shapes import automation_dict, feed_dict

feeds = click.Group("feeds", help="Feeds that beat polls and imports on their own schedule.")
automations = click.Group("automations", help="Issues composed on a cron schedule.")


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(" ".join(str(exc).split()) or type(exc).__name__)


@feeds.command("add")
@click.argument("url")
@click.option(
    "--every", default="1h", show_default=True, help="How often: 30m, 1h, 1d (at least 5m)."
)
def feeds_add(url: str, every: str) -> None:
    """Watch a feed: it is fetched and imported now, then polled every --every.

    The command line may watch a feed on a private or local host (its user is the
    operator); the API and the author pages may not, unless IMPORT_ALLOW_PRIVATE_URLS.

    \f
    Prints `watching feed ID every N minutes: imported ...` on stdout and each import warning
    on stderr; exit 0. Raises click.ClickException (exit 1) on an AutomationError: a bad
    --every (unparseable, under 5 minutes, over 7 days) or URL, a first fetch or import
    that failed (FeedError), or a URL already watched (Conflict).
    """
    try:
        minutes = feed_service.parse_every(every)
        with get_db().session_scope() as session:
            feed, result = feed_service.add_feed(
                session, url=url, every_minutes=minutes, allow_private=True
            )
            feed_id = feed.id
    except AutomationError as exc:
        raise _fail(exc) from None
    click.echo(
        f"watching feed {feed_id} every {minutes} minutes: imported {result.total} posts "
        f"({result.created} new, {result.updated} updated)"
    )
    for warning in result.warnings:
        click.echo(f"warning: {' '.join(warning.split())}", err=True)


@feeds.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def feeds_list(as_json: bool) -> None:
    """Every watched feed, with its last poll and last error.

    \f
    Prints one tab-separated line per feed on stdout, or with --json one object
    `{"items": [...], "next": null}` (the API's page shape); exit 0.
    """
    with get_db().session_scope() as session:
        items = [feed_dict(f) for f in feed_service.list_feeds(session)]
    if as_json:
        click.echo(json.dumps({"items": items, "next": None}))
        return
    for item in items:
        state = f"error: {' '.join(item['last_error'].split())}" if item["last_error"] else "ok"
        click.echo(
            f"{item['id']}\t{item['url']}\tevery {item['every_minutes']}m\t"
            f"last polled {item['last_polled_at'] or 'never'}\t{state}"
        )


@feeds.command("remove")
@click.argument("feed_id", type=click.IntRange(min=1))
def feeds_remove(feed_id: int) -> None:
    """Stop watching a feed (its posts stay).

    \f
    Prints `removed feed ID` on stdout; exit 0. Raises click.ClickException (exit 1) when
    there is no feed ID (NotFound).
    """
    try:
        with get_db().session_scope() as session:
            feed_service.remove_feed(session, feed_id=feed_id)
    except NotFound as exc:
        raise _fail(exc) from None
    click.echo(f"removed feed {feed_id}")


@feeds.command("poll")
@click.argument("feed_id", type=click.IntRange(min=1), required=False)
def feeds_poll(feed_id: int | None) -> None:
    """Poll one feed, or every feed, now (a conditional GET; 304 imports nothing).

    Exits non-zero when a feed failed (each failure is recorded on its feed).

    \f
    Prints one PollResult.describe() line per feed on stdout and import warnings on stderr.
    Raises click.ClickException (exit 1) when FEED_ID does not exist (NotFound) and, after
    every feed was polled, when any poll failed.
    """
    failed = 0
    try:
        with get_db().session_scope() as session:
            ids = [feed_id] if feed_id else [f.id for f in feed_service.list_feeds(session)]
            for one in ids:
                result = feed_service.poll_feed(session, feed_id=one, allow_private_setting=True)
                click.echo(result.describe())
                for warning in result.warnings:
                    click.echo(f"warning: {' '.join(warning.split())}", err=True)
                failed += result.status == "failed"
    except NotFound as exc:
        raise _fail(exc) from None
    if failed:
        raise click.ClickException(f"{failed} of {len(ids)} feeds failed")


@automations.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def automations_list(as_json: bool) -> None:
    """Every automation with its schedule, next run and last result.

    \f
    Prints one tab-separated line per automation on stdout, or with --json one object
    `{"items": [...], "next": null}`; exit 0.
    """
    with get_db().session_scope() as session:
        items = [automation_dict(a) for a in rules.list_automations(session)]
    if as_json:
        click.echo(json.dumps({"items": items, "next": None}))
        return
    for item in items:
        state = "on" if item["enabled"] else "off"
        click.echo(
            f"{item['id']}\t{item['name']}\t{item['schedule']} {item['timezone']}\t{state}\t"
            f"next {item['next_run_at'] or '-'}\t{item['last_result'] or 'never run'}"
        )


@automations.command("run")
@click.argument("automation_id", type=click.IntRange(min=1))
@click.option(
    "--dry-run", is_flag=True, help="Show which posts the next run would take; change nothing."
)
def automations_run(automation_id: int, dry_run: bool) -> None:
    """Run an automation now (its schedule stays as it is).

    \f
    Prints the run's message on stdout (with --dry-run, the posts it would take, then
    `would do: ...`). Raises click.ClickException (exit 1) when there is no such automation
    (NotFound), another run of it is under way (AutomationError), or the run failed.
    """
    try:
        with get_db().session_scope() as session:
            if dry_run:
                report = rules.dry_run(session, automation_id=automation_id)
            else:
                report = rules.run_now(session, automation_id=automation_id)
    except (NotFound, AutomationError) as exc:
        raise _fail(exc) from None
    if dry_run:
        click.echo(f"would take {len(report.post_ids)} posts:")
        for post_id, title in zip(report.post_ids, report.titles, strict=True):
            click.echo(f"  {post_id}\t{' '.join(title.split())}")
        click.echo(f"would do: {report.message}")
        return
    click.echo(report.message)
    if report.outcome.value == "failed":
        raise click.ClickException(report.message)
