"""The same report on the admin dashboard: computed only on the button, kept, bounded in time."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection

from newsletter import deliverability
from tests.conftest import csrf_token_from, make_test_app
from tests.deliverability.conftest import FROM, RETURN_PATH_DOMAIN, SELECTOR
from tests.deliverability.dnszone import Zone, ZoneResolver, dns_server, silent_server


@pytest.fixture
def zone_server(good_zone: Zone) -> Iterator[tuple[str, ZoneResolver]]:
    with dns_server(good_zone) as served:
        yield served


@pytest.fixture
def nameserver(zone_server: tuple[str, ZoneResolver]) -> str:
    return zone_server[0]


@pytest.fixture
def app(connection: Connection, tmp_path: Path, key_path: Path, nameserver: str):  # type: ignore[no-untyped-def]
    deliverability._last.clear()  # the kept report is per process: start each test empty
    app = make_test_app(
        connection,
        tmp_path,
        FROM_ADDRESS=FROM,
        RETURN_PATH_DOMAIN=RETURN_PATH_DOMAIN,
        BASE_URL="https://news.example.org",
        DKIM_SELECTOR=SELECTOR,
        DKIM_PRIVATE_KEY_PATH=str(key_path),
        DELIVERABILITY_NAMESERVER=nameserver,
    )
    with app.app_context():
        yield app
    deliverability._last.clear()


def run_check(client: Any) -> tuple[int, str]:
    page = client.get("/admin/").get_data(as_text=True)
    response = client.post("/admin/deliverability", data={"csrf_token": csrf_token_from(page)})
    return response.status_code, response.get_data(as_text=True)


def test_dashboard_runs_no_dns_until_asked_then_keeps_the_report(
    client: Any, login: Any, zone_server: tuple[str, ZoneResolver]
) -> None:
    resolver = zone_server[1]
    login("admin")
    page = client.get("/admin/").get_data(as_text=True)
    assert "Not checked yet." in page and "Check now" in page
    assert resolver.queries == []

    status, page = run_check(client)
    assert status == 200
    assert "no failures" in page
    assert page.count('class="check-pass"') == 10
    asked = len(resolver.queries)
    assert asked >= 6

    page = client.get("/admin/").get_data(as_text=True)
    assert "no failures" in page and "Check again" in page
    assert len(resolver.queries) == asked  # shown from the kept report, no new look-ups


def test_a_fault_shows_with_what_to_fix(
    client: Any, login: Any, zone_server: tuple[str, ZoneResolver], good_zone: Zone
) -> None:
    good_zone["_dmarc.example.org"]["TXT"] = []  # the server reads the same dict
    login("admin")
    status, page = run_check(client)
    assert status == 200 and "1 failed" in page
    assert 'class="check-fail"' in page and "no DMARC record at _dmarc.example.org" in page


def test_slow_dns_is_bounded_and_shown_as_failures(
    client: Any, login: Any, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    monkeypatch.setattr(deliverability, "DASHBOARD_TIMEOUT", 0.3)
    monkeypatch.setattr(deliverability, "DASHBOARD_BUDGET", 1.0)
    login("admin")
    with silent_server() as dead:
        settings = app.extensions["settings"]
        app.extensions["settings"] = replace(settings, deliverability_nameserver=dead)
        started = time.monotonic()
        status, page = run_check(client)
        elapsed = time.monotonic() - started
    assert status == 200
    assert elapsed < 4
    assert "no answer within" in page or "budget" in page
    assert 'class="check-fail"' in page


def test_only_admins_may_run_it(client: Any, login: Any) -> None:
    login("author")
    token = csrf_token_from(client.get("/account/password").get_data(as_text=True))
    response = client.post("/admin/deliverability", data={"csrf_token": token})
    assert response.status_code == 403
    assert deliverability.last_report() is None
