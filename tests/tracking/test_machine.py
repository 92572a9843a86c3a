"""Each rule of the machine heuristic (newsletter/tracking/machine.py), and its edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newsletter.tracking.machine import (
    CLICK_TOO_SOON,
    PREFETCH_WINDOW,
    click_verdict,
    open_verdict,
)

SENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LATER = SENT + timedelta(hours=3)
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
GMAIL_PROXY = (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)


def test_apple_proxy_network_is_a_machine_whatever_the_agent():
    for ip in ("17.58.1.2", "17.0.0.1", "17.255.255.254"):
        assert open_verdict(user_agent=IPHONE, ip=ip, sent_at=SENT, now=LATER) == "apple-proxy"
    assert open_verdict(user_agent=IPHONE, ip="18.0.0.1", sent_at=SENT, now=LATER) is None
    assert open_verdict(user_agent=IPHONE, ip="not an ip", sent_at=SENT, now=LATER) is None
    assert open_verdict(user_agent=IPHONE, ip="2001:db8::1", sent_at=SENT, now=LATER) is None


def test_bare_mozilla_agent_is_apples_prefetch_only_near_delivery():
    soon = SENT + PREFETCH_WINDOW - timedelta(seconds=1)
    late = SENT + PREFETCH_WINDOW + timedelta(seconds=1)
    kw = {"user_agent": "Mozilla/5.0", "ip": "203.0.113.9", "sent_at": SENT}
    assert open_verdict(**kw, now=soon) == "apple-prefetch"  # type: ignore[arg-type]
    assert open_verdict(**kw, now=late) is None  # type: ignore[arg-type] # Outlook's proxy, a person
    assert (
        open_verdict(user_agent=" Mozilla/5.0 ", ip=None, sent_at=SENT, now=soon)
        == "apple-prefetch"
    )
    # One more product token and it is a browser, not the proxy.
    assert open_verdict(user_agent="Mozilla/5.0 (X11)", ip=None, sent_at=SENT, now=soon) is None


@pytest.mark.parametrize(
    "agent",
    ["", "   ", "python-requests/2.31", "curl/8.5.0", "Googlebot/2.1", "Barracuda Sentinel",
     "Mozilla/5.0 (compatible; Mimecast)", "Go-http-client/1.1", "HeadlessChrome/120.0"],
)  # fmt: skip
def test_scanner_agents_are_machines_for_opens_and_clicks(agent):
    assert open_verdict(user_agent=agent, ip=None, sent_at=SENT, now=LATER) == "agent"
    verdict = click_verdict(
        user_agent=agent, method="GET", sent_at=SENT, now=LATER, other_links_nearby=False
    )
    assert verdict == "agent"


@pytest.mark.parametrize("agent", [CHROME, IPHONE, GMAIL_PROXY])
def test_readers_and_gmails_proxy_are_people(agent):
    assert open_verdict(user_agent=agent, ip="198.51.100.7", sent_at=SENT, now=LATER) is None
    verdict = click_verdict(
        user_agent=agent, method="GET", sent_at=SENT, now=LATER, other_links_nearby=False
    )
    assert verdict is None


def test_head_request_is_a_link_checker():
    verdict = click_verdict(
        user_agent=CHROME, method="HEAD", sent_at=SENT, now=LATER, other_links_nearby=False
    )
    assert verdict == "agent"


def test_a_click_right_after_delivery_is_a_gateways():
    just = SENT + CLICK_TOO_SOON - timedelta(milliseconds=1)
    after = SENT + CLICK_TOO_SOON
    kw = {"user_agent": CHROME, "method": "GET", "sent_at": SENT, "other_links_nearby": False}
    assert click_verdict(**kw, now=just) == "too-soon"  # type: ignore[arg-type]
    assert click_verdict(**kw, now=after) is None  # type: ignore[arg-type]
    unknown = {**kw, "sent_at": None}
    assert click_verdict(**unknown, now=just) is None  # type: ignore[arg-type]


def test_several_links_at_once_is_a_burst():
    verdict = click_verdict(
        user_agent=CHROME, method="GET", sent_at=SENT, now=LATER, other_links_nearby=True
    )
    assert verdict == "burst"
