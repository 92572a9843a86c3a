"""`run_checks` against a real DNS server on loopback: a good zone passes, each fault is named."""

from __future__ import annotations

import time
from typing import Any

import pytest

from newsletter.deliverability import Report, aligned, org_domain, run_checks
from newsletter.deliverability.lookup import Dns, DnsError, parse_nameserver

from .conftest import SELECTOR, dkim_record, make_rsa
from .dnszone import Zone, dns_server, silent_server

DKIM_NAME = f"{SELECTOR}._domainkey.example.org"


def check(zone: Zone, settings_for: Any, *, dns_kwargs: Any = None, **overrides: str) -> Report:
    with dns_server(zone) as (nameserver, _resolver), settings_for(**overrides) as settings:
        return run_checks(settings, Dns(nameserver, **(dns_kwargs or {})))


def by_name(report: Report) -> dict[str, tuple[str, str]]:
    return {c.name: (c.status, c.message) for c in report.checks}


def test_a_correct_zone_passes_every_check(good_zone: Zone, settings_for: Any) -> None:
    with dns_server(good_zone) as (nameserver, resolver), settings_for() as settings:
        report = run_checks(settings, Dns(nameserver))
    statuses = {c.name: c.status for c in report.checks}
    assert statuses == {
        "spf (From)": "pass",
        "spf (Return-Path)": "pass",
        "dkim-key": "pass",
        "dmarc": "pass",
        "mx (bounces)": "pass",
        "list-unsubscribe": "pass",
        "one-click": "pass",
        "dkim-signature": "pass",
        "alignment": "pass",
        "size": "pass",
    }, report.checks
    assert report.ok
    # the signature really was checked against the served key (dkimpy asked our server)
    assert (DKIM_NAME, "TXT") in resolver.queries


@pytest.mark.parametrize(
    ("domain", "records", "status", "words"),
    [
        ("example.org", ["google-site-verification=x"], "fail", "has no SPF record"),
        (
            "example.org",
            ["v=spf1 ip4:192.0.2.10 -all", "v=spf1 include:_spf.example.net -all"],
            "fail",
            "has 2 SPF records",
        ),
        ("example.org", ["v=spf1 +all"], "fail", "lets anyone send"),
        ("example.org", ["v=spf1 a mx all"], "fail", "lets anyone send"),
        ("example.org", ["v=spf1 ip4:192.0.2.10 ~all"], "warn", "~all (softfail)"),
        ("example.org", ["v=spf1 ip4:192.0.2.10 ?all"], "warn", "neutral"),
        ("example.org", ["v=spf1 ip4:192.0.2.10"], "warn", "neutral"),
        ("bounces.example.org", [], "fail", "bounces.example.org has no SPF record"),
    ],
)
def test_spf_faults_are_named(
    good_zone: Zone, settings_for: Any, domain: str, records: list[str], status: str, words: str
) -> None:
    good_zone[domain]["TXT"] = list(records)
    report = by_name(check(good_zone, settings_for))
    role = "From" if domain == "example.org" else "Return-Path"
    assert report[f"spf ({role})"][0] == status
    assert words in report[f"spf ({role})"][1]
    other = "Return-Path" if role == "From" else "From"
    assert report[f"spf ({other})"][0] == "pass"


def test_spf_redirect_is_not_neutral(good_zone: Zone, settings_for: Any) -> None:
    good_zone["example.org"]["TXT"] = ["v=spf1 redirect=_spf.example.org"]
    assert by_name(check(good_zone, settings_for))["spf (From)"][0] == "pass"


def test_dkim_key_mismatch_is_named(good_zone: Zone, settings_for: Any, other_key: Any) -> None:
    good_zone[DKIM_NAME]["TXT"] = [dkim_record(other_key)]
    report = check(good_zone, settings_for)
    found = by_name(report)
    assert found["dkim-key"][0] == "fail" and "does not match" in found["dkim-key"][1]
    # the record to publish is in the message: the public half of the configured key
    assert found["dkim-signature"][0] == "fail"
    assert not report.ok


def test_missing_dkim_key_is_named(good_zone: Zone, settings_for: Any) -> None:
    del good_zone[DKIM_NAME]
    found = by_name(check(good_zone, settings_for))
    assert found["dkim-key"][0] == "fail"
    assert f"no DKIM key at {DKIM_NAME}: publish TXT 'v=DKIM1; k=rsa; p=" in found["dkim-key"][1]
    assert found["dkim-signature"][0] == "fail"


def test_revoked_dkim_key_is_named(good_zone: Zone, settings_for: Any) -> None:
    good_zone[DKIM_NAME]["TXT"] = ["v=DKIM1; k=rsa; p="]
    found = by_name(check(good_zone, settings_for))
    assert found["dkim-key"][0] == "fail" and "revoked" in found["dkim-key"][1]


