"""Who fetched a pixel or followed a link: a person, or a machine. The whole heuristic.

Machine events are stored and counted, but apart from human ones: they say that a
message arrived, not that anyone read it.

Opens (the pixel) are a machine's when:

1. `apple-proxy`: the request comes from 17.0.0.0/8, Apple's network, where Mail
   Privacy Protection's proxy fetches every image of every message when it is
   delivered, read or not.
2. `apple-prefetch`: the user agent is exactly `Mozilla/5.0`, with no product
   tokens after it, which is what that proxy sends (uap-core issue #509), within
   PREFETCH_WINDOW of the delivery. Later fetches with that bare agent count as
   human: Outlook's image proxy strips agents the same way when a person opens
   the message (warmbly PR #569 hit exactly this).
3. `agent`: no user agent, or one of a known scanner, crawler or HTTP library
   (SCANNER_AGENTS).

Clicks are a machine's when:

1. `agent`: as for opens; also any HEAD request (a link checker, never a person).
2. `too-soon`: within CLICK_TOO_SOON seconds of the delivery being sent. Security
   gateways (Microsoft Safe Links, Mimecast, Proofpoint, Barracuda) follow every
   link as the message passes through, before anyone can have read it.
3. `burst`: another link of the same delivery was followed within BURST_SECONDS
   (before or after this one). A person opens one link and reads; a scanner walks
   them all in a second or two. The earlier clicks of the burst are re-marked as
   the machine's when the later one arrives (record.py).

Gmail's and Yahoo's image proxies (`GoogleImageProxy`, `YahooMailProxy`) fetch when
a person opens the message, so they count as human opens.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime, timedelta

APPLE_NETWORK = ipaddress.ip_network("17.0.0.0/8")
PREFETCH_WINDOW = timedelta(hours=1)
CLICK_TOO_SOON = timedelta(seconds=20)
BURST_SECONDS = 2.0
BARE_AGENT = "Mozilla/5.0"

# Substrings (case-insensitive) of user agents that are programs, not readers.
SCANNER_AGENTS = (
    "bot",
    "crawler",
    "spider",
    "scanner",
    "preview",
    "barracuda",
    "mimecast",
    "proofpoint",
    "safelinks",
    "symantec",
    "trendmicro",
    "trend micro",
    "forcepoint",
    "sophos",
    "fortiguard",
    "cisco",
    "ironport",
    "headlesschrome",
    "phantomjs",
    "python-",
    "python/",
    "curl/",
    "wget/",
    "go-http-client",
    "java/",
    "okhttp",
    "libwww",
    "httpclient",
    "axios/",
    "node-fetch",
    "urlscan",
)
_SCANNER = re.compile("|".join(re.escape(a) for a in SCANNER_AGENTS), re.IGNORECASE)


def _from_apple(ip: str | None) -> bool:
    if not ip:
        return False
    try:
        return ipaddress.ip_address(ip.strip()) in APPLE_NETWORK
    except ValueError:
        return False


def _scanner_agent(user_agent: str) -> bool:
    agent = user_agent.strip()
    return not agent or bool(_SCANNER.search(agent))


def open_verdict(
    *, user_agent: str, ip: str | None, sent_at: datetime | None, now: datetime
) -> str | None:
    """Why a pixel fetch is a machine's (`apple-proxy`, `apple-prefetch`, `agent`), or None
    for a person."""
    if _from_apple(ip):
        return "apple-proxy"
    if user_agent.strip() == BARE_AGENT:
        if sent_at is None or now - sent_at <= PREFETCH_WINDOW:
            return "apple-prefetch"
        return None
    if _scanner_agent(user_agent):
        return "agent"
    return None


def click_verdict(
    *,
    user_agent: str,
    method: str,
    sent_at: datetime | None,
    now: datetime,
    other_links_nearby: bool,
) -> str | None:
    """Why a click is a machine's (`agent`, `too-soon`, `burst`), or None for a person.

    `other_links_nearby`: the delivery followed a different link within BURST_SECONDS.
    """
    if method.upper() == "HEAD" or _scanner_agent(user_agent):
        return "agent"
    if sent_at is not None and now - sent_at < CLICK_TOO_SOON:
        return "too-soon"
    if other_links_nearby:
        return "burst"
    return None
