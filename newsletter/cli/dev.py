"""`newsletter dev`: web, worker, beat and a mail catcher in one terminal."""

from __future__ import annotations

import sys

import click


@click.command("dev", help="Run web + worker + beat + mail catcher on the embedded default.")
@click.option("--port", default=5000, show_default=True)
@click.option("--smtp-port", default=8025, show_default=True)
@click.option("--no-demo", is_flag=True, help="Do not load the demo author and posts.")
def dev(port: int, smtp_port: int, no_demo: bool) -> None:
    """`newsletter dev [--port N] [--smtp-port N] [--no-demo]`: what `make run` starts.

    Runs devtools.runner.run_dev in the foreground (it prints the URLs and the demo login on
    stdout) and exits with its code: 0 after Ctrl-C, 1 when a child exits on its own. Raises
    click.BadParameter (exit 2) for a port outside 1-65535 and click.ClickException (exit 1)
    when a port is already taken on 127.0.0.1.
    """
    from newsletter.devtools.runner import run_dev

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