def test_pkcs1_public_key_in_dns_matches(good_zone: Zone, settings_for: Any, rsa_key: Any) -> None:
    import base64

    from cryptography.hazmat.primitives import serialization

    pkcs1 = rsa_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.PKCS1
    )
    good_zone[DKIM_NAME]["TXT"] = [f"v=DKIM1; p={base64.b64encode(pkcs1).decode()}"]
    assert by_name(check(good_zone, settings_for))["dkim-key"][0] == "pass"


def test_dkim_not_configured_fails(good_zone: Zone, settings_for: Any) -> None:
    found = by_name(check(good_zone, settings_for, DKIM_SELECTOR="", DKIM_PRIVATE_KEY_PATH=""))
    assert found["dkim-key"][0] == "fail" and "not configured" in found["dkim-key"][1]
    assert found["one-click"][0] == "fail"  # RFC 8058: one-click needs a covering signature
    assert found["dkim-signature"][0] == "fail"
    assert found["alignment"][0] == "warn"  # SPF alone still aligns


def test_unreadable_key_file_fails(good_zone: Zone, settings_for: Any, tmp_path: Any) -> None:
    bad = tmp_path / "garbage.pem"
    bad.write_text("not a key at all")
    found = by_name(check(good_zone, settings_for, DKIM_PRIVATE_KEY_PATH=str(bad)))
    assert found["dkim-key"][0] == "fail" and "cannot read the DKIM private key" in found[
        "dkim-key"][1]  # fmt: skip
    assert found["dkim-signature"][0] == "fail"


def test_small_rsa_key_warns(good_zone: Zone, settings_for: Any, tmp_path: Any) -> None:
    from .conftest import pem

    small = make_rsa(1024)
    path = tmp_path / "small.pem"
    path.write_bytes(pem(small))
    good_zone[DKIM_NAME]["TXT"] = [dkim_record(small)]
    found = by_name(check(good_zone, settings_for, DKIM_PRIVATE_KEY_PATH=str(path)))
    assert found["dkim-key"] == ("warn", f"{DKIM_NAME}: a 1024-bit RSA key; use 2048 bits")
    assert found["dkim-signature"][0] == "pass"


def test_big_key_answer_comes_over_tcp(good_zone: Zone, settings_for: Any, tmp_path: Any) -> None:
    # A 4096-bit key's record (~740 bytes) does not fit a 512-byte UDP answer.
    from .conftest import pem

    big = make_rsa(4096)
    path = tmp_path / "big.pem"
    path.write_bytes(pem(big))
    good_zone[DKIM_NAME]["TXT"] = [dkim_record(big)]
    with (
        dns_server(good_zone) as (nameserver, resolver),
        settings_for(DKIM_PRIVATE_KEY_PATH=str(path)) as settings,
    ):
        found = by_name(run_checks(settings, Dns(nameserver)))
    assert found["dkim-key"][0] == "pass" and found["dkim-signature"][0] == "pass"
    assert (DKIM_NAME, "udp") in resolver.protocols and (DKIM_NAME, "tcp") in resolver.protocols


@pytest.mark.parametrize(
    ("records", "status", "words"),
    [
        (None, "fail", "no DMARC record at _dmarc.example.org"),
        (["v=DMARC1; p=none; rua=mailto:d@example.org"], "warn", "p=none"),
        (["v=DMARC1; rua=mailto:d@example.org"], "fail", "no valid p= policy"),
        (["v=DMARC1; p=reject", "v=DMARC1; p=none"], "fail", "2 DMARC records"),
        (["v=DMARC1; p=reject"], "pass", "p=reject"),
    ],
)
def test_dmarc_faults_are_named(
    good_zone: Zone, settings_for: Any, records: list[str] | None, status: str, words: str
) -> None:
    if records is None:
        del good_zone["_dmarc.example.org"]
    else:
        good_zone["_dmarc.example.org"]["TXT"] = records
    found = by_name(check(good_zone, settings_for))
    assert found["dmarc"][0] == status and words in found["dmarc"][1]


def test_subdomain_from_uses_the_org_record_and_its_sp(good_zone: Zone, settings_for: Any) -> None:
    # From news@news.example.org: no _dmarc.news.example.org, so _dmarc.example.org's sp= rules.
    good_zone["news.example.org"] = {"TXT": ["v=spf1 ip4:192.0.2.10 -all"]}
    good_zone[f"{SELECTOR}._domainkey.news.example.org"] = good_zone.pop(DKIM_NAME)
    good_zone["_dmarc.example.org"]["TXT"] = ["v=DMARC1; p=reject; sp=none"]
    found = by_name(check(good_zone, settings_for, FROM_ADDRESS="News <news@news.example.org>"))
    assert found["dmarc"][0] == "warn" and "_dmarc.example.org: p=none" in found["dmarc"][1]
    assert found["alignment"][0] == "pass"  # relaxed: bounces.example.org ~ news.example.org
    assert found["dkim-signature"][0] == "pass"


