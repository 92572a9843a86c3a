"""Every `newsletter` command that fails exits non-zero with exactly one line on stderr.

The command tree is read from the CLI itself, so a command added later is covered by the
generic checks at once, and `test_every_command_has_a_bad_input_case` asks for a row in
BAD_INPUT (a failure of the command's own, past argument parsing).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click
import pytest

from newsletter.cli import cli as root
from tests.live import run_cli, stack_environment

CLEAN_FEED = Path(__file__).parent.parent / "data" / "posts" / "cases" / "08-same-blog-feed.xml"
UNREACHABLE_DB = "postgresql+psycopg://nobody@127.0.0.1:1/nowhere"


def command_paths(
    group: click.Group = root, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[str, ...]]:
    """Every command and group under `newsletter`, as argument tuples."""
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from command_paths(command, (*prefix, name))


ALL = list(command_paths())
GROUPS = [p for p in ALL if isinstance(root.get_command(click.Context(root), p[0]), click.Group)
          and len(p) == 1]  # fmt: skip
LEAVES = [p for p in ALL if p not in GROUPS]

# A bad argument or bad input for each command, that fails in the command itself.
BAD_INPUT: dict[tuple[str, ...], tuple[list[str], str | None]] = {
    ("db", "upgrade"): (["--revision", "no-such-revision"], None),
    ("db", "downgrade"): (["no-such-revision"], None),
    ("dev",): (["--port", "not-a-port"], None),
    ("issues", "cancel"): (["999"], None),
    ("issues", "send"): (["999"], None),
    ("issues", "pause"): (["999"], None),
    ("issues", "resume"): (["999"], None),
    ("issues", "stats"): (["999"], None),
    ("issues", "create"): (["--subject", "S", "--since", "not a date"], None),
    ("issues", "schedule"): (["999", "--at", "2030-01-01T10:00:00+00:00"], None),
    ("posts", "import"): (["no-such-file.xml"], None),
    ("subscribers", "export"): (["--format", "xml"], None),
    ("subscribers", "import"): (["{tmp}/broken.csv"], None),
    ("tokens", "create"): ([""], None),
    ("tokens", "revoke"): (["no-such-token"], None),
    ("users", "create"): (["not-an-address"], "a long password\n"),
    ("users", "password"): (["nobody@example.org"], "a long password\n"),
    ("bounces", "classify"): (["{tmp}/no-such-message.eml"], None),
    ("bounces", "process"): (["--mailbox", "maildir://{tmp}/no-such-maildir"], None),
    ("deliverability", "check"): (["--nameserver", "not-an-ip"], None),
    ("feeds", "add"): (["ftp://example.org/feed.xml"], None),
    ("feeds", "list"): (["unexpected-argument"], None),  # takes none: nothing else can be bad
    ("feeds", "remove"): (["999"], None),
    ("feeds", "poll"): (["999"], None),
    ("automations", "list"): (["unexpected-argument"], None),
    ("automations", "run"): (["999", "--dry-run"], None),
}


@pytest.fixture
def run(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    env = stack_environment(tmp_path, NEWSLETTER_DATABASE_URL=f"sqlite:///{tmp_path / 'e.db'}")
    assert run_cli(env, "db", "upgrade").returncode == 0
    (tmp_path / "broken.csv").write_text("name,city\nBob,Oslo\n")  # no email column

    def _run(
        *args: str, input: str | None = None, **env_overrides: str
    ) -> subprocess.CompletedProcess[str]:
        args = tuple(a.replace("{tmp}", str(tmp_path)) for a in args)
        return run_cli({**env, **env_overrides}, *args, input=input)

    return _run


def one_line_failure(result: subprocess.CompletedProcess[str]) -> str | None:
    """None when `result` failed properly; otherwise what is wrong with it."""
    lines = result.stderr.splitlines()
    if result.returncode == 0:
        return f"exit code 0, stderr {result.stderr!r}"
    if len(lines) != 1 or not lines[0].strip():
        return f"exit {result.returncode}, stderr has {len(lines)} lines: {result.stderr!r}"
    if not lines[0].startswith("error: "):
        return f"stderr does not start with 'error: ': {lines[0]!r}"
    return None


def check_all(
    run: Callable[..., subprocess.CompletedProcess[str]],
    cases: list[tuple[tuple[str, ...], dict[str, str | None]]],
) -> None:
    """Run the cases three at a time (the machine is shared) and report every bad one."""

    def one(case: tuple[tuple[str, ...], dict[str, str | None]]) -> str | None:
        args, extra = case
        problem = one_line_failure(run(*args, **extra))  # type: ignore[arg-type]
        return f"newsletter {' '.join(args)}: {problem}" if problem else None

    with ThreadPoolExecutor(max_workers=3) as pool:
        problems = [p for p in pool.map(one, cases) if p]
    assert problems == []


def test_the_tree_is_what_we_think() -> None:
    assert {("db",), ("posts",), ("users",), ("tokens",), ("issues",), ("subscribers",)} <= set(
        GROUPS
    )
    assert ("posts", "import") in LEAVES and ("dev",) in LEAVES


def test_every_command_has_a_bad_input_case() -> None:
    missing = sorted(set(LEAVES) - set(BAD_INPUT))
    assert missing == [], f"add a row to BAD_INPUT for: {missing}"


def test_bad_input_fails_with_one_line(run) -> None:
    check_all(
        run,
        [
            ((*path, *args), {"input": stdin})
            for path, (args, stdin) in BAD_INPUT.items()
            if path in LEAVES
        ],
    )


def test_unknown_options_and_missing_commands_fail_with_one_line(run) -> None:
    # Usage errors are click's, handled in one place: every group, and leaves of each kind
    # (one that builds the app, one that does not, one with a required argument).
    some_leaves = [("posts", "import"), ("dev",), ("users", "create")]
    cases: list[tuple[tuple[str, ...], dict[str, str | None]]] = [
        ((*path, "--no-such-option"), {}) for path in [*GROUPS, *some_leaves]
    ]
    cases += [(group, {}) for group in GROUPS]  # a group without its subcommand
    cases += [(("no-such-command",), {}), (("--no-such-option",), {}), (("posts", "import"), {})]
    check_all(run, cases)


def test_unreachable_database_fails_with_one_line(run) -> None:
    down = {"NEWSLETTER_DATABASE_URL": UNREACHABLE_DB}
    check_all(
        run,
        [
            (("db", "upgrade"), down),
            (("posts", "import", str(CLEAN_FEED)), down),
            (("users", "create", "a@example.org"), {**down, "input": "a long password\n"}),
            (("subscribers", "export"), down),
        ],
    )


def test_bad_settings_fail_with_one_line(run) -> None:
    result = run("posts", "import", "x.xml", NEWSLETTER_DATABASE_URL="nonsense://")
    assert one_line_failure(result) is None, result.stderr
    assert result.returncode == 2 and "NEWSLETTER_DATABASE_URL" in result.stderr


def test_dev_on_a_busy_port_fails_with_one_line(run) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        # Every case names the busy port, so no case can start the stack.
        for args, message in (
            (["--port", port, "--smtp-port", port], f"port {port} is not free"),
            (["--port", "0", "--smtp-port", port], "0 is not a TCP port"),
            (["--smtp-port", port], f"port {port} is not free"),
        ):
            result = run("dev", *args)
            assert one_line_failure(result) is None, result.stderr
            assert message in result.stderr
            assert result.stdout == ""  # nothing was started


def test_posts_import_missing_file_names_it(run) -> None:
    result = run("posts", "import", "no-such-file.xml")
    assert result.returncode == 1
    assert result.stderr == "error: no such file or directory: no-such-file.xml\n"
    assert result.stdout == ""


def test_success_still_exits_zero(run) -> None:
    result = run("posts", "import", str(CLEAN_FEED))
    assert result.returncode == 0 and result.stderr == ""
