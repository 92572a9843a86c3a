"""`newsletter deliverability check` in a fresh process, against the loopback DNS server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.deliverability.conftest import FROM, RETURN_PATH_DOMAIN, SELECTOR
from tests.deliverability.dnszone import Zone, dns_server, silent_server
from tests.live import run_cli, stack_environment


def environment(tmp_path: Path, key_path: Path, **overrides: str) -> dict[str, str]:
    return stack_environment(
        tmp_path,
        NEWSLETTER_FROM_ADDRESS=FROM,
        NEWSLETTER_RETURN_PATH_DOMAIN=RETURN_PATH_DOMAIN,
        NEWSLETTER_BASE_URL="https://news.example.org",
        NEWSLETTER_DKIM_SELECTOR=SELECTOR,
        NEWSLETTER_DKIM_PRIVATE_KEY_PATH=str(key_path),
        **overrides,
    )


def test_good_zone_exits_zero_with_one_line_per_check(
    tmp_path: Path, key_path: Path, good_zone: Zone
) -> None:
    with dns_server(good_zone) as (nameserver, _r):
        env = environment(tmp_path, key_path)
        result = run_cli(env, "deliverability", "check", "--nameserver", nameserver)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 10 and all(line.startswith("pass  ") for line in lines), lines
    assert result.stderr == ""


def test_broken_zone_names_each_fault_and_exits_one(
    tmp_path: Path, key_path: Path, good_zone: Zone, other_key: Any
) -> None:
    from tests.deliverability.conftest import dkim_record

    good_zone["example.org"]["TXT"] = ["v=spf1 +all"]
    good_zone[f"{SELECTOR}._domainkey.example.org"]["TXT"] = [dkim_record(other_key)]
    good_zone["_dmarc.example.org"]["TXT"] = ["v=DMARC1; p=none"]
    del good_zone["bounces.example.org"]["MX"]
    # the setting, not the option, points at the server this time
    with dns_server(good_zone) as (nameserver, _r):
        env = environment(tmp_path, key_path, NEWSLETTER_DELIVERABILITY_NAMESERVER=nameserver)
        result = run_cli(env, "deliverability", "check", "--json")
    assert result.returncode == 1
    assert result.stderr == (
        "error: 4 of 10 deliverability checks failed: "
        "spf (From), dkim-key, mx (bounces), dkim-signature\n"
    )
    report = json.loads(result.stdout)
    assert report["ok"] is False
    statuses = {c["name"]: c["status"] for c in report["checks"]}
    assert statuses["dmarc"] == "warn" and statuses["spf (Return-Path)"] == "pass"
    assert set(report["checks"][0]) == {"name", "status", "message"}


def test_dead_nameserver_is_a_clear_failure(tmp_path: Path, key_path: Path) -> None:
    with silent_server() as nameserver:
        env = environment(tmp_path, key_path)
        result = run_cli(
            env, "deliverability", "check", "--nameserver", nameserver, "--timeout", "0.2"
        )
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stdout
    assert "no answer within 0.2s" in result.stdout


def test_bad_nameserver_option_and_setting(tmp_path: Path, key_path: Path) -> None:
    env = environment(tmp_path, key_path)
    result = run_cli(env, "deliverability", "check", "--nameserver", "dns.example.org")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("error: ") and "--nameserver" in result.stderr
    env["NEWSLETTER_DELIVERABILITY_NAMESERVER"] = "127.0.0.1:99999"
    result = run_cli(env, "deliverability", "check")
    assert result.returncode == 2
    assert result.stderr.startswith("error: NEWSLETTER_DELIVERABILITY_NAMESERVER")
