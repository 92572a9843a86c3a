"""Is a delivery failure the address's fault? Hard, soft, or neither.

One rule for every source: the reason and hardness come from reasons.decide (the
classifier's rule, measured by bench/bounces.py); this module only adds the third answer
the policy needs for webhooks and the mailbox alike (EMAIL-REFERENCE.md 1.3 and 3.4):

- True: hard, the address is bad (user unknown, no such domain, moved: 5.1.x, 5.4.4);
- False: soft, the mailbox failed for now (full, timeouts, expiry, every 4.x.x):
  counted towards the soft limit;
- None: not the address's fault (x.7.x policy, reputation, authentication, blocks,
  spam, content, too large): recorded, never counted.
"""

from __future__ import annotations

from typing import Final

from .reasons import decide
from .webhooks.payload import status_code

# reasons.decide names that say the sender or the content was refused, not the address.
NOT_ADDRESS_REASONS: Final = frozenset(
    {
        "authfailure",
        "blocked",
        "contenterror",
        "delivered",
        "filtered",
        "mesgtoobig",
        "norelaying",
        "policyviolation",
        "rejected",
        "requireptr",
        "securityerror",
        "spamdetected",
        "speeding",
        "syntaxerror",
        "toomanyrecipients",
        "virusdetected",
    }
)


def from_reason(reason: str, hard: bool, *, provider_hard: bool | None = None) -> bool | None:
    """The three-way verdict for a reasons.decide answer `(reason, hard)`.

    `provider_hard` (the provider's own permanent/temporary flag) decides only when the
    rule could not ("undefined": no code and no text that names a cause).
    """
    if hard:
        return True
    if reason in NOT_ADDRESS_REASONS:
        return None
    if reason == "undefined":
        return provider_hard
    return False


def classify_failure(status: str, diagnostic: str, *, provider_hard: bool | None) -> bool | None:
    """True = hard (bad address), False = soft, None = not the address's fault.

    `status`: an RFC 3463 code if the provider gave one (else it is looked for in the
    diagnostic); `provider_hard`: the provider's own verdict (True permanent, False
    temporary, None unknown): a temporary failure is never hard, and the flag decides
    when neither the code nor the text does.
    """
    code = status_code(status, diagnostic) or None
    reason, hard = decide(code, diagnostic or "", temporary=provider_hard is False)
    return from_reason(reason, hard, provider_hard=provider_hard)
