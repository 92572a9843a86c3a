"""Is a delivery failure the address's fault? Hard, soft, or neither.

The rule (EMAIL-REFERENCE.md 1.3 and 3.4, from RFC 3463 and the sisimai corpus):
a 5.x.x is not hard by itself. Only address-class failures are hard: 5.1.x (bad
mailbox, bad domain, moved; not 5.1.7/5.1.8, which are about *our* sender address)
and 5.4.4 (no route to the domain). Mailbox full (x.2.2), other x.2.x, x.4.x
(timeouts, expiry) and every 4.x.x are soft: they count towards the soft limit.
x.7.x (policy, reputation, authentication), x.3.4 (too large), x.6.x (content) and
texts that say blocked / spam / policy are the sender's problem: they say nothing
about the address, so they are recorded and never counted (`None`).
"""

from __future__ import annotations

import re

from .webhooks.payload import status_code

# Texts that say the sender or the content was refused, not the address.
_NOT_ADDRESS = re.compile(
    r"block|blacklist|blocklist|denylist|spam|policy|reputation|dmarc|\bspf\b|dkim|"
    r"authenticat|not allowed|too large|size limit|virus|content rejected|rate limit|"
    r"too many",
    re.IGNORECASE,
)
# Texts that say the mailbox is full or briefly unavailable.
_SOFT = re.compile(
    r"mailbox (is )?full|over ?quota|quota exceeded|insufficient (system )?storage|"
    r"try again later|temporar",
    re.IGNORECASE,
)
# Texts that say the address does not exist, also when no code came with them.
_HARD = re.compile(
    r"user unknown|unknown user|no such (user|mailbox|recipient|address|domain)|"
    r"does not exist|doesn't exist|not exist|unknown recipient|recipient not found|"
    r"mailbox not found|invalid (recipient|mailbox|address)|address (is )?invalid|"
    r"no mailbox|account (has been )?(disabled|deleted|closed)|host not found|"
    r"domain not found|user not found|unrouteable address|bad destination",
    re.IGNORECASE,
)


def classify_failure(status: str, diagnostic: str, *, provider_hard: bool | None) -> bool | None:
    """True = hard (bad address), False = soft, None = not the address's fault.

    `status`: an RFC 3463 code if the provider gave one (else it is looked for in the
    diagnostic); `provider_hard`: the provider's own verdict (True permanent, False
    temporary, None unknown), used only when neither the code nor the text decides.
    """
    code = status_code(status, diagnostic)
    if code:
        klass, subject, detail = (int(part) for part in code.split("."))
        if subject == 7 or subject == 6 or (subject == 3 and detail == 4):
            return None
        if klass == 4:
            return False
        if klass == 5:
            if subject == 1:
                return None if detail in (7, 8) else True
            if subject == 4 and detail == 4:
                return True
            if subject in (2, 4):
                return False
    if diagnostic and _NOT_ADDRESS.search(diagnostic):
        return None
    if diagnostic and _SOFT.search(diagnostic):
        return False
    if diagnostic and _HARD.search(diagnostic):
        return provider_hard is not False  # unless the provider called it temporary
    return provider_hard
