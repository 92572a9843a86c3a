"""Hard, soft or not the address's fault (EMAIL-REFERENCE.md 1.3)."""

from __future__ import annotations

import pytest

from newsletter.bounces.hardness import classify_failure


@pytest.mark.parametrize(
    ("status", "diagnostic", "provider_hard", "expected"),
    [
        ("5.1.1", "550 5.1.1 user unknown", True, True),
        ("5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound", True, True),  # Microsoft
        ("5.4.4", "unrouteable address", True, True),
        ("5.1.6", "mailbox has moved", True, True),
        ("5.1.8", "bad sender's system address", True, None),  # our sender address
        ("5.7.1", "550 5.7.1 message rejected", True, None),
        ("5.7.26", "unauthenticated email is not accepted", True, None),
        ("5.2.2", "552 5.2.2 mailbox full", True, False),
        ("4.2.2", "452 4.2.2 over quota", False, False),
        ("5.3.4", "message too big", True, None),
        ("4.4.7", "delivery time expired", None, False),
        ("", "550 Requested action not taken: mailbox unavailable", True, True),
        ("", "554 rejected: listed on a blocklist", True, None),
        ("", "550 No such user here", None, True),
        ("", "mailbox full", True, False),
        ("5.0.0", "", True, True),
        ("5.0.0", "", None, None),
        ("", "", False, False),
    ],
)
def test_classify_failure(status, diagnostic, provider_hard, expected):
    assert classify_failure(status, diagnostic, provider_hard=provider_hard) is expected


def test_code_in_the_diagnostic_is_found():
    assert classify_failure("", "smtp; 550 5.7.1 policy", provider_hard=True) is None
    assert classify_failure("", "smtp; 550 5.1.1 nope", provider_hard=None) is True