def test_misaligned_return_path_warns(good_zone: Zone, settings_for: Any) -> None:
    good_zone["bounces.example.net"] = good_zone.pop("bounces.example.org")
    found = by_name(check(good_zone, settings_for, RETURN_PATH_DOMAIN="bounces.example.net"))
    assert found["alignment"][0] == "warn"
    assert "Return-Path bounces.example.net not aligned" in found["alignment"][1]
    assert "NEWSLETTER_RETURN_PATH_DOMAIN to a subdomain of example.org" in found["alignment"][1]


def test_misaligned_from_fails_when_nothing_aligns(good_zone: Zone, settings_for: Any) -> None:
    good_zone["bounces.example.net"] = good_zone.pop("bounces.example.org")
    found = by_name(
        check(
            good_zone,
            settings_for,
            RETURN_PATH_DOMAIN="bounces.example.net",
            DKIM_SELECTOR="",
            DKIM_PRIVATE_KEY_PATH="",
        )
    )
    assert found["alignment"][0] == "fail" and "DMARC fails" in found["alignment"][1]


def test_strict_spf_alignment_is_honoured(good_zone: Zone, settings_for: Any) -> None:
    good_zone["_dmarc.example.org"]["TXT"] = ["v=DMARC1; p=reject; aspf=s"]
    found = by_name(check(good_zone, settings_for))
    assert found["alignment"][0] == "warn"
    assert "bounces.example.org not aligned (strict)" in found["alignment"][1]


@pytest.mark.parametrize(
    ("mx", "words"),
    [(None, "has no MX record"), ([(0, ".")], "null MX")],
)
def test_no_mx_for_the_bounce_domain_is_named(
    good_zone: Zone, settings_for: Any, mx: Any, words: str
) -> None:
    if mx is None:
        del good_zone["bounces.example.org"]["MX"]
    else:
        good_zone["bounces.example.org"]["MX"] = mx
    found = by_name(check(good_zone, settings_for))
    assert found["mx (bounces)"][0] == "fail" and words in found["mx (bounces)"][1]


def test_http_base_url_fails_list_unsubscribe(good_zone: Zone, settings_for: Any) -> None:
    found = by_name(check(good_zone, settings_for, BASE_URL="http://news.example.org"))
    assert found["list-unsubscribe"][0] == "fail" and "https" in found["list-unsubscribe"][1]


def test_a_dead_nameserver_is_a_fail_per_check_within_the_budget(settings_for: Any) -> None:
    with silent_server() as nameserver, settings_for() as settings:
        started = time.monotonic()
        report = run_checks(settings, Dns(nameserver, timeout=0.3, budget=2))
        elapsed = time.monotonic() - started
    found = by_name(report)
    for name in ("spf (From)", "spf (Return-Path)", "dkim-key", "dmarc", "mx (bounces)"):
        assert found[name][0] == "fail", found[name]
        assert "no answer within" in found[name][1] or "budget" in found[name][1]
    assert found["dkim-signature"][0] == "fail"
    assert "could not fetch the key" in found["dkim-signature"][1]
    assert elapsed < 5  # every query bounded, and all of them by the budget


def test_one_slow_name_fails_only_its_check(good_zone: Zone, settings_for: Any) -> None:
    with (
        dns_server(good_zone, slow={"_dmarc.example.org": 1.5}) as (nameserver, _r),
        settings_for() as settings,
    ):
        found = by_name(run_checks(settings, Dns(nameserver, timeout=0.5)))
    assert found["dmarc"][0] == "fail" and "no answer within 0.5s" in found["dmarc"][1]
    assert found["spf (From)"][0] == "pass" and found["dkim-key"][0] == "pass"


def test_budget_ends_lookups_at_once() -> None:
    with silent_server() as nameserver:
        lookup = Dns(nameserver, timeout=0.2, budget=0.3)
        started = time.monotonic()
        for _ in range(5):
            with pytest.raises(DnsError, match=r"no answer|budget"):
                lookup.txt("example.org")
        assert time.monotonic() - started < 1.5


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("127.0.0.1", ("127.0.0.1", 53)),
        ("[::1]:5353", ("::1", 5353)),
        ("::1", ("::1", 53)),
    ],
)
def test_parse_nameserver(value: str, expected: tuple[str, int]) -> None:
    assert parse_nameserver(value) == expected


@pytest.mark.parametrize("value", ["dns.example.org:53", "127.0.0.1:0", "127.0.0.1:x", "[::1]x"])
def test_parse_nameserver_rejects(value: str) -> None:
    with pytest.raises(ValueError, match="nameserver"):
        parse_nameserver(value)


def test_org_domain_uses_the_public_suffix_list() -> None:
    assert org_domain("news.example.org") == "example.org"
    assert org_domain("a.b.example.co.uk") == "example.co.uk"
    assert aligned("news.example.co.uk", "bounces.example.co.uk")
    assert not aligned("example.co.uk", "other.co.uk")  # co.uk is a public suffix
    assert not aligned("news.example.org", "example.org", strict=True)
