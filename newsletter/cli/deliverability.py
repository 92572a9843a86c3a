"""`newsletter deliverability check`: the report, one line per check (or JSON)."""

from __future__ import annotations

import json

import click

from newsletter.deliverability.lookup import DEFAULT_BUDGET, DEFAULT_TIMEOUT


@click.group(help="Is the sending domain set up the way Gmail and Yahoo require?")
def deliverability() -> None:
    """`newsletter deliverability ...`: the group only."""


@deliverability.command(
    "check",
    help="SPF, DKIM, DMARC, MX for bounces, one-click and From alignment: pass/warn/fail "
    "each; exits 1 when any check fails.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--nameserver",
    metavar="HOST:PORT",
    default=None,
    help="Ask this DNS server (default: NEWSLETTER_DELIVERABILITY_NAMESERVER, else the system's).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=60),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds to wait for one DNS answer.",
)
def check(as_json: bool, nameserver: str | None, timeout: float) -> None:
    """`newsletter deliverability check [--json] [--nameserver HOST:PORT] [--timeout S]`.

    Runs every check (SPF RFC 7208, DKIM RFC 6376, DMARC RFC 7489, MX, one-click RFC 8058,
    From alignment) against live DNS. Prints on stdout one line per check,
    `STATUS  NAME  MESSAGE` (pass/warn/fail), or with --json the report as one indented
    JSON object. Exit 0 when no check failed (warnings allowed). Raises click.BadParameter
    (exit 2) for a --nameserver that is not an IP address with an optional :PORT
    (1-65535), and click.ClickException (exit 1, after the report) naming the failed
    checks. A DNS failure is a failed check, not an error.
    """
    from newsletter import current_settings
    from newsletter.deliverability import run_checks
    from newsletter.deliverability.lookup import Dns

    settings = current_settings()
    try:
        lookup = Dns(
            settings.deliverability_nameserver if nameserver is None else nameserver,
            timeout=timeout,
            budget=max(DEFAULT_BUDGET, timeout * 4),
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--nameserver") from None
    report = run_checks(settings, lookup)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        width = max(len(c.name) for c in report.checks)
        for c in report.checks:
            click.echo(f"{c.status:4}  {c.name:{width}}  {c.message}")
    if not report.ok:
        failed = report.failed
        raise click.ClickException(
            f"{len(failed)} of {len(report.checks)} deliverability checks failed: "
            + ", ".join(c.name for c in failed)
        )
